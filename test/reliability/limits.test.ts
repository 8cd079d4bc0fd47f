// Connection and meeting limits (README "Security and limits"; src/engine/limits.ts): total and per-address
// WebSocket limits over all three socket kinds, the per-meeting limit, and live meetings. RTMS sockets beyond a
// limit are closed with 1013 (Try Again Later) and a reason naming the flag; ingest sockets get the error
// message and close 4429 (docs/ingest.md §2); POST /api/meetings beyond --max-meetings is 429. A freed slot is
// usable again, and what was already connected is never disturbed.
import { afterEach, expect, test } from 'bun:test';
import { ConnectionLimiter } from '../../src/engine/limits.ts';
import { startMock, type TestMock } from '../helpers/mock.ts';
import { sign } from '../helpers/ws-client.ts';
import { LeanApp, closedPromise, meetingPath, openWs, stats, until } from './kit.ts';

const mocks: TestMock[] = [];
const sockets: WebSocket[] = [];
const apps: LeanApp[] = [];
afterEach(async () => {
  for (const a of apps.splice(0)) a.close();
  for (const s of sockets.splice(0)) s.close();
  for (const m of mocks.splice(0)) await m.stop({ graceful: false });
});

async function start(over: Parameters<typeof startMock>[0]): Promise<TestMock> {
  const m = await startMock(over);
  mocks.push(m);
  return m;
}

const open = async (url: string) => { const ws = await openWs(url); sockets.push(ws); return ws; };
const json = (d: unknown) => JSON.parse(typeof d === 'string' ? d : new TextDecoder().decode(d as ArrayBuffer));

/** A socket the server closes at once: its close code and reason, and any message sent before. */
async function refused(url: string): Promise<{ code: number; reason: string; msgs: any[] }> {
  const ws = await open(url);
  const msgs: any[] = [];
  ws.addEventListener('message', (e) => msgs.push(json(e.data)));
  const c = await Promise.race([closedPromise(ws), Bun.sleep(5000).then(() => ({ code: -1, reason: 'still open after 5 s' }))]);
  return { ...c, msgs };
}

/** Still open after a moment (the server accepted it). */
async function accepted(ws: WebSocket): Promise<void> {
  await Bun.sleep(100);
  expect(ws.readyState).toBe(WebSocket.OPEN);
}

test('ConnectionLimiter: total and per-address counts, refusals name the flag, release frees exactly one slot', () => {
  const l = new ConnectionLimiter({ maxConnections: 5, maxConnectionsPerAddress: 3 });
  for (let i = 0; i < 3; i++) expect(l.acquire('10.0.0.1')).toBeNull();
  expect(l.acquire('10.0.0.1')).toMatch(/too many connections from 10\.0\.0\.1: 3 \(--max-connections-per-address\)/);
  expect(l.acquire('10.0.0.2')).toBeNull();
  expect(l.acquire('::1')).toBeNull();
  expect(l.acquire('10.0.0.3')).toMatch(/too many connections: 5 open \(--max-connections\)/);
  expect({ count: l.count, addresses: l.addresses, refused: l.refused }).toEqual({ count: 5, addresses: 3, refused: 2 });
  l.release('10.0.0.1');
  expect(l.acquire('10.0.0.3')).toBeNull();
  l.release('never-seen'); // a stray release changes nothing
  expect(l.count).toBe(5);
  for (const a of ['10.0.0.1', '10.0.0.1', '10.0.0.2', '::1', '10.0.0.3']) l.release(a);
  expect({ count: l.count, addresses: l.addresses }).toEqual({ count: 0, addresses: 0 });
});

