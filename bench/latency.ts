// Latency (issue 6 §3), measured from the app's side over real sockets, feeder and app in this process so both
// ends read the same clock:
// - capture-to-app: a feeder sends ingest frames at the page's cadence (20 ms audio, 5 fps SD JPEG) into a
//   live meeting; one app receives L16 16 kHz + JPG. Each JPEG carries a sequence number after its EOI marker
//   (decoders ignore it; the mock forwards video as-is), so every video message is matched to its frame.
//   Audio is silence with a loud 20 ms burst every 500 ms; the burst's first sample is found in the app's
//   messages, matched to the frame that carried it.
// - webhook-to-first-media: a webhook receiver here answers rtms_started and starts the app's handshakes at
//   once; the time from the webhook's arrival to the app's first media message, over fresh meetings.
import { DelayHistogram, LoadApp } from './lib/load-app.ts';
import type { ServerProcess } from './lib/server-process.ts';
import { openWs } from './fanout.ts';

const W = 640;
const H = 360;
const BURST_EVERY = 25; // audio frames (500 ms)

export interface LatencyRow { path: string; samples: number; p50_ms: number; p99_ms: number; max_ms: number }

function frameHeader(kind: number, codec: number, b2: number, fps: number, w: number, h: number, captureMs: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(16 + payload.length);
  const v = new DataView(out.buffer);
  out[0] = kind; out[1] = codec; out[2] = b2; out[3] = fps;
  v.setUint16(4, w, true);
  v.setUint16(6, h, true);
  v.setFloat64(8, captureMs, true);
  out.set(payload, 16);
  return out;
}

function row(path: string, h: DelayHistogram, max: number): LatencyRow {
  return { path, samples: h.n, p50_ms: h.quantile(0.5), p99_ms: h.quantile(0.99), max_ms: max };
}

export async function measureCaptureToApp(server: ServerProcess, jpeg: Uint8Array, windowMs: number): Promise<LatencyRow[]> {
  const m = await server.api('POST', '/api/meetings', { source: 'browser', start_rtms: true });
  const uuid = encodeURIComponent(m.meeting_uuid);
  const videoSent = new Map<number, number>(); // seq → send time
  const burstSent: number[] = []; // send times of the burst frames, in order
  const video = new DelayHistogram();
  const audio = new DelayHistogram();
  let videoMax = 0;
  let audioMax = 0;
  let burstsSeen = 0;
  let inBurst = false;
  const app = new LoadApp({
    signalingUrl: m.server_urls, mediaUrl: m.media_server_urls.all, meetingUuid: m.meeting_uuid, streamId: m.rtms_stream_id,
    mediaType: 1 | 2,
    mediaParams: {
      audio: { content_type: 2, sample_rate: 1, channel: 1, codec: 1, data_opt: 1, send_rate: 20 },
      video: { content_type: 3, codec: 5, resolution: 1, data_opt: 3, fps: 5 },
    },
    steps: { 14: 20, 15: 0 },
    onMedia: (type, text) => {
      const now = performance.now();
      const at = text.indexOf('"data":"') + 8;
      const data = Buffer.from(text.slice(at, text.indexOf('"', at)), 'base64');
      if (type === 15) {
        const seq = data.readUInt32LE(data.length - 4);
        const sent = videoSent.get(seq);
        if (sent !== undefined) { video.add(now - sent); videoMax = Math.max(videoMax, now - sent); videoSent.delete(seq); }
        return;
      }
      // Audio: a message is "loud" when any sample is; the first loud message after a quiet one is a burst.
      let loud = false;
      for (let i = 0; i + 1 < data.length; i += 2) if (Math.abs(data.readInt16LE(i)) > 4000) { loud = true; break; }
      if (loud && !inBurst) {
        const sent = burstSent[burstsSeen++];
        if (sent !== undefined) { audio.add(now - sent); audioMax = Math.max(audioMax, now - sent); }
      }
      inBurst = loud;
    },
  });
  await app.connect();
  const feeder = await openWs(`ws://127.0.0.1:${server.port}/ingest?meeting_uuid=${uuid}`);
  const wants = new Promise<void>((resolve) => feeder.addEventListener('message', (e) => {
    const msg = JSON.parse(String(e.data));
    if (msg.type === 'wants' && msg.camera?.some((f: any) => f.codec === 'JPG' && f.width === W)) resolve();
  }));
  feeder.send(JSON.stringify({ type: 'hello', user_name: 'Latency feeder', audio: true, camera: true }));
  await wants;

  const quiet = new Uint8Array(960 * 2); // 20 ms at 48 kHz mono
  const loud = new Uint8Array(960 * 2);
  const lv = new DataView(loud.buffer);
  for (let i = 0; i < 960; i++) lv.setInt16(i * 2, Math.round(16000 * Math.sin((2 * Math.PI * 1000 * i) / 48000)), true);
  const tagged = new Uint8Array(jpeg.length + 4);
  tagged.set(jpeg);
  const tv = new DataView(tagged.buffer);

  // Paced on absolute targets so timer slack does not accumulate (the page's worklet is paced by the audio clock).
  const t0 = performance.now();
  const startEpoch = Date.now();
  let frame = 0;
  let seq = 0;
  const frames = Math.floor(windowMs / 20);
  while (frame < frames) {
    const due = t0 + frame * 20;
    const wait = due - performance.now();
    if (wait > 1) await Bun.sleep(wait - 0.5);
    while (performance.now() < due) { /* the last half millisecond */ }
    const now = performance.now();
    const isBurst = frame > 50 && frame % BURST_EVERY === 0; // after the first second: the audio buffer has settled
    feeder.send(frameHeader(1, 1, 1, 0, 0, 0, Date.now(), isBurst ? loud : quiet));
    if (isBurst) burstSent.push(now);
    if (frame % 10 === 0) {
      tv.setUint32(jpeg.length, ++seq, true);
      if (frame > 50) videoSent.set(seq, now); // skip the first second (camera switch, warm-up)
      feeder.send(frameHeader(2, 5, 0, 5, W, H, Date.now(), tagged));
    }
    frame++;
  }
  await Bun.sleep(500);
  const view = await server.api('GET', `/api/meetings/${uuid}`);
  const ingest = view.participants?.find((p: any) => p.ingest)?.ingest;
  feeder.close();
  app.close();
  await server.api('DELETE', `/api/meetings/${uuid}`).catch(() => {});
  if (Date.now() - startEpoch < windowMs) throw new Error('latency feed ended early');
  const rows = [row('capture → app, audio (L16 16 kHz, 20 ms)', audio, audioMax), row('capture → app, video (JPG SD 5 fps)', video, videoMax)];
  if (ingest?.latency_ms) {
    for (const kind of ['audio', 'camera'] as const) {
      const l = ingest.latency_ms[kind];
      if (l) rows.push({ path: `capture → mock send (${kind}, the mock's own figure)`, samples: l.samples, p50_ms: l.p50, p99_ms: l.p99, max_ms: NaN });
    }
  }
  return rows;
}

