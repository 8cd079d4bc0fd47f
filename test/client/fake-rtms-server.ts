// A tiny stand-in for the RTMS server, just enough to drive the reference app over real sockets while the real
// server is being written. It records every frame the app sends and answers the handshakes (spec §3).
import { createHmac } from 'node:crypto';
import type { Server, ServerWebSocket } from 'bun';

export const CLIENT_ID = 'test-client-id';
export const CLIENT_SECRET = 'test-client-secret';
export const SECRET_TOKEN = 'test-secret-token';

export interface Received {
  /** 'signaling' or the media socket name ('all', 'audio', …). */
  socket: string;
  msg: any;
  at: number;
  binary: boolean;
}

interface SocketData {
  socket: string;
}

export interface FakeServerOptions {
  /** Answer msg 1 with this status_code (default 0). */
  signalingStatus?: number;
  /** Answer msg 3 with this status_code (default 0). */
  dataStatus?: number;
  /** Wait before answering msg 1 (to keep a handshake "in progress"). */
  signalingDelayMs?: number;
  /** Speak the seed dialect (spec §10). */
  seed?: boolean;
  /** Send media in binary frames (spec §1). */
  binary?: boolean;
  /** Media URLs to offer in msg 2 (default all six). */
  offer?: string[];
}

export interface FakeRtmsServer {
  /** The signaling URL to put in `server_urls`. */
  signalingUrl: string;
  port: number;
  received: Received[];
  /** Open sockets by name (the latest one per name). */
  sockets: Map<string, ServerWebSocket<SocketData>>;
  /** How many sockets were opened per name. */
  opened: Record<string, number>;
  /** The URL path of every WebSocket upgrade, in order. */
  paths: string[];
  send(socket: string, msg: unknown, binary?: boolean): void;
  waitFor(predicate: (r: Received) => boolean, timeoutMs?: number): Promise<Received>;
  stop(): Promise<void>;
}

const MEDIA_NAMES = ['all', 'audio', 'video', 'deskshare', 'transcript', 'chat'];

/** The effective params a server would echo (spec §8 defaults). */
export const EFFECTIVE_PARAMS = {
  audio: { content_type: 2, sample_rate: 1, channel: 1, codec: 1, data_opt: 1, send_rate: 20 },
  video: { content_type: 3, codec: 5, resolution: 2, data_opt: 3, fps: 5 },
  transcript: { content_type: 5, src_language: 9, enable_lid: true },
};

/** 20 ms of 16 kHz mono L16: 320 samples of a ramp, so the WAV content can be checked byte for byte. */
export const AUDIO_FRAME = new Uint8Array(640).map((_, i) => i % 256);

