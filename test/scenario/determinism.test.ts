// Played against the reference app (src/client/reference-app.ts) through the real API and sockets: the same
// scenario and seed twice at high speed give the same message sequence apart from wall-clock timestamps; the
// speed factor compresses the timeline and the keep-alive interval; free text arrives as non-silent audio inside
// its transcript's start/end. Loopback only; every test stops what it starts.
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { createHash } from 'node:crypto';
import { leBytesToInt16, rms } from '../../src/media/audio/pcm.ts';
import { startReferenceApp, type ReferenceApp, type StreamSession } from '../../src/client/reference-app.ts';
import { startMock, type TestMock } from '../helpers/mock.ts';

const SPEED = 20;
const ALICE = 16778240;
const DANA = 16780288;
const SCENARIO = {
  name: 'determinism',
  seed: 42,
  participants: [
    { id: 'alice', name: 'Alice Chen', voice: 'alice' },
    { id: 'bob', name: 'Bob Okafor', voice: 'bob' },
    { id: 'dana', name: 'Dana Kim', voice: 'babble', pitch: 150, joined: false, camera: false },
  ],
  timeline: [
    { id: 'open', at: '0.5s', speak: { who: 'alice', line: 'random' } },
    { at: '1s', join: 'dana', jitter: '1s' },
    { id: 'update', after: 'open +4s', speak: { who: 'dana', text: 'Morning. The migration finished overnight, and the dashboards look fine so far.' } },
    { id: 'reply', after: 'update +4s', speak: { who: 'bob', line: 'random' } },
    { after: 'reply +0.3s', speak: { who: 'alice', line: 8 } },
    { at: '+0.2s', chat: { from: 'bob', text: 'Report: https://example.com/r/1' } },
    { at: '+1s', camera_off: 'alice', jitter: '2s' },
    { id: 'break', at: '+1s', pause: true },
    { after: 'break +3s', resume: true },
    { at: '+1s', leave: 'dana' },
  ],
};

let mock: TestMock;
let apps: ReferenceApp[] = [];
beforeAll(async () => { mock = await startMock(); });
afterAll(async () => {
  for (const a of apps) await a.stop();
  await mock.stop({ graceful: false });
});

interface Played { s: StreamSession; created: any; firstPacket: number; stoppedAt: number }

/** Plays SCENARIO once against a fresh reference app; resolves when rtms_stopped has arrived. */
async function play(): Promise<Played> {
  const app = await startReferenceApp({ log: false, mediaTypes: 1 | 8 | 16, events: [2, 3, 4, 5, 6, 8, 9] });
  apps.push(app);
  const created = await mock.startMeeting(app.url, { scenario: SCENARIO, speed: SPEED });
  await app.waitFor((o) => o.kind === 'webhook' && o.event === 'meeting.rtms_stopped', 15_000, { label: 'rtms_stopped' });
  const s = app.streams.get(created.rtms_stream_id)!;
  // Until the app has seen the sockets close (the last media is in).
  await app.waitFor((o) => o.kind === 'close' && o.socket === 'signaling', 5000, { label: 'signaling closed' });
  const first = s.messages.find((m) => m.msg.msg_type === 6 && m.msg.event.event_type === 1)!.msg.event.timestamp as number;
  const stop = s.messages.find((m) => m.socket === 'signaling' && m.msg.msg_type === 8 && m.msg.state === 4)!;
  return { s, created, firstPacket: first, stoppedAt: stop.msg.timestamp };
}

/** The log without wall-clock values: keep-alives dropped, media times made relative to FIRST_PACKET_TIMESTAMP. */
function normalize(p: Played) {
  const signaling: unknown[] = [];
  const text: unknown[] = [];
  const audio = new Map<number, string>();
  const rel = (t: number) => t - p.firstPacket;
  for (const { socket, msg } of p.s.messages) {
    const t = msg.msg_type;
    if (t === 12 || t === 13) continue;
    if (socket === 'signaling') {
      if (t === 6) { const { timestamp: _t, ...e } = msg.event; signaling.push({ t, ...e }); }
      else if (t === 8 || t === 9) signaling.push({ t, state: msg.state, reason: msg.reason });
      else signaling.push({ t, status: msg.status_code });
    } else if (t === 14) {
      audio.set(rel(msg.content.timestamp), createHash('sha1').update(msg.content.data).digest('hex'));
    } else if (t === 17) {
      const c = msg.content;
      text.push({ t, user: c.user_id, name: c.user_name, data: c.data, start: rel(c.start_time), end: rel(c.end_time), language: c.language });
    } else if (t === 18) {
      text.push({ t, user: msg.content.user_id, data: msg.content.data });
    } else {
      text.push({ t, state: msg.state, status: msg.status_code });
    }
  }
  return { signaling, text, audio };
}

let first: Played;
let second: Played;

