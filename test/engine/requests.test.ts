// The requests an app may send on the signaling socket after the handshake (spec §4.4: 10, 19, 21, 28), event
// subscription (spec §4.3: msg 5 → which EVENT_UPDATE (6) arrive), and requests sent too early or malformed
// (spec §5 status codes; README Decision: after the handshake a failure is answered on the same socket, which
// stays open; before it, msg 2 with the code and a 1000 close). Real sockets against the in-process mock.
import { afterEach, describe, expect, test } from 'bun:test';
import { startMock, type TestMock } from '../helpers/mock.ts';
import { driveApp, until, type DrivenApp } from '../helpers/driven-app.ts';
import { Sockets, expectRefused, openMedia, openSignaling, signalingUrl, type Created } from '../helpers/handshake-kit.ts';
import { annexBNalTypes } from '../helpers/rtms-session.ts';
import type { Received, WsClient } from '../helpers/ws-client.ts';
import { startReceiver, type Receiver } from '../webhooks/receiver.ts';

let mock: TestMock | null = null;
let rx: Receiver | null = null;
const apps: DrivenApp[] = [];
const sockets = new Sockets();
afterEach(async () => {
  for (const a of apps.splice(0)) a.closeAll();
  sockets.closeAll();
  await mock?.stop({ graceful: false });
  await rx?.close();
  mock = null; rx = null;
});

// The dialogue's participants (data/speech/transcript.json).
const ALICE = { user_id: 16778240, user_name: 'Alice Chen' };
const BOB = { user_id: 16779264, user_name: 'Bob Okafor' };
const CAROL = { user_id: 16780288, user_name: 'Carol Diaz' };

const meetingPath = (uuid: string) => `/api/meetings/${encodeURIComponent(uuid)}`;

/** A meeting with a raw app connected on `paths` (default /audio); `ready` sends msg 7 (default true). */
async function live(opts: { paths?: string[]; ready?: boolean; webhook?: boolean } = {}) {
  mock = await startMock();
  if (opts.webhook) rx = startReceiver();
  const created: Created = await mock.startMeeting(rx?.url ?? null);
  const app = await driveApp(created, { paths: opts.paths ?? ['audio'], ready: opts.ready });
  apps.push(app);
  return { created, app, sig: app.signaling };
}

/** Signaling messages from index `from` on, keep-alives left out. */
const sigFrom = (ws: WsClient, from: number) => ws.received.slice(from).map((r) => r.msg).filter((m) => m?.msg_type !== 12);

/**
 * Round trip on the signaling socket: everything the mock sent before it answered this STREAM_STATE_REQ is
 * already in `received` (one ordered socket), so "X did not arrive" needs no sleep.
 */
async function barrier(ws: WsClient, streamId: string): Promise<void> {
  const mark = ws.received.length;
  ws.send({ msg_type: 19, rtms_stream_id: streamId });
  await until(() => ws.received.slice(mark).some((r) => r.msg?.msg_type === 20 && r.msg.rtms_stream_id === streamId), 3000, 'msg 20');
}

/** Sends `req` and returns the first message after it that matches. */
async function ask(ws: WsClient, req: unknown, pred: (m: any) => boolean, label: string): Promise<any> {
  const mark = ws.received.length;
  ws.send(req);
  const r = await until(() => ws.received.slice(mark).find((x) => pred(x.msg)), 3000, label);
  return r.msg;
}

const sessionIdOf = async (ws: WsClient) => (await ws.next((m) => m?.msg_type === 9, 3000, 'SESSION_STATE_UPDATE')).rtms_session_id as string;

