// The hub: owns meetings and streams, routes every inbound frame of both socket kinds to the right stream,
// answers handshakes and requests with the status codes of spec §5, and fans the synthetic timeline out.
import {
  ALL_MEDIA_BITS, Codec, EventType, MediaBit, MsgType, RESOLUTION_SIZE, StatusCode, StopReason, nameOf,
} from '../protocol/enums.ts';
import {
  ClientReadyAck, DataHandshakeReq, SessionStateReq, SignalingHandshakeReq, StreamCloseReq, StreamStateReq,
  VideoSubscriptionReq, decodeFrame, instanceIdOf, validate, type DecodedMessage, type Dialect,
} from '../protocol/inbound.ts';
import { negotiateMediaParams } from '../protocol/media-params.ts';
import { dataHandshakeResp, errorReply, requestResp, signalingHandshakeResp, type ServerUrls } from '../protocol/outbound.ts';
import { matchSignature } from '../protocol/signature.ts';
import type { MockOptions } from '../config/options.ts';
import type { Credentials } from '../config/credentials.ts';
import type { Logger } from '../log.ts';
import { short } from '../log.ts';
import { buildTimeline, type SyntheticTimeline, type TimelineItem } from '../media/synthetic-timeline.ts';
import type { SpeechProgram, VideoCodec, VideoLibrary } from '../media/types.ts';
import { Connection, MediaConnection, SignalingConnection, type TapRef } from './connection.ts';
import { Inspector } from './inspector.ts';
import { MediaPacker } from './media-packer.ts';
import { Meeting, newMeetingUuid, newStreamId, type MeetingSource } from './meeting.ts';
import type { MediaProgram } from './media-program.ts';
import { IngestHub } from '../ingest/ingest-hub.ts';
import { PRODUCT_INFO, type Product } from './products.ts';
import { Scheduler, type Task } from './scheduler.ts';
import type { MediaPath, RtmsSocket, SocketRole } from './socket.ts';
import { RtmsStream, type EngineContext } from './stream.ts';
import type { StreamEvent, StreamObserver } from './observer.ts';
import { timingOf } from './timing.ts';
import { AppBehaviour } from './app-behaviour.ts';
import { CLOSE_TRY_AGAIN_LATER, ConnectionLimiter, meetingLimitReason } from './limits.ts';
import { FaultInjector } from './fault-injector.ts';

/** What the engine needs from webhook delivery (src/webhooks implements it). */
export interface WebhookSink {
  send(meeting: Meeting, url: string, event: string, payload: Record<string, unknown>, opts?: WebhookSendOptions): void | Promise<unknown>;
}

/** Per-delivery switches (the DeliverOptions of src/webhooks/delivery.ts): speed-scaled backoff and faults. */
export interface WebhookSendOptions {
  duplicate?: boolean;
  delayMs?: number;
  forceRetries?: number;
  backoffMs?: number;
}

export interface EngineDeps {
  options: MockOptions;
  credentials: Credentials;
  program: SpeechProgram;
  video: VideoLibrary;
  scheduler: Scheduler;
  log: Logger;
  webhooks: WebhookSink;
}

export interface CreateMeetingInput {
  webhookUrl: string | null;
  product?: Product;
  meetingUuid?: string;
  rtmsStreamId?: string;
  operatorId?: string;
  /** Start the RTMS stream (send `rtms_started`) right away (default true). */
  startRtms?: boolean;
  /** Protocol-time factor (src/engine/timing.ts): keep-alives, windows and webhook backoff divided by it. */
  speed?: number;
  /** synthetic (default) or a live source fed through /ingest (docs/ingest.md). */
  source?: MeetingSource;
  /** What a synthetic meeting plays (default the looping dialogue); a scenario passes its own (src/scenario). */
  media?: MediaProgram;
}

const PATH_BIT: Record<Exclude<MediaPath, 'all'>, number> = {
  audio: MediaBit.AUDIO, video: MediaBit.VIDEO, deskshare: MediaBit.DESKSHARE, transcript: MediaBit.TRANSCRIPT, chat: MediaBit.CHAT,
};
/** Contact Center voice has no video, share or chat (spec §7 shows audio and transcript with channel_id). */
const PRODUCT_MEDIA: Record<Product, number> = {
  meeting: ALL_MEDIA_BITS, webinar: ALL_MEDIA_BITS, session: ALL_MEDIA_BITS, contact_center: MediaBit.AUDIO | MediaBit.TRANSCRIPT,
};
const VIDEO_CODEC_NAMES: Record<number, VideoCodec> = { [Codec.JPG]: 'JPG', [Codec.PNG]: 'PNG', [Codec.H264]: 'H264' };
const NOT_SUPPORTED: [number, number][] = [
  [MediaBit.AUDIO, StatusCode.MEDIA_TYPE_AUDIO_NOT_SUPPORT], [MediaBit.VIDEO, StatusCode.MEDIA_TYPE_VIDEO_NOT_SUPPORT],
  [MediaBit.DESKSHARE, StatusCode.MEDIA_TYPE_DESKSHARE_NOT_SUPPORT], [MediaBit.TRANSCRIPT, StatusCode.MEDIA_TYPE_TRANSCRIPT_NOT_SUPPORT],
  [MediaBit.CHAT, StatusCode.MEDIA_TYPE_CHAT_NOT_SUPPORT],
];
/** Ended meetings kept for the API before the oldest are forgotten. */
const ENDED_RETAINED = 200;

/** POST /api/meetings (or a seed-style stream) beyond `maxMeetings` live meetings (README "Security and limits"). */
export class MeetingLimitError extends Error {
  override name = 'MeetingLimitError';
}

export class RtmsEngine implements EngineContext {
  readonly options: MockOptions;
  readonly packer = new MediaPacker();
  readonly log: Logger;
  readonly scheduler: Scheduler;
  readonly meetings = new Map<string, Meeting>();
  readonly streams = new Map<string, RtmsStream>();
  readonly connections = new Set<Connection>();
  private readonly handshakeTimers = new Map<Connection, Task>();
  readonly timeline: SyntheticTimeline;
  readonly totals = { signalingOpened: 0, mediaOpened: 0, rejected: 0, meetingsCreated: 0 };
  /** Total and per-address WebSocket limits, shared with the ingest hub (src/engine/limits.ts). */
  readonly limits: ConnectionLimiter;
  private ports = { http: 0, media: 0 };
  private scheme: 'ws' | 'wss' = 'ws';

