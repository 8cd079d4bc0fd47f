// spec §9: signed webhook delivery against real Bun.serve receivers on 127.0.0.1, with retries, timeouts,
// the duplicate/delay faults and a bounded log. Timeouts and backoffs are shortened so the suite stays fast.

import { afterEach, describe, expect, test } from 'bun:test';
import { computeBackoff, type DeliveryEvent, WebhookDispatcher, type WebhookDispatcherOptions } from '../../src/webhooks/delivery.ts';
import { WebhookBody } from '../../src/webhooks/schemas.ts';
import { WebhookUrlError } from '../../src/webhooks/webhook-url.ts';
import { closedPort, hang, hmacHexWebCrypto, type Receiver, type Responder, startReceiver } from './receiver.ts';

const SECRET = 'mock-webhook-secret-0123';
const PAYLOAD = { meeting_uuid: 'i+j/K==', operator_id: 'op1', rtms_stream_id: 'st1', server_urls: 'ws://127.0.0.1:9092' };

let receivers: Receiver[] = [];
let dispatchers: WebhookDispatcher[] = [];

function receiver(script?: Responder[]): Receiver {
  const r = startReceiver(script);
  receivers.push(r);
  return r;
}

function dispatcher(opts: Partial<WebhookDispatcherOptions> = {}): WebhookDispatcher {
  const d = new WebhookDispatcher({ secretToken: SECRET, timeoutMs: 1000, backoffMs: 10, ...opts });
  dispatchers.push(d);
  return d;
}

afterEach(async () => {
  await Promise.all(dispatchers.map((d) => d.close()));
  await Promise.all(receivers.map((r) => r.close()));
  dispatchers = [];
  receivers = [];
});

function waitFor(cond: () => boolean, timeoutMs = 2000): Promise<void> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const tick = () => {
      if (cond()) resolve();
      else if (performance.now() - t0 > timeoutMs) reject(new Error('waitFor timed out'));
      else setTimeout(tick, 2);
    };
    tick();
  });
}

describe('WebhookDispatcher: what goes on the wire (spec §9)', () => {
  test('signature matches an independent HMAC over the raw bytes received', async () => {
    const rx = receiver();
    const rec = await dispatcher().deliver(rx.url, 'meeting.rtms_started', PAYLOAD, { meetingKey: 'm1' });

    expect(rx.requests).toHaveLength(1);
    const req = rx.requests[0]!;
    expect(req.method).toBe('POST');
    expect(req.path).toBe('/webhook');
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.headers['user-agent']).toBe('rtms-mock');
    const ts = req.headers['x-zm-request-timestamp']!;
    const expected = `v0=${await hmacHexWebCrypto(SECRET, `v0:${ts}:${req.rawBody}`)}`;
    expect(req.headers['x-zm-signature']).toBe(expected);

    // The record holds the exact bytes and headers that were sent.
    expect(rec.body).toBe(req.rawBody);
    expect(rec.outcome).toBe('delivered');
    expect(rec.meetingKey).toBe('m1');
    expect(rec.attempts).toHaveLength(1);
    expect(rec.attempts[0]).toMatchObject({ attempt: 1, status: 200, timestampHeader: ts, signatureHeader: expected, responseSnippet: 'ok' });
    expect(rec.attempts[0]!.error).toBeUndefined();
  });

  test('body is {event, event_ts, payload} with a flat payload', async () => {
    const rx = receiver();
    await dispatcher().deliver(rx.url, 'meeting.rtms_started', PAYLOAD);
    const body = WebhookBody.parse(JSON.parse(rx.requests[0]!.rawBody));
    expect(body.event).toBe('meeting.rtms_started');
    expect(body.payload).toEqual(PAYLOAD);
    expect(Object.keys(JSON.parse(rx.requests[0]!.rawBody))).toEqual(['event', 'event_ts', 'payload']);
  });

  test('timestamp header is epoch seconds, event_ts epoch ms, both close to now', async () => {
    const rx = receiver();
    const before = Date.now();
    const rec = await dispatcher().deliver(rx.url, 'meeting.rtms_stopped', { stop_reason: 1 });
    const after = Date.now();
    const req = rx.requests[0]!;
    const ts = req.headers['x-zm-request-timestamp']!;
    expect(ts).toMatch(/^\d{10}$/);
    expect(Number(ts)).toBeGreaterThanOrEqual(Math.floor(before / 1000));
    expect(Number(ts)).toBeLessThanOrEqual(Math.floor(after / 1000));
    const eventTs = WebhookBody.parse(JSON.parse(req.rawBody)).event_ts;
    expect(String(eventTs)).toMatch(/^\d{13}$/);
    expect(eventTs).toBeGreaterThanOrEqual(before);
    expect(eventTs).toBeLessThanOrEqual(after);
    expect(rec.eventTs).toBe(eventTs);
  });

  test('the injected clock drives event_ts and the timestamp header', async () => {
    const rx = receiver();
    let t = 1_700_000_000_500;
    await dispatcher({ now: () => t++ }).deliver(rx.url, 'meeting.rtms_started', PAYLOAD);
    const req = rx.requests[0]!;
    expect(JSON.parse(req.rawBody).event_ts).toBe(1_700_000_000_500);
    expect(req.headers['x-zm-request-timestamp']).toBe('1700000000');
  });

  test('a redirect is not followed and counts as non-2xx', async () => {
    const rx = receiver([() => new Response(null, { status: 302, headers: { location: 'http://127.0.0.1:1/' } })]);
    const rec = await dispatcher({ maxAttempts: 1 }).deliver(rx.url, 'e', {});
    expect(rec.attempts[0]!.error).toBe('http_302');
    expect(rec.outcome).toBe('failed');
  });

  test('an invalid URL rejects with a WebhookUrlError', async () => {
    const d = dispatcher();
    await expect(d.deliver('ftp://127.0.0.1/x', 'e', {})).rejects.toBeInstanceOf(WebhookUrlError);
    expect(d.log()).toHaveLength(0);
  });
});

