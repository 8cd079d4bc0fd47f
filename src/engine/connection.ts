// Per-socket state shared by signaling and media connections: counters, keep-alive (spec §4.1), send with the
// slow-consumer policy. One object per socket; the stream owns the protocol state.
import { MsgType } from '../protocol/enums.ts';
import type { Dialect } from '../protocol/inbound.ts';
import { keepAliveReq } from '../protocol/outbound.ts';
import type { MediaParams } from '../protocol/media-params.ts';
import type { Scheduler, Task } from './scheduler.ts';
import type { MediaPath, RtmsSocket } from './socket.ts';

let nextConnId = 1;

/** Shared, swappable hook for the inspector: null when nobody is watching (one property read per message). */
export interface TapRef {
  fn: ((conn: Connection, dir: 'in' | 'out', type: number, bytes: number) => void) | null;
}

export interface ConnectionCounters {
  msgsIn: number;
  msgsOut: number;
  bytesIn: number;
  bytesOut: number;
  /** Media messages not sent because the consumer was too slow (buffer above the bound). */
  dropped: number;
  errors: number;
  outByType: Record<number, number>;
  inByType: Record<number, number>;
}

export abstract class Connection {
  readonly id = nextConnId++;
  readonly openedAt: number;
  dialect: Dialect = 'production';
  closed = false;
  closeCode: number | null = null;
  closeReason = '';
  readonly counters: ConnectionCounters = { msgsIn: 0, msgsOut: 0, bytesIn: 0, bytesOut: 0, dropped: 0, errors: 0, outByType: {}, inByType: {} };
  private keepAliveTask: Task | null = null;
  /** Unanswered keep-alive requests in a row. */
  unanswered = 0;
  lastKeepAliveAnsweredAt: number | null = null;
  abstract readonly kind: 'signaling' | 'media';
  tap: TapRef | null = null;

  constructor(readonly socket: RtmsSocket, protected readonly scheduler: Scheduler) {
    this.openedAt = scheduler.now();
  }

  /** Sends one message; `type` is for counters only. Returns false if the socket is closed. */
  send(text: string, type: number): boolean {
    if (this.closed) return false;
    const r = this.socket.send(text);
    if (r === 0) {
      this.counters.dropped++;
      return false;
    }
    this.counters.msgsOut++;
    this.counters.bytesOut += text.length;
    this.counters.outByType[type] = (this.counters.outByType[type] ?? 0) + 1;
    const t = this.tap?.fn;
    if (t) t(this, 'out', type, text.length);
    return true;
  }

  /** Media path: drop instead of queueing without limit when the app cannot keep up (slow-consumer policy). */
  sendMedia(text: string, type: number, maxBuffered: number): boolean {
    if (this.closed) return false;
    if (this.socket.bufferedAmount() > maxBuffered) {
      this.counters.dropped++;
      return false;
    }
    return this.send(text, type);
  }

  noteIn(type: number, bytes: number): void {
    this.counters.msgsIn++;
    this.counters.bytesIn += bytes;
    this.counters.inByType[type] = (this.counters.inByType[type] ?? 0) + 1;
    const t = this.tap?.fn;
    if (t) t(this, 'in', type, bytes);
  }

  /** Starts keep-alives: a request every `intervalMs`; `misses` unanswered in a row → `onTimeout` (spec §4.1). */
  startKeepAlive(intervalMs: number, misses: number, onTimeout: () => void): void {
    this.stopKeepAlive();
    this.keepAliveTask = this.scheduler.every(intervalMs, () => {
      if (this.closed) return this.stopKeepAlive();
      if (this.unanswered >= misses) {
        this.stopKeepAlive();
        onTimeout();
        return;
      }
      this.unanswered++;
      this.send(keepAliveReq(this.dialect, Math.round(this.scheduler.now())), MsgType.KEEP_ALIVE_REQ);
    });
  }

  keepAliveAnswered(): void {
    this.unanswered = 0;
    this.lastKeepAliveAnsweredAt = this.scheduler.now();
  }

  stopKeepAlive(): void {
    this.keepAliveTask?.cancel();
    this.keepAliveTask = null;
  }

  close(code = 1000, reason = ''): void {
    if (this.closed) return;
    this.markClosed(code, reason);
    try {
      this.socket.close(code, reason);
    } catch {
      // already gone
    }
  }

  markClosed(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.closeCode = code;
    this.closeReason = reason;
    this.stopKeepAlive();
  }

  describe() {
    return {
      id: this.id,
      kind: this.kind,
      dialect: this.dialect,
      remote_address: this.socket.remoteAddress,
      opened_at: Math.round(this.openedAt),
      closed: this.closed,
      close_code: this.closeCode,
      unanswered_keep_alives: this.unanswered,
      buffered_bytes: this.closed ? 0 : this.socket.bufferedAmount(),
      counters: this.counters,
    };
  }
}

export class SignalingConnection extends Connection {
  readonly kind = 'signaling' as const;
  /** Set after a successful handshake. */
  streamId: string | null = null;
  clientId: string | null = null;
  /** Events 1 and 7 are always sent; others only when subscribed (spec §4.3). */
  readonly subscribed = new Set<number>();
  readyAcked = false;
}

export class MediaConnection extends Connection {
  readonly kind = 'media' as const;
  streamId: string | null = null;
  /** Media type bits this socket carries (ALL expanded). */
  mask = 0;
  params: MediaParams = {};
  /** Tasks pacing this socket's media; cancelled on pause/close. */
  tasks: Task[] = [];
  /** Frames sent per media kind, for the API. */
  readonly sent = { audio: 0, video: 0, deskshare: 0, transcript: 0, chat: 0 };
  /** Video data_opt 4: the one subscribed user (spec §4.4). */
  videoSubscription: number | null = null;

  constructor(socket: RtmsSocket, scheduler: Scheduler, readonly path: MediaPath) {
    super(socket, scheduler);
  }

  cancelTasks(): void {
    for (const t of this.tasks) t.cancel();
    this.tasks = [];
  }

  override markClosed(code: number, reason: string): void {
    super.markClosed(code, reason);
    this.cancelTasks();
  }

  override describe() {
    return { ...super.describe(), path: this.path, media_type: this.mask, media_params: this.params, sent: this.sent };
  }
}