test('--max-connections-per-address: signaling, media and ingest share the count; beyond it 1013 (RTMS) or 4429 (ingest) naming the flag; a freed slot is usable', async () => {
  const m = await start({ maxConnectionsPerAddress: 4, keepAliveMs: 2000 });
  const live = await m.startMeeting(null, { source: 'browser' });
  const ingestUrl = `ws://127.0.0.1:${m.port}/ingest?meeting_uuid=${encodeURIComponent(live.meeting_uuid)}`;
  const held = [
    await open(`ws://127.0.0.1:${m.port}/signaling`), await open(`ws://127.0.0.1:${m.mediaPort}/all`),
    await open(`ws://127.0.0.1:${m.mediaPort}/audio`), await open(ingestUrl),
  ];
  for (const ws of held) await accepted(ws);
  for (const url of [`ws://127.0.0.1:${m.port}/signaling`, `ws://127.0.0.1:${m.port}/`, `ws://127.0.0.1:${m.mediaPort}/video`]) {
    const r = await refused(url);
    expect(r).toEqual({ code: 1013, reason: 'too many connections from 127.0.0.1: 4 (--max-connections-per-address)', msgs: [] });
  }
  const ing = await refused(ingestUrl);
  expect(ing.code).toBe(4429);
  expect(ing.msgs).toEqual([{ type: 'error', code: 4429, message: 'too many connections from 127.0.0.1: 4 (--max-connections-per-address)' }]);
  expect(await stats(m)).toMatchObject({ connections: 3, ingest_connections: 1, connections_refused: 4 });
  // Free one slot: the next socket is accepted, and it works (a full handshake).
  held[0]!.close();
  await until(async () => (await stats(m)).connections === 2, 3000, 'slot freed');
  const created = await m.startMeeting(null);
  held[1]!.close();
  held[2]!.close();
  await until(async () => (await stats(m)).connections === 0, 3000, 'slots freed');
  const app = new LeanApp({ signalingUrl: created.server_urls, meetingUuid: created.meeting_uuid, streamId: created.rtms_stream_id, mediaType: 1, steps: { 14: 20 } });
  apps.push(app);
  await app.connect();
  await app.waitFor(14, 5);
  expect(app.track(14).problems).toEqual([]);
});

test('--max-connections: the total over every address and socket kind; the refused socket never counts', async () => {
  const m = await start({ maxConnections: 3, keepAliveMs: 2000 });
  const a = await open(`ws://127.0.0.1:${m.port}/signaling`);
  const b = await open(`ws://127.0.0.1:${m.mediaPort}/chat`);
  const c = await open(`ws://127.0.0.1:${m.mediaPort}/all`);
  for (const ws of [a, b, c]) await accepted(ws);
  for (let i = 0; i < 5; i++) {
    const r = await refused(`ws://127.0.0.1:${i % 2 ? m.mediaPort : m.port}/${i % 2 ? 'all' : 'signaling'}`);
    expect([r.code, r.reason]).toEqual([1013, 'too many connections: 3 open (--max-connections)']);
  }
  expect(await stats(m)).toMatchObject({ connections: 3, connections_refused: 5 });
  c.close();
  await until(async () => (await stats(m)).connections === 2, 3000, 'slot freed');
  await accepted(await open(`ws://127.0.0.1:${m.mediaPort}/all`));
  expect((await stats(m)).connections).toBe(3);
});

