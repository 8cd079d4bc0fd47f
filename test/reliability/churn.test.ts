// Load and churn: 200 apps at once connect, handshake, stream and go away in every way an app can, in loops, for
// CHURN_MS — closing both sockets (interruption, then the speed-scaled window runs out: stop 19), closing only
// media and reconnecting it, STREAM_CLOSE_REQ (stop 20), the host stopping and restarting RTMS, pause/resume,
// the meeting ending, half-done and bad handshakes, idle sockets, ingest feeders and inspector event streams.
// Afterwards, with every meeting ended, the API's counters show nothing left behind: no connection, stream,
// live meeting, ingest socket, event stream, pending webhook or scheduled task; memory is back within a bound;
// no error was logged; and a new meeting streams normally. Seeded (RELIABILITY_SEED) like the fuzz test.
import { afterAll, expect, test } from 'bun:test';
import { startMock, type TestMock } from '../helpers/mock.ts';
import { sign } from '../helpers/ws-client.ts';
import { startReceiver, type Receiver } from '../webhooks/receiver.ts';
import { LeanApp, closedPromise, meetingPath, openWs, prng, rssMiB, seedOf, stats, until, type Rng } from './kit.ts';

const APPS = 200;
const CHURN_MS = 8000;
/**
 * Documented bounds (README "Security and limits"), with everything ended: the JS heap after a full GC may grow by
 * at most HEAP_BOUND_MIB over the second half of the churn (what a per-session leak would grow), and the process
 * RSS by at most RSS_BOUND_MIB overall (it also holds allocator and socket-buffer slack from 200 apps running in
 * this same process, and the 200 ended meetings kept for the API).
 */
const HEAP_BOUND_MIB = 8;
const RSS_BOUND_MIB = 256;
const SEED = seedOf(0xc4a2_2024);

let mock: TestMock | null = null;
let receiver: Receiver | null = null;
const open = new Set<WebSocket>();
afterAll(async () => {
  for (const ws of open) ws.close();
  await mock?.stop({ graceful: false });
  await receiver?.close();
});

