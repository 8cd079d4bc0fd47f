// Webhook endpoint faults (spec §9): a delayed webhook, the same body retried after a 2xx, a second delivery of
// the same body, webhooks out of order; and the verdicts on duplicates (no second concurrent stream), on
// reconnecting after a stop, and on answering webhooks fast.
import { afterEach, describe, expect, test } from 'bun:test';
import { setup, signalingRequests, teardown, until } from './harness.ts';

afterEach(teardown);

/** A meeting created without rtms_started, so a webhook fault can be armed before the first webhook. */
const unstarted = { start_rtms: false };

describe('webhook faults', () => {
  test('webhook_delay: rtms_started arrives delay_ms late (event_ts is the event time); the app still connects', async () => {
    const h = await setup({ meeting: unstarted });
    const f = await h.inject({ type: 'webhook_delay', options: { event: 'started', delay_ms: 300 } });
    expect(f.body).toMatchObject({ class: 'webhook', state: 'active', options: { event: 'started', delay_ms: 300 } });
    const t0 = Date.now();
    const start = await h.mock.api('POST', `${h.uuidPath}/rtms/start`);
    const w = await h.webhook('meeting.rtms_started');
    expect(w.receivedAt - t0).toBeGreaterThanOrEqual(290);
    expect(w.receivedAt - w.body.event_ts).toBeGreaterThanOrEqual(290);
    const s = await until(() => h.app.streams.get(start.body.rtms_stream_id), 2000, 'stream');
    await until(() => s.state === 'ready', 2000, 'connected');
    const m = await h.meeting();
    expect(m.faults.past[0]).toMatchObject({ type: 'webhook_delay', state: 'done', activations: 1 });
    expect(m.faults.past[0].history.at(-2).detail).toBe('meeting.rtms_started delayed by 300 ms');
    expect((await h.verdict()).passed).toBe(true);
  });

  test('webhook_retry: the identical body again after a 2xx; the reference app acts once (one handshake); verdict passes', async () => {
    const h = await setup({ meeting: unstarted });
    await h.inject({ type: 'webhook_retry', options: { event: 'started', retries: 2 } });
    const start = await h.mock.api('POST', `${h.uuidPath}/rtms/start`);
    await until(() => h.app.webhooks.filter((w) => w.event === 'meeting.rtms_started').length === 3, 3000, 'three copies');
    const copies = h.app.webhooks.filter((w) => w.event === 'meeting.rtms_started');
    expect(new Set(copies.map((w) => w.rawBody)).size).toBe(1);
    const d = (await h.meeting()).webhook_deliveries.find((x: any) => x.event === 'meeting.rtms_started');
    expect(d.attempts.map((a: any) => [a.status, a.forcedRetry ?? false])).toEqual([[200, true], [200, true], [200, false]]);
    expect(d.outcome).toBe('delivered');
    const s = await until(() => h.app.streams.get(start.body.rtms_stream_id), 2000, 'stream');
    await until(() => s.state === 'ready', 2000, 'connected');
    await Bun.sleep(50);
    expect(signalingRequests(s)).toHaveLength(1);
    const v = await h.verdict();
    expect(v.passed).toBe(true);
    expect(v.checks.find((c: any) => c.name === 'webhooks_answered').detail).toMatch(/^3 webhook attempts answered 2xx/);
  });

  test('webhook_retry against an app that opens a second connection for a duplicate: refused with 8, verdict fails', async () => {
    // Speed 2: the retry comes 500 ms later (1 s backoff / 2), after the first connection is up.
    const h = await setup({ meeting: { ...unstarted, speed: 2 }, app: { dedupeWebhooks: false, secondConnectionOnDuplicate: true } });
    await h.inject({ type: 'webhook_retry', options: { event: 'started' } });
    await h.mock.api('POST', `${h.uuidPath}/rtms/start`);
    await until(async () => (await h.meeting()).log.some((e: any) => e.status_code === 8), 3000, 'DUPLICATE_SIGNAL_REQUEST');
    const c = await h.check('no_second_concurrent_stream');
    expect(c).toMatchObject({ passed: false, detail: expect.stringMatching(/1 second concurrent handshake refused \(signaling status 8\)/) });
  });

  test('webhook_duplicate: a second delivery of the same body; one stream, verdict passes', async () => {
    const h = await setup({ meeting: unstarted });
    await h.inject({ type: 'webhook_duplicate' });
    const start = await h.mock.api('POST', `${h.uuidPath}/rtms/start`);
    await until(() => h.app.webhooks.length === 2, 3000, 'two deliveries');
    expect(h.app.webhooks[0]!.rawBody).toBe(h.app.webhooks[1]!.rawBody);
    const ds = (await h.meeting()).webhook_deliveries;
    expect(ds).toHaveLength(2);
    expect(ds[1].duplicateOf).toBe(ds[0].id);
    const s = await until(() => h.app.streams.get(start.body.rtms_stream_id), 2000, 'stream');
    await until(() => s.state === 'ready', 2000, 'connected');
    expect(signalingRequests(s)).toHaveLength(1);
    expect((await h.verdict()).passed).toBe(true);
  });

  test('webhook_reorder: rtms_stopped before rtms_started; the reference app does not connect to the stopped stream', async () => {
    const h = await setup({ meeting: unstarted });
    const f = await h.inject({ type: 'webhook_reorder', options: { event: 'started' } });
    expect(f.body.options).toEqual({ event: 'started', hold_ms: 5000 });
    const start = await h.mock.api('POST', `${h.uuidPath}/rtms/start`);
    await Bun.sleep(30);
    expect(h.app.webhooks).toHaveLength(0); // held
    expect((await h.mock.api('POST', `${h.uuidPath}/rtms/stop`)).status).toBe(200);
    await until(() => h.app.webhooks.length === 2, 3000, 'both webhooks');
    expect(h.app.webhooks.map((w) => w.event)).toEqual(['meeting.rtms_stopped', 'meeting.rtms_started']);
    await Bun.sleep(100);
    expect(h.app.streams.has(start.body.rtms_stream_id)).toBe(false);
    const m = await h.meeting();
    expect(m.faults.past[0].history.at(-1).detail).toBe('meeting.rtms_started released after meeting.rtms_stopped was delivered');
    const v = await h.verdict();
    expect(v.passed).toBe(true);
    expect(v.checks.find((c: any) => c.name === 'no_reconnect_after_stop').detail).toMatch(/stopped \(reason 1 HOST_TRIGGERED\); no handshake afterwards/);
  });

  test('webhook_reorder against an app that ignores stops: it connects to the stopped stream, verdict fails', async () => {
    const h = await setup({ meeting: unstarted, app: { ignoreStop: true } });
    await h.inject({ type: 'webhook_reorder', options: { event: 'started' } });
    await h.mock.api('POST', `${h.uuidPath}/rtms/start`);
    await h.mock.api('POST', `${h.uuidPath}/rtms/stop`);
    await until(async () => !(await h.check('no_reconnect_after_stop')).passed, 3000, 'late handshake');
    const c = await h.check('no_reconnect_after_stop');
    expect(c.detail).toMatch(/1 handshake \(signaling\) after the stream stopped with reason 1 HOST_TRIGGERED/);
  });

  test('an app that answers webhooks too slowly: retried by the mock, webhooks_answered fails', async () => {
    const h = await setup({ mock: { webhookTimeoutMs: 200 }, app: { webhookDelayMs: 300 }, waitMedia: false });
    await until(() => h.s.state === 'ready', 3000, 'connected');
    await until(async () => (await h.meeting()).webhook_deliveries[0]?.attempts.length >= 2, 3000, 'a retry');
    const c = await h.check('webhooks_answered');
    expect(c.passed).toBe(false);
    expect(c.detail).toMatch(/not answered 2xx within 200 ms: meeting\.rtms_started attempt 1: timeout after 200 ms/);
    expect(signalingRequests(h.s)).toHaveLength(1); // the retries were recognised as such
  });
});
