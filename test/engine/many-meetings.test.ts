// Three meetings at once, each with its own reference app (src/client/reference-app.ts): no crosstalk (each app
// sees only its own meeting's uuid, stream id and session id; its handshakes are signed for its own ids, spec
// §3.2; participant events and chat stay in their meeting, spec §4.3, §7), stopping or ending one leaves the
// others streaming with no gap in their audio (spec §8), and /api/stats and /api/meetings follow along.
import { afterEach, expect, test } from 'bun:test';
import { startReferenceApp, type ReferenceApp, type StreamSession } from '../../src/client/reference-app.ts';
import { startMock, type TestMock } from '../helpers/mock.ts';
import { until } from '../helpers/driven-app.ts';
import { sign } from '../helpers/ws-client.ts';

let mock: TestMock | null = null;
const apps: ReferenceApp[] = [];
afterEach(async () => {
  for (const a of apps.splice(0)) await a.stop();
  await mock?.stop({ graceful: false });
  mock = null;
});

const meetingPath = (uuid: string) => `/api/meetings/${encodeURIComponent(uuid)}`;
const audioTs = (s: StreamSession) => s.messages.filter((m) => m.msg.msg_type === 14).map((m) => m.msg.content.timestamp as number);

interface Party { app: ReferenceApp; created: any; session: StreamSession; sessionId: string; origin: number }

/** Three meetings, each created towards its own app (audio, transcript and chat on one socket; events 3 and 4). */
async function threeMeetings(): Promise<Party[]> {
  mock = await startMock({ webhookBackoffMs: 20 });
  const parties: Party[] = [];
  for (let i = 0; i < 3; i++) {
    const app = await startReferenceApp({ log: false, mediaTypes: 1 | 8 | 16, events: [3, 4] });
    apps.push(app);
    const created = await mock.startMeeting(app.url);
    parties.push({ app, created, session: null as never, sessionId: '', origin: 0 });
  }
  for (const p of parties) {
    await p.app.waitFor((o) => o.kind === 'message' && o.msg.msg_type === 14, 5000, { label: 'first audio' });
    p.session = p.app.streams.get(p.created.rtms_stream_id)!;
    p.sessionId = p.session.messages.find((m) => m.msg.msg_type === 9)!.msg.rtms_session_id;
    const info = (await mock.api('GET', meetingPath(p.created.meeting_uuid))).body;
    p.origin = info.created_at;
    expect(info.streams[0].rtms_session_id).toBe(p.sessionId);
  }
  return parties;
}

/** Round trip on one app's signaling socket: whatever the mock sent it before msg 20 has arrived. */
async function barrier(p: Party): Promise<void> {
  const id = p.created.rtms_stream_id;
  const n = p.session.messages.filter((m) => m.msg.msg_type === 20).length;
  p.app.send(id, 'signaling', { msg_type: 19, rtms_stream_id: id });
  await until(() => p.session.messages.filter((m) => m.msg.msg_type === 20).length > n, 3000, 'msg 20');
}

/** Audio keeps coming and every timestamp so far is consecutive on this meeting's 20 ms grid (spec §8). */
async function stillStreaming(p: Party, more = 10): Promise<void> {
  const n = audioTs(p.session).length;
  await until(() => audioTs(p.session).length >= n + more, 3000, `more audio for ${p.created.meeting_uuid}`);
  const ts = audioTs(p.session);
  for (const t of ts) expect((t - p.origin) % 20).toBe(0);
  for (let i = 1; i < ts.length; i++) {
    if (ts[i]! - ts[i - 1]! !== 20) throw new Error(`audio gap in ${p.created.meeting_uuid}: ${ts[i - 1]} → ${ts[i]}`);
  }
}