describe('WebhookDispatcher: retries (spec §9)', () => {
  test('500, 500, 200 → 3 attempts with identical bodies, backoff between them, delivered', async () => {
    const long = 'x'.repeat(1000);
    const rx = receiver([() => new Response(long, { status: 500 }), () => new Response('busy', { status: 500 }), () => new Response('ok')]);
    const backoffMs = 40;
    const rec = await dispatcher({ backoffMs }).deliver(rx.url, 'meeting.rtms_started', PAYLOAD);

    expect(rx.requests).toHaveLength(3);
    const [a, b, c] = rx.requests as [(typeof rx.requests)[0], (typeof rx.requests)[0], (typeof rx.requests)[0]];
    // A real duplicate: same bytes (same event_ts and payload) every time.
    expect(b.rawBody).toBe(a.rawBody);
    expect(c.rawBody).toBe(a.rawBody);
    // Each attempt is signed with its own timestamp over those bytes.
    for (const r of rx.requests) {
      const ts = r.headers['x-zm-request-timestamp']!;
      expect(r.headers['x-zm-signature']).toBe(`v0=${await hmacHexWebCrypto(SECRET, `v0:${ts}:${r.rawBody}`)}`);
    }
    // Exponential backoff: ≥ base, then ≥ 2·base.
    expect(b.at - a.at).toBeGreaterThanOrEqual(backoffMs);
    expect(c.at - b.at).toBeGreaterThanOrEqual(2 * backoffMs);

    expect(rec.outcome).toBe('delivered');
    expect(rec.attempts.map((x) => x.attempt)).toEqual([1, 2, 3]);
    expect(rec.attempts.map((x) => x.error)).toEqual(['http_500', 'http_500', undefined]);
    expect(rec.attempts.map((x) => x.status)).toEqual([500, 500, 200]);
    expect(rec.attempts[0]!.responseSnippet).toBe('x'.repeat(200));
    expect(rec.attempts[1]!.responseSnippet).toBe('busy');
    for (const x of rec.attempts) expect(x.latencyMs).toBeGreaterThanOrEqual(0);
  });

  test('a receiver that never answers → timeout attempts, failed after maxAttempts', async () => {
    const rx = receiver([hang]);
    const t0 = performance.now();
    const rec = await dispatcher({ timeoutMs: 60, maxAttempts: 3, backoffMs: 5 }).deliver(rx.url, 'e', {});
    const took = performance.now() - t0;

    expect(rx.requests).toHaveLength(3);
    expect(rec.outcome).toBe('failed');
    expect(rec.cancelled).toBeUndefined();
    expect(rec.attempts.map((a) => a.error)).toEqual(['timeout', 'timeout', 'timeout']);
    for (const a of rec.attempts) {
      expect(a.status).toBeUndefined();
      expect(a.detail).toBe('timeout after 60 ms');
      expect(a.latencyMs).toBeGreaterThanOrEqual(55);
    }
    expect(took).toBeGreaterThanOrEqual(3 * 60);
    expect(took).toBeLessThan(2000);
  });

  test('a headers-then-stalled body still ends at the timeout', async () => {
    const rx = receiver([
      () =>
        new Response(
          new ReadableStream({
            start(c) {
              c.enqueue(new TextEncoder().encode('partial'));
            },
          }),
          { status: 503 },
        ),
    ]);
    const rec = await dispatcher({ timeoutMs: 80, maxAttempts: 1 }).deliver(rx.url, 'e', {});
    expect(rec.attempts[0]).toMatchObject({ status: 503, error: 'http_503' });
    expect(rec.attempts[0]!.latencyMs).toBeLessThan(1000);
  });

  test('an unreachable port → unreachable attempts with the cause, failed', async () => {
    const port = await closedPort();
    const rec = await dispatcher({ maxAttempts: 2, backoffMs: 5 }).deliver(`http://127.0.0.1:${port}/webhook`, 'e', {});
    expect(rec.outcome).toBe('failed');
    expect(rec.attempts.map((a) => a.error)).toEqual(['unreachable', 'unreachable']);
    expect(rec.attempts[0]!.detail).toContain('ECONNREFUSED');
  });

  test('computeBackoff: doubles, adds at most the jitter fraction, never exceeds the cap', () => {
    expect(computeBackoff(1, 1000, 30_000, 0, Math.random)).toBe(1000);
    expect(computeBackoff(2, 1000, 30_000, 0, Math.random)).toBe(2000);
    expect(computeBackoff(3, 1000, 30_000, 0, Math.random)).toBe(4000);
    expect(computeBackoff(3, 1000, 30_000, 0.1, () => 0.999)).toBeCloseTo(4399.6, 1);
    expect(computeBackoff(10, 1000, 30_000, 0.1, () => 0.999)).toBe(30_000);
    for (let i = 0; i < 100; i++) {
      const v = computeBackoff(2, 100, 30_000, 0.1, Math.random);
      expect(v).toBeGreaterThanOrEqual(200);
      expect(v).toBeLessThanOrEqual(220);
    }
  });
});

