// The speed factor (POST /api/meetings {"speed": N}): keep-alive interval, reconnection windows and webhook
// retry backoff are divided by N for that meeting only (spec §4.1, §9 timings); media stays real time.
import { afterEach, describe, expect, test } from 'bun:test';
import { startReferenceApp, type ReferenceApp } from '../../src/client/reference-app.ts';
import { startMock, type TestMock } from '../helpers/mock.ts';
import { startReceiver, type Receiver } from '../webhooks/receiver.ts';
import { until } from './harness.ts';

let mock: TestMock | null = null;
let app: ReferenceApp | null = null;
let rx: Receiver | null = null;
afterEach(async () => {
  await app?.stop();
  await mock?.stop({ graceful: false });
  await rx?.close();
  mock = null; app = null; rx = null;
});

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

describe('speed factor', () => {
  test('speed 100 with the default timings: keep-alive every 100 ms, the 60 s signaling window lasts 600 ms, the 30 s media window 300 ms', async () => {
    mock = await startMock({ keepAliveMs: 10_000, signalingWindowMs: 60_000, mediaWindowMs: 30_000 });
    app = await startReferenceApp({ log: false, mediaTypes: 9, reconnect: false });
    const slow = await mock.startMeeting(app.url); // speed 1 in the same mock: untouched
    const fast = await mock.startMeeting(app.url, { speed: 100 });
    expect(fast.speed).toBe(100);
    expect(slow.speed).toBe(1);
    const s = await until(() => app!.streams.get(fast.rtms_stream_id), 3000, 'stream');
    await until(() => s.messages.filter((m) => m.socket === 'signaling' && m.msg.msg_type === 12).length >= 6, 3000, 'six keep-alives');
    const ka = s.messages.filter((m) => m.socket === 'signaling' && m.msg.msg_type === 12).map((m) => m.at);
    const spacing = median(ka.slice(1).map((t, i) => t - ka[i]!));
    expect(spacing).toBeGreaterThanOrEqual(80);
    expect(spacing).toBeLessThanOrEqual(130);
    const other = app.streams.get(slow.rtms_stream_id)!;
    expect(other.messages.filter((m) => m.msg?.msg_type === 12)).toHaveLength(0); // 10 s interval there

    // Media window: 300 ms.
    const path = `/api/meetings/${encodeURIComponent(fast.meeting_uuid)}`;
    let t0 = Date.now();
    await mock.api('POST', `${path}/faults`, { type: 'drop_media' });
    const stoppedMedia = await until(async () => (await mock!.api('GET', path)).body.streams[0].stop_reason === 19 ? Date.now() : 0, 2000, 'media window end');
    expect(stoppedMedia - t0).toBeGreaterThanOrEqual(280);
    expect(stoppedMedia - t0).toBeLessThan(1000);

    // Signaling window: 600 ms (a new stream of the same meeting).
    const started = await mock.api('POST', `${path}/rtms/start`);
    const s2 = await until(() => app!.streams.get(started.body.rtms_stream_id), 2000, 'second stream');
    await until(() => s2.state === 'ready', 2000, 'connected');
    t0 = Date.now();
    await mock.api('POST', `${path}/faults`, { type: 'drop_signaling' });
    const w = await app.waitFor((o) => o.kind === 'webhook' && o.event === 'meeting.rtms_stopped' && o.body.payload.rtms_stream_id === s2.streamId, 3000);
    const dt = (w.kind === 'webhook' ? w.receivedAt : 0) - t0;
    expect(dt).toBeGreaterThanOrEqual(580);
    expect(dt).toBeLessThan(1300);
    const v = (await mock.api('GET', `${path}/verdict`)).body;
    expect(v.streams.map((x: any) => x.checks.find((c: any) => c.name === 'reconnected_after_interruptions').detail)).toEqual([
      expect.stringContaining('within the 300 ms window'), expect.stringContaining('within the 600 ms window'),
    ]);
  });

  test('speed 10 divides the webhook retry backoff: 1 s → 100 ms', async () => {
    mock = await startMock({ webhookBackoffMs: 1000 });
    rx = startReceiver([() => new Response('no', { status: 500 }), () => new Response('ok')]);
    await mock.startMeeting(rx.url, { speed: 10 });
    await until(() => rx!.requests.length === 2, 3000, 'the retry');
    const gap = rx.requests[1]!.at - rx.requests[0]!.at;
    expect(gap).toBeGreaterThanOrEqual(95);
    expect(gap).toBeLessThan(600);
    expect(rx.requests[1]!.rawBody).toBe(rx.requests[0]!.rawBody);
  });

  test('speed is validated', async () => {
    mock = await startMock();
    for (const speed of [0, -1, 1001, 'fast']) {
      const r = await mock.api('POST', '/api/meetings', { speed });
      expect(r.status).toBe(400);
      expect(r.body.error.message).toMatch(/^speed: /);
    }
  });
});
