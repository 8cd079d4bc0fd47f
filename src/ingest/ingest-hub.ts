// WebSocket /ingest on the HTTP port (docs/ingest.md): one socket per participant of a live meeting. Handles
// the hello/welcome handshake, the error close codes, binary media frames and text messages, and keeps the
// per-socket counters the API and the inspector show. Runtime-neutral: the transports hand it an RtmsSocket
// and the frames (src/transport/bun-server.ts; a Deno transport calls the same three methods).
import type { Meeting } from '../engine/meeting.ts';
import type { Inspector } from '../engine/inspector.ts';
import type { Task } from '../engine/scheduler.ts';
import type { RtmsSocket } from '../engine/socket.ts';
import { MsgType } from '../protocol/enums.ts';
import { foreignOrigin, requestTokens, tokenMatches } from '../control/access.ts';
import type { ConnectionLimiter } from '../engine/limits.ts';
import { LiveMeeting, type Feeder, type FeederLink, type IngestEngine } from './live-meeting.ts';
import {
  FeederMessage, Hello, INGEST_MAX_ERRORS_IN_A_ROW, INGEST_MAX_FRAME_BYTES, IngestClose, closeReason, errorMessage,
  parseBinaryFrame, parseText, welcomeMessage,
} from './protocol.ts';

export interface IngestHubEngine extends IngestEngine {
  readonly meetings: Map<string, Meeting>;
  readonly inspector: Inspector;
  readonly options: { maxBufferedBytes: number; ingestHelloTimeoutMs?: number; apiToken?: string | null; maxConnectionsPerMeeting?: number };
  /** Total and per-address connection limits shared with the RTMS sockets (src/engine/limits.ts). */
  readonly limits?: ConnectionLimiter;
  /** Open sockets attached to a meeting (RTMS and ingest), for the per-meeting limit. */
  meetingConnections?(meeting: Meeting): number;
}

/** What a transport extracts from the upgrade request. */
export interface IngestOpenParams {
  meetingUuid: string | null;
  /** `?token=` or `Authorization: Bearer` (checked only when the mock has an API token). */
  token: string | null;
  /** Every token the upgrade carried (Bearer, ?token=, the page's cookie): any one may match. */
  tokens?: string[];
  /** The Origin of another site's page that opened this socket, else null (src/control/access.ts). */
  foreignOrigin?: string | null;
}

/** The upgrade request's parameters, for any transport. */
export function ingestParams(req: Request): IngestOpenParams {
  const url = new URL(req.url);
  const auth = req.headers.get('authorization');
  const bearer = auth && /^bearer\s+/i.test(auth) ? auth.replace(/^bearer\s+/i, '') : null;
  return { meetingUuid: url.searchParams.get('meeting_uuid'), token: url.searchParams.get('token') ?? bearer, tokens: requestTokens(req), foreignOrigin: foreignOrigin(req) };
}

export const INGEST_PATH = '/ingest';
/** A WebSocket frame limit for the HTTP listener that lets a 4 MiB ingest frame (plus header) be refused politely. */
export const INGEST_WS_MAX_PAYLOAD = 2 * INGEST_MAX_FRAME_BYTES;
const DEFAULT_HELLO_TIMEOUT_MS = 10_000;
const LATENCY_SAMPLES = 512;

/** A bounded ring of latency samples (ms) with percentiles on demand. */
class LatencyRing {
  private readonly buf = new Float64Array(LATENCY_SAMPLES);
  private n = 0;
  add(ms: number): void {
    this.buf[this.n % LATENCY_SAMPLES] = ms;
    this.n++;
  }
  summary(): { p50: number; p99: number; samples: number } | null {
    const k = Math.min(this.n, LATENCY_SAMPLES);
    if (k === 0) return null;
    const s = Array.from(this.buf.subarray(0, k)).sort((a, b) => a - b);
    const at = (q: number) => Math.round(s[Math.min(k - 1, Math.floor(q * k))]! * 10) / 10;
    return { p50: at(0.5), p99: at(0.99), samples: this.n };
  }
}

