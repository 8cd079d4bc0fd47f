// One RTMS stream (one app's view of one meeting): its signaling and media connections and the state machine
// of spec §3-§4: handshakes done → CLIENT_READY_ACK → ACTIVE (media flows) ⇄ PAUSED, INTERRUPTED with a
// reconnection window, and STOPPED with a reason, a state message on every socket and a webhook.
import { EventType, MsgType, SessionState, StopReason, StreamState, nameOf } from '../protocol/enums.ts';
import { eventUpdate, sessionStateUpdate, streamStateUpdate } from '../protocol/outbound.ts';
import type { MockOptions } from '../config/options.ts';
import type { Logger } from '../log.ts';
import { short } from '../log.ts';
import type { MediaConnection, SignalingConnection } from './connection.ts';
import type { MediaPacker } from './media-packer.ts';
import { nextGrid, startMediaPump } from './media-pump.ts';
import type { Meeting } from './meeting.ts';
import { randomBytes } from 'node:crypto';
import { instancePayload } from './products.ts';
import type { Task } from './scheduler.ts';
import type { StreamEvent } from './observer.ts';
import { timingOf, type ProtocolTiming } from './timing.ts';

export type StreamPhase = 'awaiting' | 'connected' | 'active' | 'paused' | 'interrupted' | 'stopped';

export interface EngineContext {
  options: MockOptions;
  packer: MediaPacker;
  log: Logger;
  /** Sends a product webhook for this meeting (signed, retried, logged). */
  webhook(meeting: Meeting, kind: 'started' | 'stopped' | 'interrupted', payload: Record<string, unknown>): void;
  signalingUrl(): string;
  streamEnded(stream: RtmsStream): void;
  /** Reports what happens to the stream (verdicts, faults: src/engine/observer.ts). */
  observe?(stream: RtmsStream, e: StreamEvent): void;
}

export class RtmsStream {
  readonly sessionId = randomBytes(16).toString('hex');
  phase: StreamPhase = 'awaiting';
  signaling: SignalingConnection | null = null;
  readonly media = new Set<MediaConnection>();
  readyAcked = false;
  /** True once FIRST_PACKET_TIMESTAMP went out for the current activation. */
  activated = false;
  /** Ever paused: session state reads RESUMED after a resume (spec §6). */
  resumed = false;
  stopReason: number | null = null;
  stoppedAt: number | null = null;
  readonly startedAt: number;
  private window: Task | null = null;
  windowKind: 'signaling' | 'media' | null = null;
  private windowCause: number = StopReason.AWAIT_RECONNECTION_TIMEOUT;
  readonly history = { signalingHandshakes: 0, dataHandshakes: 0, interruptions: 0, reconnections: 0, readyAcks: 0 };
  private readonly log: Logger;

  /** This stream's app, when it is not the meeting's (several apps subscribed to one meeting each get a stream). */
  webhookUrl: string | null = null;

  constructor(readonly id: string, readonly meeting: Meeting, private readonly ctx: EngineContext) {
    this.startedAt = Math.round(meeting.scheduler.now());
    this.log = ctx.log.child(`stream ${short(id)}`);
  }

  private get now(): number {
    return Math.round(this.meeting.scheduler.now());
  }

  /** Keep-alive interval and windows of this meeting, divided by its speed factor (src/engine/timing.ts). */
  get timing(): ProtocolTiming {
    return timingOf(this.meeting, this.ctx.options);
  }

  get streamState(): number {
    switch (this.phase) {
      // A media socket lost and not yet replaced: the app was told INTERRUPTED/14 (spec §4.1); say so until it is.
      case 'active': return this.windowKind === 'media' ? StreamState.INTERRUPTED : this.resumed ? StreamState.RESUMED : StreamState.ACTIVE;
      case 'paused': return StreamState.PAUSED;
      case 'interrupted': return StreamState.INTERRUPTED;
      case 'stopped': return StreamState.TERMINATED;
      default: return StreamState.INACTIVE;
    }
  }