  readonly inspector = new Inspector();
  /** Live sources: the /ingest sockets and the media of browser/file meetings (src/ingest). */
  readonly ingest: IngestHub;
  /** Listeners of every stream's happenings (src/engine/observer.ts). */
  readonly observers = new Set<StreamObserver>();
  /** How each app behaved, for the verdicts (src/engine/app-behaviour.ts, verdict.ts). */
  readonly behaviour = new AppBehaviour(this);
  /** Faults injected per meeting (src/engine/fault-injector.ts). */
  readonly faults = new FaultInjector(this);
  private readonly tapRef: TapRef = { fn: null };
  private statsTask: Task | null = null;
  private readonly tapBudget = new WeakMap<Connection, { second: number; n: number }>();
  private readonly lastOut = new WeakMap<Connection, number>();
  private droppedTapEvents = 0;

  constructor(private readonly deps: EngineDeps) {
    this.options = deps.options;
    this.log = deps.log;
    this.scheduler = deps.scheduler;
    this.timeline = buildTimeline(deps.program);
    this.limits = new ConnectionLimiter(deps.options);
    this.ingest = new IngestHub(this);
    this.inspector.onActiveChange = (on) => {
      this.tapRef.fn = on ? (conn, dir, type, bytes) => this.tap(conn, dir, type, bytes) : null;
      this.statsTask?.cancel();
      this.statsTask = on ? this.scheduler.every(1000, () => this.emitStats()) : null;
    };
  }

  /** Keep-alives and media messages for the inspector (signaling is logged by the stream); ≤ 100/s per socket. */
  private tap(conn: Connection, dir: 'in' | 'out', type: number, bytes: number): void {
    if (type < MsgType.KEEP_ALIVE_REQ || type > MsgType.MEDIA_DATA_CHAT) return;
    const c = conn as SignalingConnection | MediaConnection;
    const stream = c.streamId ? this.streams.get(c.streamId) : undefined;
    if (!stream) return;
    const now = this.scheduler.now();
    const second = Math.floor(now / 1000);
    let b = this.tapBudget.get(conn);
    if (!b || b.second !== second) { b = { second, n: 0 }; this.tapBudget.set(conn, b); }
    if (++b.n > 100) { this.droppedTapEvents++; return; }
    this.inspector.emit({
      type: 'media', meeting_uuid: stream.meeting.uuid, stream_id: stream.id, conn: conn.id,
      socket: conn instanceof MediaConnection ? conn.path : 'signaling', dir, msg_type: type, bytes, at: Math.round(now),
    });
  }

  private emitStats(): void {
    const connections: unknown[] = [];
    for (const conn of this.connections) {
      const c = conn as SignalingConnection | MediaConnection;
      const stream = c.streamId ? this.streams.get(c.streamId) : undefined;
      const prev = this.lastOut.get(conn) ?? conn.counters.msgsOut;
      this.lastOut.set(conn, conn.counters.msgsOut);
      connections.push({
        meeting_uuid: stream?.meeting.uuid ?? null, stream_id: stream?.id ?? null, conn: conn.id, kind: conn.kind,
        socket: conn instanceof MediaConnection ? conn.path : 'signaling', msgs_out: conn.counters.msgsOut,
        msgs_in: conn.counters.msgsIn, bytes_out: conn.counters.bytesOut, rate_out: conn.counters.msgsOut - prev,
        dropped: conn.counters.dropped, buffered: conn.closed ? 0 : conn.socket.bufferedAmount(),
        // Slow-consumer diagnostics (media dropped above --max-buffered, never signaling) and keep-alive answers.
        dropped_bytes: conn.counters.droppedBytes, buffered_high_water: conn.bufferedHighWater, keep_alive: conn.keepAlive,
        media_params: conn instanceof MediaConnection ? conn.params : undefined,
      });
    }
    connections.push(...this.ingest.statsRows());
    this.inspector.emit({ type: 'stats', at: Math.round(this.scheduler.now()), connections, dropped_events: this.droppedTapEvents });
  }

  get credentials(): Credentials {
    return this.deps.credentials;
  }

  /** The built-in dialogue (scenarios speak its lines, src/scenario). */
  get speechProgram(): SpeechProgram {
    return this.deps.program;
  }

  setPorts(http: number, media: number, tls = false): void {
    this.ports = { http, media };
    this.scheme = tls ? 'wss' : 'ws';
  }

  signalingUrl(): string {
    return `${this.scheme}://${this.options.publicHost}:${this.ports.http}/signaling`;
  }

  mediaUrls(): ServerUrls {
    const base = `${this.scheme}://${this.options.publicHost}:${this.ports.media}`;
    return { all: `${base}/all`, audio: `${base}/audio`, video: `${base}/video`, deskshare: `${base}/deskshare`, transcript: `${base}/transcript`, chat: `${base}/chat` };
  }

  // --- meetings and streams ---

  createMeeting(input: CreateMeetingInput): { meeting: Meeting; stream: RtmsStream | null } {
    const uuid = input.meetingUuid ?? newMeetingUuid();
    if (this.meetings.has(uuid) && !this.meetings.get(uuid)!.ended) throw new Error(`meeting ${uuid} already exists`);
    const max = this.options.maxMeetings;
    if (this.liveMeetingCount() >= max) {
      throw new MeetingLimitError(`${max} meetings are live (--max-meetings ${max}): end some (DELETE /api/meetings/{uuid}) or start the mock with a higher --max-meetings`);
    }
    const meeting = new Meeting({
      uuid,
      product: input.product ?? 'meeting',
      webhookUrl: input.webhookUrl,
      operatorId: input.operatorId ?? 'P3Q8W2X9Y5',
      sessionKey: input.product === 'session' ? `key_${newStreamId().slice(0, 12)}` : undefined,
      program: this.deps.program,
      timeline: this.timeline,
      video: this.deps.video,
      scheduler: this.scheduler,
      onTimeline: (m, item, loopStart, changed) => this.onTimeline(m, item, loopStart, changed),
      source: input.source,
      media: input.media,
    });
    if (meeting.source !== 'synthetic') meeting.live = this.ingest.attach(meeting);
    if (input.speed !== undefined) meeting.speed = input.speed;
    this.meetings.set(uuid, meeting);
    meeting.log.listener = (entry) => { if (this.inspector.active) this.inspector.emit({ type: 'log', meeting_uuid: uuid, entry }); };
    this.totals.meetingsCreated++;
    this.log.info(`${meeting.product} ${short(uuid)} created${input.webhookUrl ? `, webhook ${input.webhookUrl}` : ''}`);
    const stream = input.startRtms === false ? null : this.startStream(meeting, input.rtmsStreamId);
    return { meeting, stream };
  }

