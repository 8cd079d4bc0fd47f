// Keep-alive over real sockets with a shortened interval (spec §4.1): msg 12 on signaling and on every media
// socket each interval; answered sockets stay; three unanswered in a row drop the socket, with the signaling and
// media consequences of spec §4.1 (rtms_interrupted + window + stop 24; event 7 + state 2/14).
import { afterEach, expect, test } from 'bun:test';
import { startMock, type TestMock } from '../helpers/mock.ts';
import { driveApp, until, type DrivenApp } from '../helpers/driven-app.ts';
import type { Received, WsClient } from '../helpers/ws-client.ts';
import { startReceiver, type Receiver } from '../webhooks/receiver.ts';

let mock: TestMock | null = null;
let rx: Receiver | null = null;
let session: DrivenApp | null = null;
afterEach(async () => {
  session?.closeAll();
  await mock?.stop({ graceful: false });
  await rx?.close();
  mock = null; rx = null; session = null;
});

const ofType = (c: WsClient, t: number): Received[] => c.received.filter((r) => r.msg?.msg_type === t);
const webhooksOf = (r: Receiver, event: string) => r.requests.map((q) => JSON.parse(q.rawBody)).filter((b) => b.event === event);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function meetingJson(uuid: string) {
  const r = await mock!.api('GET', `/api/meetings/${encodeURIComponent(uuid)}`);
  expect(r.status).toBe(200);
  return r.body;
}

test('msg 12 every interval on signaling and on each media socket; answered sockets stay open (spec §4.1)', async () => {
  const INTERVAL = 100;
  mock = await startMock({ keepAliveMs: INTERVAL });
  rx = startReceiver();
  const created = await mock.startMeeting(rx.url);
  session = await driveApp(created, { paths: ['audio', 'transcript'] });
  const sockets: [string, WsClient][] = [['signaling', session.signaling], ...session.media.entries()];

  // Eight requests per socket, answered: spacing of both arrival and `timestamp` is the interval.
  const got = await Promise.all(sockets.map(([, c]) => c.collect(12, 8, 3000)));
  for (const [i, reqs] of got.entries()) {
    const name = sockets[i]![0];
    for (const r of reqs) {
      expect(Object.keys(r.msg).sort()).toEqual(['msg_type', 'timestamp']);
      expect(r.binary).toBe(false);
      expect(Math.abs(r.msg.timestamp - r.at)).toBeLessThan(1000); // ms epoch, close to arrival
    }
    const arrival = reqs.slice(1).map((r, k) => r.at - reqs[k]!.at);
    const stamped = reqs.slice(1).map((r, k) => r.msg.timestamp - reqs[k]!.msg.timestamp);
    const m = median(arrival);
    if (m < INTERVAL * 0.8 || m > INTERVAL * 1.3) throw new Error(`${name}: median keep-alive spacing ${m} ms (${arrival.join(', ')})`);
    expect(median(stamped)).toBeGreaterThanOrEqual(INTERVAL * 0.8);
    expect(median(stamped)).toBeLessThanOrEqual(INTERVAL * 1.3);
    for (const d of arrival) expect(d).toBeGreaterThan(INTERVAL * 0.3);
  }

  // Well past three intervals, every socket is still open and the server counts our answers.
  for (const [, c] of sockets) expect(c.isClosed).toBe(false);
  const m = await meetingJson(created.meeting_uuid);
  const s = m.streams[0];
  expect(s.stream_state).toBe(1);
  expect(s.signaling.closed).toBe(false);
  expect(s.signaling.unanswered_keep_alives).toBeLessThanOrEqual(1);
  expect(s.signaling.counters.inByType['13']).toBeGreaterThanOrEqual(7);
  expect(s.media).toHaveLength(2);
  for (const mc of s.media) {
    expect(mc.closed).toBe(false);
    expect(mc.unanswered_keep_alives).toBeLessThanOrEqual(1);
    expect(mc.counters.inByType['13']).toBeGreaterThanOrEqual(7);
  }
  // Media kept flowing on the audio socket the whole time.
  expect(ofType(session.media.get('audio')!, 14).length).toBeGreaterThan(20);
  expect(webhooksOf(rx, 'meeting.rtms_interrupted')).toHaveLength(0);
});