describe('SESSION_STATE_REQ 10 → SESSION_STATE_RESP 11 (spec §4.4)', () => {
  test('spec §4.4/§6 answers 11 with the session id and state: 1 INITIALIZE before msg 7, 2 STARTED, 3 PAUSED, 4 RESUMED', async () => {
    const { created, app, sig } = await live({ ready: false });
    // Before CLIENT_READY_ACK the app has not seen msg 9 yet; the API names the session id.
    const info = (await mock!.api('GET', meetingPath(created.meeting_uuid))).body;
    const sid = info.streams[0].rtms_session_id as string;
    expect(sid).toMatch(/^[0-9a-f]{32}$/);
    const req = { msg_type: 10, rtms_session_id: sid };
    const is11 = (m: any) => m?.msg_type === 11;
    expect(await ask(sig, req, is11, 'msg 11 before ready')).toEqual({ msg_type: 11, rtms_session_id: sid, state: 1, timestamp: expect.any(Number) });

    app.ready();
    expect(await sessionIdOf(sig)).toBe(sid); // msg 9 carries the same id
    const started = await ask(sig, req, is11, 'msg 11 started');
    expect(started).toEqual({ msg_type: 11, rtms_session_id: sid, state: 2, timestamp: expect.any(Number) });
    expect(started.timestamp).toBeGreaterThan(1e12); // ms epoch

    expect((await mock!.api('POST', `${meetingPath(created.meeting_uuid)}/rtms/pause`)).status).toBe(200);
    expect(await ask(sig, req, is11, 'msg 11 paused')).toMatchObject({ rtms_session_id: sid, state: 3 });
    expect((await mock!.api('POST', `${meetingPath(created.meeting_uuid)}/rtms/resume`)).status).toBe(200);
    expect(await ask(sig, req, is11, 'msg 11 resumed')).toMatchObject({ rtms_session_id: sid, state: 4 });
  });

  test('spec §5 an unknown rtms_session_id → 11 with 40 INVALID_RTMS_SESSION_ID; the stream goes on', async () => {
    const { app, sig } = await live();
    await sessionIdOf(sig);
    const r = await ask(sig, { msg_type: 10, rtms_session_id: 'not-a-session' }, (m) => m?.msg_type === 11, 'msg 11');
    expect(r).toEqual({ msg_type: 11, rtms_session_id: 'not-a-session', status_code: 40, reason: expect.any(String), timestamp: expect.any(Number) });
    expect(r.reason.length).toBeGreaterThan(0);
    // Another stream's session id is unknown here too.
    const other = await mock!.startMeeting(null);
    const otherSid = (await mock!.api('GET', meetingPath(other.meeting_uuid))).body.streams[0].rtms_session_id;
    expect(await ask(sig, { msg_type: 10, rtms_session_id: otherSid }, (m) => m?.msg_type === 11, 'msg 11')).toMatchObject({ status_code: 40 });
    expect(sig.isClosed).toBe(false);
    const n = app.media.get('audio')!.received.length;
    await until(() => app.media.get('audio')!.received.length > n + 3, 3000, 'audio still flowing');
  });
});

describe('STREAM_STATE_REQ 19 → STREAM_STATE_RESP 20 (spec §4.4)', () => {
  test('spec §4.4/§6 answers 20 with the stream state: 0 INACTIVE before msg 7, 1 ACTIVE, 5 PAUSED, 6 RESUMED', async () => {
    const { created, app, sig } = await live({ ready: false });
    const req = { msg_type: 19, rtms_stream_id: created.rtms_stream_id };
    const is20 = (m: any) => m?.msg_type === 20;
    expect(await ask(sig, req, is20, 'msg 20')).toEqual({ msg_type: 20, rtms_stream_id: created.rtms_stream_id, state: 0, timestamp: expect.any(Number) });
    app.ready();
    await sig.next((m) => m?.msg_type === 8 && m.state === 1, 3000, 'ACTIVE');
    expect(await ask(sig, req, is20, 'msg 20')).toEqual({ msg_type: 20, rtms_stream_id: created.rtms_stream_id, state: 1, timestamp: expect.any(Number) });
    await mock!.api('POST', `${meetingPath(created.meeting_uuid)}/rtms/pause`);
    expect(await ask(sig, req, is20, 'msg 20')).toMatchObject({ state: 5 });
    await mock!.api('POST', `${meetingPath(created.meeting_uuid)}/rtms/resume`);
    expect(await ask(sig, req, is20, 'msg 20')).toMatchObject({ state: 6 });
  });

  test('spec §5 another or unknown rtms_stream_id → 20 with 2 INVALID_RTMS_STREAM_ID', async () => {
    const { sig } = await live();
    const other = await mock!.startMeeting(null);
    for (const id of [other.rtms_stream_id, 'deadbeef']) {
      const r = await ask(sig, { msg_type: 19, rtms_stream_id: id }, (m) => m?.msg_type === 20, 'msg 20');
      expect(r).toEqual({ msg_type: 20, rtms_stream_id: id, status_code: 2, reason: expect.any(String), timestamp: expect.any(Number) });
      expect(r.state).toBeUndefined(); // no state of a stream that is not this connection's
    }
  });
});