export async function measureWebhookToMedia(server: ServerProcess, meetings: number): Promise<LatencyRow[]> {
  const toMedia = new DelayHistogram();
  const postToWebhook = new DelayHistogram();
  let maxMedia = 0;
  let maxHook = 0;
  const pending = new Map<string, (t: number) => void>();
  const apps: LoadApp[] = [];
  const hooks = Bun.serve({
    hostname: '127.0.0.1', port: 0,
    async fetch(req) {
      const arrived = performance.now();
      const body = await req.json() as any;
      if (body.event === 'meeting.rtms_started') {
        const p = body.payload;
        const app = new LoadApp({
          signalingUrl: p.server_urls, mediaUrl: mediaUrl, meetingUuid: p.meeting_uuid, streamId: p.rtms_stream_id,
          mediaType: 1, mediaParams: { audio: { content_type: 2, sample_rate: 1, channel: 1, codec: 1, data_opt: 1, send_rate: 20 } },
          steps: { 14: 20 },
        });
        apps.push(app);
        const started = pending.get(p.meeting_uuid);
        started?.(arrived);
        void app.connect().then(() => waitFirstMedia(app)).then((firstAt) => {
          const ms = firstAt - arrived;
          toMedia.add(ms);
          maxMedia = Math.max(maxMedia, ms);
        }).catch((e) => console.error(`  webhook app failed: ${e}`));
      }
      return new Response('ok');
    },
  });
  const probe = await server.api('POST', '/api/meetings', { start_rtms: false });
  const mediaUrl: string = probe.media_server_urls.all;
  await server.api('DELETE', `/api/meetings/${encodeURIComponent(probe.meeting_uuid)}`);
  const uuids: string[] = [];
  try {
    for (let i = 0; i < meetings; i++) {
      const m = await server.api('POST', '/api/meetings', { start_rtms: false, webhook_url: `http://127.0.0.1:${hooks.port}/hook` });
      uuids.push(m.meeting_uuid);
      const hookArrived = new Promise<number>((resolve) => pending.set(m.meeting_uuid, resolve));
      const posted = performance.now();
      await server.api('POST', `/api/meetings/${encodeURIComponent(m.meeting_uuid)}/rtms/start`, {});
      const arrived = await hookArrived;
      postToWebhook.add(arrived - posted);
      maxHook = Math.max(maxHook, arrived - posted);
      await Bun.sleep(150);
    }
    const deadline = Date.now() + 5000;
    while (toMedia.n < meetings && Date.now() < deadline) await Bun.sleep(50);
  } finally {
    for (const a of apps) a.close();
    for (const u of uuids) await server.api('DELETE', `/api/meetings/${encodeURIComponent(u)}`).catch(() => {});
    hooks.stop(true);
  }
  return [
    row('start RTMS (API) → webhook arrives', postToWebhook, maxHook),
    row('webhook arrives → first media (both handshakes)', toMedia, maxMedia),
  ];
}

async function waitFirstMedia(app: LoadApp): Promise<number> {
  const deadline = Date.now() + 5000;
  while (app.firstMediaAt === 0) {
    if (Date.now() > deadline) throw new Error('no media within 5 s');
    await Bun.sleep(1);
  }
  return app.firstMediaAt; // performance.now() at the first media message, the clock of the webhook's arrival
}
