// The ingest interface (docs/ingest.md) end to end: raw WebSocket feeders (no browser) into the in-process mock,
// raw RTMS apps (spec §3) on the other side. Audio is checked by its signal (size, cadence, frequency), video by
// which app gets which frame, events by what a subscribed app is sent (spec §4.3, §7, §8).
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'bun:test';
import { G722Decoder } from '../../src/media/audio/g722.ts';
import { startMock, type TestMock } from '../helpers/mock.ts';
import { closeAll, events, meetingInfo, ofType, openSession, type MeetingRef, type Session } from '../helpers/rtms-session.ts';
import { until } from '../helpers/driven-app.ts';
import { withTimeout } from '../helpers/handshake-kit.ts';
import { Feeder, Sine, concat, dominantHz, frame, rmsOf, s16, ulaw } from './feeder.ts';

let mock: TestMock;
const feeders: Feeder[] = [];

beforeAll(async () => { mock = await startMock(); });
afterEach(() => {
  for (const f of feeders.splice(0)) f.close();
  closeAll();
});
afterAll(async () => { await mock.stop({ graceful: false }); });

async function join(uuid: string, hello: Record<string, unknown>): Promise<Feeder> {
  const f = await Feeder.join(mock, uuid, hello);
  feeders.push(f);
  return f;
}

/** A browser meeting and its first stream, as a MeetingRef for openSession. */
async function liveMeeting(): Promise<{ uuid: string; ref: MeetingRef; created: any }> {
  const created = await mock.startMeeting(null, { source: 'browser' });
  const info = await meetingInfo(mock, created.meeting_uuid);
  return { uuid: created.meeting_uuid, created, ref: { meeting_uuid: created.meeting_uuid, rtms_stream_id: created.rtms_stream_id, createdAt: info.created_at } };
}

/** One more RTMS stream (one more app) on the same meeting, in-process. */
function anotherApp(ref: MeetingRef): MeetingRef {
  const s = mock.engine.startStream(mock.engine.meetings.get(ref.meeting_uuid)!);
  return { ...ref, rtms_stream_id: s.id };
}

/**
 * `n` audio messages on consecutive 20 ms ticks (timestamp ≥ from) whose decoded level is above `minRms`: a
 * stretch of steady tone, so a loaded machine's late feeder timers (a gap of silence) cannot skew the checks.
 */
async function steadyRun(s: Session, from: number, n: number, decode: (m: any) => ArrayLike<number>, minRms: number, pred: (m: any) => boolean = () => true): Promise<any[]> {
  return until<any[] | null>(() => {
    const got = ofType(s.media, 14).map((r) => r.msg).filter((m) => m.content.timestamp >= from && pred(m));
    let run: any[] = [];
    for (const m of got) {
      const ok = rmsOf(decode(m)) >= minRms && (run.length === 0 || m.content.timestamp === run[run.length - 1].content.timestamp + 20);
      run = ok ? [...run, m] : rmsOf(decode(m)) >= minRms ? [m] : [];
      if (run.length === n) return run;
    }
    return null;
  }, 6000, `${n} steady audio messages`) as Promise<any[]>;
}

/** Audio messages of an app with timestamp ≥ from, `n` consecutive ones. */
async function audioFrom(s: Session, from: number, n: number, pred: (m: any) => boolean = () => true): Promise<any[]> {
  return until<any[] | null>(() => {
    const got = ofType(s.media, 14).map((r) => r.msg).filter((m) => m.content.timestamp >= from && pred(m));
    return got.length >= n ? got.slice(0, n) : null;
  }, 4000, `${n} audio messages`) as Promise<any[]>;
}