let nextIngestId = 1_000_000;

export class IngestConnection {
  readonly connId = nextIngestId++;
  readonly openedAt: number;
  state: 'awaiting_hello' | 'joined' | 'closed' = 'awaiting_hello';
  meeting: Meeting | null = null;
  feeder: Feeder | null = null;
  helloTimer: Task | null = null;
  errorsInARow = 0;
  closeCode: number | null = null;
  /** Holds a slot of the connection limiter (given back on close). */
  limited = false;
  readonly counters = {
    frames_in: { audio: 0, camera: 0, share: 0, text: 0 },
    bytes_in: 0,
    msgs_out: 0,
    /** Frames nobody took (format not wanted, camera off, not sharing) or refused. */
    dropped: { audio: 0, camera: 0, share: 0 },
    errors: 0,
  };
  readonly latency = { audio: new LatencyRing(), camera: new LatencyRing(), share: new LatencyRing() };
  /** Inspector budget: at most 100 media events per second per socket. */
  tapSecond = 0;
  tapCount = 0;

  constructor(readonly socket: RtmsSocket, readonly params: IngestOpenParams, now: number) {
    this.openedAt = now;
  }

  send(text: string): void {
    if (this.state === 'closed') return;
    try {
      if (this.socket.send(text) !== 0) this.counters.msgs_out++;
    } catch { /* gone */ }
  }

  describe() {
    return {
      conn: this.connId,
      kind: 'ingest' as const,
      state: this.state,
      remote_address: this.socket.remoteAddress,
      opened_at: Math.round(this.openedAt),
      meeting_uuid: this.meeting?.uuid ?? this.params.meetingUuid,
      user_id: this.feeder?.userId ?? null,
      user_name: this.feeder?.userName ?? null,
      close_code: this.closeCode,
      frames_in: this.counters.frames_in,
      bytes_in: this.counters.bytes_in,
      msgs_out: this.counters.msgs_out,
      dropped: this.counters.dropped.audio + this.counters.dropped.camera + this.counters.dropped.share,
      dropped_by_kind: this.counters.dropped,
      errors: this.counters.errors,
      buffered: this.state === 'closed' ? 0 : this.socket.bufferedAmount(),
      latency_ms: { audio: this.latency.audio.summary(), camera: this.latency.camera.summary(), share: this.latency.share.summary() },
    };
  }
}

export class IngestHub {
  readonly lives = new Map<Meeting, LiveMeeting>();
  readonly connections = new Set<IngestConnection>();
  readonly totals = { opened: 0, refused: 0, joined: 0 };

  constructor(private readonly engine: IngestHubEngine) {}

  /** A meeting with a live source gets its live side (called once, at creation). */
  attach(meeting: Meeting): LiveMeeting {
    let live = this.lives.get(meeting);
    if (!live) { live = new LiveMeeting(meeting, this.engine); this.lives.set(meeting, live); }
    return live;
  }

  liveOf(meeting: Meeting): LiveMeeting | undefined {
    return this.lives.get(meeting);
  }

  // --- sockets (called by the transports) ---