test('signaling: three unanswered → dropped, rtms_interrupted, window, stop with 24 KEEP_ALIVE_TIMEOUT (spec §4.1)', async () => {
  const INTERVAL = 50;
  const WINDOW = 300;
  mock = await startMock({ keepAliveMs: INTERVAL, signalingWindowMs: WINDOW, webhookBackoffMs: 20 });
  rx = startReceiver();
  const created = await mock.startMeeting(rx.url);
  session = await driveApp(created, { paths: ['audio'] });
  const sig = session.signaling;
  const media = session.media.get('audio')!;
  await media.next((m) => m?.msg_type === 14, 3000, 'first audio');

  session.answer.set(sig, false); // the media socket keeps answering
  const close = await Promise.race([sig.closed, Bun.sleep(3000).then(() => null)]);
  const closedAt = Date.now();
  expect(close).not.toBeNull();
  // Exactly three requests went unanswered before the drop; the signaling socket carried no 13 from us.
  expect(ofType(sig, 12)).toHaveLength(3);

  // Media cannot outlive its signaling: it is told why (state 2, reason 13) and closed.
  await media.closed;
  const mediaState = ofType(media, 8).map((r) => r.msg);
  expect(mediaState.at(-1)).toMatchObject({ state: 2, reason: 13 });

  // rtms_interrupted with the flat payload of spec §9.
  await until(() => webhooksOf(rx!, 'meeting.rtms_interrupted').length > 0, 3000, 'rtms_interrupted');
  expect(webhooksOf(rx, 'meeting.rtms_interrupted')[0].payload).toEqual({
    meeting_uuid: created.meeting_uuid, rtms_stream_id: created.rtms_stream_id,
  });
  const during = await meetingJson(created.meeting_uuid);
  expect(during.streams[0]).toMatchObject({ stream_state: 2, reconnection_window: 'signaling', stop_reason: null });

  // Nobody reconnects: after the window the stream stops with KEEP_ALIVE_TIMEOUT.
  await until(() => webhooksOf(rx!, 'meeting.rtms_stopped').length > 0, 3000, 'rtms_stopped');
  expect(Date.now() - closedAt).toBeGreaterThanOrEqual(WINDOW - 30);
  expect(webhooksOf(rx, 'meeting.rtms_stopped')[0].payload).toEqual({
    meeting_uuid: created.meeting_uuid, rtms_stream_id: created.rtms_stream_id, stop_reason: 24,
  });
  const after = await meetingJson(created.meeting_uuid);
  expect(after.streams[0]).toMatchObject({ stream_state: 4, stop_reason: 24, reconnection_window: null });
  expect(after.streams[0].history.interruptions).toBe(1);
});

test('media: three unanswered → only that socket dropped, event 7 and state 2 reason 14 on signaling (spec §4.1)', async () => {
  const INTERVAL = 50;
  const WINDOW = 400;
  mock = await startMock({ keepAliveMs: INTERVAL, mediaWindowMs: WINDOW, webhookBackoffMs: 20 });
  rx = startReceiver();
  const created = await mock.startMeeting(rx.url);
  session = await driveApp(created, { paths: ['audio', 'transcript'] });
  const sig = session.signaling;
  const audio = session.media.get('audio')!;
  const transcript = session.media.get('transcript')!;
  await audio.next((m) => m?.msg_type === 14, 3000, 'first audio');

  session.answer.set(audio, false);
  const close = await Promise.race([audio.closed, Bun.sleep(3000).then(() => null)]);
  expect(close).not.toBeNull();
  expect(ofType(audio, 12)).toHaveLength(3);

  // On signaling: EVENT_UPDATE MEDIA_CONNECTION_INTERRUPTED, then STREAM_STATE_UPDATE INTERRUPTED / 14.
  const ev7 = await sig.next((m) => m?.msg_type === 6 && m.event?.event_type === 7, 2000, 'event 7');
  expect(typeof ev7.event.timestamp).toBe('number');
  const st = await sig.next((m) => m?.msg_type === 8, 2000, 'state update after event 7');
  expect(st).toMatchObject({ state: 2, reason: 14, stop_reason: 14 });

  // The other sockets are untouched; no rtms_interrupted for a media loss.
  await Bun.sleep(INTERVAL * 2);
  expect(sig.isClosed).toBe(false);
  expect(transcript.isClosed).toBe(false);
  const m = await meetingJson(created.meeting_uuid);
  expect(m.streams[0].reconnection_window).toBe('media');
  expect(m.streams[0].media.map((c: any) => c.path)).toEqual(['transcript']);
  expect(webhooksOf(rx, 'meeting.rtms_interrupted')).toHaveLength(0);

  // No new data handshake: the stream stops when the media window ends, on every remaining socket.
  const term = await sig.next((x) => x?.msg_type === 8 && x.state === 4, WINDOW + 2000, 'TERMINATED');
  expect(term.reason).toBe(24);
  expect((await transcript.next((x) => x?.msg_type === 8 && x.state === 4, 1000, 'TERMINATED on media')).reason).toBe(24);
  await until(() => webhooksOf(rx!, 'meeting.rtms_stopped').length > 0, 3000, 'rtms_stopped');
  expect(webhooksOf(rx, 'meeting.rtms_stopped')[0].payload.stop_reason).toBe(24);
});