export async function startFakeRtmsServer(options: FakeServerOptions = {}): Promise<FakeRtmsServer> {
  const received: Received[] = [];
  const sockets = new Map<string, ServerWebSocket<SocketData>>();
  const opened: Record<string, number> = {};
  const paths: string[] = [];
  const waiters = new Set<{ p: (r: Received) => boolean; resolve: (r: Received) => void }>();
  const seed = options.seed ?? false;
  const type = (n: number, name: string) => (seed ? name : n);
  const ok = (code: number) => (seed ? { status: code === 0 ? 'STATUS_OK' : 'STATUS_ERROR' } : { status_code: code, reason: code === 0 ? '' : 'rejected' });

  let server: Server<SocketData>;
  const send = (socket: string, msg: unknown, binary = false) => {
    const ws = sockets.get(socket);
    if (!ws) throw new Error(`fake server: no ${socket} socket`);
    const text = JSON.stringify(msg);
    ws.send(binary ? new TextEncoder().encode(text) : text);
  };
  const base = () => `ws://127.0.0.1:${server.port}`;

  /** What the server does once the app is ready: first packet, ACTIVE, a keep-alive everywhere, some media. */
  const startMedia = () => {
    const now = Date.now();
    if (!seed) {
      send('signaling', { msg_type: 6, event: { event_type: 1, timestamp: now } });
      send('signaling', { msg_type: 8, state: 1, reason: 0, timestamp: now });
    }
    for (const name of sockets.keys()) send(name, { msg_type: type(12, 'KEEP_ALIVE_REQ'), timestamp: now + 1 });
    const media = sockets.has('all') ? 'all' : sockets.has('audio') ? 'audio' : undefined;
    if (media) {
      for (let i = 0; i < 2; i++) {
        send(media, {
          msg_type: type(14, 'MEDIA_DATA_AUDIO'),
          content: { user_id: 0, data: Buffer.from(AUDIO_FRAME).toString('base64'), length: 640, timestamp: now + i * 20 },
        }, options.binary);
      }
    }
    const text = sockets.has('all') ? 'all' : sockets.has('transcript') ? 'transcript' : undefined;
    if (text) {
      send(text, {
        msg_type: type(17, 'MEDIA_DATA_TRANSCRIPT'),
        content: { user_id: 16778240, user_name: 'Alice', data: 'Hello there.', timestamp: now, start_time: now, end_time: now + 1500, language: 9 },
      }, options.binary);
    }
  };

  const onMessage = (ws: ServerWebSocket<SocketData>, raw: string | Buffer) => {
    const binary = typeof raw !== 'string';
    const msg = JSON.parse(typeof raw === 'string' ? raw : raw.toString('utf8'));
    const r: Received = { socket: ws.data.socket, msg, at: Date.now(), binary };
    received.push(r);
    for (const w of waiters) if (w.p(r)) (waiters.delete(w), w.resolve(r));

    const t = msg.msg_type;
    if (t === 1 || t === 'SIGNALING_HAND_SHAKE_REQ') {
      const urls = Object.fromEntries((options.offer ?? MEDIA_NAMES).map((n) => [n, `${base()}/media/${n}`]));
      const reply = seed
        ? { msg_type: 'SIGNALING_HAND_SHAKE_RESP', ...ok(options.signalingStatus ?? 0), media_urls: urls }
        : { msg_type: 2, protocol_version: 1, sequence: 0, ...ok(options.signalingStatus ?? 0), media_server: { server_urls: urls } };
      setTimeout(() => ws.readyState === 1 && ws.send(JSON.stringify(reply)), options.signalingDelayMs ?? 0);
    } else if (t === 3 || t === 'DATA_HAND_SHAKE_REQ') {
      const status = options.dataStatus ?? 0;
      ws.send(JSON.stringify({
        msg_type: type(4, 'DATA_HAND_SHAKE_RESP'),
        protocol_version: 1,
        sequence: 0,
        ...ok(status),
        payload_encrypted: false,
        media_params: EFFECTIVE_PARAMS,
      }));
      if (status !== 0) ws.close(1000, 'bad params');
      else if (seed) startMedia(); // spec §10: no msg 7 in the seed dialect
    } else if (t === 7) {
      startMedia();
    }
  };

  server = Bun.serve<SocketData>({
    hostname: '127.0.0.1',
    port: 0,
    fetch(req, srv) {
      const path = new URL(req.url).pathname;
      paths.push(path);
      const socket = path === '/signaling' || path === '/' ? 'signaling' : path.replace('/media/', '');
      if (srv.upgrade(req, { data: { socket } })) return undefined;
      return new Response('websocket only', { status: 400 });
    },
    websocket: {
      open(ws) {
        sockets.set(ws.data.socket, ws);
        opened[ws.data.socket] = (opened[ws.data.socket] ?? 0) + 1;
      },
      message: onMessage,
      close(ws) {
        if (sockets.get(ws.data.socket) === ws) sockets.delete(ws.data.socket);
      },
    },
  });

  return {
    signalingUrl: `${base()}/signaling`,
    port: server.port!,
    received,
    sockets,
    opened,
    paths,
    send,
    waitFor(p, timeoutMs = 3000) {
      const past = received.find(p);
      if (past) return Promise.resolve(past);
      return new Promise((resolve, reject) => {
        const w = { p, resolve: (r: Received) => (clearTimeout(timer), resolve(r)) };
        const timer = setTimeout(() => (waiters.delete(w), reject(new Error('fake server: waitFor timed out'))), timeoutMs);
        waiters.add(w);
      });
    },
    async stop() {
      await server.stop(true);
    },
  };
}

/** spec §3.2: what the app must put in msg 1 and msg 3. */
export function expectedSignature(instanceId: string, streamId: string, clientId = CLIENT_ID, secret = CLIENT_SECRET): string {
  return createHmac('sha256', secret).update(`${clientId},${instanceId},${streamId}`).digest('hex');
}

/** POSTs a webhook signed as spec §9 says (or with the given signature header, or none). */
export async function postWebhook(
  url: string,
  body: unknown,
  opts: { secret?: string; signature?: string | null; rawBody?: string } = {},
): Promise<Response> {
  const raw = opts.rawBody ?? JSON.stringify(body);
  const ts = String(Math.floor(Date.now() / 1000));
  const sig = `v0=${createHmac('sha256', opts.secret ?? SECRET_TOKEN).update(`v0:${ts}:${raw}`).digest('hex')}`;
  const headers: Record<string, string> = { 'content-type': 'application/json', 'x-zm-request-timestamp': ts };
  if (opts.signature !== null) headers['x-zm-signature'] = opts.signature ?? sig;
  return fetch(url, { method: 'POST', headers, body: raw });
}

export function startedBody(signalingUrl: string, streamId = 'stream-1', meetingUuid = 'abc/def+g==', event = 'meeting.rtms_started') {
  const idKey = event.startsWith('webinar.') ? 'webinar_uuid'
    : event.startsWith('session.') ? 'session_id'
    : event.startsWith('contact_center.') ? 'engagement_id'
    : 'meeting_uuid';
  return {
    event,
    event_ts: Date.now(),
    payload: { [idKey]: meetingUuid, operator_id: 'op-1', rtms_stream_id: streamId, server_urls: signalingUrl },
  };
}
