// The seed dialect of Zoom's early beta mock (spec §10), end to end over real sockets: signaling at "/" on the
// HTTP port, string msg_types, "status":"STATUS_OK", media_urls, media picked by the URL path and started without
// CLIENT_READY_ACK, state names in state updates, keep-alives, stop — each connection answered in its own dialect.
import { afterEach, describe, expect, test } from 'bun:test';
import { startMock, type TestMock } from '../helpers/mock.ts';
import { until } from '../helpers/driven-app.ts';
import { Sockets, withTimeout, type Created } from '../helpers/handshake-kit.ts';
import { SCRIPT, WarpClock, meetingAtOffset } from '../helpers/rtms-session.ts';
import { WsClient, sign } from '../helpers/ws-client.ts';

let mock: TestMock | null = null;
const sockets = new Sockets();
afterEach(async () => {
  sockets.closeAll();
  await mock?.stop({ graceful: false });
  mock = null;
});

type Ids = { meeting_uuid: string; rtms_stream_id: string };
const meetingPath = (uuid: string) => `/api/meetings/${encodeURIComponent(uuid)}`;

/** A seed request: msg_type by name, the same fields as production (spec §10). */
function seedReq(c: Ids, type: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  return { msg_type: type, protocol_version: 1, meeting_uuid: c.meeting_uuid, rtms_stream_id: c.rtms_stream_id, signature: sign(c.meeting_uuid, c.rtms_stream_id), ...over };
}

/** Answers KEEP_ALIVE_REQ with KEEP_ALIVE_RESP echoing the timestamp, seed style (spec §4.1, §10), while `on()`. */
function answerSeed(ws: WsClient, on: () => boolean = () => true): void {
  ws.ws.addEventListener('message', (e) => {
    if (typeof e.data !== 'string' || !on()) return;
    const m = JSON.parse(e.data);
    if (m.msg_type === 'KEEP_ALIVE_REQ' && ws.ws.readyState === WebSocket.OPEN) ws.send({ msg_type: 'KEEP_ALIVE_RESP', timestamp: m.timestamp });
  });
}

async function open(url: string): Promise<WsClient> {
  return sockets.add(await WsClient.open(url));
}

/** The seed apps' signaling: ws://host:9092/ (spec §10 default ports; here the test's ephemeral HTTP port). */
async function seedSignaling(m: TestMock, c: Ids, answer = true): Promise<{ ws: WsClient; resp: any }> {
  const ws = await open(`ws://127.0.0.1:${m.port}/`);
  if (answer) answerSeed(ws);
  ws.send(seedReq(c, 'SIGNALING_HAND_SHAKE_REQ'));
  const resp = await ws.next((x) => x?.msg_type === 'SIGNALING_HAND_SHAKE_RESP', 3000, 'SIGNALING_HAND_SHAKE_RESP');
  return { ws, resp };
}

/** Data handshake without media_type: the URL path picks the media (spec §10). */
async function seedMedia(url: string, c: Ids, answer = true): Promise<{ ws: WsClient; resp: any }> {
  const ws = await open(url);
  if (answer) answerSeed(ws);
  ws.send(seedReq(c, 'DATA_HAND_SHAKE_REQ'));
  const resp = await ws.next((x) => x?.msg_type === 'DATA_HAND_SHAKE_RESP', 3000, 'DATA_HAND_SHAKE_RESP');
  return { ws, resp };
}

const types = (ws: WsClient, from = 0) => ws.received.slice(from).map((r) => r.msg?.msg_type).filter((t) => t !== 'KEEP_ALIVE_REQ');
const named = (ws: WsClient, type: string) => ws.received.filter((r) => r.msg?.msg_type === type).map((r) => r.msg);

const SEED_OK = { msg_type: 'DATA_HAND_SHAKE_RESP', protocol_version: 1, status: 'STATUS_OK' };