test(`${APPS} apps churning for ${CHURN_MS / 1000} s: afterwards no leaked connection, stream, meeting, timer, webhook or event stream (seed ${SEED})`, async () => {
  const errorLines: string[] = [];
  receiver = startReceiver();
  // Keep-alives every 2 s (at speed 20: 100 ms), so an idle socket is closed after 6 s and windows last 3 s / 1.5 s.
  mock = await startMock({ logLevel: 'error', logSink: (l) => errorLines.push(l), keepAliveMs: 2000, webhookBackoffMs: 20 });
  const m = mock;
  expect(await stats(m)).toMatchObject({ connections: 0, scheduler_tasks: 0 });
  // A few live meetings shared by the feeders.
  const lives = await Promise.all(Array.from({ length: 4 }, () => m.startMeeting(null, { source: 'browser', start_rtms: false })));

  const track = (ws: WebSocket) => { open.add(ws); ws.addEventListener('close', () => open.delete(ws)); return ws; };
  const newApp = (c: any, r: Rng) => {
    const a = new LeanApp({
      signalingUrl: c.server_urls, meetingUuid: c.meeting_uuid, streamId: c.rtms_stream_id,
      ...r.pick([{ path: 'all', mediaType: 1 }, { path: 'audio', mediaType: 1 }, { path: 'all', mediaType: 32 }, { path: 'audio', mediaType: 1, mediaParams: { audio: { send_rate: 100 } } }]),
    });
    return a;
  };
  const connect = async (a: LeanApp) => { await a.connect(); track(a.signaling!); track(a.media!); return a; };
  const createMeeting = (r: Rng) => m.startMeeting(r.chance(0.3) ? receiver!.url : null, r.chance(0.6) ? { speed: 20 } : {});
  const api = async (method: string, path: string, ok: number[]) => {
    const res = await m.api(method, path);
    if (!ok.includes(res.status)) throw new Error(`${method} ${path} → ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`);
    return res.body;
  };
  const audioCount = (a: LeanApp) => [...a.tracks.values()].reduce((n, t) => n + t.count, 0);
  const waitMedia = async (a: LeanApp, n: number) => { const base = audioCount(a); await until(() => audioCount(a) >= base + n, 10_000, 'media', 10); };

  const scenarios: Record<string, (r: Rng) => Promise<void>> = {
    // The app disappears: signaling and media closed → INTERRUPTED; at speed 20 the window ends the stream (19).
    async vanish(r) {
      const c = await createMeeting(r);
      const a = await connect(newApp(c, r));
      await waitMedia(a, r.int(1, 5));
      a.close();
      if (r.chance(0.5)) await api('DELETE', meetingPath(c.meeting_uuid), [200]);
    },
    // STREAM_CLOSE_REQ (spec §4.4): msg 22, then the mock stops the stream (20) and closes the sockets.
    async closeReq(r) {
      const c = await createMeeting(r);
      const a = await connect(newApp(c, r));
      await waitMedia(a, r.int(1, 5));
      const closed = closedPromise(a.signaling!);
      a.signaling!.send(JSON.stringify({ msg_type: 21, rtms_stream_id: c.rtms_stream_id }));
      await closed;
      await api('DELETE', meetingPath(c.meeting_uuid), [200]);
    },
    // The meeting ends while streaming (stop 6): the mock closes the app's sockets.
    async meetingEnds(r) {
      const c = await createMeeting(r);
      const a = await connect(newApp(c, r));
      await waitMedia(a, r.int(1, 5));
      const closed = closedPromise(a.signaling!);
      await api('DELETE', meetingPath(c.meeting_uuid), [200]);
      await closed;
    },
    // Media socket lost and redone within the window (spec §4.1), then the app leaves.
    async mediaReconnect(r) {
      const c = await createMeeting(r);
      const a = await connect(newApp(c, r));
      await waitMedia(a, 2);
      const closed = closedPromise(a.media!);
      a.media!.close();
      await closed;
      await a.openMedia();
      track(a.media!);
      await waitMedia(a, 2);
      a.close();
      await api('DELETE', meetingPath(c.meeting_uuid), [200]);
    },
    // The host pauses and resumes, stops, and starts RTMS again: a new stream, a new app connection.
    async hostControls(r) {
      const c = await createMeeting(r);
      const a = await connect(newApp(c, r));
      await waitMedia(a, 2);
      await api('POST', `${meetingPath(c.meeting_uuid)}/rtms/pause`, [200]);
      await Bun.sleep(r.int(10, 60));
      await api('POST', `${meetingPath(c.meeting_uuid)}/rtms/resume`, [200]);
      await waitMedia(a, 2);
      await api('POST', `${meetingPath(c.meeting_uuid)}/rtms/stop`, [200]);
      const s = await api('POST', `${meetingPath(c.meeting_uuid)}/rtms/start`, [200]);
      const b = await connect(newApp({ ...c, rtms_stream_id: s.rtms_stream_id }, r));
      await waitMedia(b, 2);
      if (r.chance(0.5)) b.close();
      await api('DELETE', meetingPath(c.meeting_uuid), [200]);
    },
    // Half-done and bad handshakes, idle sockets (closed by the mock after three keep-alive intervals).
    async broken(r) {
      const c = await createMeeting(r);
      const kind = r.int(0, 4);
      const url = kind % 2 ? c.server_urls : c.media_server_urls[r.pick(['all', 'audio', 'video'])];
      const ws = track(await openWs(url));
      if (kind === 0) ws.close();
      else if (kind === 1) { ws.send(JSON.stringify({ msg_type: 1, meeting_uuid: c.meeting_uuid, rtms_stream_id: c.rtms_stream_id, signature: sign(c.meeting_uuid, c.rtms_stream_id) })); ws.close(); }
      else if (kind === 2) { const cl = closedPromise(ws); ws.send(JSON.stringify({ msg_type: 3, meeting_uuid: c.meeting_uuid, rtms_stream_id: c.rtms_stream_id, signature: 'bad', media_type: 1 })); await cl; }
      else if (kind === 3) { const cl = closedPromise(ws); ws.send(JSON.stringify({ msg_type: 1, meeting_uuid: c.meeting_uuid, rtms_stream_id: c.rtms_stream_id, signature: 'f'.repeat(64) })); await cl; }
      // else: left idle; the mock closes it after three keep-alive intervals (1008), or the phase's end does.
      if (r.chance(0.7)) await api('DELETE', meetingPath(c.meeting_uuid), [200]);
    },
    // A feeder joins a live meeting, sends some audio, leaves.
    async feeder(r) {
      const live = r.pick(lives);
      const ws = track(await openWs(`ws://127.0.0.1:${m.port}/ingest?meeting_uuid=${encodeURIComponent(live.meeting_uuid)}`));
      const welcome = new Promise((resolve) => ws.addEventListener('message', (e) => { if (String(e.data).includes('"welcome"')) resolve(null); }));
      ws.send(JSON.stringify({ type: 'hello', user_name: `Feeder ${r.int(1, 1e6)}`, camera: false }));
      await welcome;
      const frame = new Uint8Array(16 + 1920);
      frame[0] = 1; frame[1] = 1; frame[2] = 1;
      for (let k = r.int(1, 10); k > 0; k--) {
        new DataView(frame.buffer).setFloat64(8, Date.now(), true);
        ws.send(frame);
        await Bun.sleep(20);
      }
      ws.close();
    },
    // The inspector's event stream, opened and dropped.
    async inspector(r) {
      const ctl = new AbortController();
      const res = await fetch(`${m.baseUrl}/api/events`, { signal: ctl.signal });
      const reader = res.body!.getReader();
      await reader.read();
      await Bun.sleep(r.int(10, 200));
      ctl.abort();
      await reader.cancel().catch(() => {});
    },
  };
  const weights: [string, number][] = [['vanish', 18], ['closeReq', 10], ['meetingEnds', 12], ['mediaReconnect', 8], ['hostControls', 8], ['broken', 20], ['feeder', 14], ['inspector', 4]];
  const pickScenario = (r: Rng) => {
    let x = r.next() * weights.reduce((s, [, w]) => s + w, 0);
    for (const [name, w] of weights) { if ((x -= w) < 0) return name; }
    return weights[0]![0];
  };

  const ran = new Map<string, number>();
  const failures: string[] = [];
  const runPhase = (ms: number, seed: number) => {
    const deadline = Date.now() + ms;
    return Promise.all(Array.from({ length: APPS }, async (_, w) => {
      const r = prng(seed + w);
      await Bun.sleep(r.int(0, 300)); // staggered start
      while (Date.now() < deadline) {
        const name = pickScenario(r);
        try {
          await scenarios[name]!(r);
          ran.set(name, (ran.get(name) ?? 0) + 1);
        } catch (e) {
          failures.push(`worker ${w} ${name}: ${(e as Error).message}`);
          if (failures.length > 20) return;
        }
      }
    }));
  };
  /** Closes what the clients hold and ends every meeting but `keep`; then nothing may be left (the counters). */
  const settle = async (keep: Set<string>) => {
    for (const ws of open) ws.close();
    receiver!.requests.length = 0; // (the test's own record of webhooks, not the mock's memory)
    const live = ((await m.api('GET', '/api/meetings')).body.meetings as any[]).filter((x) => x.state === 'live' && !keep.has(x.meeting_uuid));
    for (let i = 0; i < live.length; i += 50) await Promise.all(live.slice(i, i + 50).map((x) => api('DELETE', meetingPath(x.meeting_uuid), [200, 409])));
    return until(async () => {
      const s = await stats(m);
      return s.connections === 0 && s.ingest_connections === 0 && s.streams_live === 0 && s.meetings_live === keep.size
        && s.inspector_clients === 0 && s.webhooks_pending === 0 && s.scheduler_tasks === baseline.scheduler_tasks ? s : null;
    }, 15_000, async () => `nothing left behind: ${JSON.stringify(await stats(m))}`);
  };
  const heap = () => { Bun.gc(true); return process.memoryUsage().heapUsed / 1048576; };

  // Two halves: the first fills what is kept by design (200 ended meetings for the API, 500 delivery records),
  // so the JS heap after the second shows any per-session leak.
  const baseline = await stats(m);
  const rss0 = rssMiB();
  const keepLives = new Set(lives.map((l) => l.meeting_uuid));
  await runPhase(CHURN_MS / 2, SEED);
  await settle(keepLives);
  const heap1 = heap();
  await runPhase(CHURN_MS / 2, SEED + 10_000);
  const after = await settle(new Set());
  const heap2 = heap();
  const rss2 = rssMiB();
  console.log(`churn: ${[...ran.values()].reduce((a, b) => a + b, 0)} sessions in ${CHURN_MS / 1000} s: ${JSON.stringify(Object.fromEntries(ran))}`);
  console.log(`churn: heap ${heap1.toFixed(1)} → ${heap2.toFixed(1)} MiB over the second half, RSS +${(rss2 - rss0).toFixed(1)} MiB overall; ${after.meetingsCreated} meetings, ${after.signalingOpened} signaling and ${after.mediaOpened} media sockets opened`);
  expect(failures.slice(0, 5)).toEqual([]);
  for (const [name] of weights) expect(ran.get(name) ?? 0, name).toBeGreaterThan(0);
  // Ended meetings are kept for the API up to a bound (200), with their streams; nothing else stays.
  expect(after.meetings).toBeLessThanOrEqual(200);
  expect(after.scheduler.errors).toBe(0);
  expect(after.media_dropped).toBe(0);
  expect(errorLines).toEqual([]);
  expect(heap2 - heap1).toBeLessThan(HEAP_BOUND_MIB);
  expect(rss2 - rss0).toBeLessThan(RSS_BOUND_MIB);

  // And the mock still serves: a new meeting streams with exact 20 ms steps.
  const c = await m.startMeeting(null);
  const app = new LeanApp({ signalingUrl: c.server_urls, meetingUuid: c.meeting_uuid, streamId: c.rtms_stream_id, path: 'audio', mediaType: 1, steps: { 14: 20 } });
  await app.connect();
  await app.waitFor(14, 10);
  expect(app.track(14).problems).toEqual([]);
  app.close();
}, 60_000);
