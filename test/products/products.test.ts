// Every RTMS product end to end with the reference app (spec §3.1, §3.2, §7, §9): the webhook names and flat
// payloads, the instance id key in both handshakes, the signature over that product's instance id, media,
// rtms_interrupted after a signaling drop, and rtms_stopped.
import { afterEach, describe, expect, test } from 'bun:test';
import { WsClient, sign } from '../helpers/ws-client.ts';
import { setup, signalingRequests, teardown, until } from '../faults/harness.ts';

const sockets: WsClient[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.close();
  await teardown();
});

const PRODUCTS = [
  { product: 'meeting', prefix: 'meeting.rtms_', key: 'meeting_uuid', started: ['meeting_uuid', 'operator_id', 'rtms_stream_id', 'server_urls'] },
  { product: 'webinar', prefix: 'webinar.rtms_', key: 'webinar_uuid', started: ['operator_id', 'rtms_stream_id', 'server_urls', 'webinar_uuid'] },
  { product: 'session', prefix: 'session.rtms_', key: 'session_id', started: ['rtms_stream_id', 'server_urls', 'session_id', 'session_key'] },
  { product: 'contact_center', prefix: 'contact_center.voice_rtms_', key: 'engagement_id', started: ['engagement_id', 'rtms_stream_id', 'server_urls'] },
] as const;

describe('products (spec §3.1, §9)', () => {
  test.each(PRODUCTS)('$product: $prefix* webhooks, $key in both handshakes, signature over it, media, interrupted, stopped', async (p) => {
    const h = await setup({ meeting: { product: p.product }, app: { mediaMode: 'split' } });
    const { created, s } = h;
    const id = created.meeting_uuid as string;
    const streamId = created.rtms_stream_id as string;
    expect(created[p.key]).toBe(id);
    const extra = p.product === 'session' ? { session_key: created.session_key } : {};
    if (p.product === 'session') expect(created.session_key).toMatch(/^key_/);

    // rtms_started: name and the exact flat payload (spec §9).
    const started = h.app.webhooks[0]!;
    expect(started.event).toBe(`${p.prefix}started`);
    expect(Object.keys(started.body.payload).sort()).toEqual([...p.started]);
    expect(started.body.payload).toMatchObject({ [p.key]: id, rtms_stream_id: streamId, server_urls: created.server_urls, ...extra });

    // Both handshakes carry the product's key, signed over its value (spec §3.1, §3.2).
    const expected = sign(id, streamId);
    const [msg1] = signalingRequests(s);
    expect(msg1).toMatchObject({ msg_type: 1, [p.key]: id, rtms_stream_id: streamId, signature: expected });
    for (const k of ['meeting_uuid', 'webinar_uuid', 'session_id', 'engagement_id'].filter((k) => k !== p.key)) expect(msg1[k]).toBeUndefined();
    const msg3 = s.sent.filter((m) => m.msg?.msg_type === 3).map((m) => m.msg);
    expect(msg3.map((m) => m.media_type).sort()).toEqual([1, 8]);
    for (const m of msg3) expect(m).toMatchObject({ [p.key]: id, rtms_stream_id: streamId, signature: expected });

    // Media (spec §7): Contact Center audio carries channel_id.
    const audio = h.media(14).at(-1)!.msg.content;
    if (p.product === 'contact_center') expect(audio.channel_id).toBe(1);
    else expect(audio.channel_id).toBeUndefined();

    // A signaling drop → <product>.rtms_interrupted with the instance fields; the app comes back.
    const t0 = Date.now();
    await h.inject({ type: 'drop_signaling' });
    const intr = await h.webhook(`${p.prefix}interrupted`, t0);
    expect(intr.body.payload).toEqual({ [p.key]: id, ...extra, rtms_stream_id: streamId });
    await until(() => s.handshakes === 2, 3000, 'reconnected');

    // Stop → <product>.rtms_stopped with stop_reason.
    await h.mock.api('POST', `${h.uuidPath}/rtms/stop`, { reason: 25 });
    const stopped = await h.webhook(`${p.prefix}stopped`, t0);
    expect(stopped.body.payload).toEqual({ [p.key]: id, ...extra, rtms_stream_id: streamId, stop_reason: 25 });
    await until(() => s.state === 'stopped', 2000, 'app stopped');
    expect(s.stopReason).toBe(25);
    expect(h.app.webhooks.map((w) => w.event)).toEqual([`${p.prefix}started`, `${p.prefix}interrupted`, `${p.prefix}stopped`]);

    const v = await h.verdict();
    expect(v.passed).toBe(true);
    expect((await h.meeting())).toMatchObject({ product: p.product, id_key: p.key });
  });

  test('contact_center: transcripts carry channel_id too, and video is not offered (10 MEDIA_TYPE_VIDEO_NOT_SUPPORT)', async () => {
    const h = await setup({ meeting: { product: 'contact_center' }, app: { mediaMode: 'split' } });
    const t = await h.app.waitFor((o) => o.kind === 'message' && o.msg?.msg_type === 17, 6000, { label: 'transcript' });
    expect(t.kind === 'message' && t.msg.content).toMatchObject({ channel_id: 1, data: expect.any(String), user_id: expect.any(Number) });
    const ws = await WsClient.open(h.created.media_server_urls.video);
    sockets.push(ws);
    ws.send({ msg_type: 3, engagement_id: h.created.meeting_uuid, rtms_stream_id: h.created.rtms_stream_id, signature: sign(h.created.meeting_uuid, h.created.rtms_stream_id), media_type: 2 });
    expect(await ws.next((m) => m?.msg_type === 4)).toMatchObject({ status_code: 10 });
  });

  test.each([
    ['session', 'session_id', (c: any) => c.session_key],
    ['webinar', 'webinar_uuid', () => 'another-uuid'],
    ['contact_center', 'engagement_id', (c: any) => `${c.meeting_uuid}x`],
  ] as const)('%s: a signature over anything but the instance id (%s) is refused with 3 INVALID_SIGNATURE', async (product, key, wrongId) => {
    const h = await setup({ meeting: { product, start_rtms: true }, app: { autoConnect: false }, waitMedia: false });
    const c = h.created;
    const ws = await WsClient.open(c.server_urls);
    sockets.push(ws);
    ws.send({ msg_type: 1, [key]: c.meeting_uuid, rtms_stream_id: c.rtms_stream_id, signature: sign(wrongId(c), c.rtms_stream_id) });
    const resp = await ws.next((m) => m?.msg_type === 2);
    expect(resp.status_code).toBe(3);
    expect(resp.reason).toContain(key);
  });
});