  open(socket: RtmsSocket, params: IngestOpenParams): IngestConnection {
    const { scheduler } = this.engine;
    const conn = new IngestConnection(socket, params, scheduler.now());
    this.connections.add(conn);
    this.totals.opened++;
    const refusal = this.engine.limits?.acquire(socket.remoteAddress) ?? null;
    if (refusal) {
      this.refuse(conn, IngestClose.TOO_MANY, refusal);
      return conn;
    }
    conn.limited = Boolean(this.engine.limits);
    const token = this.engine.options.apiToken;
    if (token) {
      let ok = false;
      // Each candidate compared in constant time (src/control/access.ts).
      for (const t of params.tokens ?? (params.token !== null ? [params.token] : [])) ok = tokenMatches(t, token) || ok;
      if (!ok) {
        this.refuse(conn, IngestClose.UNAUTHORIZED, 'API token missing or wrong: pass ?token=…');
        return conn;
      }
    }
    if (params.foreignOrigin) {
      this.refuse(conn, IngestClose.FORBIDDEN, `cross-origin ingest refused: Origin ${params.foreignOrigin} is not this server's origin`);
      return conn;
    }
    if (!params.meetingUuid) {
      this.refuse(conn, IngestClose.UNKNOWN_MEETING, 'missing ?meeting_uuid= (URL-encoded)');
      return conn;
    }
    const meeting = this.engine.meetings.get(params.meetingUuid);
    if (!meeting) {
      this.refuse(conn, IngestClose.UNKNOWN_MEETING, `no meeting ${JSON.stringify(params.meetingUuid.slice(0, 60))}`);
      return conn;
    }
    const live = this.lives.get(meeting);
    if (!live || meeting.ended) {
      this.refuse(conn, IngestClose.NOT_LIVE, meeting.ended ? 'the meeting has ended' : 'the meeting has synthetic media: create it with "source": "browser" or "file"');
      return conn;
    }
    const perMeeting = this.engine.options.maxConnectionsPerMeeting;
    if (perMeeting !== undefined && this.engine.meetingConnections && this.engine.meetingConnections(meeting) >= perMeeting) {
      if (this.engine.limits) this.engine.limits.refused++;
      this.refuse(conn, IngestClose.TOO_MANY, `too many connections to this meeting: ${perMeeting} (--max-connections-per-meeting)`);
      return conn;
    }
    conn.meeting = meeting;
    const ms = this.engine.options.ingestHelloTimeoutMs ?? DEFAULT_HELLO_TIMEOUT_MS;
    conn.helloTimer = scheduler.after(ms, () => {
      conn.helloTimer = null;
      if (conn.state === 'awaiting_hello') this.refuse(conn, IngestClose.HELLO_TIMEOUT, `no hello within ${ms} ms`);
    });
    this.engine.log.debug(`ingest socket #${conn.connId} opened from ${socket.remoteAddress} for meeting ${params.meetingUuid}`);
    return conn;
  }

  message(conn: IngestConnection, data: string | ArrayBuffer | Uint8Array): void {
    if (conn.state === 'closed') return;
    try {
      const size = typeof data === 'string' ? data.length : data.byteLength;
      conn.counters.bytes_in += size;
      if (conn.state === 'awaiting_hello') return this.hello(conn, data);
      if (typeof data === 'string') this.text(conn, data);
      else this.binary(conn, data instanceof Uint8Array ? data : new Uint8Array(data));
    } catch (err) {
      // One bad frame must never take the process (or another meeting) down.
      this.engine.log.error(`ingest socket #${conn.connId}: internal error: ${(err as Error).stack ?? err}`);
      this.softError(conn, 'internal error handling this frame');
    }
  }

  closed(conn: IngestConnection, code: number, reason: string): void {
    if (!this.connections.delete(conn)) return;
    if (conn.limited) { conn.limited = false; this.engine.limits?.release(conn.socket.remoteAddress); }
    if (conn.state !== 'closed') { conn.state = 'closed'; conn.closeCode = code; }
    conn.helloTimer?.cancel();
    conn.helloTimer = null;
    const meeting = conn.meeting;
    const feeder = conn.feeder;
    if (meeting && feeder) {
      this.lives.get(meeting)?.leave(feeder);
      meeting.log.push({ at: Math.round(this.engine.scheduler.now()), dir: 'info', socket: 'ingest', conn: conn.connId,
        text: `ingest: ${feeder.userName} disconnected (${code}${reason ? ` ${reason}` : ''})` });
    }
    this.engine.log.info(`ingest socket #${conn.connId} closed (${code}${reason ? ` ${reason}` : ''})`);
  }

  // --- handshake ---