  /** Opens a new RTMS stream for the meeting and sends `<product>.rtms_started` (spec §1, §9). */
  startStream(meeting: Meeting, streamId = newStreamId(), webhookUrl: string | null = null): RtmsStream {
    if (meeting.ended) throw new Error('the meeting has ended');
    const stream = new RtmsStream(streamId, meeting, this);
    stream.webhookUrl = webhookUrl;
    meeting.streams.push(stream);
    this.streams.set(streamId, stream);
    stream.record('info', `RTMS stream ${streamId} started`);
    this.webhook(meeting, 'started', this.startedPayload(meeting, stream));
    return stream;
  }

  startedPayload(meeting: Meeting, stream: RtmsStream): Record<string, unknown> {
    const key = PRODUCT_INFO[meeting.product].idKey;
    const base: Record<string, unknown> = { [key]: meeting.uuid };
    if (meeting.product === 'meeting' || meeting.product === 'webinar') base.operator_id = meeting.operatorId;
    if (meeting.product === 'session') base.session_key = meeting.sessionKey;
    return { ...base, rtms_stream_id: stream.id, server_urls: this.signalingUrl() };
  }

  webhook(meeting: Meeting, kind: 'started' | 'stopped' | 'interrupted', payload: Record<string, unknown>): void {
    // Every payload names its stream (spec §9); a stream opened for another app goes to that app's endpoint.
    const url = this.streams.get(payload.rtms_stream_id as string)?.webhookUrl ?? meeting.webhookUrl;
    if (!url) return;
    const event = PRODUCT_INFO[meeting.product].event(kind);
    // A faster meeting retries sooner (timing.ts); webhook faults may delay, hold, repeat or re-send it.
    const base: WebhookSendOptions = meeting.speed !== 1 ? { backoffMs: timingOf(meeting, this.options).webhookBackoffMs } : {};
    const send = (extra: WebhookSendOptions = {}) => this.deps.webhooks.send(meeting, url, event, payload, { ...base, ...extra });
    if (this.faults.interceptWebhook(meeting, kind, event, send)) return;
    void send();
  }

  observe(stream: RtmsStream, e: StreamEvent): void {
    // The video formats live feeders must encode follow the apps' sockets (docs/ingest.md §3).
    if (e.kind === 'media_attached' || e.kind === 'media_lost' || e.kind === 'stopped' || e.kind === 'signaling_lost') this.ingest.mediaChanged(stream.meeting);
    for (const o of this.observers) {
      try { o(stream, e); } catch (err) { this.log.error(`stream observer failed: ${(err as Error).stack ?? err}`); }
    }
  }

  streamEnded(_stream: RtmsStream): void {
    // Streams stay addressable (a late handshake is told the stream stopped); meetings are pruned on end.
  }

  endMeeting(meeting: Meeting, reason: number = StopReason.MEETING_ENDED): void {
    for (const s of meeting.liveStreams) s.stop(reason);
    meeting.end();
    this.faults.meetingEnded(meeting);
    this.ingest.meetingEnded(meeting);
    this.log.info(`${meeting.product} ${short(meeting.uuid)} ended`);
    this.pruneEnded();
  }

  private pruneEnded(): void {
    const ended = [...this.meetings.values()].filter((m) => m.ended);
    for (const m of ended.slice(0, Math.max(0, ended.length - ENDED_RETAINED))) {
      this.meetings.delete(m.uuid);
      for (const s of m.streams) this.streams.delete(s.id);
    }
  }

  /** A stream listed in the credentials file: created on first use so seed-style apps work without the API. */
  private adoptKnownStream(instanceId: string, streamId: string): RtmsStream | null {
    const known = this.credentials.knownStreams.find((k) => k.meeting_uuid === instanceId && k.rtms_stream_id === streamId);
    if (!known) return null;
    const existing = this.meetings.get(instanceId);
    if (existing && !existing.ended) return this.startStream(existing, streamId);
    if (existing) this.meetings.delete(instanceId);
    if (this.liveMeetingCount() >= this.options.maxMeetings) return null;
    return this.createMeeting({ webhookUrl: null, meetingUuid: instanceId, rtmsStreamId: streamId }).stream;
  }

  // --- timeline fan-out ---

  private onTimeline(meeting: Meeting, item: TimelineItem, loopStart: number, changed = true): void {
    // What was said and written, once per meeting (the page's Transcript tab reads these lines, as for live sources).
    if ((item.kind === 'transcript' || item.kind === 'chat') && meeting.isPresent(item.speaker.userId)) {
      const what = item.kind === 'transcript' ? item.utterance.text : item.text;
      meeting.log.push({ at: Math.round(this.scheduler.now()), dir: 'info', text: `${item.kind} from ${item.speaker.userName}: ${what.slice(0, 80)}` });
    }
    for (const stream of meeting.liveStreams) {
      if (stream.phase !== 'active' && stream.phase !== 'paused') continue;
      // After a control-API override the dialogue may repeat the current speaker/sharer: no duplicate event.
      if (!changed && (item.kind === 'speaker' || item.kind === 'share_start' || item.kind === 'share_stop')) continue;
      switch (item.kind) {
        case 'speaker':
          if (item.speaker && meeting.isPresent(item.speaker.userId)) {
            stream.event(EventType.ACTIVE_SPEAKER_CHANGE, { user_id: item.speaker.userId, user_name: item.speaker.userName });
          }
          break;
        case 'share_start':
          if (meeting.isPresent(item.speaker.userId)) stream.event(EventType.SHARING_START, { user_id: item.speaker.userId, user_name: item.speaker.userName });
          break;
        case 'share_stop':
          stream.event(EventType.SHARING_STOP, {});
          break;
        case 'transcript': {
          if (!meeting.isPresent(item.speaker.userId)) break;
          const start = loopStart + item.utterance.startMs;
          const end = loopStart + item.utterance.endMs;
          const channelId = meeting.product === 'contact_center' ? 1 : undefined;
          for (const m of stream.carriers(MediaBit.TRANSCRIPT)) {
            const text = this.packer.transcript(m.dialect, { userId: item.speaker.userId, userName: item.speaker.userName, channelId }, item.utterance.text, start, end, 9);
            if (m.sendMedia(text, MsgType.MEDIA_DATA_TRANSCRIPT, this.options.maxBufferedBytes)) m.sent.transcript++;
          }
          break;
        }
        case 'chat': {
          if (!meeting.isPresent(item.speaker.userId)) break;
          const ts = loopStart + item.at;
          for (const m of stream.carriers(MediaBit.CHAT)) {
            const text = this.packer.chat(m.dialect, { userId: item.speaker.userId, userName: item.speaker.userName }, item.text, ts);
            if (m.sendMedia(text, MsgType.MEDIA_DATA_CHAT, this.options.maxBufferedBytes)) m.sent.chat++;
          }
          break;
        }
      }
    }
  }

