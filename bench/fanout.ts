// Fan-out throughput (issue 6 §1): one meeting fed through the ingest socket as the page does (docs/ingest.md:
// binary frames, 16-byte header + JPEG), fanned out to K apps, next to a bare Bun.serve server forwarding the
// same messages with no RTMS logic. The feeder pushes as fast as the server's socket accepts (backpressure on
// its bufferedAmount), so the figure is what each server can deliver, not a cadence.
import { join } from 'node:path';
import { createVideoLibrary } from '../src/media/video/video-library.ts';
import { LoadApp, mediaTimestamp, mediaType } from './lib/load-app.ts';
import { pin, type ServerProcess } from './lib/server-process.ts';
import { BENCH_FEEDER, videoMessage } from './lib/video-message.ts';

const ROOT = join(import.meta.dir, '..');
const W = 640;
const H = 360;

export interface FanoutRow {
  server: 'rtms-mock' | 'bare Bun' | 'bare Bun + base64';
  apps: number;
  fedPerS: number;
  deliveredPerS: number;
  mbPerS: number;
  serverCpuPct: number;
  loadCpuPct: number;
}

/** One real SD JPEG from the synthetic video library (what a 640×360 camera frame costs on the wire). */
export function benchJpeg(): Uint8Array {
  const lib = createVideoLibrary(join(ROOT, 'data'));
  return lib.frames({ kind: 'camera', userName: 'Bench', userId: BENCH_FEEDER.userId }, 'JPG', W, H)[0]!;
}

function ingestFrame(jpeg: Uint8Array): Uint8Array {
  const out = new Uint8Array(16 + jpeg.length);
  const v = new DataView(out.buffer);
  out[0] = 2; // camera
  out[1] = 5; // JPG (spec §8 codec number)
  out[3] = 5; // encoded for 5 fps: forwarded as-is to 5 fps apps (docs/ingest.md §4)
  v.setUint16(4, W, true);
  v.setUint16(6, H, true);
  v.setFloat64(8, Date.now(), true);
  out.set(jpeg, 16);
  return out;
}

export function openWs(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.addEventListener('open', () => resolve(ws), { once: true });
    ws.addEventListener('error', () => reject(new Error(`connect ${url} failed`)), { once: true });
  });
}

/** Sends `frame` flat out for `ms`, never letting more than 1 MiB wait in the client's buffer. */
async function pump(ws: WebSocket, frame: Uint8Array | string, ms: number): Promise<number> {
  let sent = 0;
  const end = performance.now() + ms;
  while (performance.now() < end) {
    if (ws.bufferedAmount > 1 << 20) { await Bun.sleep(1); continue; }
    ws.send(frame);
    sent++;
    if ((sent & 15) === 0) await new Promise((r) => setImmediate(r));
  }
  return sent;
}

async function measure(server: { cpuSeconds(): number }, counters: () => { count: number; bytes: number },
  feed: (ms: number) => Promise<number>, windowMs: number) {
  await feed(500); // warm-up
  await Bun.sleep(100);
  const c0 = counters();
  const cpu0 = server.cpuSeconds();
  const load0 = process.cpuUsage();
  const t0 = performance.now();
  const fed = await feed(windowMs);
  await Bun.sleep(50);
  const elapsed = (performance.now() - t0) / 1000;
  const c1 = counters();
  const load = process.cpuUsage(load0);
  return {
    fedPerS: fed / elapsed,
    deliveredPerS: (c1.count - c0.count) / elapsed,
    mbPerS: (c1.bytes - c0.bytes) / elapsed / 1e6,
    serverCpuPct: ((server.cpuSeconds() - cpu0) / elapsed) * 100,
    loadCpuPct: ((load.user + load.system) / 1e6 / elapsed) * 100,
  };
}

