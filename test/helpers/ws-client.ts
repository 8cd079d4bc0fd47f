// A bare WebSocket client for error-path tests: send anything, read every message in order, see the close.
import { createHmac } from 'node:crypto';

export const CLIENT_ID = 'XkWfgHHASGOQC9b95AkIxB';
export const CLIENT_SECRET = 'YZnKVUufg7N18Oej6gHHqNWc7CG5jQ6N';
export const SECRET_TOKEN = 'DyBoLm8OZoJT2Pi3-kY2px';

/** spec §3.2, computed here independently of the server's code. */
export function sign(instanceId: string, streamId: string, clientId = CLIENT_ID, secret = CLIENT_SECRET): string {
  return createHmac('sha256', secret).update(`${clientId},${instanceId},${streamId}`).digest('hex');
}

export interface Received { msg: any; at: number; binary: boolean; raw: string }

export class WsClient {
  readonly received: Received[] = [];
  closed: Promise<{ code: number; reason: string }>;
  private waiters: (() => void)[] = [];
  private cursor = 0;
  isClosed = false;

  private constructor(readonly ws: WebSocket) {
    ws.binaryType = 'arraybuffer';
    ws.addEventListener('message', (e) => {
      const binary = typeof e.data !== 'string';
      const raw = binary ? new TextDecoder().decode(e.data as ArrayBuffer) : (e.data as string);
      let msg: any = raw;
      try { msg = JSON.parse(raw); } catch { /* keep text */ }
      this.received.push({ msg, at: performance.timeOrigin + performance.now(), binary, raw });
      for (const w of this.waiters.splice(0)) w();
    });
    this.closed = new Promise((resolve) => ws.addEventListener('close', (e) => {
      this.isClosed = true;
      resolve({ code: e.code, reason: e.reason });
      for (const w of this.waiters.splice(0)) w();
    }));
  }

  static async open(url: string): Promise<WsClient> {
    const ws = new WebSocket(url);
    const c = new WsClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener('open', () => resolve(), { once: true });
      ws.addEventListener('error', () => reject(new Error(`cannot connect to ${url}`)), { once: true });
    });
    return c;
  }

  send(m: unknown): void {
    this.ws.send(typeof m === 'string' || m instanceof Uint8Array ? (m as any) : JSON.stringify(m));
  }

  /** Next message (in order) matching `pred`, skipping others; rejects on timeout. */
  async next(pred: (m: any) => boolean = () => true, timeoutMs = 3000, label = 'message'): Promise<any> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      while (this.cursor < this.received.length) {
        const r = this.received[this.cursor++]!;
        if (pred(r.msg)) return r.msg;
      }
      if (this.isClosed) throw new Error(`socket closed while waiting for ${label}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${label}; got ${this.received.slice(-5).map((r) => r.raw.slice(0, 120)).join(' | ')}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => { clearTimeout(t); resolve(); });
      });
    }
  }

  /** Waits for `n` messages of msg_type `type` from now on. */
  async collect(type: number, n: number, timeoutMs = 5000): Promise<Received[]> {
    const out: Received[] = [];
    const deadline = Date.now() + timeoutMs;
    let i = this.cursor;
    while (out.length < n) {
      while (i < this.received.length && out.length < n) {
        const r = this.received[i++]!;
        if (r.msg?.msg_type === type) out.push(r);
      }
      if (out.length >= n) break;
      if (this.isClosed || Date.now() > deadline) throw new Error(`got ${out.length}/${n} messages of type ${type}`);
      await Bun.sleep(5);
    }
    this.cursor = Math.max(this.cursor, i);
    return out;
  }

  close(code = 1000): void {
    try { this.ws.close(code); } catch { /* closed */ }
  }
}