  // --- sockets ---

  open(role: SocketRole, socket: RtmsSocket): Connection {
    const conn = role.kind === 'signaling'
      ? new SignalingConnection(socket, this.scheduler)
      : new MediaConnection(socket, this.scheduler, role.path);
    if (role.kind === 'signaling') { conn.dialect = role.dialectHint; this.totals.signalingOpened++; } else this.totals.mediaOpened++;
    // Total and per-address limits: refused sockets are closed at once with 1013 and never tracked.
    const refusal = this.limits.acquire(socket.remoteAddress);
    if (refusal) {
      this.log.warn(`${role.kind} socket #${conn.id} from ${socket.remoteAddress} refused: ${refusal}`);
      conn.close(CLOSE_TRY_AGAIN_LATER, refusal);
      return conn;
    }
    this.connections.add(conn);
    conn.tap = this.tapRef;
    // A socket that never handshakes is closed, so idle sockets cannot pile up.
    const limit = this.options.keepAliveMs * this.options.keepAliveMisses;
    this.handshakeTimers.set(conn, this.scheduler.after(limit, () => {
      this.handshakeTimers.delete(conn);
      this.log.warn(`${role.kind} socket #${conn.id} from ${socket.remoteAddress} sent no handshake in ${limit} ms; closing`);
      conn.close(1008, 'no handshake');
      this.closed(conn, 1008, 'no handshake');
    }));
    this.log.debug(`${role.kind}${role.kind === 'media' ? ` /${role.path}` : ''} socket #${conn.id} opened from ${socket.remoteAddress}`);
    return conn;
  }

  closed(conn: Connection, code: number, reason: string): void {
    if (!this.connections.delete(conn)) return;
    this.limits.release(conn.socket.remoteAddress);
    this.handshakeTimers.get(conn)?.cancel();
    this.handshakeTimers.delete(conn);
    conn.markClosed(code, reason);
    const stream = conn instanceof SignalingConnection || conn instanceof MediaConnection ? (conn.streamId ? this.streams.get(conn.streamId) : undefined) : undefined;
    this.log.info(`${conn.kind}${conn instanceof MediaConnection ? ` /${conn.path}` : ''} socket #${conn.id} closed (${code}${reason ? ` ${reason}` : ''})`);
    if (!stream) return;
    stream.record('info', `${conn.kind} socket closed (${code}${reason ? ` ${reason}` : ''})`, { socket: conn instanceof MediaConnection ? conn.path : 'signaling', conn: conn.id });
    if (conn instanceof SignalingConnection) stream.signalingLost(conn);
    else if (conn instanceof MediaConnection) { stream.mediaLost(conn); this.ingest.mediaChanged(stream.meeting); }
  }

  message(conn: Connection, data: string | ArrayBuffer | Uint8Array): void {
    try {
      if (conn.closed) return;
      const bytes = typeof data === 'string' ? data.length : data.byteLength;
      const r = decodeFrame(data);
      if (!r.ok) {
        conn.counters.errors++;
        conn.noteIn(r.type ?? 0, bytes);
        this.reject(conn, r.type, r.status, r.reason);
        return;
      }
      conn.noteIn(r.msg.type, bytes);
      if (conn instanceof SignalingConnection) this.onSignaling(conn, r.msg);
      else if (conn instanceof MediaConnection) this.onMedia(conn, r.msg);
    } catch (err) {
      // Never let one bad message take the process down or disturb other meetings.
      this.log.error(`internal error handling a message on socket #${conn.id}: ${(err as Error).stack ?? err}`);
      conn.send(errorReply(conn.dialect, undefined, StatusCode.INTERNAL_EXCEPTION, 'internal error'), 0);
    }
  }

  private streamOf(conn: SignalingConnection | MediaConnection): RtmsStream | undefined {
    return conn.streamId ? this.streams.get(conn.streamId) : undefined;
  }

  /** A message that cannot be processed: before the handshake the handshake fails (and closes), after it an error reply. */
  private reject(conn: Connection, type: number | undefined, status: number, reason: string): void {
    this.totals.rejected++;
    const sc = conn as SignalingConnection | MediaConnection;
    const stream = this.streamOf(sc);
    stream?.record('error', reason, { socket: conn instanceof MediaConnection ? conn.path : 'signaling', conn: conn.id, msg_type: type, status_code: status });
    this.log.warn(`${conn.kind} socket #${conn.id}: rejected (status ${status} ${nameOf(StatusCode, status)}): ${reason}`);
    // A handshake repeated on a socket that is already in is answered like any handshake (msg 2 / msg 4, spec
    // §3.1, §3.3), but the live socket is kept.
    const ownHandshake = conn instanceof SignalingConnection ? MsgType.SIGNALING_HAND_SHAKE_REQ : MsgType.DATA_HAND_SHAKE_REQ;
    if (!sc.streamId || type === ownHandshake) {
      const text = conn instanceof SignalingConnection
        ? signalingHandshakeResp(conn.dialect, status, reason, null, 0)
        : dataHandshakeResp(conn.dialect, status, reason, null, 0);
      conn.send(text, conn instanceof SignalingConnection ? MsgType.SIGNALING_HAND_SHAKE_RESP : MsgType.DATA_HAND_SHAKE_RESP);
      if (sc.streamId) return;
      conn.close(1000, 'handshake failed');
      this.closed(conn, 1000, 'handshake failed');
      return;
    }
    conn.send(errorReply(conn.dialect, type, status, reason), type ?? 0);
  }

  private handshakeDone(conn: Connection): void {
    this.handshakeTimers.get(conn)?.cancel();
    this.handshakeTimers.delete(conn);
  }

  // --- signaling socket ---

