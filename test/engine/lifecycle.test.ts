// The stream's life over real sockets and real HTTP: reconnection windows after a signaling or media loss
// (spec §4.1), and pause / resume / stop / start / end driven through the control API (spec §4.2, §6).
import { afterEach, describe, expect, test } from 'bun:test';
import { startReferenceApp, type ReferenceApp, type ReferenceAppOptions, type StreamSession } from '../../src/client/reference-app.ts';
import { startMock, type TestMock } from '../helpers/mock.ts';
import { until } from '../helpers/driven-app.ts';
import { WsClient, sign } from '../helpers/ws-client.ts';
import type { CreateMockOptions } from '../../src/app.ts';

let mock: TestMock | null = null;
let app: ReferenceApp | null = null;
const extraSockets: WsClient[] = [];
afterEach(async () => {
  for (const c of extraSockets.splice(0)) c.close();
  await app?.stop();
  await mock?.stop({ graceful: false });
  app = null; mock = null;
});

/** Audio + transcript on one `all` socket: no video rendering, so each test stays fast. */
async function setup(over: CreateMockOptions = {}, appOpts: ReferenceAppOptions = {}) {
  mock = await startMock({ webhookBackoffMs: 20, ...over });
  app = await startReferenceApp({ log: false, mediaTypes: 9, ...appOpts });
  const created = await mock.startMeeting(app.url);
  const s = await until(() => app!.streams.get(created.rtms_stream_id), 3000, 'stream session');
  await app.waitFor((o) => o.kind === 'message' && o.msg.msg_type === 14, 5000, { label: 'first audio' });
  return { created, s, uuidPath: `/api/meetings/${encodeURIComponent(created.meeting_uuid)}` };
}

const sig = (msgs: StreamSession['messages']) => msgs.filter((m) => m.socket === 'signaling').map((m) => m.msg);
const audioTs = (msgs: StreamSession['messages']) => msgs.filter((m) => m.msg.msg_type === 14).map((m) => m.msg.content.timestamp as number);
const webhook = (event: string, streamId?: string) => app!.waitFor(
  (o) => o.kind === 'webhook' && o.event === event && (streamId === undefined || o.body.payload.rtms_stream_id === streamId), 5000, { label: event },
).then((o) => (o.kind === 'webhook' ? o : (undefined as never)));

async function streamJson(uuidPath: string, i = -1) {
  const r = await mock!.api('GET', uuidPath);
  expect(r.status).toBe(200);
  return r.body.streams.at(i);
}

