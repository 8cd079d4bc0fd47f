// Wire faults: JSON in binary frames (spec §1), unknown extra fields, media jitter and bursts (timestamps stay
// on the spec §8 grid), and the slow-consumer policy: media above the send-buffer bound is dropped and counted
// per connection (API, inspector, verdict), signaling and keep-alives never are.
import { afterEach, describe, expect, test } from 'bun:test';
import { EXTRA_FIELD } from '../../src/engine/fault-injector.ts';
import type { RtmsSocket } from '../../src/engine/socket.ts';
import { sign } from '../helpers/ws-client.ts';
import { setup, teardown, until } from './harness.ts';

afterEach(teardown);

describe('binary_frames (spec §1)', () => {
  test('the reference app reads JSON from binary frames and keeps answering keep-alives; verdict passes', async () => {
    const h = await setup();
    const t0 = Date.now();
    const r = await h.inject({ type: 'binary_frames' });
    expect(r.body).toMatchObject({ state: 'active', on: true, options: { sockets: 'both' } });
    await until(() => h.s.messages.filter((m) => m.binary && m.at > t0 && m.msg.msg_type === 12).length >= 4, 3000, 'binary keep-alives on both sockets');
    const after = h.s.messages.filter((m) => m.at > t0 + 30);
    expect(after.filter((m) => m.msg.msg_type === 14).every((m) => m.binary)).toBe(true);
    expect(after.find((m) => m.msg.msg_type === 14)!.msg.content.timestamp).toEqual(expect.any(Number)); // parsed JSON
    const v = await h.verdict();
    expect(v.passed).toBe(true);
    // Clearing the fault: text frames again.
    const cleared = await h.mock.api('DELETE', `${h.uuidPath}/faults`);
    expect(cleared.body.cleared).toBe(1);
    const t1 = Date.now();
    await until(() => h.media().some((m) => m.at > t1 + 30 && !m.binary), 2000, 'text frames again');
  });

  test('an app that drops binary frames stops answering keep-alives: keep_alive_answered fails', async () => {
    const h = await setup({ app: { acceptBinary: false, reconnect: false }, meeting: { speed: 100 } });
    await h.inject({ type: 'binary_frames', options: { sockets: 'signaling' } });
    await until(async () => !(await h.check('keep_alive_answered')).passed, 3000, 'keep-alive check failing');
    expect((await h.check('keep_alive_answered')).detail).toMatch(/signaling #\d+: \d+ of \d+ late or unanswered/);
  });
});

describe('extra_fields', () => {
  test('unknown fields at the top level and inside content/event: the reference app ignores them', async () => {
    const h = await setup();
    const t0 = Date.now();
    await h.inject({ type: 'extra_fields', duration_ms: 400 });
    await until(() => h.s.messages.some((m) => m.at > t0 && m.msg.msg_type === 12 && m.socket === 'signaling'), 2000, 'a keep-alive');
    const audio = h.media().filter((m) => m.at > t0 + 30 && m.at < t0 + 350);
    expect(audio.length).toBeGreaterThan(5);
    for (const a of audio) {
      expect(a.msg[EXTRA_FIELD]).toEqual({ fault: expect.any(Number), note: 'ignore unknown fields' });
      expect(a.msg.content[EXTRA_FIELD]).toEqual(expect.any(Number));
      expect(a.msg.content.data).toEqual(expect.any(String));
    }
    const ka = h.s.messages.find((m) => m.at > t0 && m.msg.msg_type === 12)!;
    expect(Object.keys(ka.msg).sort()).toEqual(['msg_type', 'timestamp', EXTRA_FIELD].sort());
    await until(async () => (await h.meeting()).faults.past.length === 1, 2000, 'fault over');
    expect((await h.verdict()).passed).toBe(true);
  });
});

describe('media jitter and bursts (spec §8: timestamps stay on the grid)', () => {
  const onGrid = (origin: number, ts: number[]) => {
    for (const t of ts) expect((t - origin) % 20).toBe(0);
    for (let i = 1; i < ts.length; i++) expect(ts[i]! - ts[i - 1]!).toBe(20);
  };

  test('media_jitter: arrivals spread by up to max_ms, order and timestamps unchanged', async () => {
    const h = await setup();
    const t0 = Date.now();
    await h.inject({ type: 'media_jitter', options: { max_ms: 80 }, duration_ms: 600 });
    await Bun.sleep(800);
    const during = h.media().filter((m) => m.at > t0 + 100 && m.at < t0 + 550);
    expect(during.length).toBeGreaterThan(10);
    onGrid(h.created.created_at ?? (await h.meeting()).created_at, during.map((m) => m.msg.content.timestamp));
    // Lateness relative to the grid varies by tens of ms (steady pacing varies by a few).
    const lateness = during.map((m) => m.at - m.msg.content.timestamp);
    expect(Math.max(...lateness) - Math.min(...lateness)).toBeGreaterThan(25);
    expect(Math.max(...lateness)).toBeLessThan(80 + 200);
    const f = (await h.meeting()).faults.past[0];
    expect(f.hits).toBeGreaterThan(10);
    expect((await h.verdict()).passed).toBe(true);
  });

  test('media_burst: media held for hold_ms then sent at once, timestamps unchanged', async () => {
    const h = await setup();
    const t0 = Date.now();
    await h.inject({ type: 'media_burst', options: { hold_ms: 250 }, duration_ms: 760 });
    await Bun.sleep(1000);
    const during = h.media().filter((m) => m.at > t0 && m.at < t0 + 760);
    onGrid((await h.meeting()).created_at, during.map((m) => m.msg.content.timestamp));
    // Three bursts of ~12 messages, with ~250 ms of silence between them.
    const gaps = during.slice(1).map((m, i) => m.at - during[i]!.at);
    expect(gaps.filter((g) => g > 150).length).toBeGreaterThanOrEqual(2);
    expect(gaps.filter((g) => g < 5).length).toBeGreaterThan(15);
    expect((await h.verdict()).passed).toBe(true);
  });
});

describe('slow consumer: the drop policy (media only, above the bound)', () => {
  test('an app whose socket buffer stays full loses media (counted per connection), keeps signaling; media_consumed fails', async () => {
    // The engine is runtime-neutral: drive it with in-process sockets whose send buffer we control.
    const h = await setup({ mock: { maxBufferedBytes: 100_000 }, app: { autoConnect: false }, meeting: { start_rtms: false } });
    const { engine } = h.mock;
    const start = await h.mock.api('POST', `${h.uuidPath}/rtms/start`);
    const ids = { meeting_uuid: h.created.meeting_uuid, rtms_stream_id: start.body.rtms_stream_id as string };
    const signature = sign(ids.meeting_uuid, ids.rtms_stream_id);
    let buffered = 0;
    const frames: { sig: string[]; media: string[] } = { sig: [], media: [] };
    const fake = (out: string[]): RtmsSocket => ({
      send: (d) => { out.push(typeof d === 'string' ? d : new TextDecoder().decode(d)); return typeof d === 'string' ? d.length : d.byteLength; },
      close: () => {}, bufferedAmount: () => buffered, remoteAddress: 'in-process',
    });
    const sig = engine.open({ kind: 'signaling', dialectHint: 'production' }, fake(frames.sig));
    engine.message(sig, JSON.stringify({ msg_type: 1, ...ids, signature }));
    const media = engine.open({ kind: 'media', path: 'audio' }, fake(frames.media));
    engine.message(media, JSON.stringify({ msg_type: 3, ...ids, signature, media_type: 1 }));
    engine.message(sig, JSON.stringify({ msg_type: 7, rtms_stream_id: ids.rtms_stream_id }));
    await until(() => frames.media.filter((f) => f.startsWith('{"msg_type":14')).length >= 5, 2000, 'audio');

    buffered = 5_000_000; // the app stopped reading
    const before = frames.media.length;
    await Bun.sleep(300);
    expect(frames.media.slice(before).filter((f) => f.startsWith('{"msg_type":14'))).toHaveLength(0);
    const m = await h.meeting();
    const conn = m.streams[0].media[0];
    expect(conn.counters.dropped).toBeGreaterThanOrEqual(10);
    expect(conn.counters.droppedBytes).toBeGreaterThan(conn.counters.dropped * 500);
    expect(conn).toMatchObject({ buffered_bytes: 5_000_000, buffered_high_water: 5_000_000 });
    expect(m.streams[0].signaling.counters.dropped).toBe(0);
    const c = await h.check('media_consumed');
    expect(c).toMatchObject({ passed: false, detail: expect.stringMatching(/media messages \(\d+ bytes\) dropped because the app read too slowly \(more than 100000 bytes queued/) });

    buffered = 0; // reading again: media resumes, nothing queued without bound in between
    const again = frames.media.length;
    await until(() => frames.media.slice(again).some((f) => f.startsWith('{"msg_type":14')), 2000, 'audio again');
    engine.closed(media, 1000, '');
    engine.closed(sig, 1000, '');
  });
});
