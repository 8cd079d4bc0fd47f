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

/**
 * Per-connection fault hooks (src/engine/fault-injector.ts); null on every connection without an active fault,
 * so the normal path costs one property read.
 */
export interface ConnectionHooks {
  /** Rewrites an outgoing frame: extra unknown fields, or the same JSON as a binary frame (spec §1). */
  frame?(conn: Connection, text: string, type: number): string | Uint8Array;
  /** Takes over a media message (jitter, bursts): true if it queued it (and will call sendMediaNow later). */
  media?(conn: Connection, text: string, type: number, maxBuffered: number): boolean;
  /** False skips this keep-alive request (the mock "stops sending keep-alives"). */
  keepAliveReq?(conn: Connection): boolean;
  /** False ignores this answer (the mock "stops honouring" it: spec §4.1 timeout follows). */
  keepAliveResp?(conn: Connection): boolean;
}

export interface ConnectionCounters {
  msgsIn: number;
  msgsOut: number;
  bytesIn: number;
  bytesOut: number;
  /** Media messages not sent because the consumer was too slow (buffer above the bound). */
  dropped: number;
  /** Their size (the JSON text). */
  droppedBytes: number;
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
  readonly counters: ConnectionCounters = { msgsIn: 0, msgsOut: 0, bytesIn: 0, bytesOut: 0, dropped: 0, droppedBytes: 0, errors: 0, outByType: {}, inByType: {} };
  /** Highest send-buffer fill seen before a media send (slow-consumer diagnostics). */
  bufferedHighWater = 0;
  /**
   * How the app answered keep-alives (for the verdicts): `late` = requests not answered before the next one was
   * due; `ignored` = answers the mock disregarded (fault); `skipped` = requests the mock did not send (fault).
   */
  readonly keepAlive = { sent: 0, answered: 0, late: 0, maxLatencyMs: 0, ignored: 0, skipped: 0 };
  private keepAliveOutstandingSince: number | null = null;
  hooks: ConnectionHooks | null = null;
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
    const frame = this.hooks?.frame ? this.hooks.frame(this, text, type) : text;
    const r = this.socket.send(frame);
    if (r === 0) {
      this.counters.dropped++;
      return false;
    }
    this.counters.msgsOut++;
    this.counters.bytesOut += typeof frame === 'string' ? frame.length : frame.byteLength;
    this.counters.outByType[type] = (this.counters.outByType[type] ?? 0) + 1;
    const t = this.tap?.fn;
    if (t) t(this, 'out', type, text.length);
    return true;
  }

  /** Media path: drop instead of queueing without limit when the app cannot keep up (slow-consumer policy). */
  sendMedia(text: string, type: number, maxBuffered: number): boolean {
    if (this.closed) return false;
    if (this.hooks?.media?.(this, text, type, maxBuffered)) return true;
    return this.sendMediaNow(text, type, maxBuffered);
  }

  /** Sends media now under the slow-consumer policy: above `maxBuffered` queued bytes the message is dropped. */
  sendMediaNow(text: string, type: number, maxBuffered: number): boolean {
    if (this.closed) return false;
    const buffered = this.socket.bufferedAmount();
    if (buffered > this.bufferedHighWater) this.bufferedHighWater = buffered;
    if (buffered > maxBuffered) {
      this.counters.dropped++;
      this.counters.droppedBytes += text.length;
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
    this.keepAliveTask = this.scheduler.every(intervalMs, (due) => {
      if (this.closed) return this.stopKeepAlive();
      // After a stall (busy event loop, GC pause, suspended process, clock jump) the overdue requests would run
      // back to back, with no chance for the app to answer in between, and three "misses" would drop a healthy
      // socket: only the last overdue one of such a burst is sent (the next one is already due as well).
      if (this.scheduler.now() - due >= intervalMs) return;
      if (this.keepAliveOutstandingSince !== null) {
        this.keepAlive.late++; // the app did not answer before this one was due
        this.keepAliveOutstandingSince = null;
      }
      if (this.unanswered >= misses) {
        this.stopKeepAlive();
        onTimeout();
        return;
      }
      if (this.hooks?.keepAliveReq && !this.hooks.keepAliveReq(this)) {
        this.keepAlive.skipped++;
        return;
      }
      this.unanswered++;
      this.keepAlive.sent++;
      this.keepAliveOutstandingSince = this.scheduler.now();
      this.send(keepAliveReq(this.dialect, Math.round(this.scheduler.now())), MsgType.KEEP_ALIVE_REQ);
    });
  }

  keepAliveAnswered(): void {
    const now = this.scheduler.now();
    if (this.keepAliveOutstandingSince !== null) {
      this.keepAlive.answered++;
      this.keepAlive.maxLatencyMs = Math.max(this.keepAlive.maxLatencyMs, Math.round(now - this.keepAliveOutstandingSince));
      this.keepAliveOutstandingSince = null;
    }
    if (this.hooks?.keepAliveResp && !this.hooks.keepAliveResp(this)) {
      this.keepAlive.ignored++;
      return;
    }
    this.unanswered = 0;
    this.lastKeepAliveAnsweredAt = now;
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
      buffered_high_water: this.bufferedHighWater,
      keep_alive: this.keepAlive,
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