describe('STREAM_CLOSE_REQ 21 → STREAM_CLOSE_RESP 22 (spec §4.4)', () => {
  test('spec §4.4 answers 22 OK, then TERMINATED/STOPPED with reason 20 on every socket, sockets closed 1000, rtms_stopped stop_reason 20', async () => {
    const { created, app, sig } = await live({ paths: ['audio', 'transcript'], webhook: true });
    await sessionIdOf(sig);
    const mark = sig.received.length;
    sig.send({ msg_type: 21, rtms_stream_id: created.rtms_stream_id });
    const closed = await Promise.all([sig.closed, ...[...app.media.values()].map((m) => m.closed)]);
    for (const c of closed) expect(c.code).toBe(1000);

    // Exactly: the response, then the stream's end (spec §4.2 Decision: both reason keys on both messages).
    expect(sigFrom(sig, mark)).toEqual([
      { msg_type: 22, rtms_stream_id: created.rtms_stream_id, status_code: 0, reason: 'OK', timestamp: expect.any(Number) },
      { msg_type: 8, state: 4, reason: 20, stop_reason: 20, timestamp: expect.any(Number) },
      { msg_type: 9, rtms_session_id: expect.any(String), state: 5, stop_reason: 20, reason: 20, timestamp: expect.any(Number) },
    ]);
    for (const [path, m] of app.media) {
      const last = m.received.at(-1)!.msg;
      expect({ path, last }).toEqual({ path, last: { msg_type: 8, state: 4, reason: 20, stop_reason: 20, timestamp: expect.any(Number) } });
    }

    // spec §9: rtms_stopped with the flat payload and stop_reason 20 RECEIVER_REQUEST_CLOSE.
    const stopped = await until(() => rx!.requests.map((q) => JSON.parse(q.rawBody)).find((b) => b.event === 'meeting.rtms_stopped'), 3000, 'rtms_stopped');
    expect(stopped.payload).toEqual({ meeting_uuid: created.meeting_uuid, rtms_stream_id: created.rtms_stream_id, stop_reason: 20 });
    const st = (await mock!.api('GET', meetingPath(created.meeting_uuid))).body.streams[0];
    expect(st).toMatchObject({ phase: 'stopped', stream_state: 4, session_state: 5, stop_reason: 20 });
    // The meeting itself goes on (only this app's stream closed): RTMS can be started again.
    expect((await mock!.api('POST', `${meetingPath(created.meeting_uuid)}/rtms/start`)).status).toBe(200);
  });

  test('spec §4.4 STREAM_CLOSE_REQ before CLIENT_READY_ACK also stops the stream with 20', async () => {
    const { created, sig } = await live({ ready: false });
    const mark = sig.received.length;
    sig.send({ msg_type: 21, rtms_stream_id: created.rtms_stream_id });
    expect((await sig.closed).code).toBe(1000);
    expect(sigFrom(sig, mark).map((m) => [m.msg_type, m.state ?? m.status_code, m.reason])).toEqual([[22, 0, 'OK'], [8, 4, 20], [9, 5, 20]]);
  });

  test('spec §5 closing another or unknown stream → 22 with 2; this stream is not stopped', async () => {
    const { created, app, sig } = await live();
    const other = await mock!.startMeeting(null);
    for (const id of [other.rtms_stream_id, 'nope']) {
      const r = await ask(sig, { msg_type: 21, rtms_stream_id: id }, (m) => m?.msg_type === 22, 'msg 22');
      expect(r).toEqual({ msg_type: 22, rtms_stream_id: id, status_code: 2, reason: expect.any(String), timestamp: expect.any(Number) });
    }
    await barrier(sig, created.rtms_stream_id);
    expect(sigFrom(sig, 0).some((m) => m.msg_type === 8 && m.state === 4)).toBe(false);
    const streams = (await mock!.api('GET', '/api/meetings')).body.meetings.map((m: any) => m.stream_phase).sort();
    expect(streams).toEqual(['active', 'awaiting']); // neither this stream nor the other was stopped
    const n = app.media.get('audio')!.received.length;
    await until(() => app.media.get('audio')!.received.length > n + 3, 3000, 'audio still flowing');
  });
});