test('same seed, same meeting: two runs at high speed give the same normalized message log', async () => {
  first = await play();
  second = await play();
  const a = normalize(first);
  const b = normalize(second);
  expect(b.signaling).toEqual(a.signaling);
  expect(b.text).toEqual(a.text);
  // Every audio frame both runs received (the first and last may fall either side of the start and end) is identical.
  const common = [...a.audio.keys()].filter((k) => b.audio.has(k));
  expect(common.length).toBeGreaterThan(0.9 * Math.min(a.audio.size, b.audio.size));
  expect(common.length).toBeGreaterThan(40);
  for (const k of common) expect(b.audio.get(k)).toBe(a.audio.get(k)!);
  // And the log has what the scenario says: join, leave, camera off, speakers, transcripts, chat.
  const events = a.signaling.filter((m: any) => m.t === 6).map((m: any) => m.event_type);
  expect(events).toEqual(expect.arrayContaining([1, 2, 3, 4, 9]));
  // The host's pause and resume (spec §6: stream states 5 PAUSED, 6 RESUMED), and no audio in between.
  expect(a.signaling.filter((m: any) => m.t === 8).map((m: any) => m.state)).toEqual([1, 5, 6, 4]);
  expect(a.text.filter((m: any) => m.t === 17).map((m: any) => m.name)).toEqual(['Alice Chen', 'Dana Kim', 'Bob Okafor', 'Alice Chen']);
  expect(a.text.filter((m: any) => m.t === 18)).toHaveLength(1);
}, 30_000);

test('the speed factor: the timeline and keep-alives run 20 times faster, media keeps its 20 ms cadence', async () => {
  const meeting = await mock.api('GET', `/api/meetings/${encodeURIComponent(first.created.meeting_uuid)}`);
  expect(meeting.body.speed).toBe(SPEED);
  const scenarioMs = meeting.body.scenario.duration_ms as number;
  expect(meeting.body.scenario.state).toBe('finished');
  // From the first packet to the stop: the scenario's duration divided by the speed.
  const wall = first.stoppedAt - first.firstPacket;
  expect(wall).toBeGreaterThan(scenarioMs / SPEED - 60);
  expect(wall).toBeLessThan(scenarioMs / SPEED + 1000); // at speed 1 it would be scenarioMs
  // Keep-alives every 10 s / 20 = 500 ms (spec §4.1 scaled); each request is stamped when it is sent.
  const ka = first.s.messages.filter((m) => m.socket === 'signaling' && m.msg.msg_type === 12).map((m) => m.msg.timestamp as number);
  expect(ka.length).toBeGreaterThanOrEqual(2);
  for (let i = 1; i < ka.length; i++) expect(Math.abs(ka[i]! - ka[i - 1]! - 10_000 / SPEED)).toBeLessThan(200);
  // Audio timestamps still step by 20 ms, except across the pause (3 s / 20 = 150 ms without audio).
  const ts = first.s.messages.filter((m) => m.msg.msg_type === 14).map((m) => m.msg.content.timestamp as number);
  const steps = ts.slice(1).map((t, i) => t - ts[i]!);
  expect(steps.filter((d) => d !== 20)).toHaveLength(1);
  expect(steps.find((d) => d !== 20)).toBeGreaterThanOrEqual(120);
});

test('free text arrives as non-silent audio between its transcript\'s start_time and end_time', () => {
  const transcript = first.s.messages.find((m) => m.msg.msg_type === 17 && m.msg.content.user_id === DANA)!.msg.content;
  expect(transcript.data).toBe(SCENARIO.timeline[2]!.speak!.text);
  const audio = first.s.messages.filter((m) => m.msg.msg_type === 14).map((m) => ({ ts: m.msg.content.timestamp as number, level: rms(leBytesToInt16(Buffer.from(m.msg.content.data, 'base64'))) }));
  const inside = audio.filter((a) => a.ts >= transcript.start_time && a.ts < transcript.end_time);
  expect(inside.length).toBeGreaterThanOrEqual(Math.floor((transcript.end_time - transcript.start_time) / 20));
  expect(inside.filter((a) => a.level > 300).length / inside.length).toBeGreaterThan(0.6);
  // The 100 ms on either side are silent (nobody else talks then).
  const around = audio.filter((a) => (a.ts >= transcript.start_time - 100 && a.ts < transcript.start_time) || (a.ts >= transcript.end_time && a.ts < transcript.end_time + 100));
  expect(around.length).toBeGreaterThan(5);
  for (const a of around) expect(a.level).toBeLessThan(10);
  // The speaker changes to Dana when her audio starts.
  const change = first.s.messages.find((m) => m.msg.msg_type === 6 && m.msg.event.event_type === 2 && m.msg.event.user_id === DANA);
  expect(change).toBeDefined();
  expect(first.s.messages.some((m) => m.msg.msg_type === 6 && m.msg.event.event_type === 2 && m.msg.event.user_id === ALICE)).toBe(true);
});