  private onSignaling(conn: SignalingConnection, msg: DecodedMessage): void {
    const stream = this.streamOf(conn);
    if (msg.type === MsgType.KEEP_ALIVE_RESP) {
      conn.keepAliveAnswered();
      return;
    }
    if (stream) stream.record('in', nameOf(MsgType, msg.type), { socket: 'signaling', conn: conn.id, msg_type: msg.type });
    if (msg.type === MsgType.SIGNALING_HAND_SHAKE_REQ) return this.signalingHandshake(conn, msg);
    if (!stream) {
      return this.reject(conn, msg.type, StatusCode.INVALID_MESSAGE_TYPE,
        `${nameOf(MsgType, msg.type)} before the signaling handshake: send SIGNALING_HAND_SHAKE_REQ (msg_type 1) first`);
    }
    const b = msg.body;
    switch (msg.type) {
      case MsgType.EVENT_SUBSCRIPTION: return this.subscribe(conn, stream, b);
      case MsgType.CLIENT_READY_ACK: {
        const v = validate(ClientReadyAck, b);
        if (!v.ok) return this.reject(conn, msg.type, StatusCode.INVALID_CLIENT_READY_ACK, v.reason);
        if (v.value.rtms_stream_id !== undefined && v.value.rtms_stream_id !== stream.id) {
          return this.reject(conn, msg.type, StatusCode.INVALID_CLIENT_READY_ACK, `rtms_stream_id ${v.value.rtms_stream_id} is not this connection's stream`);
        }
        if (stream.phase === 'stopped') return;
        stream.readyAck();
        return;
      }
      case MsgType.SESSION_STATE_REQ: {
        const v = validate(SessionStateReq, b);
        if (!v.ok) return this.reject(conn, msg.type, v.status, v.reason);
        const ts = Math.round(this.scheduler.now());
        if (v.value.rtms_session_id !== stream.sessionId) {
          conn.send(requestResp(conn.dialect, MsgType.SESSION_STATE_RESP, { rtms_session_id: v.value.rtms_session_id, status_code: StatusCode.INVALID_RTMS_SESSION_ID, reason: 'unknown rtms_session_id', timestamp: ts }), MsgType.SESSION_STATE_RESP);
          stream.record('error', 'SESSION_STATE_REQ for an unknown rtms_session_id', { socket: 'signaling', status_code: 40 });
          return;
        }
        stream.sendSignaling(requestResp(conn.dialect, MsgType.SESSION_STATE_RESP, { rtms_session_id: stream.sessionId, state: stream.sessionState, timestamp: ts }), MsgType.SESSION_STATE_RESP);
        return;
      }
      case MsgType.STREAM_STATE_REQ: {
        const v = validate(StreamStateReq, b);
        if (!v.ok) return this.reject(conn, msg.type, v.status, v.reason);
        const ts = Math.round(this.scheduler.now());
        if (v.value.rtms_stream_id !== stream.id) {
          conn.send(requestResp(conn.dialect, MsgType.STREAM_STATE_RESP, { rtms_stream_id: v.value.rtms_stream_id, status_code: StatusCode.INVALID_RTMS_STREAM_ID, reason: 'unknown rtms_stream_id', timestamp: ts }), MsgType.STREAM_STATE_RESP);
          stream.record('error', 'STREAM_STATE_REQ for an unknown rtms_stream_id', { socket: 'signaling', status_code: 2 });
          return;
        }
        stream.sendSignaling(requestResp(conn.dialect, MsgType.STREAM_STATE_RESP, { rtms_stream_id: stream.id, state: stream.streamState, timestamp: ts }), MsgType.STREAM_STATE_RESP);
        return;
      }
      case MsgType.STREAM_CLOSE_REQ: {
        const v = validate(StreamCloseReq, b);
        if (!v.ok) return this.reject(conn, msg.type, v.status, v.reason);
        const ts = Math.round(this.scheduler.now());
        if (v.value.rtms_stream_id !== stream.id) {
          conn.send(requestResp(conn.dialect, MsgType.STREAM_CLOSE_RESP, { rtms_stream_id: v.value.rtms_stream_id, status_code: StatusCode.INVALID_RTMS_STREAM_ID, reason: 'unknown rtms_stream_id', timestamp: ts }), MsgType.STREAM_CLOSE_RESP);
          return;
        }
        stream.sendSignaling(requestResp(conn.dialect, MsgType.STREAM_CLOSE_RESP, { rtms_stream_id: stream.id, status_code: 0, reason: 'OK', timestamp: ts }), MsgType.STREAM_CLOSE_RESP);
        stream.stop(StopReason.RECEIVER_REQUEST_CLOSE);
        return;
      }
      case MsgType.VIDEO_SUBSCRIPTION_REQ: return this.videoSubscription(conn, stream, b);
      default:
        return this.reject(conn, msg.type, StatusCode.INVALID_MESSAGE_TYPE,
          `${nameOf(MsgType, msg.type)} (msg_type ${msg.type}) is not accepted on the signaling socket`);
    }
  }

  private signalingHandshake(conn: SignalingConnection, msg: DecodedMessage): void {
    // A live socket keeps the dialect of its handshake: a repeated one (in either dialect) must not switch it.
    if (conn.streamId) {
      return this.reject(conn, msg.type, StatusCode.DUPLICATE_SIGNAL_REQUEST, 'duplicate signal request: this socket already completed the handshake');
    }
    conn.dialect = msg.dialect;
    const v = validate(SignalingHandshakeReq, msg.body);
    if (!v.ok) return this.reject(conn, msg.type, v.status, v.reason);
    const inst = instanceIdOf(msg.body);
    if (!inst) return this.reject(conn, msg.type, StatusCode.INVALID_PAYLOAD, 'missing meeting_uuid (or webinar_uuid, session_id, engagement_id)');
    const streamId = v.value.rtms_stream_id;
    const stream = this.streams.get(streamId) ?? this.adoptKnownStream(inst.id, streamId);
    if (!stream || stream.meeting.uuid !== inst.id) {
      return this.reject(conn, msg.type, StatusCode.INVALID_RTMS_STREAM_ID, `unknown ${inst.key}/rtms_stream_id pair (${inst.id}, ${streamId}): use the values of the rtms_started webhook`);
    }
    if (stream.phase === 'stopped') {
      this.observe(stream, { kind: 'late_handshake', socket: 'signaling', status: StatusCode.INVALID_RTMS_STREAM_ID });
      return this.reject(conn, msg.type, StatusCode.INVALID_RTMS_STREAM_ID, `stream ${streamId} has stopped (reason ${stream.stopReason})`);
    }
    const sig = matchSignature(v.value.signature, this.credentials.clients, inst.id, streamId, this.options.lenientSignature);
    if (!sig.ok) {
      stream.record('error', 'signaling handshake: invalid signature', { socket: 'signaling', conn: conn.id, status_code: StatusCode.INVALID_SIGNATURE });
      return this.reject(conn, msg.type, StatusCode.INVALID_SIGNATURE,
        'invalid signature: expected hex HMAC-SHA256(client_secret, client_id + "," + ' + inst.key + ' + "," + rtms_stream_id)');
    }
    if (stream.signaling && !stream.signaling.closed) {
      stream.record('error', 'duplicate signal request', { socket: 'signaling', conn: conn.id, status_code: StatusCode.DUPLICATE_SIGNAL_REQUEST });
      this.observe(stream, { kind: 'duplicate_handshake', socket: 'signaling', status: StatusCode.DUPLICATE_SIGNAL_REQUEST });
      return this.reject(conn, msg.type, StatusCode.DUPLICATE_SIGNAL_REQUEST, `duplicate signal request: stream ${streamId} already has a signaling connection`);
    }
    if (this.overMeetingLimit(conn, stream)) return;
    this.handshakeDone(conn);
    conn.clientId = sig.clientId;
    stream.record('in', `SIGNALING_HAND_SHAKE_REQ (${conn.dialect})`, { socket: 'signaling', conn: conn.id, msg_type: MsgType.SIGNALING_HAND_SHAKE_REQ });
    stream.attachSignaling(conn);
    if (sig.form === 'legacy') this.log.warn('accepted a comma-less (legacy) signature because of --lenient-signature');
    stream.sendSignaling(signalingHandshakeResp(conn.dialect, StatusCode.OK, '', this.mediaUrls(), 0), MsgType.SIGNALING_HAND_SHAKE_RESP, 'SIGNALING_HAND_SHAKE_RESP OK');
    // Seed (spec §10): no msg 7, so media sockets whose data handshake came before this one start now.
    stream.maybeActivate();
    this.log.info(`signaling handshake ok: ${stream.meeting.product} ${short(inst.id)} stream ${short(streamId)} (client ${short(sig.clientId)}, ${conn.dialect} dialect)`);
  }