describe('handshake', () => {
  test('hello → welcome with the expected audio, then wants; the API shows the participant and its socket', async () => {
    const { uuid, created } = await liveMeeting();
    expect(created.source).toBe('browser');
    expect(created.ingest_url).toBe(`ws://127.0.0.1:${mock.port}/ingest?meeting_uuid=${encodeURIComponent(uuid)}`);
    const info0 = await meetingInfo(mock, uuid);
    expect(info0.source).toBe('browser');
    expect(info0.participants).toEqual([]); // no built-in participants
    const f = await join(uuid, { user_name: 'Ada (browser)', user_id: 16778500, camera: false });
    expect(f.welcome).toEqual({ type: 'welcome', meeting_uuid: uuid, user_id: 16778500, user_name: 'Ada (browser)', audio: { format: 's16le', sample_rate: 48000, channels: 1 } });
    expect(await f.ws.next((m) => m?.type === 'wants')).toEqual({ type: 'wants', camera: [], share: [] });
    f.ws.send({ type: 'ping' });
    expect(await f.ws.next((m) => m?.type === 'pong')).toEqual({ type: 'pong' });
    const info = await meetingInfo(mock, uuid);
    expect(info.participants).toHaveLength(1);
    expect(info.participants[0]).toMatchObject({ user_id: 16778500, user_name: 'Ada (browser)', present: true, camera_on: false });
    expect(info.participants[0].ingest).toMatchObject({ kind: 'ingest', state: 'joined', declared: { audio: true, camera: false, share: false } });
    // A second feeder without user_id gets one assigned.
    const g = await join(uuid, { user_name: 'Grace' });
    expect(g.welcome.user_id).toEqual(expect.any(Number));
    expect(g.welcome.user_id).not.toBe(16778500);
  });

  test('every error closes with its code after an error message: 4400, 4404, 4409', async () => {
    const expectClose = async (f: Feeder, code: number, msg: RegExp) => {
      const err = await f.ws.next((m) => m?.type === 'error', 3000, `error ${code}`);
      expect(err.code).toBe(code);
      expect(err.message).toMatch(msg);
      expect((await withTimeout(f.ws.closed, 3000, 'close')).code).toBe(code);
    };
    const { uuid } = await liveMeeting();
    let f = await Feeder.open(mock, uuid); feeders.push(f);
    f.ws.send('{not json');
    await expectClose(f, 4400, /bad hello: not valid JSON/);
    f = await Feeder.open(mock, uuid); feeders.push(f);
    f.ws.send({ type: 'hello', user_id: 5 });
    await expectClose(f, 4400, /user_name/);
    f = await Feeder.open(mock, uuid); feeders.push(f);
    f.ws.send(frame(1, 1, new Uint8Array(960)));
    await expectClose(f, 4400, /first message must be a JSON text frame/);
    // The same user_id twice at once.
    await join(uuid, { user_name: 'One', user_id: 77 });
    f = await Feeder.open(mock, uuid); feeders.push(f);
    f.ws.send({ type: 'hello', user_name: 'Two', user_id: 77 });
    await expectClose(f, 4400, /already in the meeting/);

    f = await Feeder.open(mock, 'no-such-meeting=='); feeders.push(f);
    await expectClose(f, 4404, /no meeting/);
    f = await Feeder.open(mock, null); feeders.push(f);
    await expectClose(f, 4404, /meeting_uuid/);

    const synthetic = await mock.startMeeting(null);
    f = await Feeder.open(mock, synthetic.meeting_uuid); feeders.push(f);
    await expectClose(f, 4409, /synthetic/);
    // Ending the meeting closes its feeders with 4409; a new one is refused.
    const live = await join(uuid, { user_name: 'Stays' });
    expect((await mock.api('DELETE', `/api/meetings/${encodeURIComponent(uuid)}`)).status).toBe(200);
    await expectClose(live, 4409, /ended/);
    f = await Feeder.open(mock, uuid); feeders.push(f);
    await expectClose(f, 4409, /ended/);
  });

  test('4408: no hello in time (short timeout option)', async () => {
    const quick = await startMock({ ingestHelloTimeoutMs: 150 });
    try {
      const created = await quick.startMeeting(null, { source: 'file' });
      const f = await Feeder.open(quick, created.meeting_uuid);
      feeders.push(f);
      const err = await f.ws.next((m) => m?.type === 'error', 3000);
      expect(err).toEqual({ type: 'error', code: 4408, message: 'no hello within 150 ms' });
      expect((await withTimeout(f.ws.closed, 3000, 'close')).code).toBe(4408);
    } finally {
      await quick.stop({ graceful: false });
    }
  });
});

