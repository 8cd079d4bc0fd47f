// What the app did, per stream, recorded from the stream's happenings (src/engine/observer.ts): each
// handshake cycle and its CLIENT_READY_ACK (spec §3.4), each interruption with its window and whether the app
// came back in time (spec §4.1), handshakes after a stop, second concurrent connections, and every connection
// (their keep-alive and slow-consumer counters live on the Connection). src/engine/verdict.ts judges it.
import type { Connection } from './connection.ts';
import type { StreamEvent } from './observer.ts';
import type { RtmsStream } from './stream.ts';

/** One signaling handshake and what followed it until the next one. */
export interface HandshakeCycle {
  conn: number;
  /** The seed dialect has no CLIENT_READY_ACK (spec §10). */
  seed: boolean;
  signalingAt: number;
  /** First successful data handshake of this cycle. */
  dataAt: number | null;
  readyAt: number | null;
  /** A later signaling handshake replaced this one. */
  superseded: boolean;
}

export type InterruptionKind = 'signaling' | 'media' | 'failover';
export type InterruptionOutcome = 'pending' | 'reconnected' | 'expired' | 'stopped';

export interface Interruption {
  kind: InterruptionKind;
  at: number;
  windowMs: number;
  /** Media socket path for media interruptions. */
  path: string | null;
  /** "fault #3 drop_signaling", "keep-alive timeout", "socket closed". */
  cause: string;
  faultId: number | null;
  reconnectedAt: number | null;
  /** Media flowing again (FIRST_PACKET_TIMESTAMP after the reconnect). */
  resumedAt: number | null;
  outcome: InterruptionOutcome;
}

export interface HandshakeNote {
  at: number;
  socket: 'signaling' | 'media';
  status: number;
}

export interface StreamBehaviour {
  cycles: HandshakeCycle[];
  interruptions: Interruption[];
  /** Handshakes for the stream after it had stopped (status 2). */
  lateHandshakes: HandshakeNote[];
  /** Second concurrent connections refused (status 8, 15, 16). */
  duplicateHandshakes: HandshakeNote[];
  /** Every connection the stream had (the most recent LIMIT), for keep-alive and drop counters. */
  connections: Connection[];
  /** Counters of connections dropped from `connections` to keep it bounded. */
  evicted: { keepAliveSent: number; keepAliveAnswered: number; keepAliveLate: number; dropped: number; droppedBytes: number };
  stoppedAt: number | null;
  stopReason: number | null;
}

/** What caused the next loss, set by the fault injector around its action. */
export interface LossCause {
  faultId: number;
  label: string;
  failover?: boolean;
}

const LIMIT = 100;

function push<T>(list: T[], item: T): void {
  list.push(item);
  if (list.length > LIMIT) list.splice(0, list.length - LIMIT);
}

export class AppBehaviour {
  private readonly byStream = new WeakMap<RtmsStream, StreamBehaviour>();
  private readonly pendingCause = new WeakMap<RtmsStream, LossCause>();

  constructor(engine: { observers: Set<(s: RtmsStream, e: StreamEvent) => void> }) {
    engine.observers.add((s, e) => this.on(s, e));
  }

  /** The record of a stream (created empty on first use). */
  of(stream: RtmsStream): StreamBehaviour {
    let b = this.byStream.get(stream);
    if (!b) {
      b = {
        cycles: [], interruptions: [], lateHandshakes: [], duplicateHandshakes: [], connections: [],
        evicted: { keepAliveSent: 0, keepAliveAnswered: 0, keepAliveLate: 0, dropped: 0, droppedBytes: 0 },
        stoppedAt: null, stopReason: null,
      };
      this.byStream.set(stream, b);
    }
    return b;
  }

  /** Runs `fn` (a fault's action) so that a loss it causes is attributed to the fault. */
  withCause<T>(stream: RtmsStream, cause: LossCause, fn: () => T): T {
    this.pendingCause.set(stream, cause);
    try {
      return fn();
    } finally {
      this.pendingCause.delete(stream);
    }
  }

  private on(stream: RtmsStream, e: StreamEvent): void {
    const b = this.of(stream);
    const now = Math.round(stream.meeting.scheduler.now());
    const pending = () => b.interruptions.filter((i) => i.outcome === 'pending');
    switch (e.kind) {
      case 'signaling_attached': {
        for (const c of b.cycles) c.superseded = true;
        push(b.cycles, { conn: e.conn.id, seed: e.conn.dialect === 'seed', signalingAt: now, dataAt: null, readyAt: null, superseded: false });
        this.track(b, e.conn);
        // Both handshakes redone: every open window (signaling, failover, and media ones it replaced) is closed.
        if (e.reconnected) for (const i of pending()) { i.reconnectedAt = now; i.outcome = 'reconnected'; }
        return;
      }
      case 'media_attached': {
        const c = b.cycles.at(-1);
        if (c && c.dataAt === null) c.dataAt = now;
        this.track(b, e.conn);
        for (const i of pending()) {
          if (i.kind === 'media' && i.path === e.conn.path) { i.reconnectedAt = now; i.outcome = 'reconnected'; }
        }
        return;
      }
      case 'ready_ack': {
        const c = b.cycles.at(-1);
        if (c && c.readyAt === null) c.readyAt = now;
        return;
      }
      case 'activated':
        for (const i of b.interruptions) if (i.reconnectedAt !== null && i.resumedAt === null) i.resumedAt = now;
        return;
      case 'signaling_lost':
      case 'media_lost': {
        const cause = this.pendingCause.get(stream);
        const kind: InterruptionKind = e.kind === 'media_lost' ? 'media' : cause?.failover ? 'failover' : 'signaling';
        const keepAlive = e.cause === 24 ? (e.conn.keepAlive.ignored > 0 ? 'keep-alive timeout, answers ignored by a fault' : 'keep-alive timeout') : null;
        const label = cause?.label ?? keepAlive ?? `${e.kind === 'media_lost' ? 'media' : 'signaling'} socket closed`;
        push(b.interruptions, {
          kind, at: now, windowMs: Math.round(e.windowMs), path: e.kind === 'media_lost' ? e.conn.path : null, cause: label,
          faultId: cause?.faultId ?? null, reconnectedAt: null, resumedAt: null, outcome: 'pending',
        });
        return;
      }
      case 'window_expired':
        for (const i of pending()) i.outcome = 'expired';
        return;
      case 'stopped':
        b.stoppedAt = now;
        b.stopReason = e.reason;
        // Stopped for another reason while a window was open (host stop, meeting end): not the app's fault.
        for (const i of pending()) i.outcome = 'stopped';
        return;
      case 'late_handshake':
        push(b.lateHandshakes, { at: now, socket: e.socket, status: e.status });
        return;
      case 'duplicate_handshake':
        push(b.duplicateHandshakes, { at: now, socket: e.socket, status: e.status });
        return;
    }
  }

  private track(b: StreamBehaviour, conn: Connection): void {
    b.connections.push(conn);
    if (b.connections.length <= LIMIT) return;
    const old = b.connections.shift()!;
    b.evicted.keepAliveSent += old.keepAlive.sent;
    b.evicted.keepAliveAnswered += old.keepAlive.answered;
    b.evicted.keepAliveLate += old.keepAlive.late;
    b.evicted.dropped += old.counters.dropped;
    b.evicted.droppedBytes += old.counters.droppedBytes;
  }
}