describe('VIDEO_SUBSCRIPTION_REQ 28 → VIDEO_SUBSCRIPTION_RESP 29 (spec §4.4)', () => {
  /** Signaling + one /video socket with data_opt 4 (individual stream), H264 SD 10 fps (pre-encoded: no rendering). */
  async function individual() {
    mock = await startMock();
    const c: Created = await mock.startMeeting(null);
    const { ws: sig } = await openSignaling(mock, c);
    sockets.add(sig);
    const { ws: video, resp } = await openMedia(mock, c, 'video', {
      media_type: 2, media_params: { video: { codec: 7, resolution: 1, fps: 10, data_opt: 4 } },
    });
    sockets.add(video);
    expect(resp.media_params.video).toEqual({ content_type: 3, codec: 7, resolution: 1, data_opt: 4, fps: 10 });
    sig.send({ msg_type: 7, rtms_stream_id: c.rtms_stream_id });
    await sig.next((m) => m?.msg_type === 8 && m.state === 1, 3000, 'ACTIVE');
    return { c, sig, video };
  }
  const frames = (ws: WsClient, from = 0): Received[] => ws.received.slice(from).filter((r) => r.msg?.msg_type === 15);
  const is29 = (m: any) => m?.msg_type === 29;
  const sentVideo = async (uuid: string) => (await mock!.api('GET', meetingPath(uuid))).body.streams[0].media[0].sent.video as number;

  test('spec §4.4 subscribing to a user makes the frames theirs; a new subscription replaces the old one and starts on a key frame', async () => {
    const { c, sig, video } = await individual();
    // Nobody subscribed yet: an individual stream has no one to show.
    await barrier(sig, c.rtms_stream_id);
    expect(await sentVideo(c.meeting_uuid)).toBe(0);

    expect(await ask(sig, { msg_type: 28, user_id: ALICE.user_id, subscribe: true }, is29, 'msg 29'))
      .toEqual({ msg_type: 29, user_id: ALICE.user_id, status_code: 0, reason: 'OK' });
    const first = (await video.next((m) => m?.msg_type === 15, 3000, 'Alice frame')).content;
    expect(first).toEqual({ ...ALICE, data: expect.any(String), length: expect.any(Number), timestamp: expect.any(Number) });
    expect(Buffer.from(first.data, 'base64').length).toBe(first.length);

    const mark = video.received.length;
    expect(await ask(sig, { msg_type: 28, user_id: BOB.user_id, subscribe: true }, is29, 'msg 29'))
      .toEqual({ msg_type: 29, user_id: BOB.user_id, status_code: 0, reason: 'OK' });
    await until(() => frames(video, mark).filter((r) => r.msg.content.user_id === BOB.user_id).length >= 5, 3000, 'five Bob frames');
    // A frame already on its way may still be Alice's; once Bob's frames start, they are all his.
    const after = frames(video, mark).map((r) => r.msg.content);
    const firstBob = after.findIndex((x) => x.user_id === BOB.user_id);
    for (const x of after.slice(firstBob)) expect({ user_id: x.user_id, user_name: x.user_name }).toEqual(BOB);
    // A new subject starts at a key frame: SPS (7), PPS (8), IDR (5) in the first access unit (spec §8).
    const nals = annexBNalTypes(new Uint8Array(Buffer.from(after[firstBob]!.data, 'base64')));
    expect(nals).toContain(7);
    expect(nals).toContain(8);
    expect(nals).toContain(5);
    // Timestamps step by 1000/fps (spec §8).
    const ts = after.slice(firstBob).map((x) => x.timestamp as number);
    for (let i = 1; i < ts.length; i++) expect(ts[i]! - ts[i - 1]!).toBe(100);
  });

  test('spec §4.4/§5 same user twice → 44; unknown user → 4 and the current subscription is kept; unsubscribe stops the frames', async () => {
    const { c, sig, video } = await individual();
    expect(await ask(sig, { msg_type: 28, user_id: CAROL.user_id, subscribe: true }, is29, 'msg 29')).toMatchObject({ status_code: 0 });
    const dup = await ask(sig, { msg_type: 28, user_id: CAROL.user_id, subscribe: true }, is29, 'msg 29 duplicate');
    expect(dup).toEqual({ msg_type: 29, user_id: CAROL.user_id, status_code: 44, reason: expect.stringMatching(/already subscribed/) });

    // Nobody with that id is in the meeting (spec §5 has no dedicated code: 4 INVALID_PAYLOAD).
    const unknown = await ask(sig, { msg_type: 28, user_id: 42, subscribe: true }, is29, 'msg 29 unknown');
    expect(unknown).toEqual({ msg_type: 29, user_id: 42, status_code: 4, reason: expect.stringMatching(/not in the meeting/) });
    const mark = video.received.length;
    await until(() => frames(video, mark).length >= 3, 3000, 'frames after the refused subscription');
    for (const r of frames(video, mark)) expect(r.msg.content.user_id).toBe(CAROL.user_id);

    // A participant who left cannot be subscribed to either.
    expect((await mock!.api('POST', `${meetingPath(c.meeting_uuid)}/participants/${BOB.user_id}/leave`)).status).toBe(200);
    expect(await ask(sig, { msg_type: 28, user_id: BOB.user_id, subscribe: true }, is29, 'msg 29 left')).toMatchObject({ status_code: 4 });

    expect(await ask(sig, { msg_type: 28, user_id: CAROL.user_id, subscribe: false }, is29, 'msg 29 unsubscribe'))
      .toEqual({ msg_type: 29, user_id: CAROL.user_id, status_code: 0, reason: 'OK' });
    // The server's own counter: nothing sent after the unsubscribe (a few frame intervals).
    const n = await sentVideo(c.meeting_uuid);
    await Bun.sleep(350);
    expect(await sentVideo(c.meeting_uuid)).toBe(n);
  });

  test('spec §4.4/§5 without video data_opt 4 → 29 with 29 INVALID_MEDIA_VIDEO_DATA_OPT; wrong field types → 29 with 4', async () => {
    const { sig } = await live({ paths: ['audio'] }); // no video at all
    expect(await ask(sig, { msg_type: 28, user_id: ALICE.user_id, subscribe: true }, is29, 'msg 29'))
      .toEqual({ msg_type: 29, user_id: ALICE.user_id, status_code: 29, reason: expect.stringMatching(/data_opt 4/) });
    const cases: [Record<string, unknown>, unknown][] = [
      [{ user_id: 'alice', subscribe: true }, 'alice'],
      [{ user_id: ALICE.user_id }, ALICE.user_id],
      [{ user_id: ALICE.user_id, subscribe: 'yes' }, ALICE.user_id],
      [{ user_id: 1.5, subscribe: true }, 1.5],
      [{ subscribe: true }, null],
    ];
    for (const [body, echoed] of cases) {
      const r = await ask(sig, { msg_type: 28, ...body }, is29, `msg 29 for ${JSON.stringify(body)}`);
      expect(r).toEqual({ msg_type: 29, user_id: echoed, status_code: 4, reason: expect.any(String) });
    }
    expect(sig.isClosed).toBe(false);
  });
});

