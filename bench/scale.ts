// Real-time scale (issue 6 §2): N synthetic meetings, one app each (audio L16 16 kHz 20 ms + transcript +
// video JPG 5 fps), measured over a window: does every stream keep its cadence (no missing or reordered
// timestamps, no drops, p99 send lateness under 10 ms), and what does a stream cost in CPU and memory.
import { DelayHistogram, LoadApp } from './lib/load-app.ts';
import type { ServerProcess } from './lib/server-process.ts';

export interface ScaleRow {
  meetings: number;
  ok: boolean;
  expectedPerStream: number;
  missing: number;
  badSteps: number;
  dropped: number;
  p50LatenessMs: number;
  p99LatenessMs: number;
  p99DeliveryMs: number;
  serverCpuPct: number;
  loadCpuPct: number;
  cpuMsPerStreamSecond: number;
  rssMiB: number;
  kibPerStream: number;
  msgsPerSecond: number;
  note: string;
}

const AUDIO_VIDEO_PARAMS = {
  audio: { content_type: 2, sample_rate: 1, channel: 1, codec: 1, data_opt: 1, send_rate: 20 },
  video: { content_type: 3, codec: 5, resolution: 2, data_opt: 3, fps: 5 }, // the defaults of spec §8: HD JPG
  transcript: { content_type: 5, src_language: 9 },
};

function quantileOf(hist: number[], q: number): number {
  const n = hist.reduce((a, b) => a + b, 0);
  if (n === 0) return NaN;
  const target = Math.ceil(q * n);
  let acc = 0;
  for (let i = 0; i < hist.length; i++) {
    acc += hist[i]!;
    if (acc >= target) return i; // bucket i = [i, i+1) ms
  }
  return hist.length - 1;
}

export async function connectApps(server: ServerProcess, n: number, mediaType: number, mediaParams: object,
  steps: Record<number, number>, delays?: DelayHistogram): Promise<{ apps: LoadApp[]; uuids: string[] }> {
  const apps: LoadApp[] = [];
  const uuids: string[] = [];
  const batch = 25;
  for (let i = 0; i < n; i += batch) {
    const created = await Promise.all(Array.from({ length: Math.min(batch, n - i) }, () =>
      server.api('POST', '/api/meetings', { start_rtms: true })));
    await Promise.all(created.map(async (m) => {
      uuids.push(m.meeting_uuid);
      const app = new LoadApp({
        signalingUrl: m.server_urls, mediaUrl: m.media_server_urls.all, meetingUuid: m.meeting_uuid,
        streamId: m.rtms_stream_id, mediaType, mediaParams: mediaParams as Record<string, unknown>, steps, delays,
      });
      await app.connect();
      apps.push(app);
    }));
  }
  return { apps, uuids };
}

export async function teardown(server: ServerProcess, apps: LoadApp[], uuids: string[]): Promise<void> {
  for (const a of apps) a.close();
  for (let i = 0; i < uuids.length; i += 50) {
    await Promise.all(uuids.slice(i, i + 50).map((u) => server.api('DELETE', `/api/meetings/${encodeURIComponent(u)}`).catch(() => {})));
  }
  await Bun.sleep(300);
}

export async function measureScale(server: ServerProcess, n: number, windowMs: number): Promise<ScaleRow> {
  const delays = new DelayHistogram();
  const steps = { 14: 20, 15: 200, 17: 0 };
  const { apps, uuids } = await connectApps(server, n, 1 | 2 | 8, AUDIO_VIDEO_PARAMS, steps, delays);
  try {
    await Bun.sleep(1500); // every stream active, first frames rendered, JIT warm
    await server.renderIdle(); // loops first asked for by these apps render in the background: wait them out
    for (const a of apps) a.resetCounts();
    delays.reset();
    const s0 = await server.api('GET', '/api/stats');
    const cpu0 = server.cpuSeconds();
    const load0 = process.cpuUsage();
    const t0 = performance.now();
    await Bun.sleep(windowMs);
    for (const a of apps) a.counting = false;
    const elapsed = performance.now() - t0;
    const cpu1 = server.cpuSeconds();
    const load1 = process.cpuUsage(load0);
    const s1 = await server.api('GET', '/api/stats');
    const mem = server.memory();
    const hist = (s1.scheduler.lateness_histogram_ms as number[]).map((v, i) => v - (s0.scheduler.lateness_histogram_ms[i] ?? 0));
    // Expected per stream over the window: audio every 20 ms, video every 200 ms (± one at each edge).
    const expAudio = Math.floor(elapsed / 20);
    const expVideo = Math.floor(elapsed / 200);
    let missing = 0;
    let badSteps = 0;
    let msgs = 0;
    for (const a of apps) {
      const au = a.stats.get(14)!;
      const vi = a.stats.get(15)!;
      missing += Math.max(0, expAudio - 1 - au.count) + Math.max(0, expVideo - 1 - vi.count);
      badSteps += au.badSteps + vi.badSteps + a.stats.get(17)!.badSteps;
      msgs += au.count + vi.count + a.stats.get(17)!.count;
    }
    const dropped = s1.media_dropped - s0.media_dropped;
    const p99 = quantileOf(hist, 0.99);
    const serverCpu = (cpu1 - cpu0) / (elapsed / 1000);
    const closed = apps.reduce((a, b) => a + b.closedUnexpectedly, 0);
    const ok = missing === 0 && badSteps === 0 && dropped === 0 && p99 < 10 && closed === 0;
    return {
      meetings: n, ok, expectedPerStream: expAudio + expVideo, missing, badSteps, dropped,
      p50LatenessMs: quantileOf(hist, 0.5), p99LatenessMs: p99, p99DeliveryMs: delays.quantile(0.99),
      serverCpuPct: serverCpu * 100,
      loadCpuPct: ((load1.user + load1.system) / 1000 / elapsed) * 100,
      cpuMsPerStreamSecond: (serverCpu * 1000) / n,
      rssMiB: mem.rssMiB, kibPerStream: 0, msgsPerSecond: msgs / (elapsed / 1000),
      note: closed ? `${closed} sockets closed unexpectedly` : '',
    };
  } finally {
    await teardown(server, apps, uuids);
  }
}

/** Idle connected meetings (keep-alive only: the app asks for chat, which the dialogue rarely sends). */
export async function measureIdle(server: ServerProcess, n: number): Promise<{ meetings: number; rssMiB: number; kibPerMeeting: number; perGiB: number }> {
  const before = server.memory().rssMiB;
  const { apps, uuids } = await connectApps(server, n, 16, { chat: { content_type: 5 } }, { 18: 0 });
  try {
    Bun.gc(true);
    await Bun.sleep(2000);
    const after = server.memory().rssMiB;
    const kib = ((after - before) * 1024) / n;
    return { meetings: n, rssMiB: after, kibPerMeeting: kib, perGiB: Math.floor((1024 * 1024) / Math.max(1, kib)) };
  } finally {
    await teardown(server, apps, uuids);
  }
}