  private hello(conn: IngestConnection, data: string | ArrayBuffer | Uint8Array): void {
    if (typeof data !== 'string') return this.refuse(conn, IngestClose.BAD_REQUEST, 'bad hello: the first message must be a JSON text frame {"type":"hello",…}');
    const r = parseText(data, Hello);
    if (!r.ok) return this.refuse(conn, IngestClose.BAD_REQUEST, `bad hello: ${r.message}`);
    const meeting = conn.meeting!;
    const live = this.lives.get(meeting);
    if (!live || meeting.ended) return this.refuse(conn, IngestClose.NOT_LIVE, 'the meeting has ended');
    const joined = live.join(r.value, this.link(conn));
    if (typeof joined === 'string') return this.refuse(conn, IngestClose.BAD_REQUEST, `bad hello: ${joined}`);
    conn.helloTimer?.cancel();
    conn.helloTimer = null;
    conn.state = 'joined';
    conn.feeder = joined;
    conn.counters.frames_in.text++;
    this.totals.joined++;
    conn.send(welcomeMessage(meeting.uuid, joined.userId, joined.userName));
    conn.send(live.initialWants());
    meeting.log.push({ at: Math.round(this.engine.scheduler.now()), dir: 'in', socket: 'ingest', conn: conn.connId,
      text: `ingest: ${joined.userName} (${joined.userId}) joined` });
  }

  /** The FeederLink of a connection. */
  private link(conn: IngestConnection): FeederLink {
    return {
      connId: conn.connId,
      send: (text) => conn.send(text),
      latency: (kind, ms) => conn.latency[kind].add(ms),
      dropped: (kind) => { conn.counters.dropped[kind]++; },
    };
  }

  // --- after the handshake ---

  private text(conn: IngestConnection, data: string): void {
    conn.counters.frames_in.text++;
    const r = parseText(data, FeederMessage);
    if (!r.ok) return this.softError(conn, r.message);
    const msg = r.value;
    const meeting = conn.meeting!;
    const feeder = conn.feeder!;
    const live = this.lives.get(meeting)!;
    conn.errorsInARow = 0;
    switch (msg.type) {
      case 'ping': conn.send('{"type":"pong"}'); return;
      case 'hello': return this.softError(conn, 'hello was already accepted on this socket');
      case 'transcript':
        live.transcript(feeder, msg.text, msg.start_time, msg.end_time, msg.language);
        this.tap(conn, meeting, MsgType.MEDIA_DATA_TRANSCRIPT, data.length);
        return;
      case 'chat':
        this.engine.sendChat(meeting, feeder.userId, msg.text);
        this.tap(conn, meeting, MsgType.MEDIA_DATA_CHAT, data.length);
        return;
      case 'camera':
        this.engine.setCamera(meeting, feeder.userId, msg.on);
        return;
      case 'share':
        if (msg.on) this.engine.setSharing(meeting, feeder.userId);
        else if (meeting.sharer?.userId === feeder.userId) this.engine.setSharing(meeting, null);
        return;
    }
  }

  private binary(conn: IngestConnection, data: Uint8Array): void {
    const r = parseBinaryFrame(data);
    if (!r.ok) return this.softError(conn, r.message);
    conn.errorsInARow = 0;
    const frame = r.value;
    const meeting = conn.meeting!;
    const live = this.lives.get(meeting)!;
    conn.counters.frames_in[frame.kind]++;
    if (frame.kind === 'audio') {
      live.audioIn(conn.feeder!, frame);
      this.tap(conn, meeting, MsgType.MEDIA_DATA_AUDIO, data.byteLength);
    } else {
      live.videoIn(conn.feeder!, frame);
      this.tap(conn, meeting, frame.kind === 'camera' ? MsgType.MEDIA_DATA_VIDEO : MsgType.MEDIA_DATA_SHARE, data.byteLength);
    }
  }

  // --- errors ---