describe('EVENT_SUBSCRIPTION 5 and EVENT_UPDATE 6 (spec §4.3)', () => {
  const events = (ws: WsClient, from = 0) => sigFrom(ws, from).filter((m) => m.msg_type === 6).map((m) => m.event);
  const sub = (pairs: [number, boolean][]) => ({ msg_type: 5, events: pairs.map(([event_type, subscribe]) => ({ event_type, subscribe })) });

  test('spec §4.3 subscribed events arrive with their fields, unsubscribed ones do not; msg 5 gets no reply', async () => {
    const { created, app, sig } = await live({ ready: false });
    const p = (id: number, action: string) => mock!.api('POST', `${meetingPath(created.meeting_uuid)}/participants/${id}/${action}`);
    sig.send(sub([[3, true], [4, true], [8, true], [9, true]]));
    app.ready();
    await sig.next((m) => m?.msg_type === 9, 3000, 'SESSION_STATE_UPDATE');
    await barrier(sig, created.rtms_stream_id);
    // Activation: FIRST_PACKET_TIMESTAMP (always sent), then the roster (README Decision) for the subscribed types.
    // ACTIVE_SPEAKER_CHANGE (2) and SHARING_START (5) are not subscribed: not sent.
    expect(events(sig)).toEqual([
      { event_type: 1, timestamp: expect.any(Number) },
      { event_type: 3, timestamp: expect.any(Number), participants: [ALICE, BOB, CAROL] },
      { event_type: 8, timestamp: expect.any(Number), participants: [{ user_id: ALICE.user_id }, { user_id: BOB.user_id }, { user_id: CAROL.user_id }] },
    ]);
    expect(sigFrom(sig, 0).filter((m) => m.msg_type === 5)).toEqual([]); // no reply to a valid msg 5

    let mark = sig.received.length;
    expect((await p(BOB.user_id, 'leave')).status).toBe(200);
    expect((await p(ALICE.user_id, 'camera-off')).status).toBe(200);
    await barrier(sig, created.rtms_stream_id);
    expect(events(sig, mark)).toEqual([
      { event_type: 4, timestamp: expect.any(Number), participants: [{ user_id: BOB.user_id }] },
      { event_type: 9, timestamp: expect.any(Number), participants: [{ user_id: ALICE.user_id }] },
    ]);

    // Unsubscribe 4 and 9: joins and camera-on still arrive, leaves and camera-off no longer do.
    sig.send(sub([[4, false], [9, false]]));
    mark = sig.received.length;
    expect((await p(BOB.user_id, 'join')).status).toBe(200);
    expect((await p(CAROL.user_id, 'leave')).status).toBe(200);
    expect((await p(ALICE.user_id, 'camera-on')).status).toBe(200);
    expect((await p(ALICE.user_id, 'camera-off')).status).toBe(200);
    await barrier(sig, created.rtms_stream_id);
    expect(events(sig, mark)).toEqual([
      { event_type: 3, timestamp: expect.any(Number), participants: [BOB] },
      { event_type: 8, timestamp: expect.any(Number), participants: [{ user_id: ALICE.user_id }] },
    ]);
    expect(sigFrom(sig, mark).map((m) => m.msg_type)).toEqual([6, 6, 20]); // no reply to msg 5 either
  });

  test('spec §4.3 events 1 and 7 are sent even when unsubscribed', async () => {
    const { app, sig } = await live({ ready: false });
    sig.send(sub([[1, false], [7, false]]));
    app.ready();
    expect(await sig.next((m) => m?.msg_type === 6, 3000, 'event 1')).toEqual({ msg_type: 6, event: { event_type: 1, timestamp: expect.any(Number) } });
    app.media.get('audio')!.close(); // media lost → event 7 (spec §4.1)
    expect(await sig.next((m) => m?.msg_type === 6, 3000, 'event 7')).toEqual({ msg_type: 6, event: { event_type: 7, timestamp: expect.any(Number) } });
    expect(await sig.next((m) => m?.msg_type === 8, 3000, 'state 2')).toMatchObject({ state: 2, reason: 14 });
  });

  test('spec §5 invalid subscriptions → 5 / 6 / 42 on msg 5, nothing applied, the socket stays open', async () => {
    const { created, sig } = await live();
    await sig.next((m) => m?.msg_type === 9, 3000, 'SESSION_STATE_UPDATE');
    const is5 = (m: any) => m?.msg_type === 5;
    const cases: [unknown, number][] = [
      [{ msg_type: 5 }, 5],
      [{ msg_type: 5, events: { event_type: 4, subscribe: true } }, 5],
      [{ msg_type: 5, events: [4] }, 5],
      [{ msg_type: 5, events: [{ event_type: 10, subscribe: true }] }, 6],
      [{ msg_type: 5, events: [{ event_type: 0, subscribe: true }] }, 6],
      [{ msg_type: 5, events: [{ event_type: '4', subscribe: true }] }, 6],
      [{ msg_type: 5, events: [{ subscribe: true }] }, 6],
      [{ msg_type: 5, events: [{ event_type: 4, subscribe: 'yes' }] }, 42],
      [{ msg_type: 5, events: [{ event_type: 4 }] }, 42],
      // One bad entry refuses the whole message: event 4 must not be subscribed by its valid first entry.
      [{ msg_type: 5, events: [{ event_type: 4, subscribe: true }, { event_type: 99, subscribe: true }] }, 6],
    ];
    for (const [req, status] of cases) {
      const r = await ask(sig, req, is5, `reply to ${JSON.stringify(req)}`);
      expect({ req, r }).toEqual({ req, r: { msg_type: 5, status_code: status, reason: expect.any(String) } });
    }
    const mark = sig.received.length;
    expect((await mock!.api('POST', `${meetingPath(created.meeting_uuid)}/participants/${CAROL.user_id}/leave`)).status).toBe(200);
    await barrier(sig, created.rtms_stream_id);
    expect(events(sig, mark)).toEqual([]);
    expect(sig.isClosed).toBe(false);
  });
});

