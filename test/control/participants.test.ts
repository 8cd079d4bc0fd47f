// Participant controls through the API produce the events of spec §4.3 and chat messages of spec §7.
import { afterEach, expect, test } from 'bun:test';
import { startReferenceApp, type ReferenceApp } from '../../src/client/reference-app.ts';
import { startMock, type TestMock } from '../helpers/mock.ts';

let mock: TestMock | null = null;
let app: ReferenceApp | null = null;
afterEach(async () => {
  await app?.stop();
  await mock?.stop({ graceful: false });
  app = null; mock = null;
});

async function activeMeeting(events: number[]) {
  mock = await startMock();
  app = await startReferenceApp({ log: false, events });
  const created = await mock.startMeeting(app.url);
  await app.waitFor((o) => o.kind === 'message' && o.msg.msg_type === 14, 5000);
  return { created, path: `/api/meetings/${encodeURIComponent(created.meeting_uuid)}` };
}

const eventOf = (type: number) => (o: any) => o.kind === 'message' && o.msg.msg_type === 6 && o.msg.event.event_type === type;

test('leave and join send PARTICIPANT_LEAVE (4) and PARTICIPANT_JOIN (3) to a subscribed app', async () => {
  const { path } = await activeMeeting([3, 4]);
  // The roster arrives when the stream becomes active (Decision in the README).
  const roster = await app!.waitFor(eventOf(3));
  expect((roster as any).msg.event.participants.map((p: any) => p.user_id).sort()).toEqual([16778240, 16779264, 16780288]);

  const r = await mock!.api('POST', `${path}/participants/16779264/leave`);
  expect(r.status).toBe(200);
  expect(r.body).toEqual({ ok: true, user_id: 16779264, present: false, camera_on: true });
  const left = await app!.waitFor(eventOf(4));
  expect((left as any).msg.event).toEqual({ event_type: 4, timestamp: expect.any(Number), participants: [{ user_id: 16779264 }] });

  expect((await mock!.api('POST', `${path}/participants/16779264/leave`)).status).toBe(409);
  expect((await mock!.api('POST', `${path}/participants/16779264/join`)).status).toBe(200);
  const joined = await app!.waitFor((o) => eventOf(3)(o) && (o as any).msg.event.participants.length === 1);
  expect((joined as any).msg.event.participants).toEqual([{ user_id: 16779264, user_name: 'Bob Okafor' }]);
});

test('camera off/on send PARTICIPANT_VIDEO_OFF (9) / ON (8); unknown participant is 404', async () => {
  const { path } = await activeMeeting([8, 9]);
  expect((await mock!.api('POST', `${path}/participants/16778240/camera-off`)).status).toBe(200);
  const off = await app!.waitFor(eventOf(9));
  expect((off as any).msg.event.participants).toEqual([{ user_id: 16778240 }]);
  expect((await mock!.api('POST', `${path}/participants/16778240/camera-on`)).status).toBe(200);
  await app!.waitFor((o) => eventOf(8)(o) && (o as any).msg.event.participants.length === 1);
  const bad = await mock!.api('POST', `${path}/participants/42/leave`);
  expect(bad.status).toBe(404);
  expect(bad.body.error.message).toContain('no participant 42');
  expect((await mock!.api('POST', `${path}/participants/16778240/dance`)).status).toBe(404);
});

test('events the app did not subscribe to are not sent', async () => {
  const { path } = await activeMeeting([]);
  await mock!.api('POST', `${path}/participants/16780288/leave`);
  await Bun.sleep(150);
  const session = [...app!.streams.values()][0]!;
  const types = session.messages.filter((m) => m.msg.msg_type === 6).map((m) => m.msg.event.event_type);
  expect(types).toEqual([1]); // only FIRST_PACKET_TIMESTAMP (always sent, spec §4.3)
});

test('chat through the API arrives as msg 18 with the sender', async () => {
  const { path } = await activeMeeting([]);
  const r = await mock!.api('POST', `${path}/chat`, { user_id: 16780288, text: 'hello from the API' });
  expect(r.status).toBe(200);
  expect(r.body).toEqual({ ok: true, delivered: 1 });
  const chat = await app!.waitFor((o) => o.kind === 'message' && o.msg.msg_type === 18 && o.msg.content.data === 'hello from the API');
  expect((chat as any).msg.content).toEqual({ user_id: 16780288, user_name: 'Carol Diaz', data: 'hello from the API', timestamp: expect.any(Number) });
  expect((await mock!.api('POST', `${path}/chat`, { text: '' })).status).toBe(400);
  expect((await mock!.api('POST', `${path}/chat`, { user_id: 1, text: 'x' })).status).toBe(409);
});