  /** A refused frame or message: an error message; the socket stays open until 3 in a row (docs/ingest.md §4). */
  private softError(conn: IngestConnection, message: string): void {
    conn.counters.errors++;
    conn.errorsInARow++;
    if (conn.errorsInARow >= INGEST_MAX_ERRORS_IN_A_ROW) {
      return this.refuse(conn, IngestClose.BAD_REQUEST, `${INGEST_MAX_ERRORS_IN_A_ROW} refused frames in a row; last: ${message}`);
    }
    conn.send(errorMessage(IngestClose.BAD_REQUEST, message));
    conn.meeting?.log.push({ at: Math.round(this.engine.scheduler.now()), dir: 'error', socket: 'ingest', conn: conn.connId, text: `ingest: ${message}` });
  }

  /** Sends `{"type":"error"}` and closes with the same code. */
  private refuse(conn: IngestConnection, code: number, message: string): void {
    if (conn.state === 'closed') return;
    this.totals.refused++;
    conn.counters.errors++;
    conn.send(errorMessage(code, message));
    conn.state = 'closed';
    conn.closeCode = code;
    conn.helloTimer?.cancel();
    conn.helloTimer = null;
    this.engine.log.warn(`ingest socket #${conn.connId}: closing ${code}: ${message}`);
    conn.meeting?.log.push({ at: Math.round(this.engine.scheduler.now()), dir: 'error', socket: 'ingest', conn: conn.connId, text: `ingest closed ${code}: ${message}` });
    try { conn.socket.close(code, closeReason(message)); } catch { /* already gone */ }
    // Some runtimes report the close later (or not at all for a socket we closed): leave now.
    this.closed(conn, code, message);
  }

  // --- engine hooks ---

  /** Media sockets of a meeting changed (data handshake, close, stream stop): recompute `wants`. */
  mediaChanged(meeting: Meeting): void {
    this.lives.get(meeting)?.mediaChanged();
  }

  /** The meeting ended: every feeder is closed with 4409. */
  meetingEnded(meeting: Meeting): void {
    const live = this.lives.get(meeting);
    if (!live) return;
    for (const conn of [...this.connections]) if (conn.meeting === meeting) this.refuse(conn, IngestClose.NOT_LIVE, 'the meeting has ended');
    live.dispose();
    this.lives.delete(meeting);
  }

  // --- views ---

  /** Ingest sockets open for a meeting (joined or still saying hello). */
  countFor(meeting: Meeting): number {
    let n = 0;
    for (const conn of this.connections) if (conn.meeting === meeting) n++;
    return n;
  }

  /** The ingest state of a participant of a live meeting (null if none is connected for it). */
  describeParticipant(meeting: Meeting, userId: number): Record<string, unknown> | null {
    for (const conn of this.connections) {
      if (conn.meeting === meeting && conn.feeder?.userId === userId) {
        return { ...conn.describe(), ...this.lives.get(meeting)?.describeFeeder(userId) };
      }
    }
    return null;
  }

  /** Per-connection rows for the inspector's `stats` event. */
  statsRows(): unknown[] {
    const rows: unknown[] = [];
    for (const conn of this.connections) {
      const d = conn.describe();
      rows.push({ ...d, socket: 'ingest', stream_id: null, msgs_in: conn.counters.frames_in.audio + conn.counters.frames_in.camera + conn.counters.frames_in.share + conn.counters.frames_in.text });
    }
    return rows;
  }

  private tap(conn: IngestConnection, meeting: Meeting, msgType: number, bytes: number): void {
    const insp = this.engine.inspector;
    if (!insp.active) return;
    const now = this.engine.scheduler.now();
    const second = Math.floor(now / 1000);
    if (conn.tapSecond !== second) { conn.tapSecond = second; conn.tapCount = 0; }
    if (++conn.tapCount > 100) return;
    insp.emit({ type: 'media', meeting_uuid: meeting.uuid, stream_id: '', conn: conn.connId, socket: 'ingest', dir: 'in', msg_type: msgType, bytes, at: Math.round(now) });
  }
}