test('4401: with an API token, a feeder without it (or with a wrong one) is refused', async () => {
  const guarded = await startMock({ apiToken: 'sekret' }); // what --api-token sets
  try {
    const created = await guarded.startMeeting(null, { source: 'browser' });
    for (const extra of ['', '&token=wrong']) {
      const f = await Feeder.open(guarded, created.meeting_uuid, extra);
      feeders.push(f);
      expect(await f.ws.next((m) => m?.type === 'error', 10_000)).toMatchObject({ type: 'error', code: 4401 });
      expect((await withTimeout(f.ws.closed, 10_000, 'close')).code).toBe(4401);
    }
    const ok = await Feeder.open(guarded, created.meeting_uuid, '&token=sekret');
    feeders.push(ok);
    ok.ws.send({ type: 'hello', user_name: 'Trusted' });
    expect((await ok.ws.next((m) => m?.type === 'welcome' || m?.type === 'error', 10_000)).type).toBe('welcome');
  } finally {
    await guarded.stop({ graceful: false });
  }
});

describe('audio', () => {
  test('a 440 Hz sine at 48 kHz reaches L16 16 kHz, G.711 and G.722 apps at once, as 20 ms messages', async () => {
    const { uuid, ref } = await liveMeeting();
    const l16 = await openSession(mock, { meeting: ref, mediaType: 1, mediaParams: { audio: { codec: 1, sample_rate: 1 } } });
    const l16b = await openSession(mock, { meeting: anotherApp(ref), mediaType: 1, mediaParams: { audio: { codec: 1, sample_rate: 1 } } });
    const g711 = await openSession(mock, { meeting: anotherApp(ref), mediaType: 1, mediaParams: { audio: { codec: 2, sample_rate: 0 } } });
    const g722 = await openSession(mock, { meeting: anotherApp(ref), mediaType: 1, mediaParams: { audio: { codec: 3, sample_rate: 1 } } });
    const f = await join(uuid, { user_name: 'Tone', camera: false });
    const t0 = Date.now();
    f.startAudio(new Sine(440), 2); // stereo in: the mock downmixes
    const from = t0 + 300; // past the jitter allowance and the first partial window

    const TONE_RMS = (8000 / Math.SQRT2) * 0.9;
    const a = await steadyRun(l16, from, 10, (m) => s16(bytesOfMsg(m)), TONE_RMS);
    for (const [i, m] of a.entries()) {
      expect(m.content).toMatchObject({ user_id: 0, length: 640 });
      expect(m.content.user_name).toBeUndefined(); // mixed stream (spec §7)
      expect((m.content.timestamp - ref.createdAt) % 20).toBe(0); // the meeting's media grid
      if (i) expect(m.content.timestamp - a[i - 1].content.timestamp).toBe(20);
    }
    const pcm = concat(a.map((m) => s16(new Uint8Array(Buffer.from(m.content.data, 'base64')))));
    expect(Math.abs(dominantHz(pcm, 16000) - 440)).toBeLessThan(8);
    expect(rmsOf(pcm)).toBeGreaterThan(8000 / Math.SQRT2 * 0.85);
    expect(rmsOf(pcm)).toBeLessThan(8000 / Math.SQRT2 * 1.15);
    // A second app with the same format gets the very same bytes for the same tick (produced once).
    const b = await audioFrom(l16b, a[0].content.timestamp, 3);
    expect(b.map((m) => m.content.data)).toEqual(a.slice(0, 3).map((m) => m.content.data));

    const u = await steadyRun(g711, from, 10, (m) => Array.from(bytesOfMsg(m)).map(ulaw), TONE_RMS);
    for (const m of u) expect(m.content.length).toBe(160);
    const upcm = concat(u.map((m) => Array.from(Buffer.from(m.content.data, 'base64')).map(ulaw)));
    expect(Math.abs(dominantHz(upcm, 8000) - 440)).toBeLessThan(8);

    // G.722 is stateful: decode the app's whole stream in order, then look at a steady stretch.
    const dec = new G722Decoder();
    const decoded = new Map<any, Int16Array>();
    const g = await steadyRun(g722, from, 10, (m) => {
      if (!decoded.has(m)) for (const r of ofType(g722.media, 14)) if (!decoded.has(r.msg)) decoded.set(r.msg, dec.decode(bytesOfMsg(r.msg)));
      return decoded.get(m)!;
    }, 4000);
    for (const m of g) expect(m.content.length).toBe(160);
    const gpcm = concat(g.map((m) => decoded.get(m)!));
    expect(Math.abs(dominantHz(gpcm, 16000) - 440)).toBeLessThan(8);
    expect(rmsOf(gpcm)).toBeGreaterThan(4000);

    // The feeder's counters and capture-to-send latency (from the header's capture time).
    const info = await meetingInfo(mock, uuid);
    const ing = info.participants[0].ingest;
    expect(ing.frames_in.audio).toBeGreaterThan(10);
    expect(ing.bytes_in).toBeGreaterThan(10 * 3840);
    expect(ing.latency_ms.audio.p50).toBeGreaterThan(40);
    expect(ing.latency_ms.audio.p99).toBeLessThan(1000);
  });

  test('Opus is not available for live sources: that app gets no audio and the meeting log says why', async () => {
    const { uuid, ref } = await liveMeeting();
    const opus = await openSession(mock, { meeting: ref, mediaType: 1, mediaParams: { audio: { codec: 4, sample_rate: 3 } } });
    const l16 = await openSession(mock, { meeting: anotherApp(ref), mediaType: 1 });
    const f = await join(uuid, { user_name: 'Tone' });
    f.startAudio(new Sine(440));
    await audioFrom(l16, Date.now() + 100, 5); // the other app is served meanwhile
    expect(ofType(opus.media, 14)).toHaveLength(0);
    const info = await meetingInfo(mock, uuid);
    expect(info.log.filter((e: any) => /OPUS is not available for live/.test(e.text))).toHaveLength(1);
  });

  test('multi-stream: one message per talking feeder with its user_id and user_name; silence sends nothing', async () => {
    const { uuid, ref } = await liveMeeting();
    const app = await openSession(mock, { meeting: ref, mediaType: 1, mediaParams: { audio: { codec: 1, sample_rate: 1, data_opt: 2 } } });
    const f1 = await join(uuid, { user_name: 'Low', user_id: 101 });
    const f2 = await join(uuid, { user_name: 'High', user_id: 102 });
    const t0 = Date.now();
    f1.startAudio(new Sine(440));
    f2.startAudio(new Sine(1000));
    const from = t0 + 300;
    const decode = (m: any) => s16(bytesOfMsg(m));
    const low = await steadyRun(app, from, 8, decode, 5000, (m) => m.content.user_id === 101);
    const high = await steadyRun(app, from, 8, decode, 5000, (m) => m.content.user_id === 102);
    expect(low.every((m) => m.content.user_name === 'Low' && m.content.length === 640)).toBe(true);
    expect(high.every((m) => m.content.user_name === 'High')).toBe(true);
    expect(ofType(app.media, 14).some((r) => r.msg.content.user_id === 0)).toBe(false);
    expect(Math.abs(dominantHz(concat(low.map((m) => s16(bytesOfMsg(m)))), 16000) - 440)).toBeLessThan(8);
    expect(Math.abs(dominantHz(concat(high.map((m) => s16(bytesOfMsg(m)))), 16000) - 1000)).toBeLessThan(10);

    // f2 stops sending: after the jitter window nothing more for it, f1 continues.
    f2.stopAudio();
    const stoppedAt = Date.now();
    const later = await audioFrom(app, stoppedAt + 250, 10, (m) => m.content.user_id === 101);
    const lastTs = later[later.length - 1].content.timestamp;
    const highAfter = ofType(app.media, 14).filter((r) => r.msg.content.user_id === 102 && r.msg.content.timestamp >= stoppedAt + 250 && r.msg.content.timestamp <= lastTs);
    expect(highAfter).toHaveLength(0);
  });
});