  get sessionState(): number {
    switch (this.phase) {
      case 'active': return this.resumed ? SessionState.RESUMED : SessionState.STARTED;
      case 'paused': return SessionState.PAUSED;
      case 'stopped': return SessionState.STOPPED;
      case 'interrupted': return this.activated ? SessionState.STARTED : SessionState.INITIALIZE;
      default: return SessionState.INITIALIZE;
    }
  }

  record(dir: 'in' | 'out' | 'info' | 'error', text: string, extra: { socket?: string; conn?: number; msg_type?: number | string; status_code?: number } = {}): void {
    this.meeting.log.push({ at: this.now, dir, text, ...extra });
  }

  /** Sends on signaling and logs it (signaling traffic is low-rate, every message is logged). */
  sendSignaling(text: string, type: number, note?: string): void {
    const s = this.signaling;
    if (!s || s.closed) return;
    s.send(text, type);
    this.record('out', note ?? nameOf(MsgType, type), { socket: 'signaling', conn: s.id, msg_type: type });
  }

  // --- handshakes ---

  attachSignaling(conn: SignalingConnection): void {
    const wasInterrupted = this.phase === 'interrupted';
    this.signaling = conn;
    conn.streamId = this.id;
    this.history.signalingHandshakes++;
    if (wasInterrupted && this.windowKind === 'signaling') {
      this.cancelWindow();
      this.history.reconnections++;
      this.log.info('app reconnected within the signaling window');
      this.record('info', 'app reconnected (signaling) within the window');
    }
    // A stream paused before it was interrupted stays paused after the reconnect (media waits for resume).
    this.phase = this.pausedBeforeInterrupt || this.phase === 'paused' ? 'paused' : 'connected';
    this.pausedBeforeInterrupt = false;
    this.readyAcked = conn.dialect === 'seed'; // the seed dialect has no CLIENT_READY_ACK (spec §10)
    this.activated = false;
    this.ctx.observe?.(this, { kind: 'signaling_attached', conn, reconnected: wasInterrupted });
    const t = this.timing;
    conn.startKeepAlive(t.keepAliveMs, t.keepAliveMisses, () => {
      this.log.warn(`signaling keep-alive timeout (${t.keepAliveMisses} unanswered)`);
      this.record('error', 'signaling keep-alive timeout: socket dropped', { socket: 'signaling', conn: conn.id });
      // Lost before close: Bun runs the close handler synchronously, which would report a plain drop (19).
      this.signalingLost(conn, StopReason.KEEP_ALIVE_TIMEOUT);
      conn.close(1000, 'keep-alive timeout');
    });
  }

  attachMedia(conn: MediaConnection): void {
    this.media.add(conn);
    conn.streamId = this.id;
    this.history.dataHandshakes++;
    const t = this.timing;
    conn.startKeepAlive(t.keepAliveMs, t.keepAliveMisses, () => {
      this.log.warn(`media (${conn.path}) keep-alive timeout`);
      this.record('error', `media keep-alive timeout on ${conn.path}: socket dropped`, { socket: conn.path, conn: conn.id });
      this.mediaLost(conn, StopReason.KEEP_ALIVE_TIMEOUT);
      conn.close(1000, 'keep-alive timeout');
    });
    const reconnected = this.windowKind === 'media' && this.phase !== 'interrupted';
    this.ctx.observe?.(this, { kind: 'media_attached', conn, reconnected });
    if (reconnected) {
      this.cancelWindow();
      this.history.reconnections++;
      this.record('info', `app reconnected (${conn.path}) within the media window`);
      if (this.phase === 'active') this.sendSignaling(streamStateUpdate(this.signalingDialect, this.streamState, StopReason.UNDEFINED, this.now), MsgType.STREAM_STATE_UPDATE, 'STREAM_STATE_UPDATE ACTIVE (media reconnected)');
    }
    this.maybeActivate();
    if (this.phase === 'active' && this.activated) startMediaPump(this.meeting, conn, this.ctx.packer, this.ctx.options.maxBufferedBytes);
  }