test('--max-connections-per-meeting: a live meeting\'s app sockets and feeders count together; beyond it 1013 / 4429; the meeting\'s streams and other meetings go on', async () => {
  const m = await start({ maxConnectionsPerMeeting: 3 });
  const live = await m.startMeeting(null, { source: 'browser' });
  const app = new LeanApp({ signalingUrl: live.server_urls, meetingUuid: live.meeting_uuid, streamId: live.rtms_stream_id, path: 'audio', mediaType: 1, steps: { 14: 20 } });
  apps.push(app);
  await app.connect(); // signaling + audio: 2
  await app.waitFor(14, 3);
  const ingestUrl = `ws://127.0.0.1:${m.port}/ingest?meeting_uuid=${encodeURIComponent(live.meeting_uuid)}`;
  const f1 = await open(ingestUrl); // 3
  const welcome = new Promise((resolve) => f1.addEventListener('message', (e) => { const x = json(e.data); if (x.type === 'welcome') resolve(x); }));
  f1.send(JSON.stringify({ type: 'hello', user_name: 'First', camera: false }));
  expect(await welcome).toMatchObject({ type: 'welcome', user_name: 'First' });
  const f2 = await refused(ingestUrl);
  expect(f2.code).toBe(4429);
  expect(f2.msgs).toEqual([{ type: 'error', code: 4429, message: 'too many connections to this meeting: 3 (--max-connections-per-meeting)' }]);
  // The app's fourth socket: the data handshake is refused with 1013 and the reason; its other sockets stay.
  const video = await open(app.mediaUrls.video!);
  const vClosed = closedPromise(video);
  video.send(JSON.stringify({ msg_type: 3, meeting_uuid: live.meeting_uuid, rtms_stream_id: live.rtms_stream_id, signature: app.signature, media_type: 2 }));
  expect(await vClosed).toEqual({ code: 1013, reason: 'too many connections to this meeting: 3 (--max-connections-per-meeting)' });
  // A second app on the same meeting (its own stream): its signaling handshake is refused the same way.
  const s2 = (await m.api('POST', `${meetingPath(live.meeting_uuid)}/streams`, {})).body;
  const sig2 = await open(live.server_urls);
  const s2Closed = closedPromise(sig2);
  sig2.send(JSON.stringify({ msg_type: 1, meeting_uuid: live.meeting_uuid, rtms_stream_id: s2.rtms_stream_id, signature: sign(live.meeting_uuid, s2.rtms_stream_id) }));
  expect((await s2Closed).code).toBe(1013);
  const n = app.track(14).count;
  await app.waitFor(14, n + 10);
  expect(app.track(14).problems).toEqual([]);
  expect(app.signaling!.readyState).toBe(WebSocket.OPEN);
  expect(app.states.map((s) => s.state)).toEqual([1]);
  // Another meeting is not limited by this one.
  const other = await m.startMeeting(null);
  const oApp = new LeanApp({ signalingUrl: other.server_urls, meetingUuid: other.meeting_uuid, streamId: other.rtms_stream_id, mediaType: 1 });
  apps.push(oApp);
  await oApp.connect();
  await oApp.waitFor(14, 3);
  // The first feeder leaves: a new one fits again.
  f1.close();
  await until(async () => (await stats(m)).ingest_connections === 0, 3000, 'feeder gone');
  const f3 = await open(ingestUrl);
  const w3 = new Promise((resolve) => f3.addEventListener('message', (e) => { const x = json(e.data); if (x.type === 'welcome' || x.type === 'error') resolve(x); }));
  f3.send(JSON.stringify({ type: 'hello', user_name: 'Third', camera: false }));
  expect(await w3).toMatchObject({ type: 'welcome' });
  expect((await stats(m)).connections_refused).toBe(3);
});

test('--max-meetings: the next POST /api/meetings is 429 too_many_meetings saying how to fix it; ended meetings do not count; a seed-style known stream is refused with status 2, not an internal error', async () => {
  const m = await start({ maxMeetings: 2 });
  const a = await m.startMeeting(null);
  await m.startMeeting(null, { start_rtms: false });
  const r = await m.api('POST', '/api/meetings', {});
  expect(r.status).toBe(429);
  expect(r.body).toEqual({ error: { code: 'too_many_meetings', message: '2 meetings are live (--max-meetings 2): end some (DELETE /api/meetings/{uuid}) or start the mock with a higher --max-meetings' } });
  // A stream listed in the credentials file would create a meeting on first use (spec §10): not beyond the limit.
  const seed = await open(`ws://127.0.0.1:${m.port}/signaling`);
  const got = new Promise<any>((resolve) => seed.addEventListener('message', (e) => resolve(json(e.data))));
  seed.send(JSON.stringify({ msg_type: 1, meeting_uuid: 'TNhvT3WEBT6Srse3TgWRGr', rtms_stream_id: 'rtms_TN3WEBT6SrTgWRGr_001', signature: sign('TNhvT3WEBT6Srse3TgWRGr', 'rtms_TN3WEBT6SrTgWRGr_001') }));
  expect(await got).toMatchObject({ msg_type: 2, status_code: 2 });
  expect(await stats(m)).toMatchObject({ meetings_live: 2, meetings: 2 });
  expect((await m.api('DELETE', meetingPath(a.meeting_uuid))).status).toBe(200);
  expect((await m.api('POST', '/api/meetings', { start_rtms: false })).status).toBe(201);
  expect(await stats(m)).toMatchObject({ meetings_live: 2, meetings: 3 });
});
