// The reference app's webhook endpoint (spec §9): signature checks, URL validation, idempotency.
import { afterEach, describe, expect, test } from 'bun:test';
import { createHmac } from 'node:crypto';
import { type ReferenceApp, startReferenceApp } from '../../src/client/reference-app.ts';
import {
  CLIENT_ID,
  CLIENT_SECRET,
  type FakeRtmsServer,
  SECRET_TOKEN,
  postWebhook,
  startFakeRtmsServer,
  startedBody,
} from './fake-rtms-server.ts';

let app: ReferenceApp | undefined;
let fake: FakeRtmsServer | undefined;

afterEach(async () => {
  await app?.stop();
  await fake?.stop();
  app = undefined;
  fake = undefined;
});

const start = async (extra: Parameters<typeof startReferenceApp>[0] = {}) => {
  app = await startReferenceApp({ secretToken: SECRET_TOKEN, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, log: false, ...extra });
  return app;
};

describe('webhook endpoint', () => {
  test('exposes its URL on 127.0.0.1 with an ephemeral port', async () => {
    const a = await start();
    expect(a.port).toBeGreaterThan(0);
    expect(a.url).toBe(`http://127.0.0.1:${a.port}/webhook`);
  });

  test('answers endpoint.url_validation with the HMAC of plainToken (spec §9)', async () => {
    const a = await start();
    const res = await postWebhook(a.url, { event: 'endpoint.url_validation', event_ts: Date.now(), payload: { plainToken: 'qgg8vlvZRS6UYooatFL8Aw' } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      plainToken: 'qgg8vlvZRS6UYooatFL8Aw',
      encryptedToken: createHmac('sha256', SECRET_TOKEN).update('qgg8vlvZRS6UYooatFL8Aw').digest('hex'),
    });
  });

  test('rejects a bad or missing x-zm-signature with 401 and does not act on it', async () => {
    fake = await startFakeRtmsServer();
    const a = await start();
    const body = startedBody(fake.signalingUrl);
    expect((await postWebhook(a.url, body, { secret: 'wrong-secret' })).status).toBe(401);
    expect((await postWebhook(a.url, body, { signature: null })).status).toBe(401);
    expect((await postWebhook(a.url, body, { signature: 'v0=' })).status).toBe(401);
    // Signed for a different body: the signature covers the raw bytes.
    const other = await postWebhook(a.url, body, { rawBody: JSON.stringify({ ...body, event_ts: 1 }), signature: 'v0=' + 'a'.repeat(64) });
    expect(other.status).toBe(401);
    await Bun.sleep(50);
    expect(a.streams.size).toBe(0);
    expect(fake.opened.signaling).toBeUndefined();
    expect(a.webhooks.map((w) => w.status)).toEqual([401, 401, 401, 401]);
  });

  test('a correctly signed webhook is accepted (200) and recorded', async () => {
    const a = await start({ autoConnect: false });
    const res = await postWebhook(a.url, { event: 'meeting.rtms_stopped', event_ts: 1, payload: { meeting_uuid: 'm', rtms_stream_id: 's', stop_reason: 6 } });
    expect(res.status).toBe(200);
    const seen = await a.waitFor((o) => o.kind === 'webhook' && o.event === 'meeting.rtms_stopped', 1000);
    expect(seen.kind === 'webhook' && seen.body.payload.stop_reason).toBe(6);
    expect(a.webhooks[0]!.headers['x-zm-signature']).toStartWith('v0=');
  });

  test('answers 400 to a correctly signed body that is not JSON', async () => {
    const a = await start();
    expect((await postWebhook(a.url, undefined, { rawBody: '{not json' })).status).toBe(400);
  });

  test('with `path`, other paths get 404', async () => {
    const a = await start({ path: '/hooks/zoom' });
    expect(a.url).toEndWith('/hooks/zoom');
    const body = { event: 'endpoint.url_validation', event_ts: 1, payload: { plainToken: 'x' } };
    expect((await postWebhook(a.url, body)).status).toBe(200);
    expect((await postWebhook(a.url.replace('/hooks/zoom', '/webhook'), body)).status).toBe(404);
  });

  test('a duplicate rtms_started during the handshake does not open a second stream', async () => {
    fake = await startFakeRtmsServer({ signalingDelayMs: 150 });
    const a = await start();
    const body = startedBody(fake.signalingUrl);
    const [r1, r2] = await Promise.all([postWebhook(a.url, body), postWebhook(a.url, body)]);
    expect([r1.status, r2.status]).toEqual([200, 200]);
    expect((await postWebhook(a.url, body)).status).toBe(200);
    await a.waitFor((o) => o.kind === 'sent' && o.msg.msg_type === 7, 2000);
    await Bun.sleep(50);
    expect(fake.opened).toEqual({ signaling: 1, all: 1 });
    expect(fake.received.filter((r) => r.msg.msg_type === 1)).toHaveLength(1);
    expect(a.streams.size).toBe(1);
    expect(a.streams.get('stream-1')!.handshakes).toBe(1);
  });

  test('rtms_started answers 200 at once, without waiting for the handshake', async () => {
    fake = await startFakeRtmsServer({ signalingDelayMs: 1000 });
    const a = await start();
    const t0 = performance.now();
    expect((await postWebhook(a.url, startedBody(fake.signalingUrl))).status).toBe(200);
    expect(performance.now() - t0).toBeLessThan(500);
    expect(a.streams.get('stream-1')!.state).toBe('connecting');
  });

  test('unknown events are acknowledged and ignored', async () => {
    const a = await start();
    expect((await postWebhook(a.url, { event: 'meeting.started', event_ts: 1, payload: {} })).status).toBe(200);
    expect(a.streams.size).toBe(0);
  });
});