  get signalingDialect() {
    return this.signaling?.dialect ?? 'production';
  }

  readyAck(): void {
    this.history.readyAcks++;
    this.ctx.observe?.(this, { kind: 'ready_ack' });
    if (this.readyAcked && this.activated) return; // extra acks are harmless (spec §3.4)
    this.readyAcked = true;
    this.maybeActivate();
  }

  /** CLIENT_READY_ACK + a data connection → FIRST_PACKET_TIMESTAMP, ACTIVE, then media (spec §3.4). */
  maybeActivate(): void {
    if (!this.readyAcked || this.activated || this.media.size === 0) return;
    if (this.phase !== 'connected' && this.phase !== 'paused') return;
    this.activated = true;
    const d = this.signalingDialect;
    // One reading of the clock for the event and the pumps, so the first audio packet carries this timestamp.
    const startAt = this.meeting.scheduler.now();
    const first = nextGrid(this.meeting.mediaOrigin, 20, startAt);
    // Observers get the exact FIRST_PACKET_TIMESTAMP (a scenario's timeline starts on it, src/scenario).
    this.ctx.observe?.(this, { kind: 'activated', firstPacketAt: first });
    this.sendSignaling(eventUpdate(d, { event_type: EventType.FIRST_PACKET_TIMESTAMP, timestamp: first }), MsgType.EVENT_UPDATE, 'EVENT_UPDATE FIRST_PACKET_TIMESTAMP');
    if (this.phase === 'paused') return; // activation after a reconnect while paused: media waits for resume
    this.phase = 'active';
    this.sendSignaling(streamStateUpdate(d, StreamState.ACTIVE, StopReason.UNDEFINED, this.now), MsgType.STREAM_STATE_UPDATE, 'STREAM_STATE_UPDATE ACTIVE');
    this.sendSignaling(sessionStateUpdate(d, this.sessionId, this.resumed ? SessionState.RESUMED : SessionState.STARTED, StopReason.UNDEFINED, this.now), MsgType.SESSION_STATE_UPDATE);
    this.log.info(`media started on ${this.media.size} socket(s)`);
    this.sendRoster();
    for (const m of this.media) startMediaPump(this.meeting, m, this.ctx.packer, this.ctx.options.maxBufferedBytes, startAt);
  }

  /** Decision: a newly active stream learns who is already there (join, active speaker, share) if subscribed. */
  private sendRoster(): void {
    const present = [...this.meeting.participants.values()].filter((p) => p.present);
    if (present.length) this.event(EventType.PARTICIPANT_JOIN, { participants: present.map((p) => ({ user_id: p.userId, user_name: p.userName })) });
    const cams = present.filter((p) => p.cameraOn);
    if (cams.length) this.event(EventType.PARTICIPANT_VIDEO_ON, { participants: cams.map((p) => ({ user_id: p.userId })) });
    const sp = this.meeting.activeSpeaker;
    if (sp && this.meeting.isPresent(sp.userId)) this.event(EventType.ACTIVE_SPEAKER_CHANGE, { user_id: sp.userId, user_name: sp.userName });
    const sh = this.meeting.sharer;
    if (sh && this.meeting.isPresent(sh.userId)) this.event(EventType.SHARING_START, { user_id: sh.userId, user_name: sh.userName });
  }

  /** EVENT_UPDATE to the app if subscribed (events 1 and 7 always, spec §4.3). */
  event(type: number, fields: Record<string, unknown>): void {
    const s = this.signaling;
    if (!s || s.closed) return;
    if (type !== EventType.FIRST_PACKET_TIMESTAMP && type !== EventType.MEDIA_CONNECTION_INTERRUPTED && !s.subscribed.has(type)) return;
    this.sendSignaling(eventUpdate(s.dialect, { event_type: type, timestamp: this.now, ...fields }), MsgType.EVENT_UPDATE, `EVENT_UPDATE ${nameOf(EventType, type)}`);
  }

  /** Media connections that carry a media bit and may send now. */
  *carriers(bit: number): Iterable<MediaConnection> {
    if (this.phase !== 'active' || !this.activated) return;
    for (const m of this.media) if (!m.closed && m.mask & bit) yield m;
  }