  private subscribe(conn: SignalingConnection, stream: RtmsStream, b: Record<string, unknown>): void {
    const events = b.events;
    if (!Array.isArray(events)) return this.reject(conn, MsgType.EVENT_SUBSCRIPTION, StatusCode.INVALID_EVENTS, 'events must be an array of {event_type, subscribe}');
    const changes: [number, boolean][] = [];
    for (const e of events) {
      if (typeof e !== 'object' || e === null || Array.isArray(e)) return this.reject(conn, MsgType.EVENT_SUBSCRIPTION, StatusCode.INVALID_EVENTS, 'each event must be an object {event_type, subscribe}');
      const t = (e as Record<string, unknown>).event_type;
      const s = (e as Record<string, unknown>).subscribe;
      if (typeof t !== 'number' || !Number.isInteger(t) || t < EventType.FIRST_PACKET_TIMESTAMP || t > EventType.PARTICIPANT_VIDEO_OFF) {
        return this.reject(conn, MsgType.EVENT_SUBSCRIPTION, StatusCode.INVALID_EVENT_TYPE, `invalid event_type ${JSON.stringify(t)} (1-9)`);
      }
      if (typeof s !== 'boolean') return this.reject(conn, MsgType.EVENT_SUBSCRIPTION, StatusCode.INVALID_EVENT_SUBSCRIBE, `subscribe must be true or false for event_type ${t}`);
      changes.push([t, s]);
    }
    for (const [t, s] of changes) { if (s) conn.subscribed.add(t); else conn.subscribed.delete(t); }
    stream.record('info', `subscribed events: [${[...conn.subscribed].sort().join(', ')}]`, { socket: 'signaling', conn: conn.id });
  }

  private videoSubscription(conn: SignalingConnection, stream: RtmsStream, b: Record<string, unknown>): void {
    const v = validate(VideoSubscriptionReq, b);
    const reply = (userId: unknown, status: number, reason: string) => {
      stream.sendSignaling(requestResp(conn.dialect, MsgType.VIDEO_SUBSCRIPTION_RESP, { user_id: userId, status_code: status, reason }), MsgType.VIDEO_SUBSCRIPTION_RESP);
      if (status) stream.record('error', `VIDEO_SUBSCRIPTION_REQ: ${reason}`, { socket: 'signaling', status_code: status });
    };
    if (!v.ok) return reply(b.user_id ?? null, v.status, v.reason);
    const { user_id: userId, subscribe } = v.value;
    const individual = [...stream.media].filter((m) => m.params.video?.data_opt === 4);
    if (individual.length === 0) {
      return reply(userId, StatusCode.INVALID_MEDIA_VIDEO_DATA_OPT, 'video subscription needs video data_opt 4 (VIDEO_SINGLE_INDIVIDUAL_STREAM) in the data handshake');
    }
    if (subscribe && !stream.meeting.participant(userId)) return reply(userId, StatusCode.INVALID_PAYLOAD, `user ${userId} is not in the meeting`);
    for (const m of individual) {
      if (subscribe && m.videoSubscription === userId) return reply(userId, StatusCode.DUPLICATE_VIDEO_SUBSCRIPTION, `already subscribed to user ${userId}`);
    }
    for (const m of individual) m.videoSubscription = subscribe ? userId : (m.videoSubscription === userId ? null : m.videoSubscription);
    reply(userId, StatusCode.OK, 'OK');
  }

  // --- media sockets ---

  private onMedia(conn: MediaConnection, msg: DecodedMessage): void {
    if (msg.type === MsgType.KEEP_ALIVE_RESP) { conn.keepAliveAnswered(); return; }
    const stream = this.streamOf(conn);
    if (stream) stream.record('in', nameOf(MsgType, msg.type), { socket: conn.path, conn: conn.id, msg_type: msg.type });
    if (msg.type === MsgType.DATA_HAND_SHAKE_REQ) {
      if (conn.streamId) return this.reject(conn, msg.type, StatusCode.DUPLICATE_MEDIA_DATA_CONNECTION, 'this socket already completed its data handshake');
      return this.dataHandshake(conn, msg);
    }
    if (!stream) {
      return this.reject(conn, msg.type, StatusCode.INVALID_MESSAGE_TYPE,
        `${nameOf(MsgType, msg.type)} before the data handshake: send DATA_HAND_SHAKE_REQ (msg_type 3) first`);
    }
    if (msg.type === MsgType.CLIENT_READY_ACK) {
      // Belongs on signaling (spec §3.4); accepted here too because some clients send it per media socket.
      stream.readyAck();
      return;
    }
    this.reject(conn, msg.type, StatusCode.INVALID_MESSAGE_TYPE, `${nameOf(MsgType, msg.type)} (msg_type ${msg.type}) is not accepted on a media socket`);
  }