describe('requests too early or malformed (spec §5)', () => {
  test.each([
    ['EVENT_SUBSCRIPTION', { msg_type: 5, events: [{ event_type: 3, subscribe: true }] }],
    ['CLIENT_READY_ACK', { msg_type: 7, rtms_stream_id: 'x' }],
    ['SESSION_STATE_REQ', { msg_type: 10, rtms_session_id: 'x' }],
    ['STREAM_STATE_REQ', { msg_type: 19, rtms_stream_id: 'x' }],
    ['STREAM_CLOSE_REQ', { msg_type: 21, rtms_stream_id: 'x' }],
    ['VIDEO_SUBSCRIPTION_REQ', { msg_type: 28, user_id: 16778240, subscribe: true }],
  ])('spec §5 %s before the signaling handshake → msg 2 with 1 INVALID_MESSAGE_TYPE, closed 1000', async (_name, req) => {
    mock = await startMock();
    await expectRefused(signalingUrl(mock), req, 2, 1, /handshake/);
  });

  test('spec §5 a request before the handshake leaves the stream untouched: the real handshake still succeeds', async () => {
    mock = await startMock();
    const c: Created = await mock.startMeeting(null);
    await expectRefused(signalingUrl(mock), { msg_type: 21, rtms_stream_id: c.rtms_stream_id }, 2, 1);
    const { ws } = await openSignaling(mock, c);
    sockets.add(ws);
    const r = await ask(ws, { msg_type: 19, rtms_stream_id: c.rtms_stream_id }, (m) => m?.msg_type === 20, 'msg 20');
    expect(r).toMatchObject({ rtms_stream_id: c.rtms_stream_id, state: 0 });
  });

  test('spec §5 missing or mistyped fields after the handshake → the request\'s msg_type with 4; the socket stays open', async () => {
    const { created, sig } = await live();
    await sig.next((m) => m?.msg_type === 9, 3000, 'SESSION_STATE_UPDATE');
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ msg_type: 10 }, /rtms_session_id/],
      [{ msg_type: 10, rtms_session_id: 7 }, /rtms_session_id/],
      [{ msg_type: 19 }, /rtms_stream_id/],
      [{ msg_type: 19, rtms_stream_id: ['a'] }, /rtms_stream_id/],
      [{ msg_type: 21 }, /rtms_stream_id/],
      [{ msg_type: 21, rtms_stream_id: null }, /rtms_stream_id/],
    ];
    for (const [req, reason] of cases) {
      const r = await ask(sig, req, (m) => m?.msg_type === req.msg_type && 'status_code' in m, `reply to ${JSON.stringify(req)}`);
      expect({ req, r }).toEqual({ req, r: { msg_type: req.msg_type, status_code: 4, reason: expect.stringMatching(reason) } });
    }
    // A malformed STREAM_CLOSE_REQ closed nothing.
    const st = await ask(sig, { msg_type: 19, rtms_stream_id: created.rtms_stream_id }, (m) => m?.msg_type === 20, 'msg 20');
    expect(st).toMatchObject({ state: 1 });
  });

  test('spec §3.4/§5 CLIENT_READY_ACK for another stream or with a mistyped id → 41 and no media; the right one starts it', async () => {
    const { created, app, sig } = await live({ ready: false });
    const other = await mock!.startMeeting(null);
    const is7 = (m: any) => m?.msg_type === 7;
    expect(await ask(sig, { msg_type: 7, rtms_stream_id: other.rtms_stream_id }, is7, 'reply to msg 7'))
      .toEqual({ msg_type: 7, status_code: 41, reason: expect.any(String) });
    expect(await ask(sig, { msg_type: 7, rtms_stream_id: 12 }, is7, 'reply to msg 7')).toMatchObject({ status_code: 41 });
    await barrier(sig, created.rtms_stream_id);
    expect(sigFrom(sig, 0).some((m) => m.msg_type === 6 || m.msg_type === 8)).toBe(false);
    expect(app.media.get('audio')!.received.some((r) => r.msg?.msg_type === 14)).toBe(false);

    app.ready();
    await app.media.get('audio')!.next((m) => m?.msg_type === 14, 3000, 'audio');
    // spec §3.4: extra acks are harmless (no second FIRST_PACKET_TIMESTAMP or ACTIVE).
    app.ready();
    await barrier(sig, created.rtms_stream_id);
    expect(sigFrom(sig, 0).filter((m) => m.msg_type === 6 || m.msg_type === 8).length).toBe(2);
  });
});