  // --- control ---

  pause(): boolean {
    if (this.phase !== 'active' && this.phase !== 'connected') return false;
    this.phase = 'paused';
    for (const m of this.media) m.cancelTasks();
    const d = this.signalingDialect;
    this.sendSignaling(streamStateUpdate(d, StreamState.PAUSED, StopReason.UNDEFINED, this.now), MsgType.STREAM_STATE_UPDATE, 'STREAM_STATE_UPDATE PAUSED');
    this.sendSignaling(sessionStateUpdate(d, this.sessionId, SessionState.PAUSED, StopReason.UNDEFINED, this.now), MsgType.SESSION_STATE_UPDATE, 'SESSION_STATE_UPDATE PAUSED');
    this.log.info('paused');
    return true;
  }

  resume(): boolean {
    if (this.phase !== 'paused') return false;
    this.resumed = true;
    const d = this.signalingDialect;
    if (!this.activated) { this.phase = 'connected'; this.maybeActivate(); return true; }
    this.phase = 'active';
    this.sendSignaling(streamStateUpdate(d, StreamState.RESUMED, StopReason.UNDEFINED, this.now), MsgType.STREAM_STATE_UPDATE, 'STREAM_STATE_UPDATE RESUMED');
    this.sendSignaling(sessionStateUpdate(d, this.sessionId, SessionState.RESUMED, StopReason.UNDEFINED, this.now), MsgType.SESSION_STATE_UPDATE, 'SESSION_STATE_UPDATE RESUMED');
    for (const m of this.media) if (!m.closed) startMediaPump(this.meeting, m, this.ctx.packer, this.ctx.options.maxBufferedBytes);
    this.log.info('resumed');
    return true;
  }

  /** Terminates the stream: state messages on every socket, sockets closed, `rtms_stopped` webhook. */
  stop(reason: number): boolean {
    if (this.phase === 'stopped') return false;
    this.phase = 'stopped';
    this.stopReason = reason;
    this.stoppedAt = this.now;
    this.cancelWindow();
    const ts = this.now;
    for (const m of this.media) {
      m.cancelTasks();
      m.send(streamStateUpdate(m.dialect, StreamState.TERMINATED, reason, ts), MsgType.STREAM_STATE_UPDATE);
      m.close(1000, 'stream stopped');
    }
    const d = this.signalingDialect;
    this.sendSignaling(streamStateUpdate(d, StreamState.TERMINATED, reason, ts), MsgType.STREAM_STATE_UPDATE, `STREAM_STATE_UPDATE TERMINATED reason ${reason} ${nameOf(StopReason, reason)}`);
    this.sendSignaling(sessionStateUpdate(d, this.sessionId, SessionState.STOPPED, reason, ts), MsgType.SESSION_STATE_UPDATE, 'SESSION_STATE_UPDATE STOPPED');
    this.signaling?.close(1000, 'stream stopped');
    this.log.info(`stopped: reason ${reason} ${nameOf(StopReason, reason)}`);
    this.record('info', `stream stopped: reason ${reason} ${nameOf(StopReason, reason)}`);
    this.ctx.observe?.(this, { kind: 'stopped', reason });
    this.ctx.webhook(this.meeting, 'stopped', { ...instancePayload(this.meeting), rtms_stream_id: this.id, stop_reason: reason });
    this.ctx.streamEnded(this);
    return true;
  }

  // --- losses and windows (spec §4.1) ---

