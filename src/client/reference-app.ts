// The reference RTMS app: a small consumer written from the protocol document alone (spec §1-§10).
//
// It is what `rtms-mock client` runs, the example the README points to, and the client the test suite drives
// the mock with. The flow is the one every RTMS app implements:
//
//   webhook meeting.rtms_started ─► signaling socket: msg 1 ─► msg 2 (media URLs)
//                                 ─► media socket(s): msg 3 ─► msg 4 (effective params)
//                                 ─► msg 7 on signaling ─► media 14-18, events 6, states 8/9, keep-alives 12→13
//
// Everything received is recorded with its arrival time so tests can assert on it (`streams`, `waitFor`).
import type { Server } from 'bun';
import { type AudioFormat, StreamFiles } from './media-files.ts';
import {
  CODEC_L16,
  CONTENT_TYPE_RAW_AUDIO,
  INSTANCE_ID_KEYS,
  type InstanceIdKey,
  MEDIA_BITS,
  type MediaSocketName,
  MSG,
  SAMPLE_RATE_HZ,
  SESSION_STATE_STOPPED,
  STREAM_STATE_TERMINATED,
  type SocketName,
  encryptPlainToken,
  handshakeSignature,
  mediaKindsOf,
  msgTypeName,
  msgTypeNumber,
  safeEqual,
  webhookSignature,
} from './protocol.ts';

export type { MediaSocketName, SocketName } from './protocol.ts';

/** The mock's sample credentials (the seed mock's data/rtms_credentials.json values). */
export const SAMPLE_CREDENTIALS = {
  clientId: 'XkWfgHHASGOQC9b95AkIxB',
  clientSecret: 'YZnKVUufg7N18Oej6gHHqNWc7CG5jQ6N',
  secretToken: 'DyBoLm8OZoJT2Pi3-kY2px',
} as const;

export type Dialect = 'production' | 'seed';

export interface ReferenceAppOptions {
  /** Webhook port; 0 (default) picks a free one. */
  port?: number;
  /** Default 127.0.0.1. */
  hostname?: string;
  /** Only accept webhooks on this path (default: any path). */
  path?: string;
  /** Webhook secret token (spec §9); default the sample token. */
  secretToken?: string;
  clientId?: string;
  clientSecret?: string;
  /** 'all' (default): one socket on the `all` URL; 'split': one socket per media type on its own URL. */
  mediaMode?: 'all' | 'split';
  /** media_type bitmask (spec §6); default 32 (all). */
  mediaTypes?: number;
  /** Sent as `media_params` in msg 3 (spec §3.3); default none, i.e. the server's defaults. */
  mediaParams?: Record<string, unknown>;
  /** Event types to subscribe to with msg 5 after the signaling handshake (spec §4.3), e.g. [2,3,4,5,6,8,9]. */
  events?: number[];
  /** Default true: connect as soon as `*.rtms_started` arrives. */
  autoConnect?: boolean;
  /** Default true: answer msg 12 with msg 13 (spec §4.1). */
  answerKeepAlive?: boolean;
  /** Default true: send CLIENT_READY_ACK (msg 7) once every data handshake succeeded (spec §3.4). */
  sendReady?: boolean;
  /** 'production' (default) or 'seed' (spec §10: string msg_types, `status:"STATUS_OK"`, `media_urls`). */
  dialect?: Dialect;
  /** Write received media here (see media-files.ts). Default: write nothing. */
  outDir?: string;
  /** One readable line per event; default console.log; false for silence. */
  log?: ((line: string) => void) | false;
  /** Default true: follow server failover and retry after a signaling drop (spec §4.1, §9). */
  reconnect?: boolean;
  /** Delays before each reconnection attempt; the default stays well inside the 60 s window (spec §4.1). */
  reconnectDelaysMs?: number[];
  /** A handshake that has not completed after this long fails. Default 10 000. */
  handshakeTimeoutMs?: number;
  /** Keep at most this many recorded messages per stream and list (default: unlimited). */
  recordLimit?: number;
  /** Default true: act once on a webhook whose body repeats one already handled (a retry, spec §9). */
  dedupeWebhooks?: boolean;
  /** Default true: read JSON from binary frames too (spec §1). False drops them (a bug the verdicts catch). */
  acceptBinary?: boolean;
  /** Answer every webhook after this many ms (default 0). A slow endpoint is retried (spec §9). */
  webhookDelayMs?: number;
  // Misbehaviours for testing the mock's verdicts (src/engine/verdict.ts); all default false.
  /** Bug: ignore rtms_stopped and TERMINATED/STOPPED states, so the server's close looks like a drop. */
  ignoreStop?: boolean;
  /** Bug: on rtms_started for a live stream, open another signaling connection without closing the first. */
  secondConnectionOnDuplicate?: boolean;
}

export type StreamState = 'connecting' | 'ready' | 'interrupted' | 'stopped' | 'failed';

export interface RecordedMessage {
  socket: SocketName;
  /** The parsed JSON (or the raw text if it was not JSON). */
  msg: any;
  /** Arrival (or send) time, ms epoch. */
  at: number;
  /** True if the frame was binary (spec §1: production may send JSON in binary frames). */
  binary?: boolean;
}

export interface RecordedClose {
  socket: SocketName;
  code: number;
  reason: string;
  at: number;
  /** True if this app closed the socket itself. */
  byClient: boolean;
}

export interface RecordedWebhook {
  event: string;
  /** Parsed body; undefined when it was rejected before parsing. */
  body: any;
  rawBody: string;
  headers: Record<string, string>;
  receivedAt: number;
  /** The HTTP status the app answered. */
  status: number;
}

export type Observation =
  | ({ kind: 'message'; streamId: string } & RecordedMessage)
  | ({ kind: 'sent'; streamId: string } & RecordedMessage)
  | ({ kind: 'close'; streamId: string } & RecordedClose)
  | ({ kind: 'webhook' } & RecordedWebhook);