describe('handshakes and media (spec §10)', () => {
  test('spec §10 signaling at "/" → STATUS_OK with media_urls {all, video, audio, transcript}; /audio without msg 7 streams MEDIA_DATA_AUDIO {user_id, data, timestamp}', async () => {
    mock = await startMock();
    const c: Created = await mock.startMeeting(null);
    const origin = (await mock.api('GET', meetingPath(c.meeting_uuid))).body.created_at as number;
    const { ws: sig, resp } = await seedSignaling(mock, c);
    const base = `ws://127.0.0.1:${mock.mediaPort}`;
    // Exactly the seed shape: no status_code, no media_server (spec §10 table).
    expect(resp).toEqual({
      msg_type: 'SIGNALING_HAND_SHAKE_RESP', protocol_version: 1, status: 'STATUS_OK',
      media_urls: { all: `${base}/all`, video: `${base}/video`, audio: `${base}/audio`, transcript: `${base}/transcript` },
    });

    const { ws: audio, resp: dresp } = await seedMedia(resp.media_urls.audio, c);
    expect(dresp).toEqual(SEED_OK);
    // No CLIENT_READY_ACK is ever sent: media starts after the reply (spec §10).
    await until(() => named(audio, 'MEDIA_DATA_AUDIO').length >= 10, 3000, 'ten seed audio messages');
    const msgs = named(audio, 'MEDIA_DATA_AUDIO');
    for (const m of msgs) {
      expect(m).toEqual({ msg_type: 'MEDIA_DATA_AUDIO', content: { user_id: 0, data: expect.any(String), timestamp: expect.any(Number) } });
      expect(Buffer.from(m.content.data, 'base64').length).toBe(640); // L16 16 kHz mono, 20 ms (spec §8 defaults)
      expect((m.content.timestamp - origin) % 20).toBe(0);
    }
    for (let i = 1; i < msgs.length; i++) expect(msgs[i].content.timestamp - msgs[i - 1].content.timestamp).toBe(20);
    // /audio carries audio only; the seed socket sees the reply, then media.
    expect(new Set(types(audio))).toEqual(new Set(['DATA_HAND_SHAKE_RESP', 'MEDIA_DATA_AUDIO']));

    // Signaling: event 1 and the state updates with state names (spec §10: "state":"STARTED").
    await until(() => named(sig, 'SESSION_STATE_UPDATE').length === 1, 3000, 'SESSION_STATE_UPDATE');
    expect(types(sig)).toEqual(['SIGNALING_HAND_SHAKE_RESP', 'EVENT_UPDATE', 'STREAM_STATE_UPDATE', 'SESSION_STATE_UPDATE']);
    expect(named(sig, 'EVENT_UPDATE')[0]).toEqual({ msg_type: 'EVENT_UPDATE', event: { event_type: 1, timestamp: expect.any(Number) } });
    expect(named(sig, 'STREAM_STATE_UPDATE')[0]).toEqual({
      msg_type: 'STREAM_STATE_UPDATE', state: 'ACTIVE', reason: 'STOP_BC_UNDEFINED', stop_reason: 'STOP_BC_UNDEFINED', timestamp: expect.any(Number),
    });
    expect(named(sig, 'SESSION_STATE_UPDATE')[0]).toEqual({
      msg_type: 'SESSION_STATE_UPDATE', rtms_session_id: expect.stringMatching(/^[0-9a-f]{32}$/), state: 'STARTED',
      stop_reason: 'STOP_BC_UNDEFINED', reason: 'STOP_BC_UNDEFINED', timestamp: expect.any(Number),
    });
    // The API records both connections in the seed dialect.
    const st = (await mock.api('GET', meetingPath(c.meeting_uuid))).body.streams[0];
    expect(st).toMatchObject({ stream_state: 1, signaling: { dialect: 'seed' }, media: [{ dialect: 'seed', path: 'audio', media_type: 1 }] });
  });

  test('spec §10 /transcript: MEDIA_DATA_TRANSCRIPT {user_id, data (plain text), timestamp} at the end of the utterance', async () => {
    const clock = new WarpClock();
    mock = await startMock({ clock });
    const first = SCRIPT.utterances[0]!;
    // Start 400 ms before the first utterance ends, so its transcript is due right after the handshakes.
    const m = await meetingAtOffset(mock, clock, first.end_ms - 400);
    const { ws: sig } = await seedSignaling(mock, m);
    const { ws: tr, resp } = await seedMedia(`ws://127.0.0.1:${mock.mediaPort}/transcript`, m);
    expect(resp).toEqual(SEED_OK);
    const t = await tr.next((x) => x?.msg_type === 'MEDIA_DATA_TRANSCRIPT', 3000, 'seed transcript');
    const speaker = SCRIPT.speakers.find((s) => s.key === first.speaker)!;
    expect(t).toEqual({ msg_type: 'MEDIA_DATA_TRANSCRIPT', content: { user_id: speaker.user_id, data: first.text, timestamp: m.createdAt + first.start_ms } });
    expect(new Set(types(tr))).toEqual(new Set(['DATA_HAND_SHAKE_RESP', 'MEDIA_DATA_TRANSCRIPT']));
    expect(types(sig)).not.toContain('MEDIA_DATA_AUDIO');
  });

  test('spec §10 each connection is answered in its own dialect: production media on seed signaling gets msg 4 and integer media', async () => {
    mock = await startMock();
    const c: Created = await mock.startMeeting(null);
    const { ws: sig } = await seedSignaling(mock, c);
    const audio = await open(`ws://127.0.0.1:${mock.mediaPort}/audio`);
    audio.send({ msg_type: 3, meeting_uuid: c.meeting_uuid, rtms_stream_id: c.rtms_stream_id, signature: sign(c.meeting_uuid, c.rtms_stream_id), media_type: 1 });
    expect(await audio.next((x) => x?.msg_type === 4)).toMatchObject({ msg_type: 4, status_code: 0, reason: '', payload_encrypted: false });
    const a = await audio.next((x) => x?.msg_type === 14, 3000, 'production audio');
    expect(a).toEqual({ msg_type: 14, content: { user_id: 0, data: expect.any(String), length: 640, timestamp: expect.any(Number) } });
    // Signaling stays seed.
    await until(() => named(sig, 'STREAM_STATE_UPDATE').length === 1, 3000, 'seed ACTIVE');
    expect(types(sig).every((t) => typeof t === 'string')).toBe(true);

    // And a production app that happens to use "/" is answered in production (the dialect is read per message).
    const other: Created = await mock.startMeeting(null);
    const prod = await open(`ws://127.0.0.1:${mock.port}/`);
    prod.send({ msg_type: 1, meeting_uuid: other.meeting_uuid, rtms_stream_id: other.rtms_stream_id, signature: sign(other.meeting_uuid, other.rtms_stream_id) });
    expect(await prod.next()).toMatchObject({ msg_type: 2, status_code: 0, reason: '', media_server: { server_urls: { all: `ws://127.0.0.1:${mock.mediaPort}/all` } } });
  });

  test('spec §10 a seed data handshake that comes before the signaling handshake starts media once signaling is done', async () => {
    mock = await startMock();
    const c: Created = await mock.startMeeting(null);
    const { ws: audio, resp } = await seedMedia(`ws://127.0.0.1:${mock.mediaPort}/audio`, c);
    expect(resp).toEqual(SEED_OK);
    const { ws: sig } = await seedSignaling(mock, c);
    await audio.next((x) => x?.msg_type === 'MEDIA_DATA_AUDIO', 3000, 'audio after the signaling handshake');
    await until(() => named(sig, 'STREAM_STATE_UPDATE').length === 1, 3000, 'ACTIVE');
    expect(types(sig).slice(0, 3)).toEqual(['SIGNALING_HAND_SHAKE_RESP', 'EVENT_UPDATE', 'STREAM_STATE_UPDATE']);
  });
});