function bytesOfMsg(m: any): Uint8Array {
  return new Uint8Array(Buffer.from(m.content.data, 'base64'));
}

describe('video', () => {
  const jpgHd = (n: number) => frame(2, 5, new Uint8Array([0xff, 0xd8, n, 1, 2, 3, 0xff, 0xd9]), { width: 1280, height: 720, b3: 5 });
  const h264 = (key: boolean, n: number) => frame(2, 7, key
    ? new Uint8Array([0, 0, 0, 1, 0x67, 1, 2, 0, 0, 0, 1, 0x68, 3, 0, 0, 0, 1, 0x65, n])
    : new Uint8Array([0, 0, 0, 1, 0x41, n]), { width: 640, height: 360, b2: key ? 1 : 0, b3: 15 });

  test('frames go only to the app with that exact format; wants follows apps joining and leaving', async () => {
    const { uuid, ref } = await liveMeeting();
    const jpgApp = await openSession(mock, { meeting: ref, mediaType: 2, mediaParams: { video: { codec: 5, resolution: 2, fps: 5 } } });
    const h264App = await openSession(mock, { meeting: anotherApp(ref), mediaType: 2, mediaParams: { video: { codec: 7, resolution: 1, fps: 15 } } });
    const f = await join(uuid, { user_name: 'Cam', user_id: 201 });
    const wants = await f.ws.next((m) => m?.type === 'wants');
    expect(wants).toEqual({
      type: 'wants',
      camera: [{ codec: 'H264', width: 640, height: 360, fps: 15 }, { codec: 'JPG', width: 1280, height: 720, fps: 5 }],
      share: [],
    });

    f.ws.send(jpgHd(1));
    const got = await jpgApp.media.next((m) => m?.msg_type === 15);
    expect(got.content).toMatchObject({ user_id: 201, user_name: 'Cam', length: 8 });
    expect(Array.from(bytesOfMsg(got))).toEqual([0xff, 0xd8, 1, 1, 2, 3, 0xff, 0xd9]); // as sent, not re-encoded

    // H.264: an app starts at a key frame; the feeder is asked for one (wants repeated).
    f.ws.send(h264(false, 1));
    expect(await f.ws.next((m) => m?.type === 'wants')).toEqual(wants);
    f.ws.send(h264(true, 2));
    f.ws.send(h264(false, 3));
    const first = await h264App.media.next((m) => m?.msg_type === 15);
    expect(bytesOfMsg(first).at(-1)).toBe(2);
    expect(bytesOfMsg(await h264App.media.next((m) => m?.msg_type === 15)).at(-1)).toBe(3);
    // A format nobody negotiated is dropped and counted.
    f.ws.send(frame(2, 6, new Uint8Array([1, 2, 3]), { width: 1920, height: 1080 }));
    await until(async () => (await meetingInfo(mock, uuid)).participants[0].ingest.dropped_by_kind.camera === 1, 2000, 'dropped count');
    expect(ofType(jpgApp.media, 15)).toHaveLength(1);
    expect(ofType(h264App.media, 15)).toHaveLength(2);

    // The H.264 app leaves: wants shrinks. A PNG FHD app joins: wants grows.
    h264App.close();
    expect(await f.ws.next((m) => m?.type === 'wants')).toEqual({ type: 'wants', camera: [{ codec: 'JPG', width: 1280, height: 720, fps: 5 }], share: [] });
    await openSession(mock, { meeting: anotherApp(ref), mediaType: 6, mediaParams: { video: { codec: 6, resolution: 3, fps: 2 }, deskshare: { codec: 5, resolution: 1, fps: 1 } } });
    expect(await f.ws.next((m) => m?.type === 'wants')).toEqual({
      type: 'wants',
      camera: [{ codec: 'JPG', width: 1280, height: 720, fps: 5 }, { codec: 'PNG', width: 1920, height: 1080, fps: 2 }],
      share: [{ codec: 'JPG', width: 640, height: 360, fps: 1 }],
    });
    // Camera off: frames are dropped, nothing reaches the app.
    f.ws.send({ type: 'camera', on: false });
    f.ws.send(jpgHd(9));
    await until(async () => (await meetingInfo(mock, uuid)).participants[0].ingest.dropped_by_kind.camera === 2, 2000, 'dropped while off');
    expect(ofType(jpgApp.media, 15)).toHaveLength(1);
  });
});