export interface StreamSession {
  readonly streamId: string;
  /** 'meeting' | 'webinar' | 'session' | 'contact_center' */
  readonly product: string;
  readonly instanceIdKey: InstanceIdKey;
  readonly instanceId: string;
  /** The latest `rtms_started` payload (a failover replaces it). */
  startedPayload: Record<string, any>;
  state: StreamState;
  /** Why the last handshake failed. */
  error?: string;
  /** Every message received, on every socket, in arrival order. */
  messages: RecordedMessage[];
  /** Every message this app sent. */
  sent: RecordedMessage[];
  closes: RecordedClose[];
  /** Received messages per msg_type (keys are the msg_type as sent: "14", or "MEDIA_DATA_AUDIO" in seed). */
  counts: Record<string, number>;
  /** The last msg 2. */
  signalingResponse?: any;
  /** The last msg 4 per media socket. */
  dataResponses: Partial<Record<MediaSocketName, any>>;
  /** Effective media_params from the msg 4 replies, merged (spec §3.3). */
  mediaParams: Record<string, any>;
  /** Media URLs offered in msg 2. */
  mediaUrls: Record<string, string>;
  /** Open (or opening) sockets. */
  sockets: ReadonlyMap<SocketName, WebSocket>;
  /** Completed handshakes (1 + successful reconnections). */
  handshakes: number;
  /** Reconnection attempts made after drops. */
  reconnects: number;
  stopReason?: number;
  /** Files written for this stream (with `outDir`). */
  files: string[];
}

export interface WaitForOptions {
  /** Also match what was recorded before the call (default true). */
  includePast?: boolean;
  /** Named in the timeout error. */
  label?: string;
}

export interface CloseSocketOptions {
  code?: number;
  reason?: string;
  /** Drop the TCP connection without a close frame (the server sees an abnormal closure). */
  abrupt?: boolean;
  /** Treat it as an unexpected drop, so the reconnection logic runs (default false). */
  reconnect?: boolean;
}

export interface ReferenceApp {
  /** The webhook URL to give the mock, e.g. http://127.0.0.1:8000/webhook. */
  readonly url: string;
  readonly port: number;
  readonly webhooks: RecordedWebhook[];
  readonly streams: Map<string, StreamSession>;
  /** Resolves with the first observation (message, sent, close, webhook) that matches; rejects on timeout. */
  waitFor(predicate: (o: Observation) => boolean, timeoutMs?: number, options?: WaitForOptions): Promise<Observation>;
  /** Calls `fn` for every new observation; returns an unsubscribe function. */
  observe(fn: (o: Observation) => void): () => void;
  /**
   * Runs both handshakes for an `rtms_started` payload (or whole webhook body). Resolves when they succeeded
   * or failed (see `state` / `error`). On a live stream it is a failover: old sockets are closed first.
   */
  connect(started: unknown): Promise<StreamSession>;
  /** Sends an object as JSON text, or a string / bytes as they are. Throws if the socket is not open. */
  send(streamId: string, socket: SocketName, message: unknown): void;
  /** Closes one socket; resolves once it is closed. */
  closeSocket(streamId: string, socket: SocketName, options?: CloseSocketOptions): Promise<void>;
  /** Closes every socket and the webhook server. */
  stop(): Promise<void>;
}

// Small name tables for readable logs (spec §4.3, §6).
const EVENT_NAMES: Record<number, string> = {
  1: 'FIRST_PACKET_TIMESTAMP',
  2: 'ACTIVE_SPEAKER_CHANGE',
  3: 'PARTICIPANT_JOIN',
  4: 'PARTICIPANT_LEAVE',
  5: 'SHARING_START',
  6: 'SHARING_STOP',
  7: 'MEDIA_CONNECTION_INTERRUPTED',
  8: 'PARTICIPANT_VIDEO_ON',
  9: 'PARTICIPANT_VIDEO_OFF',
};
const STREAM_STATES = ['INACTIVE', 'ACTIVE', 'INTERRUPTED', 'TERMINATING', 'TERMINATED', 'PAUSED', 'RESUMED'];
const SESSION_STATES = ['INACTIVE', 'INITIALIZE', 'STARTED', 'PAUSED', 'RESUMED', 'STOPPED'];
const CODECS = ['?', 'L16', 'G711', 'G722', 'OPUS', 'JPG', 'PNG', 'H264'];
const RESOLUTIONS = ['?', 'SD', 'HD', 'FHD', 'QHD'];
const MEDIA_KIND_OF_MSG: Record<number, string> = { 14: 'audio', 15: 'video', 16: 'share', 17: 'transcript', 18: 'chat' };

const PRODUCT_OF_KEY: Record<InstanceIdKey, string> = {
  meeting_uuid: 'meeting',
  webinar_uuid: 'webinar',
  session_id: 'session',
  engagement_id: 'contact_center',
};

/** spec §9: `meeting.rtms_started`, `webinar.…`, `session.…`, `contact_center.voice_rtms_…`. */
const RTMS_EVENT = /^(meeting|webinar|session|contact_center)\.(?:voice_)?rtms_(started|stopped|interrupted)$/;

interface Attempt {
  gen: number;
  expected: Set<MediaSocketName>;
  done: Set<MediaSocketName>;
  finish(ok: boolean, error?: string, retryable?: boolean): void;
  abandon(): void;
}

/** The app's private view of a stream. */
interface Session extends StreamSession {
  sockets: Map<SocketName, WebSocket>;
  /** Bumped by every handshake; sockets of older generations are ignored. */
  generation: number;
  attempt?: Attempt;
  retries: number;
  retryTimer?: ReturnType<typeof setTimeout>;
  mediaRetries: Map<MediaSocketName, number>;
  mediaTimers: Set<ReturnType<typeof setTimeout>>;
  mediaSeen: Set<number>;
  /** FIRST_PACKET_TIMESTAMP (event 1): the zero of the transcript's times. */
  firstPacketAt?: number;
  out?: StreamFiles;
}

interface Waiter {
  predicate: (o: Observation) => boolean;
  resolve(o: Observation): void;
  reject(e: Error): void;
}

const decoder = new TextDecoder();

function time(): string {
  return new Date().toISOString().slice(11, 23);
}