describe('keep-alive, requests, events and stop in the seed dialect (spec §4, §10)', () => {
  test('spec §4.1/§10 KEEP_ALIVE_REQ by name on every socket; KEEP_ALIVE_RESP keeps them; three unanswered on media → event 7 and INTERRUPTED by name', async () => {
    mock = await startMock({ keepAliveMs: 80 });
    const c: Created = await mock.startMeeting(null);
    const { ws: sig } = await seedSignaling(mock, c);
    let answerMedia = true;
    const audio = await open(`ws://127.0.0.1:${mock.mediaPort}/audio`);
    answerSeed(audio, () => answerMedia);
    audio.send(seedReq(c, 'DATA_HAND_SHAKE_REQ'));
    await audio.next((x) => x?.msg_type === 'DATA_HAND_SHAKE_RESP');

    // Six requests per socket, well past three intervals: answered, so both stay open.
    await until(() => named(sig, 'KEEP_ALIVE_REQ').length >= 6 && named(audio, 'KEEP_ALIVE_REQ').length >= 6, 3000, 'six keep-alives each');
    for (const k of [...named(sig, 'KEEP_ALIVE_REQ'), ...named(audio, 'KEEP_ALIVE_REQ')]) {
      expect(k).toEqual({ msg_type: 'KEEP_ALIVE_REQ', timestamp: expect.any(Number) });
    }
    expect(sig.isClosed || audio.isClosed).toBe(false);
    const st = (await mock.api('GET', meetingPath(c.meeting_uuid))).body.streams[0];
    expect(st.signaling.counters.inByType['13']).toBeGreaterThanOrEqual(5);
    expect(st.media[0].counters.inByType['13']).toBeGreaterThanOrEqual(5);

    // Stop answering on media only: dropped, and signaling is told in the seed dialect.
    answerMedia = false;
    await withTimeout(audio.closed, 3000, 'media dropped');
    const ev = await sig.next((x) => x?.msg_type === 'EVENT_UPDATE' && x.event.event_type === 7, 3000, 'event 7');
    expect(ev).toEqual({ msg_type: 'EVENT_UPDATE', event: { event_type: 7, timestamp: expect.any(Number) } });
    expect(await sig.next((x) => x?.msg_type === 'STREAM_STATE_UPDATE', 3000, 'INTERRUPTED')).toEqual({
      msg_type: 'STREAM_STATE_UPDATE', state: 'INTERRUPTED', reason: 'STOP_BC_DATA_CONNECTION_INTERRUPTED',
      stop_reason: 'STOP_BC_DATA_CONNECTION_INTERRUPTED', timestamp: expect.any(Number),
    });
    expect(sig.isClosed).toBe(false);
  });

  test('spec §4.4/§10 STREAM_STATE_REQ, SESSION_STATE_REQ and STREAM_CLOSE_REQ by name are answered by name, states and status as names', async () => {
    mock = await startMock();
    const c: Created = await mock.startMeeting(null);
    const { ws: sig } = await seedSignaling(mock, c);
    const { ws: audio } = await seedMedia(`ws://127.0.0.1:${mock.mediaPort}/audio`, c);
    const sid = (await sig.next((x) => x?.msg_type === 'SESSION_STATE_UPDATE', 3000, 'SESSION_STATE_UPDATE')).rtms_session_id;

    sig.send({ msg_type: 'STREAM_STATE_REQ', rtms_stream_id: c.rtms_stream_id });
    expect(await sig.next((x) => x?.msg_type === 'STREAM_STATE_RESP', 3000, 'STREAM_STATE_RESP'))
      .toEqual({ msg_type: 'STREAM_STATE_RESP', rtms_stream_id: c.rtms_stream_id, state: 'ACTIVE', timestamp: expect.any(Number) });
    sig.send({ msg_type: 'SESSION_STATE_REQ', rtms_session_id: sid });
    expect(await sig.next((x) => x?.msg_type === 'SESSION_STATE_RESP', 3000, 'SESSION_STATE_RESP'))
      .toEqual({ msg_type: 'SESSION_STATE_RESP', rtms_session_id: sid, state: 'STARTED', timestamp: expect.any(Number) });
    sig.send({ msg_type: 'SESSION_STATE_REQ', rtms_session_id: 'nope' });
    expect(await sig.next((x) => x?.msg_type === 'SESSION_STATE_RESP', 3000, 'SESSION_STATE_RESP'))
      .toEqual({ msg_type: 'SESSION_STATE_RESP', rtms_session_id: 'nope', reason: expect.any(String), timestamp: expect.any(Number), status: 'STATUS_INVALID_RTMS_SESSION_ID' });

    sig.send({ msg_type: 'STREAM_CLOSE_REQ', rtms_stream_id: c.rtms_stream_id });
    expect(await sig.next((x) => x?.msg_type === 'STREAM_CLOSE_RESP', 3000, 'STREAM_CLOSE_RESP'))
      .toEqual({ msg_type: 'STREAM_CLOSE_RESP', rtms_stream_id: c.rtms_stream_id, reason: 'OK', timestamp: expect.any(Number), status: 'STATUS_OK' });
    expect((await sig.closed).code).toBe(1000);
    expect(named(sig, 'STREAM_STATE_UPDATE').at(-1)).toEqual({
      msg_type: 'STREAM_STATE_UPDATE', state: 'TERMINATED', reason: 'STOP_BC_RECEIVER_REQUEST_CLOSE', stop_reason: 'STOP_BC_RECEIVER_REQUEST_CLOSE', timestamp: expect.any(Number),
    });
    expect((await audio.closed).code).toBe(1000);
  });

  test('spec §4.3/§10 EVENT_SUBSCRIPTION by name: subscribed PARTICIPANT_LEAVE arrives as EVENT_UPDATE; malformed input gets STATUS_ names', async () => {
    mock = await startMock();
    const c: Created = await mock.startMeeting(null);
    const { ws: sig } = await seedSignaling(mock, c);
    sig.send({ msg_type: 'EVENT_SUBSCRIPTION', events: [{ event_type: 4, subscribe: true }] });
    await seedMedia(`ws://127.0.0.1:${mock.mediaPort}/audio`, c);
    await sig.next((x) => x?.msg_type === 'SESSION_STATE_UPDATE', 3000, 'SESSION_STATE_UPDATE');
    expect((await mock.api('POST', `${meetingPath(c.meeting_uuid)}/participants/16779264/leave`)).status).toBe(200);
    expect(await sig.next((x) => x?.msg_type === 'EVENT_UPDATE' && x.event.event_type === 4, 3000, 'PARTICIPANT_LEAVE'))
      .toEqual({ msg_type: 'EVENT_UPDATE', event: { event_type: 4, timestamp: expect.any(Number), participants: [{ user_id: 16779264 }] } });

    // After the handshake: errors by name, socket kept (README Decision; "ERROR" when no msg_type is known).
    sig.send({ msg_type: 'EVENT_SUBSCRIPTION', events: 'all' });
    expect(await sig.next((x) => x?.status !== undefined && x.msg_type === 'EVENT_SUBSCRIPTION'))
      .toEqual({ msg_type: 'EVENT_SUBSCRIPTION', status: 'STATUS_INVALID_EVENTS', reason: expect.any(String) });
    sig.send({ msg_type: 'NOT_A_MESSAGE' });
    expect(await sig.next((x) => x?.msg_type === 'ERROR')).toEqual({ msg_type: 'ERROR', status: 'STATUS_INVALID_MESSAGE_TYPE', reason: expect.stringContaining('NOT_A_MESSAGE') });
    sig.send('{"msg_type":"STREAM_STATE_REQ",');
    expect(await sig.next((x) => x?.msg_type === 'ERROR')).toEqual({ msg_type: 'ERROR', status: 'STATUS_INVALID_PAYLOAD', reason: expect.any(String) });
    // A second handshake on the live socket: refused by name as a handshake response, socket kept.
    sig.send(seedReq(c, 'SIGNALING_HAND_SHAKE_REQ'));
    expect(await sig.next((x) => x?.msg_type === 'SIGNALING_HAND_SHAKE_RESP'))
      .toEqual({ msg_type: 'SIGNALING_HAND_SHAKE_RESP', protocol_version: 1, status: 'STATUS_DUPLICATE_SIGNAL_REQUEST', reason: expect.stringContaining('duplicate signal request') });
    sig.send({ msg_type: 'STREAM_STATE_REQ', rtms_stream_id: c.rtms_stream_id });
    expect(await sig.next((x) => x?.msg_type === 'STREAM_STATE_RESP')).toMatchObject({ state: 'ACTIVE' });
    expect(sig.isClosed).toBe(false);
  });

  test('spec §1 step 7/§10 stop through the API: TERMINATED / STOPPED with STOP_BC_ names on signaling and media, sockets closed 1000', async () => {
    mock = await startMock();
    const c: Created = await mock.startMeeting(null);
    const { ws: sig } = await seedSignaling(mock, c);
    const { ws: audio } = await seedMedia(`ws://127.0.0.1:${mock.mediaPort}/audio`, c);
    const { ws: tr } = await seedMedia(`ws://127.0.0.1:${mock.mediaPort}/transcript`, c);
    await audio.next((x) => x?.msg_type === 'MEDIA_DATA_AUDIO', 3000, 'audio');
    const mark = sig.received.length;
    expect((await mock.api('POST', `${meetingPath(c.meeting_uuid)}/rtms/stop`)).status).toBe(200);
    const closes = await Promise.all([sig.closed, audio.closed, tr.closed]);
    expect(closes.map((x) => x.code)).toEqual([1000, 1000, 1000]);
    const term = { msg_type: 'STREAM_STATE_UPDATE', state: 'TERMINATED', reason: 'STOP_BC_HOST_TRIGGERED', stop_reason: 'STOP_BC_HOST_TRIGGERED', timestamp: expect.any(Number) };
    expect(sig.received.slice(mark).map((r) => r.msg).filter((m) => m.msg_type !== 'KEEP_ALIVE_REQ')).toEqual([
      term,
      { msg_type: 'SESSION_STATE_UPDATE', rtms_session_id: expect.any(String), state: 'STOPPED', stop_reason: 'STOP_BC_HOST_TRIGGERED', reason: 'STOP_BC_HOST_TRIGGERED', timestamp: expect.any(Number) },
    ]);
    expect(audio.received.at(-1)!.msg).toEqual(term);
    expect(tr.received.at(-1)!.msg).toEqual(term);
  });
});