  private dataHandshake(conn: MediaConnection, msg: DecodedMessage): void {
    conn.dialect = msg.dialect;
    const v = validate(DataHandshakeReq, msg.body);
    if (!v.ok) return this.reject(conn, msg.type, v.status, v.reason);
    const inst = instanceIdOf(msg.body);
    if (!inst) return this.reject(conn, msg.type, StatusCode.INVALID_PAYLOAD, 'missing meeting_uuid (or webinar_uuid, session_id, engagement_id)');
    const pathBit = conn.path === 'all' ? ALL_MEDIA_BITS : PATH_BIT[conn.path];
    let mask: number;
    const mt = v.value.media_type;
    if (msg.dialect === 'seed' || mt === undefined) {
      mask = pathBit; // the seed dialect picks media by URL path (spec §10)
    } else {
      if (typeof mt !== 'number' || !Number.isInteger(mt)) return this.reject(conn, msg.type, StatusCode.INVALID_MEDIA_TYPE, `media_type must be an integer bitmask, got ${JSON.stringify(mt)}`);
      if (mt < 1 || mt > 63) return this.reject(conn, msg.type, StatusCode.MEDIA_TYPE_INVALID_VALUE, `media_type ${mt} is out of range (1-63: 1 audio, 2 video, 4 deskshare, 8 transcript, 16 chat, 32 all)`);
      mask = mt & MediaBit.ALL ? ALL_MEDIA_BITS : mt;
      if (conn.path !== 'all' && !(mask & pathBit)) {
        return this.reject(conn, msg.type, StatusCode.INVALID_MEDIA_TYPE, `media_type ${mt} does not include ${conn.path} (bit ${pathBit}) on the /${conn.path} URL`);
      }
    }
    const streamId = v.value.rtms_stream_id;
    const stream = this.streams.get(streamId);
    if (!stream || stream.meeting.uuid !== inst.id) {
      return this.reject(conn, msg.type, StatusCode.INVALID_RTMS_STREAM_ID, `unknown ${inst.key}/rtms_stream_id pair (${inst.id}, ${streamId})`);
    }
    if (stream.phase === 'stopped') {
      this.observe(stream, { kind: 'late_handshake', socket: 'media', status: StatusCode.INVALID_RTMS_STREAM_ID });
      return this.reject(conn, msg.type, StatusCode.INVALID_RTMS_STREAM_ID, `stream ${streamId} has stopped`);
    }
    const sig = matchSignature(v.value.signature, this.credentials.clients, inst.id, streamId, this.options.lenientSignature);
    if (!sig.ok) {
      stream.record('error', `data handshake on /${conn.path}: invalid signature`, { socket: conn.path, conn: conn.id, status_code: StatusCode.INVALID_SIGNATURE });
      return this.reject(conn, msg.type, StatusCode.INVALID_SIGNATURE, 'invalid signature (same value as in the signaling handshake)');
    }
    if (msg.dialect === 'production' && (!stream.signaling || stream.signaling.closed)) {
      return this.reject(conn, msg.type, StatusCode.INVALID_RTMS_STREAM_ID, `stream ${streamId} has no signaling connection: complete the signaling handshake first`);
    }
    for (const m of stream.media) {
      if (m.closed) continue;
      if (m.path === 'all') {
        this.observe(stream, { kind: 'duplicate_handshake', socket: 'media', status: StatusCode.MEDIA_DATA_ALL_CONNECTION_EXIST });
        return this.reject(conn, msg.type, StatusCode.MEDIA_DATA_ALL_CONNECTION_EXIST, 'this stream already has an "all" media connection');
      }
      if (conn.path === 'all' || m.mask & mask) {
        this.observe(stream, { kind: 'duplicate_handshake', socket: 'media', status: StatusCode.DUPLICATE_MEDIA_DATA_CONNECTION });
        return this.reject(conn, msg.type, StatusCode.DUPLICATE_MEDIA_DATA_CONNECTION, `this stream already has a media connection for ${conn.path === 'all' ? `/${m.path}` : conn.path}`);
      }
    }
    const supported = PRODUCT_MEDIA[stream.meeting.product];
    if (mask & ~supported) {
      if (mt === undefined || (typeof mt === 'number' && mt & MediaBit.ALL) || msg.dialect === 'seed') mask &= supported;
      else {
        const [, code] = NOT_SUPPORTED.find(([bit]) => mask & ~supported & bit)!;
        return this.reject(conn, msg.type, code, `${nameOf(StatusCode, code)}: ${stream.meeting.product} streams carry only audio and transcript`);
      }
    }
    const n = negotiateMediaParams(v.value.media_params, mask);
    if (!n.ok) {
      stream.record('error', `data handshake on /${conn.path}: ${n.reason}`, { socket: conn.path, conn: conn.id, status_code: n.status });
      return this.reject(conn, msg.type, n.status, n.reason);
    }
    if (this.overMeetingLimit(conn, stream)) return;
    this.handshakeDone(conn);
    conn.mask = mask;
    conn.params = n.params;
    stream.record('in', `DATA_HAND_SHAKE_REQ on /${conn.path} (media_type ${mt ?? 'by path'})`, { socket: conn.path, conn: conn.id, msg_type: MsgType.DATA_HAND_SHAKE_REQ });
    const text = dataHandshakeResp(conn.dialect, StatusCode.OK, '', n.params, 0);
    conn.send(text, MsgType.DATA_HAND_SHAKE_RESP);
    stream.record('out', `DATA_HAND_SHAKE_RESP OK on /${conn.path} (media_type ${mask})${n.notes.length ? `: ${n.notes.join('; ')}` : ''}`, { socket: conn.path, conn: conn.id, msg_type: MsgType.DATA_HAND_SHAKE_RESP });
    this.log.info(`data handshake ok on /${conn.path}: stream ${short(streamId)} media_type ${mask}${n.notes.length ? ` (${n.notes.join('; ')})` : ''}`);
    stream.attachMedia(conn);
  }

  // --- participants and chat (control API) ---

  /** A participant joins or leaves: PARTICIPANT_JOIN / PARTICIPANT_LEAVE to subscribed apps (spec §4.3). */
  setPresent(meeting: Meeting, userId: number, present: boolean): boolean {
    const p = meeting.participants.get(userId);
    if (!p || p.present === present) return false;
    p.present = present;
    for (const s of meeting.liveStreams) {
      if (s.phase !== 'active' && s.phase !== 'paused') continue;
      s.event(present ? EventType.PARTICIPANT_JOIN : EventType.PARTICIPANT_LEAVE,
        { participants: present ? [{ user_id: p.userId, user_name: p.userName }] : [{ user_id: p.userId }] });
    }
    meeting.log.push({ at: Math.round(this.scheduler.now()), dir: 'info', text: `${p.userName} ${present ? 'joined' : 'left'}` });
    return true;
  }

  /** Camera on/off: PARTICIPANT_VIDEO_ON / _OFF; video for that participant stops while off (spec §8). */
  setCamera(meeting: Meeting, userId: number, on: boolean): boolean {
    const p = meeting.participants.get(userId);
    if (!p || !p.present || p.cameraOn === on) return false;
    p.cameraOn = on;
    for (const s of meeting.liveStreams) {
      if (s.phase !== 'active' && s.phase !== 'paused') continue;
      s.event(on ? EventType.PARTICIPANT_VIDEO_ON : EventType.PARTICIPANT_VIDEO_OFF, { participants: [{ user_id: p.userId }] });
    }
    meeting.log.push({ at: Math.round(this.scheduler.now()), dir: 'info', text: `${p.userName} camera ${on ? 'on' : 'off'}` });
    return true;
  }

