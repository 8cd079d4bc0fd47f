// A lean RTMS app for load: production handshakes (spec §3), keep-alive answers (spec §4.1), and per media type
// the count, the timestamp steps and the arrival delay of every message. Media messages are not JSON-parsed:
// msg_type and timestamp are read from fixed places of the text the mock builds (spec §7), so the load
// generator stays cheap next to the server it measures.
import { createHmac } from 'node:crypto';

export const CLIENT_ID = 'XkWfgHHASGOQC9b95AkIxB';
const CLIENT_SECRET = 'YZnKVUufg7N18Oej6gHHqNWc7CG5jQ6N';

export function sign(instanceId: string, streamId: string): string {
  return createHmac('sha256', CLIENT_SECRET).update(`${CLIENT_ID},${instanceId},${streamId}`).digest('hex');
}

export interface TypeStats {
  count: number;
  bytes: number;
  /** Timestamps that did not step by the expected interval from the previous one (a gap or a reorder). */
  badSteps: number;
  lastTs: number;
}

/** A log2-bucketed histogram of delays in 0.1 ms units, cheap enough for every message. */
export class DelayHistogram {
  readonly buckets = new Uint32Array(4096);
  n = 0;
  add(ms: number): void {
    const i = Math.min(4095, Math.max(0, Math.round(ms * 10)));
    this.buckets[i]!++;
    this.n++;
  }
  merge(o: DelayHistogram): void {
    for (let i = 0; i < 4096; i++) this.buckets[i]! += o.buckets[i]!;
    this.n += o.n;
  }
  quantile(q: number): number {
    if (this.n === 0) return NaN;
    const target = Math.ceil(q * this.n);
    let acc = 0;
    for (let i = 0; i < 4096; i++) {
      acc += this.buckets[i]!;
      if (acc >= target) return i / 10;
    }
    return 409.5;
  }
  reset(): void { this.buckets.fill(0); this.n = 0; }
}

export interface LoadAppOptions {
  signalingUrl: string; // ws://host:port/signaling
  mediaUrl: string; // ws://host:mediaPort/all
  meetingUuid: string;
  streamId: string;
  mediaType: number;
  mediaParams: Record<string, unknown>;
  /** Expected timestamp step per msg_type (ms), e.g. {14: 20, 15: 200}. */
  steps: Record<number, number>;
  delays?: DelayHistogram;
  /** Called with every media message's text after counting (latency probes); keep it cheap. */
  onMedia?: (type: number, text: string, now: number) => void;
}

const MEDIA_PREFIX = '{"msg_type":1';
const TS_KEY = '"timestamp":';

/** A media message's msg_type (14–18) read from its first bytes, or 0 for anything else. No JSON.parse. */
export function mediaType(text: string): number {
  return text.startsWith(MEDIA_PREFIX) ? Number(text.slice(12, 14)) : 0;
}

/** A media message's timestamp, read from the end (after the payload). */
export function mediaTimestamp(text: string, type: number): number {
  const at = text.lastIndexOf(TS_KEY);
  return Number(text.slice(at + TS_KEY.length, text.indexOf(type === 17 ? ',' : '}', at)));
}

export class LoadApp {
  readonly stats = new Map<number, TypeStats>();
  firstMediaAt = 0;
  closedUnexpectedly = 0;
  private sig!: WebSocket;
  private media!: WebSocket;
  private closing = false;
  counting = true;

  constructor(readonly o: LoadAppOptions) {
    for (const t of Object.keys(o.steps)) this.stats.set(Number(t), { count: 0, bytes: 0, badSteps: 0, lastTs: 0 });
  }

  async connect(timeoutMs = 20_000): Promise<void> {
    const o = this.o;
    const base = { protocol_version: 1, meeting_uuid: o.meetingUuid, rtms_stream_id: o.streamId, signature: sign(o.meetingUuid, o.streamId) };
    this.sig = await open(o.signalingUrl, timeoutMs);
    const sigReply = waitJson(this.sig, (m) => m.msg_type === 2, timeoutMs);
    this.sig.send(JSON.stringify({ msg_type: 1, sequence: 1, ...base }));
    const r2 = await sigReply;
    if (r2.status_code !== 0) throw new Error(`signaling handshake: status ${r2.status_code} ${r2.reason}`);
    this.sig.addEventListener('message', (e) => this.onControl(this.sig, e.data as string));
    this.media = await open(o.mediaUrl, timeoutMs);
    const dataReply = waitJson(this.media, (m) => m.msg_type === 4, timeoutMs);
    this.media.send(JSON.stringify({ msg_type: 3, sequence: 0, ...base, media_type: o.mediaType, payload_encryption: false, media_params: o.mediaParams }));
    const r4 = await dataReply;
    if (r4.status_code !== 0) throw new Error(`data handshake: status ${r4.status_code} ${r4.reason}`);
    this.media.addEventListener('message', (e) => this.onMedia(e.data as string));
    for (const ws of [this.sig, this.media]) ws.addEventListener('close', () => { if (!this.closing) this.closedUnexpectedly++; });
    this.sig.send(JSON.stringify({ msg_type: 7, rtms_stream_id: o.streamId }));
  }

  private onControl(ws: WebSocket, text: string): void {
    if (text.startsWith('{"msg_type":12')) ws.send(`{"msg_type":13,"timestamp":${JSON.parse(text).timestamp}}`);
  }

  private onMedia(text: string): void {
    const type = mediaType(text);
    if (type === 0) { this.onControl(this.media, text); return; }
    const st = this.stats.get(type);
    if (!st) return;
    const now = Date.now();
    if (this.firstMediaAt === 0) this.firstMediaAt = performance.now();
    const ts = mediaTimestamp(text, type);
    if (!this.counting) { st.lastTs = ts; return; }
    const step = this.o.steps[type]!;
    // Transcripts and chat follow the dialogue, not a grid: only ordering is checked for them.
    if (st.lastTs !== 0 && (step > 0 ? ts - st.lastTs !== step : ts < st.lastTs)) st.badSteps++;
    st.lastTs = ts;
    st.count++;
    st.bytes += text.length;
    if (step > 0) this.o.delays?.add(now - ts);
    this.o.onMedia?.(type, text, now);
  }

  resetCounts(): void {
    for (const st of this.stats.values()) { st.count = 0; st.bytes = 0; st.badSteps = 0; }
  }

  close(): void {
    this.closing = true;
    try { this.sig?.close(); } catch { /* closed */ }
    try { this.media?.close(); } catch { /* closed */ }
  }
}

function open(url: string, timeoutMs: number): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const t = setTimeout(() => { ws.close(); reject(new Error(`connect ${url}: timeout`)); }, timeoutMs);
    ws.addEventListener('open', () => { clearTimeout(t); resolve(ws); }, { once: true });
    ws.addEventListener('error', () => { clearTimeout(t); reject(new Error(`connect ${url}: failed`)); }, { once: true });
  });
}

function waitJson(ws: WebSocket, pred: (m: any) => boolean, timeoutMs: number): Promise<any> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => { ws.removeEventListener('message', on); reject(new Error('handshake reply: timeout')); }, timeoutMs);
    const on = (e: MessageEvent) => {
      try {
        const m = JSON.parse(String(e.data));
        if (pred(m)) { clearTimeout(t); ws.removeEventListener('message', on); resolve(m); }
      } catch { /* not JSON */ }
    };
    ws.addEventListener('message', on);
  });
}