describe('refusals in the seed dialect (spec §5, §10)', () => {
  test('spec §5/§10 malformed JSON and a bad signature at "/" → SIGNALING_HAND_SHAKE_RESP with a STATUS_ name, closed 1000', async () => {
    mock = await startMock();
    const c: Created = await mock.startMeeting(null);
    const refused = async (payload: unknown, status: string) => {
      const ws = await open(`ws://127.0.0.1:${mock!.port}/`);
      ws.send(payload);
      expect(await ws.next()).toEqual({ msg_type: 'SIGNALING_HAND_SHAKE_RESP', protocol_version: 1, status, reason: expect.any(String) });
      expect((await withTimeout(ws.closed, 3000, 'close')).code).toBe(1000);
    };
    // Before any message is parsed, "/" already answers in the seed form.
    await refused('{"msg_type":"SIGNALING_HAND_SHAKE_REQ",', 'STATUS_INVALID_PAYLOAD');
    await refused(seedReq(c, 'SIGNALING_HAND_SHAKE_REQ', { signature: 'ab'.repeat(32) }), 'STATUS_INVALID_SIGNATURE');
    await refused(seedReq({ meeting_uuid: c.meeting_uuid, rtms_stream_id: 'nope' }, 'SIGNALING_HAND_SHAKE_REQ'), 'STATUS_INVALID_RTMS_STREAM_ID');
    await refused({ msg_type: 'HELLO' }, 'STATUS_INVALID_MESSAGE_TYPE');
  });

  test('spec §5/§10 a seed data handshake with a bad signature → DATA_HAND_SHAKE_RESP STATUS_INVALID_SIGNATURE, closed 1000', async () => {
    mock = await startMock();
    const c: Created = await mock.startMeeting(null);
    await seedSignaling(mock, c);
    const ws = await open(`ws://127.0.0.1:${mock.mediaPort}/audio`);
    ws.send(seedReq(c, 'DATA_HAND_SHAKE_REQ', { signature: '00'.repeat(32) }));
    expect(await ws.next()).toEqual({ msg_type: 'DATA_HAND_SHAKE_RESP', protocol_version: 1, status: 'STATUS_INVALID_SIGNATURE', reason: expect.any(String) });
    expect((await withTimeout(ws.closed, 3000, 'close')).code).toBe(1000);
  });
});