describe('reconnection windows (spec §4.1)', () => {
  test('signaling closed by the app → rtms_interrupted, INTERRUPTED; both handshakes + msg 7 in the window resume media on the grid', async () => {
    const { created, s, uuidPath } = await setup({ signalingWindowMs: 4000 }, { reconnectDelaysMs: [300] });
    const origin = (await mock!.api('GET', uuidPath)).body.created_at as number;
    await Bun.sleep(100);
    const firstFpt = sig(s.messages).find((m) => m.msg_type === 6 && m.event.event_type === 1)!.event.timestamp;

    const cut = s.messages.length;
    await app!.closeSocket(created.rtms_stream_id, 'signaling', { reconnect: true });
    const before = s.messages.slice(0, cut);

    // Within the window: INTERRUPTED, and the rtms_interrupted webhook with the flat payload.
    const during = await until(async () => { const st = await streamJson(uuidPath); return st.stream_state === 2 ? st : null; }, 2000, 'INTERRUPTED');
    expect(during).toMatchObject({ phase: 'interrupted', reconnection_window: 'signaling', stop_reason: null });
    const intr = await webhook('meeting.rtms_interrupted');
    expect(intr.body.payload).toEqual({ meeting_uuid: created.meeting_uuid, rtms_stream_id: created.rtms_stream_id });

    // The app redoes both handshakes and msg 7: a new FIRST_PACKET_TIMESTAMP, ACTIVE, media again.
    // Audio the mock sent before it saw the close can still land after the cut: the new stream's media is what
    // follows the new FIRST_PACKET_TIMESTAMP.
    const isFpt = (m: StreamSession['messages'][number]) => m.socket === 'signaling' && m.msg.msg_type === 6 && m.msg.event?.event_type === 1;
    const fptAt = () => { const i = s.messages.slice(cut).findIndex(isFpt); return i < 0 ? -1 : cut + i; };
    await until(() => fptAt() >= 0 && audioTs(s.messages.slice(fptAt())).length >= 5, 5000, 'audio after reconnect');
    const after = s.messages.slice(fptAt());
    const inFlight = audioTs(s.messages.slice(cut, fptAt()));
    const sigAfter = sig(s.messages.slice(cut));
    const fpt = sigAfter.find((m) => m.msg_type === 6 && m.event.event_type === 1);
    expect(fpt).toBeDefined();
    expect(sigAfter.find((m) => m.msg_type === 8)).toMatchObject({ state: 1 });
    expect(s.handshakes).toBe(2);
    expect(s.sent.filter((m) => m.socket === 'signaling' && m.msg.msg_type === 7).length).toBe(2);

    // Timestamps stay on the meeting's 20 ms grid (spec §8) and continue forwards.
    const pre = [...audioTs(before), ...inFlight];
    const post = audioTs(after);
    for (const ts of [...pre, ...post, firstFpt, fpt.event.timestamp]) expect((ts - origin) % 20).toBe(0);
    expect(fpt.event.timestamp).toBeGreaterThan(pre.at(-1)!);
    expect(post[0]!).toBeGreaterThanOrEqual(fpt.event.timestamp);
    // Every step 20 ms; a failure lists the odd steps with their offsets from the first packet.
    const odd = post.slice(1).flatMap((t, i) => (t - post[i]! === 20 ? [] : [`${post[i]! - fpt.event.timestamp}→${t - fpt.event.timestamp}`]));
    expect(odd).toEqual([]);

    const st = await streamJson(uuidPath);
    expect(st).toMatchObject({ stream_state: 1, reconnection_window: null, stop_reason: null });
    expect(st.history).toMatchObject({ interruptions: 1, reconnections: 1, signalingHandshakes: 2 });
    expect(app!.webhooks.some((w) => w.event === 'meeting.rtms_stopped')).toBe(false);
  });

  test('signaling closed and never reopened → stopped with 19 AWAIT_RECONNECTION_TIMEOUT after the window', async () => {
    const WINDOW = 300;
    const { created, s, uuidPath } = await setup({ signalingWindowMs: WINDOW }, { reconnect: false });
    const closedAt = Date.now();
    await app!.closeSocket(created.rtms_stream_id, 'signaling');
    await webhook('meeting.rtms_interrupted');
    const stopped = await webhook('meeting.rtms_stopped');
    expect(stopped.receivedAt - closedAt).toBeGreaterThanOrEqual(WINDOW - 20);
    expect(stopped.body.payload).toEqual({ meeting_uuid: created.meeting_uuid, rtms_stream_id: created.rtms_stream_id, stop_reason: 19 });
    expect(await streamJson(uuidPath)).toMatchObject({ stream_state: 4, session_state: 5, stop_reason: 19 });
    expect(s.closes.find((c) => c.socket === 'all')).toBeDefined(); // media was closed with its signaling

    // A late signaling handshake for the stopped stream is refused (spec §5: 2 INVALID_RTMS_STREAM_ID).
    const late = await WsClient.open(created.server_urls);
    extraSockets.push(late);
    late.send({ msg_type: 1, meeting_uuid: created.meeting_uuid, rtms_stream_id: created.rtms_stream_id, signature: sign(created.meeting_uuid, created.rtms_stream_id) });
    expect(await late.next((m) => m?.msg_type === 2)).toMatchObject({ status_code: 2 });
  });

  test('media closed → event 7 + state 2/14; a new data handshake in the window restores media (ACTIVE)', async () => {
    const { created, s, uuidPath } = await setup({ mediaWindowMs: 4000 }, { reconnectDelaysMs: [300] });
    const cut = s.messages.length;
    await app!.closeSocket(created.rtms_stream_id, 'all', { reconnect: true });

    await app!.waitFor((o) => o.kind === 'message' && o.socket === 'signaling' && o.msg.msg_type === 6 && o.msg.event.event_type === 7, 3000, { label: 'event 7' });
    await app!.waitFor((o) => o.kind === 'message' && o.socket === 'signaling' && o.msg.msg_type === 8 && o.msg.state === 2, 3000, { label: 'state 2' });
    const interrupted = sig(s.messages.slice(cut)).filter((m) => m.msg_type === 8 || m.msg_type === 6);
    expect(interrupted[0]).toMatchObject({ msg_type: 6, event: { event_type: 7 } });
    expect(interrupted[1]).toMatchObject({ msg_type: 8, state: 2, reason: 14, stop_reason: 14 });
    // The signaling socket stays; the API shows the media window; a state query agrees with the update.
    expect(s.sockets.has('signaling')).toBe(true);
    expect(await streamJson(uuidPath)).toMatchObject({ reconnection_window: 'media', stream_state: 2 });
    app!.send(created.rtms_stream_id, 'signaling', { msg_type: 19, rtms_stream_id: created.rtms_stream_id });
    const resp = await app!.waitFor((o) => o.kind === 'message' && o.msg.msg_type === 20, 2000, { label: 'msg 20' });
    expect(resp.kind === 'message' && resp.msg).toMatchObject({ rtms_stream_id: created.rtms_stream_id, state: 2 });

    // The app re-handshakes its media socket: STREAM_STATE_UPDATE ACTIVE, media flows again.
    await until(() => sig(s.messages.slice(cut)).some((m) => m.msg_type === 8 && m.state === 1), 3000, 'ACTIVE after media reconnect');
    const n = audioTs(s.messages.slice(cut)).length;
    await until(() => audioTs(s.messages.slice(cut)).length >= n + 5, 3000, 'audio after media reconnect');
    expect(await streamJson(uuidPath)).toMatchObject({ stream_state: 1, reconnection_window: null, stop_reason: null });
    expect((await streamJson(uuidPath)).history).toMatchObject({ dataHandshakes: 2, reconnections: 1, signalingHandshakes: 1 });
    expect(app!.webhooks.some((w) => w.event !== 'meeting.rtms_started')).toBe(false); // no interrupted/stopped
  });

  test('media closed and never reopened → stopped with 19 after the media window', async () => {
    const WINDOW = 300;
    const { created, s, uuidPath } = await setup({ mediaWindowMs: WINDOW }, { reconnect: false });
    const closedAt = Date.now();
    await app!.closeSocket(created.rtms_stream_id, 'all');
    const stopped = await webhook('meeting.rtms_stopped');
    expect(stopped.receivedAt - closedAt).toBeGreaterThanOrEqual(WINDOW - 20);
    expect(stopped.body.payload.stop_reason).toBe(19);
    const states = sig(s.messages).filter((m) => m.msg_type === 8);
    expect(states.at(-2)).toMatchObject({ state: 2, reason: 14 });
    expect(states.at(-1)).toMatchObject({ state: 4, reason: 19, stop_reason: 19 });
    expect(sig(s.messages).filter((m) => m.msg_type === 9).at(-1)).toMatchObject({ state: 5, stop_reason: 19, reason: 19 });
    expect(await streamJson(uuidPath)).toMatchObject({ stream_state: 4, stop_reason: 19 });
    expect(app!.webhooks.some((w) => w.event === 'meeting.rtms_interrupted')).toBe(false);
  });
});