  /**
   * The signaling socket closed or timed out: INTERRUPTED, `rtms_interrupted`, 60 s to redo both handshakes.
   * `notify` false skips the webhook (a server failover announces itself with a new rtms_started, spec §9).
   */
  signalingLost(conn: SignalingConnection, cause: number = StopReason.AWAIT_RECONNECTION_TIMEOUT, notify = true): void {
    if (this.signaling !== conn) return;
    this.signaling = null;
    if (this.phase === 'stopped') return;
    this.history.interruptions++;
    const ts = this.now;
    // Media sockets cannot outlive their signaling: tell them why and close them; the app reconnects both.
    for (const m of this.media) {
      m.cancelTasks();
      m.send(streamStateUpdate(m.dialect, StreamState.INTERRUPTED, StopReason.SIGNAL_CONNECTION_INTERRUPTED, ts), MsgType.STREAM_STATE_UPDATE);
      m.close(1000, 'signaling connection lost');
    }
    this.media.clear();
    this.readyAcked = false;
    this.activated = false;
    const wasPaused = this.phase === 'paused';
    this.phase = 'interrupted';
    const windowMs = this.timing.signalingWindowMs;
    this.log.warn(`signaling lost; waiting ${windowMs} ms for the app to reconnect`);
    this.record('info', `signaling lost: stream INTERRUPTED, ${windowMs} ms window`);
    if (notify) this.ctx.webhook(this.meeting, 'interrupted', { ...instancePayload(this.meeting), rtms_stream_id: this.id });
    this.openWindow('signaling', windowMs, cause);
    this.ctx.observe?.(this, { kind: 'signaling_lost', conn, cause, windowMs });
    if (wasPaused) this.pausedBeforeInterrupt = true;
  }
  pausedBeforeInterrupt = false;

  /** A media socket closed or timed out: event 7 and INTERRUPTED/14 on signaling, 30 s for the data handshake. */
  mediaLost(conn: MediaConnection, cause: number = StopReason.AWAIT_RECONNECTION_TIMEOUT): void {
    if (!this.media.delete(conn)) return;
    conn.cancelTasks();
    if (this.phase === 'stopped' || this.phase === 'interrupted') return;
    if (!this.signaling || this.signaling.closed) return;
    const d = this.signalingDialect;
    this.event(EventType.MEDIA_CONNECTION_INTERRUPTED, {});
    this.sendSignaling(streamStateUpdate(d, StreamState.INTERRUPTED, StopReason.DATA_CONNECTION_INTERRUPTED, this.now), MsgType.STREAM_STATE_UPDATE, 'STREAM_STATE_UPDATE INTERRUPTED reason 14');
    this.history.interruptions++;
    const windowMs = this.timing.mediaWindowMs;
    this.log.warn(`media socket ${conn.path} lost; waiting ${windowMs} ms for a new data handshake`);
    this.record('info', `media ${conn.path} lost: ${windowMs} ms window`);
    if (this.windowKind !== 'media') this.openWindow('media', windowMs, cause);
    this.ctx.observe?.(this, { kind: 'media_lost', conn, cause, windowMs });
  }

  private openWindow(kind: 'signaling' | 'media', ms: number, cause: number): void {
    this.cancelWindow();
    this.windowKind = kind;
    this.windowCause = cause;
    this.window = this.meeting.scheduler.after(ms, () => {
      this.window = null;
      this.log.warn(`${kind} reconnection window expired`);
      this.record('error', `${kind} reconnection window expired`);
      this.ctx.observe?.(this, { kind: 'window_expired', window: kind });
      // Keep-alive loss that was never repaired reads as KEEP_ALIVE_TIMEOUT; anything else as the window's end.
      this.stop(this.windowCause);
    });
  }

  private cancelWindow(): void {
    this.window?.cancel();
    this.window = null;
    this.windowKind = null;
  }

  describe() {
    return {
      rtms_stream_id: this.id,
      rtms_session_id: this.sessionId,
      phase: this.phase,
      stream_state: this.streamState,
      stream_state_name: nameOf(StreamState, this.streamState),
      session_state: this.sessionState,
      session_state_name: nameOf(SessionState, this.sessionState),
      stop_reason: this.stopReason,
      started_at: this.startedAt,
      stopped_at: this.stoppedAt,
      ready_acked: this.readyAcked,
      reconnection_window: this.windowKind,
      history: this.history,
      signaling: this.signaling ? this.signaling.describe() : null,
      media: [...this.media].map((m) => m.describe()),
    };
  }
}