describe('text messages and events', () => {
  test('join, transcript, chat, camera, share, leave → media messages and EVENT_UPDATEs', async () => {
    const { uuid, ref } = await liveMeeting();
    const app = await openSession(mock, {
      meeting: ref, mediaType: 4 | 8 | 16, events: [2, 3, 4, 5, 6, 8, 9],
      mediaParams: { deskshare: { codec: 5, resolution: 1, fps: 1 } },
    });
    await app.sig.next((m) => m?.msg_type === 8 && m.state === 1, 3000, 'ACTIVE');
    const f = await join(uuid, { user_name: 'Ada', user_id: 301 });
    const ev = (type: number) => app.sig.next((m) => m?.msg_type === 6 && m.event.event_type === type, 3000, `event ${type}`);
    expect((await ev(3)).event).toEqual({ event_type: 3, timestamp: expect.any(Number), participants: [{ user_id: 301, user_name: 'Ada' }] });
    expect((await ev(8)).event.participants).toEqual([{ user_id: 301 }]);

    f.ws.send({ type: 'transcript', text: 'hello everyone', start_time: 1732400000000, end_time: 1732400001200, language: 'en-US' });
    const tr = await app.media.next((m) => m?.msg_type === 17);
    expect(tr.content).toEqual({ user_id: 301, user_name: 'Ada', data: 'hello everyone', timestamp: 1732400000000, start_time: 1732400000000, end_time: 1732400001200, language: 9 });
    f.ws.send({ type: 'chat', text: 'link to the doc' });
    const chat = await app.media.next((m) => m?.msg_type === 18);
    expect(chat.content).toMatchObject({ user_id: 301, user_name: 'Ada', data: 'link to the doc' });

    f.ws.send({ type: 'camera', on: false });
    expect((await ev(9)).event.participants).toEqual([{ user_id: 301 }]);
    f.ws.send({ type: 'share', on: true });
    expect((await ev(5)).event).toMatchObject({ user_id: 301, user_name: 'Ada' });
    expect(await f.ws.next((m) => m?.type === 'wants')).toBeDefined(); // the initial one
    f.ws.send(frame(3, 5, new Uint8Array([0xff, 0xd8, 7, 0xff, 0xd9]), { width: 640, height: 360 }));
    const sh = await app.media.next((m) => m?.msg_type === 16);
    expect(sh.content).toMatchObject({ user_id: 301, user_name: 'Ada', length: 5 });
    f.ws.send({ type: 'share', on: false });
    expect((await ev(6)).event.event_type).toBe(6);
    expect((await meetingInfo(mock, uuid)).sharing).toBeNull();

    f.close();
    expect((await ev(4)).event).toEqual({ event_type: 4, timestamp: expect.any(Number), participants: [{ user_id: 301 }] });
    const info = await meetingInfo(mock, uuid);
    expect(info.participants[0]).toMatchObject({ user_id: 301, present: false, ingest: null });
  });

  test('the active speaker follows the loudest feeder (event 2)', async () => {
    const { uuid, ref } = await liveMeeting();
    const app = await openSession(mock, { meeting: ref, mediaType: 8, events: [2] });
    await app.sig.next((m) => m?.msg_type === 8 && m.state === 1, 3000, 'ACTIVE');
    const a = await join(uuid, { user_name: 'A', user_id: 401 });
    const b = await join(uuid, { user_name: 'B', user_id: 402 });
    const quiet = new Sine(300, 20);
    a.startAudio(new Sine(440, 6000));
    b.startAudio(quiet);
    const first = await app.sig.next((m) => m?.msg_type === 6 && m.event.event_type === 2, 3000, 'speaker A');
    expect(first.event).toMatchObject({ user_id: 401, user_name: 'A' });
    a.startAudio(new Sine(440, 20));
    b.startAudio(new Sine(300, 6000));
    const second = await app.sig.next((m) => m?.msg_type === 6 && m.event.event_type === 2, 3000, 'speaker B');
    expect(second.event).toMatchObject({ user_id: 402, user_name: 'B' });
    expect((await meetingInfo(mock, uuid)).active_speaker).toEqual({ user_id: 402, user_name: 'B' });
  });
});