export async function fanoutMock(server: ServerProcess, k: number, jpeg: Uint8Array, windowMs: number): Promise<FanoutRow> {
  const m = await server.api('POST', '/api/meetings', { source: 'browser', start_rtms: false });
  const uuid = encodeURIComponent(m.meeting_uuid);
  const apps: LoadApp[] = [];
  // K apps on one meeting: each is its own RTMS stream, as when several apps are subscribed to a meeting.
  for (let i = 0; i < k; i += 20) {
    await Promise.all(Array.from({ length: Math.min(20, k - i) }, async () => {
      const s = await server.api('POST', `/api/meetings/${uuid}/streams`, {});
      const app = new LoadApp({
        signalingUrl: m.server_urls, mediaUrl: m.media_server_urls.all, meetingUuid: m.meeting_uuid, streamId: s.rtms_stream_id,
        mediaType: 2, mediaParams: { video: { content_type: 3, codec: 5, resolution: 1, data_opt: 3, fps: 5 } }, steps: { 15: 0 },
      });
      await app.connect();
      apps.push(app);
    }));
  }
  const feeder = await openWs(`ws://127.0.0.1:${server.port}/ingest?meeting_uuid=${uuid}`);
  const wants = new Promise<void>((resolve) => feeder.addEventListener('message', (e) => {
    const msg = JSON.parse(String(e.data));
    if (msg.type === 'wants' && msg.camera?.some((f: any) => f.codec === 'JPG' && f.width === W)) resolve();
  }));
  feeder.send(JSON.stringify({ type: 'hello', user_name: BENCH_FEEDER.userName, audio: false, camera: true }));
  await wants;
  const frame = ingestFrame(jpeg);
  await Bun.sleep(200);
  const counters = () => {
    let count = 0;
    let bytes = 0;
    for (const a of apps) { const st = a.stats.get(15)!; count += st.count; bytes += st.bytes; }
    return { count, bytes };
  };
  try {
    const r = await measure(server, counters, (ms) => pump(feeder, frame, ms), windowMs);
    return { server: 'rtms-mock', apps: k, ...r };
  } finally {
    feeder.close();
    for (const a of apps) a.close();
    await server.api('DELETE', `/api/meetings/${uuid}`).catch(() => {});
    await Bun.sleep(200);
  }
}

/**
 * The bare forwarder with K apps. `encode` false: it is fed the finished RTMS message and only forwards it.
 * `encode` true: it is fed the same ingest frame as the mock and does the base64 + JSON the protocol demands.
 */
export async function fanoutBare(k: number, jpeg: Uint8Array, windowMs: number, encode = false): Promise<FanoutRow> {
  const proc = Bun.spawn([process.execPath, join(import.meta.dir, 'lib/bare-forwarder.ts'), ...(encode ? ['--encode'] : [])],
    { stdout: 'pipe', stderr: 'inherit' });
  pin(proc.pid, 0);
  const reader = proc.stdout.getReader();
  let head = '';
  while (!/port \d+/.test(head)) {
    const { value, done } = await reader.read();
    if (done) throw new Error('bare forwarder exited');
    head += new TextDecoder().decode(value);
  }
  const port = Number(/port (\d+)/.exec(head)![1]);
  const { readFileSync } = await import('node:fs');
  const cpuSeconds = () => {
    const f = readFileSync(`/proc/${proc.pid}/stat`, 'utf8');
    const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return (Number(rest[11]) + Number(rest[12])) / 100;
  };
  let count = 0;
  let bytes = 0;
  const sockets: WebSocket[] = [];
  for (let i = 0; i < k; i++) {
    const ws = await openWs(`ws://127.0.0.1:${port}/out`);
    // The mock's load app reads each message the same way (LoadApp.onMedia): type, timestamp, order, count.
    let lastTs = 0;
    ws.addEventListener('message', (e) => {
      const t = e.data as string;
      const type = mediaType(t);
      if (type !== 15) return;
      const ts = mediaTimestamp(t, type);
      if (ts >= lastTs) { count++; bytes += t.length; }
      lastTs = ts;
    });
    sockets.push(ws);
  }
  const feeder = await openWs(`ws://127.0.0.1:${port}/in`);
  try {
    // Plain: the message the mock would build for this frame (spec §7), built once here; the server only forwards
    // it. Encoding: the same ingest frame the mock is fed.
    const input = encode ? ingestFrame(jpeg) : videoMessage(jpeg, Date.now());
    const r = await measure({ cpuSeconds }, () => ({ count, bytes }), (ms) => pump(feeder, input, ms), windowMs);
    return { server: encode ? 'bare Bun + base64' : 'bare Bun', apps: k, ...r };
  } finally {
    feeder.close();
    for (const s of sockets) s.close();
    proc.kill();
    await proc.exited;
  }
}
