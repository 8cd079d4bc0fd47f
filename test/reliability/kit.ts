// Shared pieces of the reliability tests (test/reliability): a lean RTMS app that checks its media as it arrives
// (no message kept), a bystander meeting whose audio is checked throughout, raw HTTP for paths fetch would
// normalise, the API's counters, and process memory. Everything runs in-process against a mock on loopback.
import { connect } from 'node:net';
import { expect } from 'bun:test';
import type { TestMock } from '../helpers/mock.ts';
import { sign } from '../helpers/ws-client.ts';

export const meetingPath = (uuid: string) => `/api/meetings/${encodeURIComponent(uuid)}`;

/** GET /api/stats. */
export async function stats(m: TestMock): Promise<Record<string, any>> {
  const r = await m.api('GET', '/api/stats');
  expect(r.status).toBe(200);
  return r.body;
}

/** Polls until `fn` returns something truthy (returned), or throws naming `label` and the last value. */
export async function until<T>(fn: () => T | Promise<T>, timeoutMs: number, label: string | (() => string | Promise<string>), stepMs = 20): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await fn();
    if (last) return last as NonNullable<T>;
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof label === 'string' ? label : await label()} (last: ${JSON.stringify(last)?.slice(0, 400)})`);
    }
    await Bun.sleep(stepMs);
  }
}

/** Resident memory after a full garbage collection, in MiB. */
export function rssMiB(): number {
  Bun.gc(true);
  return process.memoryUsage().rss / (1024 * 1024);
}

/** mulberry32: a small seeded PRNG, so every generated input reproduces from its seed. */
export function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!,
    chance: (p: number) => next() < p,
    bytes: (n: number) => Uint8Array.from({ length: n }, () => Math.floor(next() * 256)),
    string: (n: number, alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/=_-') =>
      Array.from({ length: n }, () => alphabet[Math.floor(next() * alphabet.length)]).join(''),
  };
}
export type Rng = ReturnType<typeof prng>;

/** The seed of a test: RELIABILITY_SEED in the environment (to replay a failure), else `fallback`. */
export function seedOf(fallback: number): number {
  const s = Number(process.env.RELIABILITY_SEED);
  return Number.isInteger(s) && s > 0 ? s : fallback;
}

export function openWs(url: string, headers?: Record<string, string>): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = headers ? new WebSocket(url, { headers } as unknown as string[]) : new WebSocket(url);
    ws.binaryType = 'arraybuffer';
    const t = setTimeout(() => { ws.close(); reject(new Error(`connect ${url}: timeout`)); }, 10_000);
    ws.addEventListener('open', () => { clearTimeout(t); resolve(ws); }, { once: true });
    ws.addEventListener('error', () => { clearTimeout(t); reject(new Error(`cannot connect to ${url}`)); }, { once: true });
  });
}

export function closedPromise(ws: WebSocket): Promise<{ code: number; reason: string }> {
  if (ws.readyState === WebSocket.CLOSED) return Promise.resolve({ code: -1, reason: 'already closed' });
  return new Promise((resolve) => ws.addEventListener('close', (e) => resolve({ code: e.code, reason: e.reason }), { once: true }));
}

const text = (data: unknown) => (typeof data === 'string' ? data : new TextDecoder().decode(data as ArrayBuffer));

/** Per media type: what arrived, checked on arrival (order, exact step, grid). */
export interface MediaTrack {
  count: number;
  first: number | null;
  last: number | null;
  /** Human-readable problems (gap, repeat, out of order, off the step). Empty when all is well. */
  problems: string[];
}

export interface LeanAppOptions {
  signalingUrl: string;
  meetingUuid: string;
  streamId: string;
  /** Media socket path (default all) and the data handshake's media_type and media_params. */
  path?: string;
  mediaType?: number;
  mediaParams?: Record<string, unknown>;
  /** Expected timestamp step per msg_type (14 audio: send_rate; 15 video: 1000/fps). Unlisted types are counted only. */
  steps?: Record<number, number>;
  /** Send CLIENT_READY_ACK after the data handshake (default true). */
  ready?: boolean;
}

/**
 * An RTMS app that keeps nothing but counters: handshakes (spec §3), keep-alive answers (§4.1), and every media
 * message checked as it arrives against the expected step of its type.
 */
export class LeanApp {
  signaling: WebSocket | null = null;
  media: WebSocket | null = null;
  readonly tracks = new Map<number, MediaTrack>();
  /** FIRST_PACKET_TIMESTAMP (event 1) time, STREAM_STATE_UPDATE states and their timestamps, in order. */
  firstPacketAt: number | null = null;
  readonly states: { state: number; reason: number; timestamp: number }[] = [];
  mediaUrls: Record<string, string> = {};
  readonly replies: any[] = [];

  constructor(readonly o: LeanAppOptions) {}

  track(type: number): MediaTrack {
    let t = this.tracks.get(type);
    if (!t) this.tracks.set(type, t = { count: 0, first: null, last: null, problems: [] });
    return t;
  }

  private onMedia(msg: any): void {
    const ts = msg?.content?.timestamp;
    const t = this.track(msg.msg_type);
    const step = this.o.steps?.[msg.msg_type];
    if (typeof ts !== 'number') { t.problems.push(`msg ${msg.msg_type} without a timestamp`); return; }
    if (t.last !== null && step !== undefined) {
      const d = ts - t.last;
      // Video steps of 1000/fps are rounded per frame (66.7 → 66 or 67).
      if (Math.abs(d - step) > 1 && t.problems.length < 20) t.problems.push(`msg ${msg.msg_type}: ${t.last} → ${ts} (step ${d}, expected ${step})`);
    } else if (t.last !== null && ts < t.last && t.problems.length < 20) {
      t.problems.push(`msg ${msg.msg_type}: out of order ${t.last} → ${ts}`);
    }
    t.count++;
    t.first ??= ts;
    t.last = ts;
  }

  private attach(ws: WebSocket, kind: 'signaling' | 'media'): void {
    ws.addEventListener('message', (e) => {
      let msg: any;
      try { msg = JSON.parse(text(e.data)); } catch { return; }
      // KEEP_ALIVE_REQ (an error reply to an app's own msg 12 carries a status_code and is not one).
      if (msg?.msg_type === 12 && !('status_code' in msg)) { if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ msg_type: 13, timestamp: msg.timestamp })); return; }
      if (kind === 'media' && msg?.content && msg.msg_type >= 14 && msg.msg_type <= 18) return this.onMedia(msg);
      if (msg?.msg_type === 6 && msg.event?.event_type === 1) this.firstPacketAt = msg.event.timestamp;
      if (msg?.msg_type === 8) this.states.push({ state: msg.state, reason: msg.reason, timestamp: msg.timestamp });
      this.replies.push(msg);
    });
  }

  private next(ws: WebSocket, pred: (m: any) => boolean, label: string, timeoutMs = 10_000): Promise<any> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => { cleanup(); reject(new Error(`timed out waiting for ${label}`)); }, timeoutMs);
      const onMsg = (e: MessageEvent) => {
        let m: any;
        try { m = JSON.parse(text(e.data)); } catch { return; }
        if (pred(m)) { cleanup(); resolve(m); }
      };
      const onClose = (e: CloseEvent) => { cleanup(); reject(new Error(`socket closed (${e.code} ${e.reason}) waiting for ${label}`)); };
      const cleanup = () => { clearTimeout(t); ws.removeEventListener('message', onMsg); ws.removeEventListener('close', onClose); };
      ws.addEventListener('message', onMsg);
      ws.addEventListener('close', onClose);
    });
  }

  get signature(): string {
    return sign(this.o.meetingUuid, this.o.streamId);
  }

  /** Signaling handshake (msg 1 → 2 OK), then the data handshake on one media socket and msg 7. */
  async connect(): Promise<this> {
    const sig = await openWs(this.o.signalingUrl);
    this.signaling = sig;
    this.attach(sig, 'signaling');
    const resp = this.next(sig, (m) => m?.msg_type === 2, 'SIGNALING_HAND_SHAKE_RESP');
    sig.send(JSON.stringify({ msg_type: 1, protocol_version: 1, meeting_uuid: this.o.meetingUuid, rtms_stream_id: this.o.streamId, signature: this.signature }));
    const r = await resp;
    if (r.status_code !== 0) throw new Error(`signaling handshake failed: ${JSON.stringify(r)}`);
    this.mediaUrls = r.media_server.server_urls;
    await this.openMedia();
    if (this.o.ready ?? true) this.ready();
    return this;
  }

  async openMedia(): Promise<void> {
    const path = this.o.path ?? 'all';
    const media = await openWs(this.mediaUrls[path]!);
    this.media = media;
    this.attach(media, 'media');
    const resp = this.next(media, (m) => m?.msg_type === 4, 'DATA_HAND_SHAKE_RESP');
    media.send(JSON.stringify({
      msg_type: 3, protocol_version: 1, meeting_uuid: this.o.meetingUuid, rtms_stream_id: this.o.streamId, signature: this.signature,
      media_type: this.o.mediaType ?? 32, ...(this.o.mediaParams ? { media_params: this.o.mediaParams } : {}),
    }));
    const r = await resp;
    if (r.status_code !== 0) throw new Error(`data handshake failed: ${JSON.stringify(r)}`);
  }

  ready(): void {
    this.signaling?.send(JSON.stringify({ msg_type: 7, rtms_stream_id: this.o.streamId }));
  }

  /** Resolves once `n` messages of `type` arrived in total. */
  async waitFor(type: number, n: number, timeoutMs = 10_000): Promise<void> {
    await until(() => this.track(type).count >= n, timeoutMs, `${n} messages of type ${type} (have ${this.track(type).count})`, 10);
  }

  close(): void {
    for (const ws of [this.media, this.signaling]) {
      try { ws?.close(); } catch { /* gone */ }
    }
  }
}

/**
 * A meeting streaming audio (L16 16 kHz, 20 ms) to a lean app while a test attacks something else. `verify()`
 * waits for more audio and checks that nothing happened to it: every timestamp on the meeting's 20 ms grid,
 * consecutive from the first one (no gap, no repeat, nothing out of order), the count matching the span, the
 * stream ACTIVE with no interruption, its sockets open and the process answering /health.
 */
export async function startBystander(m: TestMock) {
  const created = await m.startMeeting(null);
  const origin = (await m.api('GET', meetingPath(created.meeting_uuid))).body.created_at as number;
  const app = await new LeanApp({
    signalingUrl: created.server_urls, meetingUuid: created.meeting_uuid, streamId: created.rtms_stream_id,
    path: 'audio', mediaType: 1, steps: { 14: 20 },
  }).connect();
  await app.waitFor(14, 5);
  return {
    created,
    app,
    async verify(more = 10): Promise<void> {
      const audio = app.track(14);
      await app.waitFor(14, audio.count + more, 10_000);
      expect(audio.problems).toEqual([]);
      expect((audio.first! - origin) % 20).toBe(0);
      expect(audio.count).toBe((audio.last! - audio.first!) / 20 + 1);
      // Not stalled: the newest message is recent (generous: the test process itself may be busy).
      expect(Date.now() - audio.last!).toBeLessThan(3000);
      expect(app.signaling!.readyState).toBe(WebSocket.OPEN);
      expect(app.media!.readyState).toBe(WebSocket.OPEN);
      expect(app.states.map((s) => s.state)).toEqual([1]);
      const st = (await m.api('GET', meetingPath(created.meeting_uuid))).body.streams[0];
      expect(st).toMatchObject({ stream_state: 1, stop_reason: null, history: { interruptions: 0 } });
      expect(st.media[0].counters.dropped).toBe(0);
      expect((await m.api('GET', '/health')).status).toBe(200);
    },
  };
}

export interface RawResponse { status: number; headers: Record<string, string>; body: string }

/** Sends `raw` (a whole HTTP/1.1 request) as written, so paths reach the server un-normalised. */
export function rawHttp(port: number, raw: string | Uint8Array, timeoutMs = 5000): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => { sock.destroy(); reject(new Error('raw HTTP: timeout')); }, timeoutMs);
    sock.on('connect', () => sock.write(raw));
    sock.on('data', (d) => chunks.push(Buffer.from(d)));
    sock.on('error', (e) => { clearTimeout(timer); reject(e); });
    sock.on('close', () => {
      clearTimeout(timer);
      const all = Buffer.concat(chunks).toString('latin1');
      const head = all.split('\r\n\r\n')[0] ?? '';
      const [statusLine, ...lines] = head.split('\r\n');
      const headers: Record<string, string> = {};
      for (const l of lines) {
        const i = l.indexOf(':');
        if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
      }
      resolve({ status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? '')?.[1] ?? 0), headers, body: all.slice(head.length + 4) });
    });
  });
}

/** A GET with `path` exactly as written (Connection: close). */
export function rawGet(port: number, path: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  const host = Object.keys(headers).some((k) => k.toLowerCase() === 'host') ? '' : `Host: 127.0.0.1:${port}\r\n`;
  return rawHttp(port, `GET ${path} HTTP/1.1\r\n${host}${extra}Connection: close\r\n\r\n`);
}