function short(value: unknown, max = 160): string {
  const s = typeof value === 'string' ? value : JSON.stringify(value);
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

/** Accepts a whole webhook body or just its payload; handles the seed README's nested `payload.object` (spec §10). */
function unwrapWebhook(started: unknown): { event?: string; payload: Record<string, any> } {
  const body = (started ?? {}) as Record<string, any>;
  const event = typeof body.event === 'string' ? body.event : undefined;
  let payload: Record<string, any> = body.payload && typeof body.payload === 'object' ? body.payload : body;
  if (payload.rtms_stream_id === undefined && payload.object && typeof payload.object === 'object') {
    payload = payload.object;
  }
  return { event, payload };
}

class App implements ReferenceApp {
  readonly webhooks: RecordedWebhook[] = [];
  readonly streams = new Map<string, Session>();
  url = '';
  port = 0;

  private server?: Server<unknown>;
  private stopped = false;
  private readonly waiters = new Set<Waiter>();
  private readonly observers = new Set<(o: Observation) => void>();
  /** Sockets this app closed on purpose: their close is not a drop. */
  private readonly closingByUs = new WeakSet<WebSocket>();
  /** Bodies of RTMS webhooks already acted on (bounded), to recognise retries (spec §9). */
  private readonly seenBodies = new Set<string>();
  /** Streams whose rtms_stopped arrived before anything else: a late rtms_started must not revive them. */
  private readonly stoppedIds = new Set<string>();
  /** Extra signaling sockets opened by the secondConnectionOnDuplicate misbehaviour. */
  private readonly strays = new Set<WebSocket>();
  private readonly o: Required<Omit<ReferenceAppOptions, 'path' | 'mediaParams' | 'outDir' | 'log'>> &
    Pick<ReferenceAppOptions, 'path' | 'mediaParams' | 'outDir'>;
  private readonly logLine: (line: string) => void;

  constructor(options: ReferenceAppOptions) {
    this.o = {
      port: options.port ?? 0,
      hostname: options.hostname ?? '127.0.0.1',
      path: options.path,
      secretToken: options.secretToken ?? SAMPLE_CREDENTIALS.secretToken,
      clientId: options.clientId ?? SAMPLE_CREDENTIALS.clientId,
      clientSecret: options.clientSecret ?? SAMPLE_CREDENTIALS.clientSecret,
      mediaMode: options.mediaMode ?? 'all',
      mediaTypes: options.mediaTypes ?? 32,
      mediaParams: options.mediaParams,
      events: options.events ?? [],
      autoConnect: options.autoConnect ?? true,
      answerKeepAlive: options.answerKeepAlive ?? true,
      sendReady: options.sendReady ?? true,
      dialect: options.dialect ?? 'production',
      outDir: options.outDir,
      reconnect: options.reconnect ?? true,
      reconnectDelaysMs: options.reconnectDelaysMs ?? [500, 1000, 2000, 4000, 8000, 15000],
      handshakeTimeoutMs: options.handshakeTimeoutMs ?? 10_000,
      recordLimit: options.recordLimit ?? Number.POSITIVE_INFINITY,
      dedupeWebhooks: options.dedupeWebhooks ?? true,
      acceptBinary: options.acceptBinary ?? true,
      webhookDelayMs: options.webhookDelayMs ?? 0,
      ignoreStop: options.ignoreStop ?? false,
      secondConnectionOnDuplicate: options.secondConnectionOnDuplicate ?? false,
    };
    const log = options.log ?? ((line: string) => console.log(line));
    this.logLine = log === false ? () => {} : log;
  }

  private get seed(): boolean {
    return this.o.dialect === 'seed';
  }

  private log(s: Session | string | undefined, text: string): void {
    const id = typeof s === 'string' ? s : s?.streamId;
    this.logLine(`${time()} ${id ? `[${id.slice(0, 10)}] ` : ''}${text}`);
  }

  // ─── webhook server ─────────────────────────────────────────────────────────────────────────────────────

  async listen(): Promise<void> {
    this.server = Bun.serve({
      hostname: this.o.hostname,
      port: this.o.port,
      fetch: (req) => this.onHttp(req),
    });
    this.port = this.server.port ?? this.o.port;
    const host = this.o.hostname.includes(':') ? `[${this.o.hostname}]` : this.o.hostname;
    this.url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${this.port}${this.o.path ?? '/webhook'}`;
  }

  private async onHttp(req: Request): Promise<Response> {
    if (req.method !== 'POST') return new Response('RTMS reference app: POST webhooks here\n', { status: 405 });
    // Closing our sockets makes the server send rtms_interrupted: a stopping app must not act on it.
    if (this.stopped) return new Response('stopping\n', { status: 503 });
    if (this.o.path !== undefined && new URL(req.url).pathname !== this.o.path) {
      return new Response('not found\n', { status: 404 });
    }
    const rawBody = await req.text();
    if (this.o.webhookDelayMs > 0) await Bun.sleep(this.o.webhookDelayMs);
    const rec: RecordedWebhook = {
      event: '',
      body: undefined,
      rawBody,
      headers: Object.fromEntries(req.headers),
      receivedAt: Date.now(),
      status: 0,
    };
    const reply = (status: number, body?: unknown): Response => {
      rec.status = status;
      this.pushLimited(this.webhooks, rec);
      this.emit({ kind: 'webhook', ...rec });
      return body === undefined ? new Response(null, { status }) : Response.json(body, { status });
    };

    // spec §9: check the signature over the raw bytes before trusting anything in them.
    const timestamp = req.headers.get('x-zm-request-timestamp');
    const signature = req.headers.get('x-zm-signature');
    if (!timestamp || !signature || !safeEqual(signature, webhookSignature(this.o.secretToken, timestamp, rawBody))) {
      this.log(undefined, `webhook rejected (401): ${signature ? 'bad' : 'missing'} x-zm-signature`);
      return reply(401, { error: 'invalid signature' });
    }
    let body: any;
    try {
      body = JSON.parse(rawBody);
    } catch {
      this.log(undefined, 'webhook rejected (400): body is not JSON');
      return reply(400, { error: 'invalid JSON' });
    }
    if (!body || typeof body !== 'object' || typeof body.event !== 'string') {
      return reply(400, { error: 'missing event' });
    }
    rec.event = body.event;
    rec.body = body;

    if (body.event === 'endpoint.url_validation') {
      const plainToken = body.payload?.plainToken;
      if (typeof plainToken !== 'string') return reply(400, { error: 'missing payload.plainToken' });
      this.log(undefined, 'webhook endpoint.url_validation answered');
      return reply(200, { plainToken, encryptedToken: encryptPlainToken(this.o.secretToken, plainToken) });
    }

    // spec §9: a retried webhook carries the same bytes (same event_ts): answer it, act on it once.
    if (this.o.dedupeWebhooks) {
      if (this.seenBodies.has(rawBody)) {
        this.log(undefined, `webhook ${body.event} repeated with the same body: already handled`);
        return reply(200);
      }
      remember(this.seenBodies, rawBody);
    }

    // Act before answering but without waiting for any socket: the answer is fast (spec §9 retries slow
    // endpoints), and a duplicate arriving right after sees the stream already "connecting".
    try {
      this.onEvent(body.event, body);
    } catch (e) {
      this.log(undefined, `webhook ${body.event}: ${(e as Error).message}`);
    }
    return reply(200);
  }

  private onEvent(event: string, body: any): void {
    const m = RTMS_EVENT.exec(event);
    if (!m) {
      this.log(undefined, `webhook ${event} (ignored)`);
      return;
    }
    const what = m[2];
    const { payload } = unwrapWebhook(body);
    const streamId = String(payload.rtms_stream_id ?? '');
    const s = this.streams.get(streamId);
    this.log(streamId, `webhook ${event}${what === 'stopped' ? ` (stop_reason ${payload.stop_reason})` : ''}`);

    if (what === 'started') {
      if (!this.o.autoConnect) return;
      if (!s && this.stoppedIds.has(streamId)) {
        // Webhooks can arrive out of order: rtms_stopped came first, so this stream is already over.
        this.log(streamId, 'rtms_started for a stream already stopped (out of order) ignored');
      } else if (!s || s.state === 'failed') {
        void this.connect(body).catch((e: Error) => this.log(streamId, `cannot connect: ${e.message}`));
      } else if (s.state === 'connecting') {
        // spec §9: webhooks are retried; a duplicate must not open a second stream.
        this.log(s, 'duplicate rtms_started ignored: handshake in progress');
      } else if (s.state === 'stopped') {
        this.log(s, 'rtms_started for a stopped stream ignored');
      } else if (this.o.secondConnectionOnDuplicate) {
        this.openSecondSignaling(s);
      } else if (this.o.reconnect) {
        // spec §9: a second rtms_started for a live stream means server failover: redo both handshakes.
        this.log(s, 'rtms_started for a live stream: server failover, reconnecting');
        void this.connect(body);
      } else {
        this.log(s, 'rtms_started for a live stream ignored (reconnect off)');
      }
    } else if (what === 'stopped') {
      if (this.o.ignoreStop) this.log(streamId, 'rtms_stopped ignored (ignoreStop)');
      else if (s) this.markStopped(s, payload.stop_reason, true);
      else remember(this.stoppedIds, streamId);
    } else if (s && (s.state === 'ready' || s.state === 'interrupted') && !s.sockets.has('signaling')) {
      // spec §4.1: interrupted = our signaling was lost; redo the handshakes unless already doing so.
      if (!this.o.reconnect) s.state = 'interrupted';
      else if (!s.attempt && !s.retryTimer) this.scheduleReconnect(s);
    }
  }

  // ─── handshakes ─────────────────────────────────────────────────────────────────────────────────────────

  connect(started: unknown): Promise<StreamSession> {
    if (this.stopped) return Promise.reject(new Error('reference app is stopped'));
    const { event, payload } = unwrapWebhook(started);
    const streamId = payload.rtms_stream_id;
    const instanceIdKey = INSTANCE_ID_KEYS.find((k) => typeof payload[k] === 'string');
    const serverUrls = payload.server_urls;
    if (typeof streamId !== 'string' || !instanceIdKey || (typeof serverUrls !== 'string' && !Array.isArray(serverUrls))) {
      return Promise.reject(new Error(`rtms_started payload needs rtms_stream_id, an instance id and server_urls: ${short(payload)}`));
    }
    let s = this.streams.get(streamId);
    if (!s) {
      const product = event?.split('.')[0] ?? PRODUCT_OF_KEY[instanceIdKey];
      s = {
        streamId,
        product,
        instanceIdKey,
        instanceId: payload[instanceIdKey],
        startedPayload: payload,
        state: 'connecting',
        messages: [],
        sent: [],
        closes: [],
        counts: {},
        dataResponses: {},
        mediaParams: {},
        mediaUrls: {},
        sockets: new Map(),
        handshakes: 0,
        reconnects: 0,
        files: [],
        generation: 0,
        retries: 0,
        mediaRetries: new Map(),
        mediaTimers: new Set(),
        mediaSeen: new Set(),
      };
      this.streams.set(streamId, s);
    }
    s.startedPayload = payload;
    s.retries = 0;
    const session = s;
    return this.handshake(session).then(() => session);
  }

  private signature(s: Session): string {
    return handshakeSignature(this.o.clientId, this.o.clientSecret, s.instanceId, s.streamId);
  }

  /** Runs msg 1 → 2, then msg 3 → 4 on each media socket, then msg 7. Resolves true on success. */
  private handshake(s: Session): Promise<boolean> {
    this.cancelTimers(s);
    s.attempt?.abandon();
    this.closeSockets(s, 1000, 'reconnecting');
    const gen = ++s.generation;
    s.state = 'connecting';
    s.error = undefined;

    // spec §9: server_urls is one string; several URLs are comma-separated. Use the first.
    const urls = s.startedPayload.server_urls;
    let url = String(Array.isArray(urls) ? urls[0] : urls).split(',')[0]!.trim();
    if (this.seed) {
      try {
        url = new URL('/', url).toString(); // spec §10: the seed mock's signaling lives at its root
      } catch {
        /* reported by openSocket */
      }
    }

    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(
        () => attempt.finish(false, `handshake timed out after ${this.o.handshakeTimeoutMs} ms`, true),
        this.o.handshakeTimeoutMs,
      );
      const attempt: Attempt = {
        gen,
        expected: new Set(),
        done: new Set(),
        finish: (ok, error, retryable = false) => {
          if (s.attempt !== attempt) return;
          s.attempt = undefined;
          clearTimeout(timer);
          if (ok) {
            s.state = 'ready';
            s.retries = 0;
            s.handshakes++;
          } else if (s.state !== 'stopped') {
            s.state = 'failed';
            s.error = error;
            this.log(s, `handshake failed: ${error}`);
            this.closeSockets(s, 1000, 'handshake failed');
            // Only a reconnection sequence retries; a first connection that fails is reported as is.
            if (retryable && s.retries > 0 && this.o.reconnect && !this.stopped) this.scheduleReconnect(s);
          }
          resolve(ok);
        },
        abandon: () => {
          s.attempt = undefined;
          clearTimeout(timer);
          resolve(false);
        },
      };
      s.attempt = attempt;
      this.log(s, `connecting signaling ${url}`);
      const req: Record<string, unknown> = {
        msg_type: this.seed ? 'SIGNALING_HAND_SHAKE_REQ' : MSG.SIGNALING_HAND_SHAKE_REQ,
        protocol_version: 1,
        sequence: 0,
        [s.instanceIdKey]: s.instanceId, // spec §3.1: the product's own instance id key
        rtms_stream_id: s.streamId,
        signature: this.signature(s),
      };
      this.openSocket(s, 'signaling', url, gen, req);
    });
  }

  private dataRequest(s: Session, name: MediaSocketName): Record<string, unknown> {
    const req: Record<string, unknown> = {
      msg_type: this.seed ? 'DATA_HAND_SHAKE_REQ' : MSG.DATA_HAND_SHAKE_REQ,
      protocol_version: 1,
      sequence: 0,
      [s.instanceIdKey]: s.instanceId,
      rtms_stream_id: s.streamId,
      signature: this.signature(s), // spec §3.2: same value as in msg 1
    };
    // spec §10: in the seed dialect the URL path picks the media, there is no media_type.
    if (!this.seed) req.media_type = name === 'all' ? this.o.mediaTypes : MEDIA_BITS[name];
    req.payload_encryption = false;
    const params = this.o.mediaParams;
    if (params) {
      if (name === 'all') req.media_params = params;
      else if (params[name] !== undefined) req.media_params = { [name]: params[name] };
    }
    return req;
  }

  private onSignalingResponse(s: Session, msg: any): void {
    s.signalingResponse = msg;
    const attempt = s.attempt;
    if (!attempt) return;
    if (!isOk(msg)) {
      // spec §3.1: 8 DUPLICATE_SIGNAL_REQUEST can mean the server has not yet noticed our old socket died.
      attempt.finish(false, `signaling handshake rejected: ${statusText(msg)}`, msg.status_code === 8);
      return;
    }
    const offered = (this.seed ? msg.media_urls : msg.media_server?.server_urls) ?? {};
    s.mediaUrls = { ...offered };
    this.log(s, `signaling handshake OK; media URLs: ${Object.keys(offered).join(', ') || 'none'}`);

    if (this.o.events.length > 0) {
      this.trySend(s, 'signaling', {
        msg_type: this.seed ? 'EVENT_SUBSCRIPTION' : MSG.EVENT_SUBSCRIPTION,
        events: this.o.events.map((event_type) => ({ event_type, subscribe: true })),
      });
    }

    let wanted: MediaSocketName[] = ['all'];
    if (this.o.mediaMode === 'split') {
      // Production lists only the URLs the app's scopes allow (spec §3.1): skip the others.
      const kinds = mediaKindsOf(this.o.mediaTypes);
      wanted = kinds.filter((k) => typeof offered[k] === 'string');
      const missing = kinds.filter((k) => !wanted.includes(k));
      if (missing.length > 0) this.log(s, `no media URL offered for ${missing.join(', ')}; skipping`);
    }
    if (wanted.length === 0 || wanted.some((k) => typeof offered[k] !== 'string')) {
      attempt.finish(false, `the server offered no media URL for ${wanted.join(', ') || this.o.mediaTypes}`);
      return;
    }
    attempt.expected = new Set(wanted);
    for (const name of wanted) this.openSocket(s, name, offered[name], attempt.gen, this.dataRequest(s, name));
  }

  private onDataResponse(s: Session, name: MediaSocketName, msg: any): void {
    s.dataResponses[name] = msg;
    if (!isOk(msg)) {
      const error = `data handshake on ${name} rejected: ${statusText(msg)}`;
      if (s.attempt) s.attempt.finish(false, error);
      else this.log(s, error);
      return;
    }
    Object.assign(s.mediaParams, msg.media_params ?? {});
    this.log(s, `data handshake OK on ${name}: ${describeParams(msg.media_params ?? {})}`);
    const attempt = s.attempt;
    if (attempt) {
      attempt.done.add(name);
      if (attempt.done.size < attempt.expected.size) return;
      this.sendReadyAck(s);
      attempt.finish(true);
      this.log(s, 'ready: media will flow');
    } else {
      // A media socket re-handshaken after a drop (spec §4.1, 30 s window). Extra msg 7s are harmless (§3.4).
      s.mediaRetries.delete(name);
      this.sendReadyAck(s);
    }
  }

  /** The secondConnectionOnDuplicate bug: another signaling handshake while the first connection lives. */
  private openSecondSignaling(s: Session): void {
    const url = String(s.startedPayload.server_urls).split(',')[0]!.trim();
    this.log(s, 'rtms_started for a live stream: opening a second signaling connection (secondConnectionOnDuplicate)');
    const ws = new WebSocket(url);
    this.strays.add(ws);
    ws.addEventListener('open', () => ws.send(JSON.stringify({
      msg_type: MSG.SIGNALING_HAND_SHAKE_REQ, protocol_version: 1, sequence: 0,
      [s.instanceIdKey]: s.instanceId, rtms_stream_id: s.streamId, signature: this.signature(s),
    })));
    ws.addEventListener('message', (e) => this.log(s, `second signaling connection: ${short(String(e.data))}`));
    ws.addEventListener('close', () => this.strays.delete(ws));
  }

  private sendReadyAck(s: Session): void {
    // spec §10: the seed dialect starts media right after msg 4, without msg 7.
    if (!this.o.sendReady || this.seed) return;
    this.trySend(s, 'signaling', { msg_type: MSG.CLIENT_READY_ACK, rtms_stream_id: s.streamId });
  }

  /** For the app's own messages: a socket that just closed is logged, not thrown from an event handler. */
  private trySend(s: Session, name: SocketName, message: unknown): void {
    try {
      this.sendOn(s, name, message);
    } catch (e) {
      this.log(s, (e as Error).message);
    }
  }

  // ─── sockets ────────────────────────────────────────────────────────────────────────────────────────────

  private openSocket(s: Session, name: SocketName, url: string, gen: number, first: Record<string, unknown>): void {
    let ws: WebSocket;
    try {
      ws = new WebSocket(url);
    } catch (e) {
      const error = `cannot open the ${name} socket at ${url}: ${(e as Error).message}`;
      if (s.attempt) s.attempt.finish(false, error, true);
      else this.log(s, error);
      return;
    }
    ws.binaryType = 'arraybuffer';
    s.sockets.set(name, ws);
    ws.addEventListener('open', () => {
      if (gen === s.generation && s.sockets.get(name) === ws) this.trySend(s, name, first);
    });
    ws.addEventListener('message', (e) => {
      if (gen === s.generation) this.onFrame(s, name, ws, e.data);
    });
    ws.addEventListener('close', (e) => this.onClose(s, name, ws, gen, e.code, e.reason));
    ws.addEventListener('error', () => {
      /* a close event follows and carries the details */
    });
  }

  private sendOn(s: Session, name: SocketName, message: unknown): void {
    const ws = s.sockets.get(name);
    if (!ws || ws.readyState !== WebSocket.OPEN) throw new Error(`stream ${s.streamId}: the ${name} socket is not open`);
    const data = typeof message === 'string' || message instanceof Uint8Array || message instanceof ArrayBuffer
      ? message
      : JSON.stringify(message);
    ws.send(data);
    const rec: RecordedMessage = { socket: name, msg: message, at: Date.now() };
    this.pushLimited(s.sent, rec);
    this.emit({ kind: 'sent', streamId: s.streamId, ...rec });
  }

  private onFrame(s: Session, name: SocketName, ws: WebSocket, data: unknown): void {
    // spec §1: the same UTF-8 JSON may arrive in a binary frame.
    const binary = typeof data !== 'string';
    if (binary && !this.o.acceptBinary) {
      this.log(s, `${name}: binary frame dropped (acceptBinary false)`);
      return;
    }
    const text = typeof data === 'string' ? data : decoder.decode(data as ArrayBuffer);
    let msg: any;
    try {
      msg = JSON.parse(text);
    } catch {
      msg = text;
    }
    const rec: RecordedMessage = { socket: name, msg, at: Date.now(), binary };
    this.pushLimited(s.messages, rec);
    const key = String(msg?.msg_type);
    s.counts[key] = (s.counts[key] ?? 0) + 1;
    this.emit({ kind: 'message', streamId: s.streamId, ...rec });

    const type = msgTypeNumber(msg?.msg_type);
    switch (type) {
      case MSG.KEEP_ALIVE_REQ:
        // spec §4.1: echo the timestamp on the same socket; answer in the dialect it was asked in.
        if (this.o.answerKeepAlive && s.sockets.get(name) === ws) {
          this.trySend(s, name, {
            msg_type: typeof msg.msg_type === 'string' ? 'KEEP_ALIVE_RESP' : MSG.KEEP_ALIVE_RESP,
            timestamp: msg.timestamp,
          });
        }
        return;
      case MSG.SIGNALING_HAND_SHAKE_RESP:
        if (name === 'signaling') this.onSignalingResponse(s, msg);
        return;
      case MSG.DATA_HAND_SHAKE_RESP:
        if (name !== 'signaling') this.onDataResponse(s, name, msg);
        return;
      case MSG.EVENT_UPDATE:
        this.onEventUpdate(s, msg.event ?? {});
        return;
      case MSG.STREAM_STATE_UPDATE:
      case MSG.SESSION_STATE_UPDATE:
        this.onStateUpdate(s, type, msg);
        return;
      case MSG.MEDIA_DATA_AUDIO:
      case MSG.MEDIA_DATA_VIDEO:
      case MSG.MEDIA_DATA_SHARE:
      case MSG.MEDIA_DATA_TRANSCRIPT:
      case MSG.MEDIA_DATA_CHAT:
        this.onMedia(s, type, msg.content ?? {});
        return;
      default:
        this.log(s, `${name}: ${type === undefined ? 'unrecognised frame' : msgTypeName(type)} ${short(msg)}`);
    }
  }

  private onEventUpdate(s: Session, event: any): void {
    const name = EVENT_NAMES[event.event_type] ?? `event ${event.event_type}`;
    if (event.event_type === 1 && typeof event.timestamp === 'number') {
      s.firstPacketAt ??= event.timestamp;
      if (s.out) s.out.baseTime ??= event.timestamp;
    }
    const who = event.user_name ?? event.user_id ?? (Array.isArray(event.participants)
      ? event.participants.map((p: any) => p.user_name ?? p.user_id).join(', ')
      : undefined);
    this.log(s, `event ${name}${who !== undefined ? `: ${who}` : ''}`);
  }

  private onStateUpdate(s: Session, type: number, msg: any): void {
    const names = type === MSG.STREAM_STATE_UPDATE ? STREAM_STATES : SESSION_STATES;
    const state = typeof msg.state === 'number' ? names[msg.state] ?? msg.state : msg.state;
    // spec §4.2: the stop reason is `reason` on 8 and `stop_reason` on 9; read either.
    const reason = msg.reason ?? msg.stop_reason;
    const shown = reason && reason !== 'STOP_BC_UNDEFINED' ? ` (reason ${reason})` : '';
    this.log(s, `${type === MSG.STREAM_STATE_UPDATE ? 'stream' : 'session'} state ${state}${shown}`);
    const over = type === MSG.STREAM_STATE_UPDATE
      ? msg.state === STREAM_STATE_TERMINATED || msg.state === 'TERMINATED'
      : msg.state === SESSION_STATE_STOPPED || msg.state === 'STOPPED';
    if (over && !this.o.ignoreStop) this.markStopped(s, typeof reason === 'number' ? reason : undefined, false);
  }

  private onMedia(s: Session, type: number, content: Record<string, unknown>): void {
    const kind = MEDIA_KIND_OF_MSG[type]!;
    if (!s.mediaSeen.has(type)) {
      s.mediaSeen.add(type);
      const size = typeof content.length === 'number' ? ` (${content.length} bytes)` : '';
      if (type !== MSG.MEDIA_DATA_TRANSCRIPT && type !== MSG.MEDIA_DATA_CHAT) this.log(s, `first ${kind} message${size}`);
    }
    if (type === MSG.MEDIA_DATA_TRANSCRIPT || type === MSG.MEDIA_DATA_CHAT) {
      this.log(s, `${kind} ${content.user_name ?? content.user_id}: ${content.data}`);
    }
    if (!this.o.outDir || s.state === 'stopped') return;
    if (!s.out) {
      s.out = new StreamFiles(this.o.outDir, s.streamId);
      s.out.baseTime = s.firstPacketAt;
    }
    const out = s.out;
    try {
      if (type === MSG.MEDIA_DATA_AUDIO) out.audio(content, this.audioFormat(s));
      else if (type === MSG.MEDIA_DATA_VIDEO) out.video('video', content);
      else if (type === MSG.MEDIA_DATA_SHARE) out.video('share', content);
      else if (type === MSG.MEDIA_DATA_TRANSCRIPT) out.transcript(content);
      else out.chat(content);
      if (out.written.size !== s.files.length) s.files = [...out.written];
    } catch (e) {
      this.log(s, `cannot write ${kind}: ${(e as Error).message}`);
    }
  }

  /** The negotiated audio format (spec §3.3), with the §8 defaults where msg 4 was silent (or seed). */
  private audioFormat(s: Session): AudioFormat {
    const a = (s.mediaParams.audio ?? {}) as Record<string, number | undefined>;
    return {
      l16: (a.codec ?? CODEC_L16) === CODEC_L16 && (a.content_type ?? CONTENT_TYPE_RAW_AUDIO) === CONTENT_TYPE_RAW_AUDIO,
      sampleRate: SAMPLE_RATE_HZ[a.sample_rate ?? 1] ?? 16000,
      channels: a.channel === 2 ? 2 : 1,
    };
  }

  private onClose(s: Session, name: SocketName, ws: WebSocket, gen: number, code: number, reason: string): void {
    const byClient = this.closingByUs.has(ws);
    if (s.sockets.get(name) === ws) s.sockets.delete(name);
    const rec: RecordedClose = { socket: name, code, reason, at: Date.now(), byClient };
    this.pushLimited(s.closes, rec);
    this.emit({ kind: 'close', streamId: s.streamId, ...rec });
    if (byClient || gen !== s.generation || this.stopped) return;
    this.log(s, `${name} socket closed by the server (${code}${reason ? ` ${reason}` : ''})`);

    if (s.attempt) {
      s.attempt.finish(false, `the ${name} socket closed during the handshake (code ${code}${reason ? `: ${reason}` : ''})`, true);
      return;
    }
    if (s.state === 'stopped' || s.state === 'failed' || !this.o.reconnect) {
      if (name === 'signaling' && s.state === 'ready') s.state = 'interrupted';
      return;
    }
    if (name === 'signaling') this.scheduleReconnect(s);
    else if (s.state === 'ready') this.scheduleMediaReconnect(s, name);
  }

  /** spec §4.1: after a signaling drop the app has 60 s to redo both handshakes. */
  private scheduleReconnect(s: Session): void {
    if (this.stopped) return;
    const delay = this.o.reconnectDelaysMs[s.retries];
    if (delay === undefined) {
      s.state = 'failed';
      s.error = `gave up reconnecting after ${s.retries} attempts`;
      this.log(s, s.error);
      return;
    }
    s.retries++;
    s.state = 'interrupted';
    this.log(s, `reconnecting in ${delay} ms (attempt ${s.retries})`);
    s.retryTimer = setTimeout(() => {
      s.retryTimer = undefined;
      if (this.stopped || s.state !== 'interrupted') return;
      s.reconnects++;
      void this.handshake(s);
    }, delay);
  }

  /** spec §4.1: after a media drop the app has 30 s to redo that data handshake. */
  private scheduleMediaReconnect(s: Session, name: MediaSocketName): void {
    if (this.stopped) return;
    const n = s.mediaRetries.get(name) ?? 0;
    const delay = this.o.reconnectDelaysMs[n];
    const url = s.mediaUrls[name];
    if (delay === undefined || !url) {
      this.log(s, `${name} socket lost for good`);
      return;
    }
    s.mediaRetries.set(name, n + 1);
    this.log(s, `${name} socket lost; re-handshaking in ${delay} ms`);
    const gen = s.generation;
    const timer = setTimeout(() => {
      s.mediaTimers.delete(timer);
      if (this.stopped || gen !== s.generation || s.state !== 'ready' || s.sockets.has(name)) return;
      s.reconnects++;
      this.openSocket(s, name, url, gen, this.dataRequest(s, name));
    }, delay);
    s.mediaTimers.add(timer);
  }

  private markStopped(s: Session, reason: number | undefined, closeSockets: boolean): void {
    if (reason !== undefined) s.stopReason = reason;
    if (s.state === 'stopped') return;
    s.state = 'stopped';
    this.cancelTimers(s);
    s.attempt?.abandon();
    if (closeSockets) this.closeSockets(s, 1000, 'stream stopped');
    s.out?.close();
    this.log(s, `stream stopped${s.stopReason !== undefined ? ` (stop reason ${s.stopReason})` : ''}`);
  }

  private cancelTimers(s: Session): void {
    if (s.retryTimer) clearTimeout(s.retryTimer);
    s.retryTimer = undefined;
    for (const t of s.mediaTimers) clearTimeout(t);
    s.mediaTimers.clear();
    s.mediaRetries.clear();
  }

  private closeSockets(s: Session, code: number, reason: string): Promise<void>[] {
    const closing = [...s.sockets.values()].map((ws) => this.closeAndWait(ws, { code, reason }));
    s.sockets.clear();
    return closing;
  }

  private closeAndWait(ws: WebSocket, opts: CloseSocketOptions): Promise<void> {
    if (!opts.reconnect) this.closingByUs.add(ws);
    if (ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    const terminate = (ws as WebSocket & { terminate?: () => void }).terminate;
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        terminate?.call(ws); // a peer that never answers the close frame must not keep us alive
        resolve();
      }, 1000);
      ws.addEventListener('close', () => {
        clearTimeout(timer);
        resolve();
      }, { once: true });
      if (opts.abrupt && terminate) terminate.call(ws);
      else ws.close(opts.code ?? 1000, opts.reason ?? '');
    });
  }

  // ─── test controls ──────────────────────────────────────────────────────────────────────────────────────

  private session(streamId: string): Session {
    const s = this.streams.get(streamId);
    if (!s) throw new Error(`no stream ${streamId} (known: ${[...this.streams.keys()].join(', ') || 'none'})`);
    return s;
  }

  send(streamId: string, socket: SocketName, message: unknown): void {
    this.sendOn(this.session(streamId), socket, message);
  }

  closeSocket(streamId: string, socket: SocketName, options: CloseSocketOptions = {}): Promise<void> {
    const s = this.session(streamId);
    const ws = s.sockets.get(socket);
    if (!ws) return Promise.resolve();
    return this.closeAndWait(ws, options);
  }

  observe(fn: (o: Observation) => void): () => void {
    this.observers.add(fn);
    return () => this.observers.delete(fn);
  }

  waitFor(predicate: (o: Observation) => boolean, timeoutMs = 5000, options: WaitForOptions = {}): Promise<Observation> {
    const matches = (o: Observation): boolean => {
      try {
        return predicate(o);
      } catch {
        return false;
      }
    };
    if (options.includePast !== false) {
      const past = this.history().find(matches);
      if (past) return Promise.resolve(past);
    }
    if (this.stopped) return Promise.reject(new Error('reference app is stopped'));
    return new Promise<Observation>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        const recent = this.history().slice(-8).map(describe).join('\n  ');
        reject(new Error(`waitFor${options.label ? ` (${options.label})` : ''} timed out after ${timeoutMs} ms; last observations:\n  ${recent || '(none)'}`));
      }, timeoutMs);
      const waiter: Waiter = {
        predicate: matches,
        resolve: (o) => {
          clearTimeout(timer);
          resolve(o);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      this.waiters.add(waiter);
    });
  }

  /** Everything recorded so far, oldest first. */
  private history(): Observation[] {
    const all: Observation[] = this.webhooks.map((w) => ({ kind: 'webhook', ...w }));
    for (const s of this.streams.values()) {
      for (const m of s.messages) all.push({ kind: 'message', streamId: s.streamId, ...m });
      for (const m of s.sent) all.push({ kind: 'sent', streamId: s.streamId, ...m });
      for (const c of s.closes) all.push({ kind: 'close', streamId: s.streamId, ...c });
    }
    const at = (o: Observation) => (o.kind === 'webhook' ? o.receivedAt : o.at);
    return all.sort((a, b) => at(a) - at(b));
  }

  private emit(o: Observation): void {
    for (const fn of this.observers) fn(o);
    for (const w of this.waiters) {
      if (w.predicate(o)) {
        this.waiters.delete(w);
        w.resolve(o);
      }
    }
  }

  private pushLimited<T>(list: T[], item: T): void {
    list.push(item);
    const limit = this.o.recordLimit;
    // Trim in batches: shifting a long array on every message would be quadratic.
    if (list.length > limit + Math.max(64, limit / 4)) list.splice(0, list.length - limit);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const closing: Promise<void>[] = [];
    for (const s of this.streams.values()) {
      this.cancelTimers(s);
      s.attempt?.abandon();
      closing.push(...this.closeSockets(s, 1000, 'app stopping'));
      s.out?.close();
    }
    for (const ws of this.strays) closing.push(this.closeAndWait(ws, { code: 1000, reason: 'app stopping' }));
    await Promise.all(closing);
    await this.server?.stop(true);
    for (const w of this.waiters) w.reject(new Error('reference app stopped while waiting'));
    this.waiters.clear();
  }
}

/** Adds to a bounded set (oldest forgotten first). */
function remember(set: Set<string>, value: string, limit = 256): void {
  set.add(value);
  if (set.size > limit) set.delete(set.values().next().value as string);
}

function isOk(msg: any): boolean {
  // Production: status_code 0; seed dialect: status "STATUS_OK" (spec §10).
  return msg?.status_code === 0 || msg?.status === 'STATUS_OK';
}

function statusText(msg: any): string {
  return `status ${msg?.status_code ?? msg?.status ?? '?'}${msg?.reason ? ` (${msg.reason})` : ''}`;
}

/** "audio L16 16000 Hz mono, video JPG HD 5 fps, transcript" from msg 4's media_params (spec §6). */
function describeParams(params: Record<string, any>): string {
  const parts = Object.entries(params).map(([kind, p]) => {
    if (!p || typeof p !== 'object') return kind;
    if (kind === 'audio') {
      const rate = SAMPLE_RATE_HZ[p.sample_rate];
      return `audio ${CODECS[p.codec] ?? p.codec ?? ''} ${rate ? `${rate} Hz ` : ''}${p.channel === 2 ? 'stereo' : 'mono'}`;
    }
    if (kind === 'video' || kind === 'deskshare') {
      return `${kind} ${CODECS[p.codec] ?? p.codec ?? ''} ${RESOLUTIONS[p.resolution] ?? ''} ${p.fps ?? '?'} fps`.replace(/ +/g, ' ');
    }
    return kind;
  });
  return parts.join(', ') || 'server defaults';
}

function describe(o: Observation): string {
  if (o.kind === 'webhook') return `webhook ${o.event || '?'} → ${o.status}`;
  if (o.kind === 'close') return `close ${o.socket} ${o.code}${o.byClient ? ' (by client)' : ''}`;
  return `${o.kind} ${o.socket} ${short(o.msg, 120)}`;
}

/** Starts the webhook server; the returned app connects to streams as their webhooks arrive. */
export async function startReferenceApp(options: ReferenceAppOptions = {}): Promise<ReferenceApp> {
  const app = new App(options);
  await app.listen();
  return app;
}