test('spec §3.2/§4.3/§7 three meetings at once: each app sees only its own ids, signs for its own ids, gets only its own events and chat', async () => {
  const parties = await threeMeetings();
  const ids = parties.map((p) => [p.created.meeting_uuid, p.created.rtms_stream_id, p.sessionId] as [string, string, string]);
  expect(new Set(ids.flat()).size).toBe(9);

  for (const [i, p] of parties.entries()) {
    const [uuid, streamId] = ids[i]!;
    // One stream per app, the one of its own meeting, announced by its own signed webhook (spec §9).
    expect([...p.app.streams.keys()]).toEqual([streamId]);
    expect(p.app.webhooks.map((w) => [w.event, w.body.payload.meeting_uuid, w.body.payload.rtms_stream_id])).toEqual([['meeting.rtms_started', uuid, streamId]]);
    // spec §3.2: msg 1 and msg 3 carry HMAC(secret, client_id,uuid,stream) of its own ids, computed here.
    const handshakes = p.session.sent.filter((s) => s.msg.msg_type === 1 || s.msg.msg_type === 3).map((s) => s.msg);
    expect(handshakes.map((h) => h.msg_type)).toEqual([1, 3]);
    for (const h of handshakes) {
      expect(h).toMatchObject({ meeting_uuid: uuid, rtms_stream_id: streamId, signature: sign(uuid!, streamId!) });
      for (const [j, other] of ids.entries()) if (j !== i) expect(h.signature).not.toBe(sign(other[0]!, other[1]!));
    }
    // Nothing it received or was sent names another meeting's uuid, stream or session.
    const seen = JSON.stringify([p.session.messages.map((m) => m.msg), p.app.webhooks.map((w) => w.rawBody)]);
    expect(seen).toContain(p.sessionId);
    for (const [j, other] of ids.entries()) {
      if (j === i) continue;
      for (const id of other) expect(seen.includes(JSON.stringify(id).slice(1, -1))).toBe(false);
    }
  }

  // A participant leaves meeting 0: only app 0 hears it (spec §4.3); chat in meeting 1 reaches only app 1 (spec §7).
  const leave = await mock!.api('POST', `${meetingPath(ids[0]![0]!)}/participants/16779264/leave`);
  expect(leave.status).toBe(200);
  const chat = await mock!.api('POST', `${meetingPath(ids[1]![0]!)}/chat`, { user_id: 16780288, text: 'only for meeting one' });
  expect(chat.body).toEqual({ ok: true, delivered: 1 });
  for (const p of parties) await barrier(p);
  const leaves = parties.map((p) => p.session.messages.filter((m) => m.msg.msg_type === 6 && m.msg.event.event_type === 4).map((m) => m.msg.event.participants));
  expect(leaves).toEqual([[[{ user_id: 16779264 }]], [], []]);
  const chats = parties.map((p) => p.session.messages.filter((m) => m.msg.msg_type === 18 && m.msg.content.data === 'only for meeting one').length);
  expect(chats).toEqual([0, 1, 0]);
  // Each roster (README Decision) was its own meeting's: all three present at activation, in every meeting.
  for (const p of parties) {
    const roster = p.session.messages.find((m) => m.msg.msg_type === 6 && m.msg.event.event_type === 3)!.msg.event.participants;
    expect(roster.map((x: any) => x.user_id)).toEqual([16778240, 16779264, 16780288]);
  }
  for (const p of parties) await stillStreaming(p);
});

test('spec §4.2/§6 stopping one meeting\'s stream and ending another leave the third streaming; /api/stats and /api/meetings follow', async () => {
  const [a, b, c] = await threeMeetings();
  const stats = async () => (await mock!.api('GET', '/api/stats')).body;
  expect(await stats()).toMatchObject({ meetings_live: 3, streams_live: 3, connections: 6, signalingOpened: 3, mediaOpened: 3, meetingsCreated: 3, rejected: 0 });

  // Stop B's stream (reason 1 HOST_TRIGGERED): B is told and closed, A and C go on.
  expect((await mock!.api('POST', `${meetingPath(b!.created.meeting_uuid)}/rtms/stop`)).status).toBe(200);
  await b!.app.waitFor((o) => o.kind === 'webhook' && o.event === 'meeting.rtms_stopped', 3000, { label: 'B stopped' });
  expect(b!.app.webhooks.at(-1)!.body.payload).toEqual({ meeting_uuid: b!.created.meeting_uuid, rtms_stream_id: b!.created.rtms_stream_id, stop_reason: 1 });
  await until(() => b!.session.sockets.size === 0, 3000, 'B closed');
  await until(async () => (await stats()).connections === 4, 3000, 'four connections');
  expect(await stats()).toMatchObject({ meetings_live: 3, streams_live: 2, connections: 4 });
  const bCount = b!.session.messages.length;
  await stillStreaming(a!);
  await stillStreaming(c!);
  expect(b!.session.messages.length).toBe(bCount);
  for (const p of [a!, c!]) {
    expect(p.app.webhooks.map((w) => w.event)).toEqual(['meeting.rtms_started']);
    expect(p.session.messages.some((m) => m.msg.msg_type === 8 && m.msg.state !== 1)).toBe(false);
  }

  // End C (stop reason 6 MEETING_ENDED): A alone streams.
  expect((await mock!.api('DELETE', meetingPath(c!.created.meeting_uuid))).status).toBe(200);
  await c!.app.waitFor((o) => o.kind === 'webhook' && o.event === 'meeting.rtms_stopped', 3000, { label: 'C stopped' });
  expect(c!.app.webhooks.at(-1)!.body.payload.stop_reason).toBe(6);
  await until(async () => (await stats()).connections === 2, 3000, 'two connections');
  expect(await stats()).toMatchObject({ meetings: 3, meetings_live: 2, streams_live: 1, connections: 2, signalingOpened: 3, mediaOpened: 3 });

  const list = (await mock!.api('GET', '/api/meetings')).body.meetings;
  const byUuid = Object.fromEntries(list.map((m: any) => [m.meeting_uuid, [m.state, m.stream_phase, m.streams[0].stop_reason]]));
  expect(byUuid).toEqual({
    [a!.created.meeting_uuid]: ['live', 'active', null],
    [b!.created.meeting_uuid]: ['live', 'stopped', 1],
    [c!.created.meeting_uuid]: ['ended', 'stopped', 6],
  });
  // A's per-connection counters keep moving on the server side.
  const sentAudio = async () => (await mock!.api('GET', meetingPath(a!.created.meeting_uuid))).body.streams[0].media[0].sent.audio as number;
  const before = await sentAudio();
  await stillStreaming(a!, 15);
  expect(await sentAudio()).toBeGreaterThanOrEqual(before + 10);
  expect(a!.app.webhooks.map((w) => w.event)).toEqual(['meeting.rtms_started']);
});