describe('WebhookDispatcher: faults, log, events, close', () => {
  test('duplicate: the same bytes are delivered twice, as two linked records', async () => {
    const rx = receiver();
    const d = dispatcher();
    const rec = await d.deliver(rx.url, 'meeting.rtms_started', PAYLOAD, { meetingKey: 'm1', tag: 'dup' }, { duplicate: true });

    expect(rx.requests).toHaveLength(2);
    expect(rx.requests[1]!.rawBody).toBe(rx.requests[0]!.rawBody);
    const log = d.log();
    expect(log).toHaveLength(2);
    expect(log[0]!.id).toBe(rec.id);
    expect(log[1]!.duplicateOf).toBe(rec.id);
    expect(log[1]!.body).toBe(log[0]!.body);
    expect(log.map((r) => r.outcome)).toEqual(['delivered', 'delivered']);
    expect(log.map((r) => r.tag)).toEqual(['dup', 'dup']);
  });

  test('delayMs: the first attempt waits; event_ts stays the time of the event', async () => {
    const rx = receiver();
    const t0 = Date.now();
    const p0 = performance.now();
    await dispatcher().deliver(rx.url, 'e', {}, {}, { delayMs: 60 });
    const req = rx.requests[0]!;
    expect(req.at - p0).toBeGreaterThanOrEqual(60);
    expect(JSON.parse(req.rawBody).event_ts).toBeLessThan(t0 + 30);
  });

  test('the log is bounded, newest last, and filterable by meeting', async () => {
    const rx = receiver();
    const d = dispatcher({ logLimit: 3 });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await d.deliver(rx.url, `e${i}`, { i }, { meetingKey: i % 2 ? 'odd' : 'even' })).id);
    const log = d.log();
    expect(log.map((r) => r.id)).toEqual(ids.slice(2));
    expect(log.map((r) => r.event)).toEqual(['e2', 'e3', 'e4']);
    expect(d.logFor('odd').map((r) => r.event)).toEqual(['e3']);
    expect(d.logFor('even').map((r) => r.event)).toEqual(['e2', 'e4']);
    expect(d.get(ids[4]!)?.event).toBe('e4');
    expect(d.get(ids[0]!)).toBeUndefined();
  });

  test('log() returns snapshots the caller cannot corrupt', async () => {
    const rx = receiver();
    const d = dispatcher();
    await d.deliver(rx.url, 'e', {});
    const copy = d.log()[0]!;
    copy.outcome = 'failed';
    copy.attempts.length = 0;
    expect(d.log()[0]!.outcome).toBe('delivered');
    expect(d.log()[0]!.attempts).toHaveLength(1);
  });

  test('onEvent and subscribe see queued → attempt → retry_scheduled → attempt → delivered; a throwing listener is harmless', async () => {
    const rx = receiver([() => new Response('no', { status: 500 }), () => new Response('ok')]);
    const seen: DeliveryEvent[] = [];
    const viaSubscribe: string[] = [];
    const d = dispatcher({
      onEvent: (e) => {
        seen.push(e);
        throw new Error('listener bug');
      },
    });
    const off = d.subscribe((e) => viaSubscribe.push(e.type));
    const rec = await d.deliver(rx.url, 'e', {});
    off();
    await d.deliver(rx.url, 'e2', {});

    const types = ['queued', 'attempt', 'retry_scheduled', 'attempt', 'delivered'];
    expect(seen.slice(0, 5).map((e) => e.type)).toEqual(types as DeliveryEvent['type'][]);
    expect(viaSubscribe).toEqual(types);
    expect(rec.outcome).toBe('delivered');
    expect(seen[1]!.attempt?.error).toBe('http_500');
    expect(seen[2]!.retryInMs).toBeGreaterThanOrEqual(10);
    // Snapshots: the queued event still shows the record as it was then.
    expect(seen[0]!.record.outcome).toBe('pending');
    expect(seen[0]!.record.attempts).toHaveLength(0);
  });

  test('the secret never appears in records, events or the dispatcher itself', async () => {
    const rx = receiver([() => new Response('no', { status: 500 }), () => new Response('ok')]);
    const events: DeliveryEvent[] = [];
    const d = dispatcher({ onEvent: (e) => events.push(e) });
    await d.deliver(rx.url, 'e', PAYLOAD);
    for (const text of [JSON.stringify(d.log()), JSON.stringify(events), JSON.stringify(d), Bun.inspect(d)]) {
      expect(text).not.toContain(SECRET);
    }
    for (const r of rx.requests) expect(JSON.stringify(r)).not.toContain(SECRET);
  });

  test('pendingCount counts in-flight deliveries; close() cancels an in-flight attempt promptly', async () => {
    const rx = receiver([hang]);
    const d = dispatcher({ timeoutMs: 10_000 });
    const p = d.deliver(rx.url, 'e', {}, { meetingKey: 'm' });
    await waitFor(() => rx.requests.length === 1);
    expect(d.pendingCount()).toBe(1);
    const t0 = performance.now();
    await d.close();
    expect(performance.now() - t0).toBeLessThan(500);
    const rec = await p;
    expect(rec.outcome).toBe('failed');
    expect(rec.cancelled).toBe(true);
    expect(rec.attempts[0]?.error).toBe('cancelled');
    expect(d.pendingCount()).toBe(0);
  });

  test('close() cancels a pending retry and a pending delay', async () => {
    const rx = receiver([() => new Response('no', { status: 500 })]);
    const d = dispatcher({ backoffMs: 10_000 });
    const retrying = d.deliver(rx.url, 'e', {});
    const delayed = d.deliver(rx.url, 'e', {}, {}, { delayMs: 10_000 });
    await waitFor(() => rx.requests.length === 1 && d.log()[0]!.attempts.length === 1);
    expect(d.pendingCount()).toBe(2);
    const t0 = performance.now();
    await d.close();
    expect(performance.now() - t0).toBeLessThan(500);
    const [r1, r2] = await Promise.all([retrying, delayed]);
    expect(r1).toMatchObject({ outcome: 'failed', cancelled: true });
    expect(r1.attempts).toHaveLength(1);
    expect(r2).toMatchObject({ outcome: 'failed', cancelled: true });
    expect(r2.attempts).toHaveLength(0);
    expect(d.pendingCount()).toBe(0);
    expect(rx.requests).toHaveLength(1);

    // After close, deliveries settle at once without sending anything.
    const late = await d.deliver(rx.url, 'e', {});
    expect(late).toMatchObject({ outcome: 'failed', cancelled: true });
    expect(rx.requests).toHaveLength(1);
  });

  test('rejects unusable options', () => {
    expect(() => new WebhookDispatcher({ secretToken: '' })).toThrow('secretToken');
    expect(() => new WebhookDispatcher({ secretToken: 's', maxAttempts: 0 })).toThrow('maxAttempts');
    expect(() => new WebhookDispatcher({ secretToken: 's', timeoutMs: 0 })).toThrow('timeoutMs');
  });
});