describe('control through the API (spec §4.2, §6)', () => {
  test('pause → 5 / session 3 and media stops; resume → 6 / session 4 and media continues; invalid transitions 409', async () => {
    const { created, s, uuidPath } = await setup();
    const origin = (await mock!.api('GET', uuidPath)).body.created_at as number;

    expect((await mock!.api('POST', `${uuidPath}/rtms/resume`)).status).toBe(409); // resume when active
    const cut = s.messages.length;
    const p = await mock!.api('POST', `${uuidPath}/rtms/pause`);
    expect(p.status).toBe(200);
    expect(p.body).toMatchObject({ ok: true, rtms_stream_id: created.rtms_stream_id, phase: 'paused' });
    await until(() => sig(s.messages.slice(cut)).some((m) => m.msg_type === 9), 2000, 'session PAUSED');
    expect(sig(s.messages.slice(cut)).filter((m) => m.msg_type === 8 || m.msg_type === 9)).toEqual([
      { msg_type: 8, state: 5, reason: 0, stop_reason: 0, timestamp: expect.any(Number) },
      { msg_type: 9, rtms_session_id: expect.any(String), state: 3, stop_reason: 0, reason: 0, timestamp: expect.any(Number) },
    ]);
    expect(await streamJson(uuidPath)).toMatchObject({ stream_state: 5, session_state: 3 });

    // Media stops: nothing new after the in-flight frames have landed.
    await Bun.sleep(100);
    const pausedCount = audioTs(s.messages).length;
    await Bun.sleep(300);
    expect(audioTs(s.messages).length).toBe(pausedCount);

    const again = await mock!.api('POST', `${uuidPath}/rtms/pause`);
    expect(again.status).toBe(409);
    expect(again.body.error.message).toMatch(/cannot pause.*paused/);

    const cut2 = s.messages.length;
    const r = await mock!.api('POST', `${uuidPath}/rtms/resume`);
    expect(r.status).toBe(200);
    expect(r.body.phase).toBe('active');
    await until(() => audioTs(s.messages.slice(cut2)).length >= 5, 3000, 'audio after resume');
    const resumed = sig(s.messages.slice(cut2)).filter((m) => m.msg_type === 8 || m.msg_type === 9);
    expect(resumed[0]).toMatchObject({ msg_type: 8, state: 6 });
    expect(resumed[1]).toMatchObject({ msg_type: 9, state: 4 });
    for (const ts of audioTs(s.messages.slice(cut2))) expect((ts - origin) % 20).toBe(0);
    expect(await streamJson(uuidPath)).toMatchObject({ stream_state: 6, session_state: 4 });

    const bad = await mock!.api('POST', `${uuidPath}/rtms/resume`);
    expect(bad.status).toBe(409);
    expect(bad.body.error).toMatchObject({ code: 'invalid_state', message: expect.stringMatching(/cannot resume/) });
    const start = await mock!.api('POST', `${uuidPath}/rtms/start`);
    expect(start.status).toBe(409);
    expect(start.body.error.message).toMatch(/already running/);
  });

  test('stop → TERMINATED reason 1 on signaling and every media socket, STOPPED, sockets closed, rtms_stopped; start gives a new stream; stop {reason:25}', async () => {
    const { created, s, uuidPath } = await setup({}, { mediaMode: 'split', mediaTypes: 9 });
    expect([...s.sockets.keys()].sort()).toEqual(['audio', 'signaling', 'transcript']);

    const r = await mock!.api('POST', `${uuidPath}/rtms/stop`);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ ok: true, rtms_stream_id: created.rtms_stream_id, phase: 'stopped' });
    const stopped = await webhook('meeting.rtms_stopped');
    expect(stopped.body.payload).toEqual({ meeting_uuid: created.meeting_uuid, rtms_stream_id: created.rtms_stream_id, stop_reason: 1 });

    for (const socket of ['signaling', 'audio', 'transcript']) {
      const term = s.messages.find((m) => m.socket === socket && m.msg.msg_type === 8 && m.msg.state === 4);
      expect(term?.msg).toEqual({ msg_type: 8, state: 4, reason: 1, stop_reason: 1, timestamp: expect.any(Number) });
    }
    const sess = sig(s.messages).find((m) => m.msg_type === 9 && m.state === 5);
    expect(sess).toEqual({ msg_type: 9, rtms_session_id: expect.any(String), state: 5, stop_reason: 1, reason: 1, timestamp: expect.any(Number) });
    await until(() => s.sockets.size === 0, 2000, 'sockets closed');
    const st = await streamJson(uuidPath);
    expect(st).toMatchObject({ stream_state: 4, session_state: 5, stop_reason: 1 });
    expect(st.signaling === null || st.signaling.closed).toBe(true);
    for (const m of st.media) expect(m.closed).toBe(true);
    await until(async () => (await mock!.api('GET', '/api/stats')).body.connections === 0, 2000, 'no connections');

    // Nothing to stop, pause or resume any more.
    for (const action of ['stop', 'pause', 'resume']) {
      const x = await mock!.api('POST', `${uuidPath}/rtms/${action}`);
      expect(x.status).toBe(409);
      expect(x.body.error.message.length).toBeGreaterThan(10);
    }

    // Start again: a new rtms_stream_id and a new rtms_started, which the app follows.
    const again = await mock!.api('POST', `${uuidPath}/rtms/start`);
    expect(again.status).toBe(200);
    const newId = again.body.rtms_stream_id as string;
    expect(newId).toMatch(/^[0-9a-f]{32}$/);
    expect(newId).not.toBe(created.rtms_stream_id);
    const started2 = await webhook('meeting.rtms_started', newId);
    expect(started2.body.payload).toMatchObject({ meeting_uuid: created.meeting_uuid, rtms_stream_id: newId, server_urls: created.server_urls });
    await app!.waitFor((o) => o.kind === 'message' && o.streamId === newId && o.msg.msg_type === 14, 5000, { label: 'audio on the new stream' });
    const meeting = (await mock!.api('GET', uuidPath)).body;
    expect(meeting.rtms_stream_id).toBe(newId);
    expect(meeting.streams.map((x: any) => x.stream_state)).toEqual([4, 1]);

    const s2 = app!.streams.get(newId)!;
    const stop25 = await mock!.api('POST', `${uuidPath}/rtms/stop`, { reason: 25 });
    expect(stop25.status).toBe(200);
    const stopped2 = await webhook('meeting.rtms_stopped', newId);
    expect(stopped2.body.payload.stop_reason).toBe(25);
    expect(sig(s2.messages).find((m) => m.msg_type === 8 && m.state === 4)).toMatchObject({ reason: 25, stop_reason: 25 });
    expect(s2.messages.find((m) => m.socket === 'audio' && m.msg.msg_type === 8 && m.msg.state === 4)?.msg).toMatchObject({ reason: 25 });
    expect(sig(s2.messages).find((m) => m.msg_type === 9 && m.state === 5)).toMatchObject({ stop_reason: 25, reason: 25 });
  });

  test('DELETE meeting → stop reason 6 MEETING_ENDED; every action afterwards is 409', async () => {
    const { created, s, uuidPath } = await setup();
    const r = await mock!.api('DELETE', uuidPath);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ meeting_uuid: created.meeting_uuid, state: 'ended' });
    const stopped = await webhook('meeting.rtms_stopped');
    expect(stopped.body.payload).toEqual({ meeting_uuid: created.meeting_uuid, rtms_stream_id: created.rtms_stream_id, stop_reason: 6 });
    expect(sig(s.messages).find((m) => m.msg_type === 8 && m.state === 4)).toMatchObject({ reason: 6, stop_reason: 6 });
    expect(sig(s.messages).find((m) => m.msg_type === 9 && m.state === 5)).toMatchObject({ stop_reason: 6, reason: 6 });
    expect(s.messages.find((m) => m.socket === 'all' && m.msg.msg_type === 8 && m.msg.state === 4)?.msg).toMatchObject({ reason: 6 });

    for (const action of ['start', 'stop', 'pause', 'resume']) {
      const x = await mock!.api('POST', `${uuidPath}/rtms/${action}`);
      expect(x.status).toBe(409);
      expect(x.body.error).toMatchObject({ code: 'meeting_ended', message: expect.stringMatching(/ended/) });
    }
    const del = await mock!.api('DELETE', uuidPath);
    expect(del.status).toBe(409);
    expect(del.body.error.message).toMatch(/already ended/);
    // The ended meeting is still listed with its final state.
    const list = await mock!.api('GET', '/api/meetings');
    expect(list.body.meetings.find((m: any) => m.meeting_uuid === created.meeting_uuid)).toMatchObject({ state: 'ended', stream_phase: 'stopped' });
  });
});
