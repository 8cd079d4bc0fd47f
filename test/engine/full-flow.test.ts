// The whole loop over real sockets: API → signed webhook → both handshakes → ready → media → stop.
import { afterEach, expect, test } from 'bun:test';
import { createHmac } from 'node:crypto';
import { startReferenceApp, type ReferenceApp } from '../../src/client/reference-app.ts';
import { startMock, type TestMock } from '../helpers/mock.ts';
import { SECRET_TOKEN, sign } from '../helpers/ws-client.ts';

let mock: TestMock | null = null;
let app: ReferenceApp | null = null;
afterEach(async () => {
  await app?.stop();
  await mock?.stop({ graceful: false });
  app = null; mock = null;
});

test('production flow: webhook, handshakes, ready, audio/transcript/video, stop with rtms_stopped', async () => {
  mock = await startMock();
  app = await startReferenceApp({ log: false, events: [2, 3, 4, 5, 6, 8, 9] });
  const created = await mock.startMeeting(app.url);
  expect(created.rtms_stream_id).toMatch(/^[0-9a-f]{32}$/);
  expect(created.server_urls).toBe(`ws://127.0.0.1:${mock.port}/signaling`);

  const started = await app.waitFor((o) => o.kind === 'webhook' && o.event === 'meeting.rtms_started', 5000);
  if (started.kind !== 'webhook') throw new Error('unreachable');
  // Signature over the exact bytes received (spec §9), computed here independently.
  const ts = started.headers['x-zm-request-timestamp']!;
  expect(ts).toMatch(/^\d{10}$/);
  const expected = 'v0=' + createHmac('sha256', SECRET_TOKEN).update(`v0:${ts}:${started.rawBody}`).digest('hex');
  expect(started.headers['x-zm-signature']).toBe(expected);
  expect(started.body.payload).toEqual({
    meeting_uuid: created.meeting_uuid, operator_id: expect.any(String), rtms_stream_id: created.rtms_stream_id,
    server_urls: created.server_urls,
  });
  expect(started.body.event_ts).toBeGreaterThan(1e12);

  // Signaling response with media URLs carrying the real media port.
  await app.waitFor((o) => o.kind === 'message' && o.socket === 'signaling' && o.msg.msg_type === 2);
  const session = app.streams.get(created.rtms_stream_id)!;
  expect(session.signalingResponse).toMatchObject({ msg_type: 2, status_code: 0, media_server: { server_urls: { all: `ws://127.0.0.1:${mock.mediaPort}/all` } } });
  expect(sign(created.meeting_uuid, created.rtms_stream_id)).toBe(session.sent.find((s) => s.msg.msg_type === 1)!.msg.signature);

  // FIRST_PACKET_TIMESTAMP and ACTIVE come before the first media message.
  await app.waitFor((o) => o.kind === 'message' && o.msg.msg_type === 14, 5000);
  const order = session.messages.map((m) => (m.msg.msg_type === 6 ? `6/${m.msg.event.event_type}` : String(m.msg.msg_type)));
  const firstMedia = order.indexOf('14');
  expect(order.indexOf('6/1')).toBeGreaterThan(-1);
  expect(order.indexOf('6/1')).toBeLessThan(firstMedia);
  const active = session.messages.findIndex((m) => m.msg.msg_type === 8 && m.msg.state === 1);
  expect(active).toBeGreaterThan(-1);
  expect(active).toBeLessThan(session.messages.findIndex((m) => m.msg.msg_type === 14));
  expect(session.dataResponses.all).toMatchObject({
    msg_type: 4, status_code: 0, payload_encrypted: false,
    media_params: { audio: { content_type: 2, sample_rate: 1, channel: 1, codec: 1, data_opt: 1, send_rate: 20 } },
  });

  // Default audio: L16 16 kHz mono, 640 bytes every 20 ms, mixed (user_id 0, no user_name).
  const audio = await app.waitFor((o) => o.kind === 'message' && o.msg.msg_type === 14);
  if (audio.kind !== 'message') throw new Error('unreachable');
  expect(audio.msg.content.user_id).toBe(0);
  expect(audio.msg.content.user_name).toBeUndefined();
  expect(audio.msg.content.length).toBe(640);
  expect(Buffer.from(audio.msg.content.data, 'base64').length).toBe(640);

  // Stop through the API: TERMINATED + STOPPED on signaling, rtms_stopped webhook with the reason.
  const r = await mock.api('POST', `/api/meetings/${encodeURIComponent(created.meeting_uuid)}/rtms/stop`);
  expect(r.status).toBe(200);
  const stopped = await app.waitFor((o) => o.kind === 'webhook' && o.event === 'meeting.rtms_stopped', 5000);
  if (stopped.kind !== 'webhook') throw new Error('unreachable');
  expect(stopped.body.payload).toEqual({ meeting_uuid: created.meeting_uuid, rtms_stream_id: created.rtms_stream_id, stop_reason: 1 });
  const term = session.messages.find((m) => m.socket === 'signaling' && m.msg.msg_type === 8 && m.msg.state === 4);
  expect(term?.msg).toMatchObject({ reason: 1, stop_reason: 1 });
  const sess = session.messages.find((m) => m.msg.msg_type === 9 && m.msg.state === 5);
  expect(sess?.msg).toMatchObject({ stop_reason: 1, reason: 1 });
});