  /** Sends an event to every active or paused stream of the meeting (subscribed apps only, spec §4.3). */
  private meetingEvent(meeting: Meeting, type: number, fields: Record<string, unknown>): void {
    for (const s of meeting.liveStreams) if (s.phase === 'active' || s.phase === 'paused') s.event(type, fields);
  }

  /**
   * Makes a present participant the active speaker: ACTIVE_SPEAKER_CHANGE (spec §4.3 event 2). In a synthetic
   * meeting it holds until the dialogue's next speaker change. False if unknown, absent or already active.
   */
  setActiveSpeaker(meeting: Meeting, userId: number): boolean {
    const p = meeting.participant(userId);
    if (!p || meeting.activeSpeaker?.userId === userId) return false;
    meeting.overrideSpeaker(p);
    this.meetingEvent(meeting, EventType.ACTIVE_SPEAKER_CHANGE, { user_id: p.userId, user_name: p.userName });
    meeting.log.push({ at: Math.round(this.scheduler.now()), dir: 'info', text: `${p.userName} is the active speaker` });
    return true;
  }

  /**
   * A participant starts sharing (SHARING_START; someone else's share stops first) or, with null, the share
   * stops (SHARING_STOP), spec §4.3 events 5/6. In a synthetic meeting it holds until the dialogue's next share
   * change; the share frames follow it. False if nothing changes.
   */
  setSharing(meeting: Meeting, userId: number | null): boolean {
    const next = userId === null ? null : meeting.participant(userId);
    if (userId !== null && !next) return false;
    const prev = meeting.sharer && meeting.isPresent(meeting.sharer.userId) ? meeting.sharer : null;
    if ((prev?.userId ?? null) === (next?.userId ?? null)) return false;
    meeting.overrideShare(next);
    if (prev) this.meetingEvent(meeting, EventType.SHARING_STOP, {});
    if (next) {
      // Synthetic share frames are rendered on first use: do it now, not inside a paced tick.
      if (!meeting.live) {
        for (const s of meeting.liveStreams) for (const m of s.media) {
          const d = m.params.deskshare;
          const size = d ? RESOLUTION_SIZE[d.resolution] : undefined;
          const codec = d ? VIDEO_CODEC_NAMES[d.codec] : undefined;
          if (size && codec && m.mask & MediaBit.DESKSHARE) meeting.video.frames({ kind: 'share', userName: next.userName, userId: next.userId }, codec, size.width, size.height);
        }
      }
      this.meetingEvent(meeting, EventType.SHARING_START, { user_id: next.userId, user_name: next.userName });
    }
    meeting.log.push({ at: Math.round(this.scheduler.now()), dir: 'info', text: next ? `${next.userName} started sharing` : `${prev!.userName} stopped sharing` });
    return true;
  }

  /** A chat line from a participant to every app carrying chat (spec §7). */
  sendChat(meeting: Meeting, userId: number, text: string): number {
    const p = meeting.participants.get(userId);
    if (!p || !p.present) return 0;
    const ts = Math.round(this.scheduler.now());
    let sent = 0;
    for (const stream of meeting.liveStreams) {
      for (const m of stream.carriers(MediaBit.CHAT)) {
        if (m.sendMedia(this.packer.chat(m.dialect, { userId: p.userId, userName: p.userName }, text, ts), MsgType.MEDIA_DATA_CHAT, this.options.maxBufferedBytes)) { m.sent.chat++; sent++; }
      }
    }
    meeting.log.push({ at: ts, dir: 'info', text: `chat from ${p.userName}: ${text.slice(0, 80)}` });
    return sent;
  }

  // --- shutdown ---

  /** Stops every live stream with EXIT_SIGNAL-free MEETING_ENDED semantics left to the caller's reason. */
  stopAll(reason: number = StopReason.MEETING_ENDED): void {
    for (const m of this.meetings.values()) if (!m.ended) this.endMeeting(m, reason);
  }

  /** Live (not ended) meetings. */
  liveMeetingCount(): number {
    let n = 0;
    for (const m of this.meetings.values()) if (!m.ended) n++;
    return n;
  }

  /** Open sockets attached to a meeting: its streams' signaling and media sockets and its ingest feeders. */
  meetingConnections(meeting: Meeting): number {
    let n = 0;
    for (const s of meeting.streams) {
      if (s.signaling && !s.signaling.closed) n++;
      for (const m of s.media) if (!m.closed) n++;
    }
    return n + this.ingest.countFor(meeting);
  }

  /**
   * A handshake that would take the meeting past `maxConnectionsPerMeeting`: no status code of spec §5 fits, so
   * the socket is closed with 1013 (Try Again Later) and a reason naming the limit. True if refused.
   */
  private overMeetingLimit(conn: SignalingConnection | MediaConnection, stream: RtmsStream): boolean {
    const max = this.options.maxConnectionsPerMeeting;
    if (this.meetingConnections(stream.meeting) < max) return false;
    const reason = meetingLimitReason(max);
    this.limits.refused++;
    stream.record('error', `${conn.kind} handshake refused: ${reason}`, { socket: conn instanceof MediaConnection ? conn.path : 'signaling', conn: conn.id });
    this.log.warn(`${conn.kind} socket #${conn.id}: ${reason}; closing with ${CLOSE_TRY_AGAIN_LATER}`);
    conn.close(CLOSE_TRY_AGAIN_LATER, reason);
    this.closed(conn, CLOSE_TRY_AGAIN_LATER, reason);
    return true;
  }

  /** Synthetic video loops still rendering in the background (the benchmark waits for 0 before measuring). */
  videoRenderBacklog(): number {
    return this.deps.video.renderBacklog?.() ?? 0;
  }

  counters() {
    let live = 0;
    for (const s of this.streams.values()) if (s.phase !== 'stopped') live++;
    // Media messages dropped by the backpressure policy on connections open now (connection.ts sendMedia).
    let dropped = 0;
    for (const c of this.connections) dropped += c.counters.dropped;
    return {
      meetings: this.meetings.size,
      meetings_live: this.liveMeetingCount(),
      streams: this.streams.size,
      streams_live: live,
      connections: this.connections.size,
      scheduler_tasks: this.scheduler.size,
      media_dropped: dropped,
      ingest_connections: this.ingest.connections.size,
      inspector_clients: this.inspector.size,
      // README "Security and limits": sockets refused by a connection limit (total, per address, per meeting).
      connections_refused: this.limits.refused,
      ...this.totals,
    };
  }
}

export type { Dialect };