describe('robustness and observability', () => {
  test('malformed frames get an error and keep the socket; 3 in a row close it; nothing else is disturbed', async () => {
    const { uuid } = await liveMeeting();
    const bystander = await join(uuid, { user_name: 'Bystander' });
    const f = await join(uuid, { user_name: 'Broken' });
    const nextError = () => f.ws.next((m) => m?.type === 'error', 2000, 'error');
    f.ws.send(new Uint8Array([1, 1, 1]));
    expect(await nextError()).toMatchObject({ code: 4400, message: expect.stringMatching(/truncated header/) });
    f.ws.send(frame(9, 1, new Uint8Array(4)));
    expect((await nextError()).message).toMatch(/unknown kind 9/);
    f.ws.send(frame(1, 1, new Uint8Array(960), { b2: 1 })); // a good frame resets the count
    f.ws.send(frame(1, 4, new Uint8Array(960), { b2: 1 }));
    expect((await nextError()).message).toMatch(/audio codec 4/);
    f.ws.send(frame(1, 1, new Uint8Array(7), { b2: 1 }));
    expect((await nextError()).message).toMatch(/not whole/);
    f.ws.send({ type: 'dance' });
    const last = await nextError();
    expect(last.message).toMatch(/3 refused frames in a row; last: unknown message type "dance"/);
    expect((await withTimeout(f.ws.closed, 2000, 'close')).code).toBe(4400);
    // Huge and random garbage on another socket, then the bystander and the server are fine.
    const g = await join(uuid, { user_name: 'Garbage' });
    const big = new Uint8Array(4 * 1024 * 1024 + 100);
    big[0] = 2; big[1] = 5;
    g.ws.send(big);
    expect((await g.ws.next((m) => m?.type === 'error', 3000)).message).toMatch(/over the 4194304-byte limit/);
    g.ws.send(frame(2, 5, new Uint8Array(0), { width: 0, height: 0 }));
    expect((await g.ws.next((m) => m?.type === 'error', 3000)).message).toMatch(/width and height/);
    bystander.ws.send({ type: 'ping' });
    expect(await bystander.ws.next((m) => m?.type === 'pong')).toEqual({ type: 'pong' });
    expect((await mock.api('GET', '/health')).status).toBe(200);
  });

  test('the inspector feed carries ingest connections with per-kind counters', async () => {
    const { uuid, ref } = await liveMeeting();
    await openSession(mock, { meeting: ref, mediaType: 1 });
    const f = await join(uuid, { user_name: 'Watched', user_id: 501 });
    f.startAudio(new Sine(440));
    const ac = new AbortController();
    const res = await fetch(`${mock.baseUrl}/api/events`, { signal: ac.signal });
    const reader = res.body!.getReader();
    let buf = '';
    let row: any = null;
    let media: any = null;
    const deadline = Date.now() + 4000;
    try {
      while (!(row && media) && Date.now() < deadline) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += new TextDecoder().decode(value);
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const data = block.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trim()).join('\n');
          if (!data) continue;
          const e = JSON.parse(data);
          if (e.type === 'stats') row = e.connections.find((c: any) => c.kind === 'ingest' && c.user_id === 501 && c.latency_ms.audio) ?? row;
          if (e.type === 'media' && e.socket === 'ingest' && e.conn) media = e;
        }
      }
    } finally {
      await reader.cancel().catch(() => {});
      ac.abort();
    }
    expect(media).toMatchObject({ meeting_uuid: uuid, socket: 'ingest', dir: 'in', msg_type: 14, bytes: 16 + 1920 });
    expect(row).toMatchObject({ meeting_uuid: uuid, socket: 'ingest', state: 'joined', user_name: 'Watched' });
    expect(row.frames_in.audio).toBeGreaterThan(0);
    expect(row.latency_ms.audio.p50).toEqual(expect.any(Number));
  });
});
