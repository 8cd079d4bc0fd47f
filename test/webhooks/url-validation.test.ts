// spec §9: endpoint.url_validation against real receivers that play correct and broken apps.

import { afterEach, describe, expect, test } from 'bun:test';
import { validateEndpoint } from '../../src/webhooks/url-validation.ts';
import { WebhookBody } from '../../src/webhooks/schemas.ts';
import { closedPort, hang, hmacHexWebCrypto, type Receiver, type Received, type Responder, startReceiver } from './receiver.ts';

const SECRET = 'app-secret-token-xyz';

let receivers: Receiver[] = [];
function receiver(script: Responder[]): Receiver {
  const r = startReceiver(script);
  receivers.push(r);
  return r;
}
afterEach(async () => {
  await Promise.all(receivers.map((r) => r.close()));
  receivers = [];
});

function plainTokenOf(req: Received): string {
  const token = WebhookBody.parse(JSON.parse(req.rawBody)).payload.plainToken;
  if (typeof token !== 'string') throw new Error('no plainToken in the request');
  return token;
}

/** An app answering with HMAC(appSecret, plainToken), computed independently of the code under test. */
function app(appSecret: string, tamperPlain = false): Responder {
  return async (req) => {
    const plainToken = plainTokenOf(req);
    const encryptedToken = await hmacHexWebCrypto(appSecret, plainToken);
    return Response.json({ plainToken: tamperPlain ? `${plainToken}x` : plainToken, encryptedToken });
  };
}

describe('validateEndpoint (spec §9)', () => {
  test('passes against a correct app; the request is a signed endpoint.url_validation webhook', async () => {
    const rx = receiver([app(SECRET)]);
    const r = await validateEndpoint(rx.url, SECRET, { timeoutMs: 1000 });
    expect(r).toMatchObject({ ok: true, reason: 'ok', status: 200 });
    expect(r.plainToken).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(r.encryptedToken).toBe(await hmacHexWebCrypto(SECRET, r.plainToken));
    expect(r.latencyMs).toBeGreaterThanOrEqual(0);

    const req = rx.requests[0]!;
    const body = WebhookBody.parse(JSON.parse(req.rawBody));
    expect(body.event).toBe('endpoint.url_validation');
    expect(body.payload).toEqual({ plainToken: r.plainToken });
    const ts = req.headers['x-zm-request-timestamp']!;
    expect(req.headers['x-zm-signature']).toBe(`v0=${await hmacHexWebCrypto(SECRET, `v0:${ts}:${req.rawBody}`)}`);
  });

  test('a fresh random plainToken each time', async () => {
    const rx = receiver([app(SECRET)]);
    const a = await validateEndpoint(rx.url, SECRET);
    const b = await validateEndpoint(rx.url, SECRET);
    expect(a.plainToken).not.toBe(b.plainToken);
  });

  test('app with another secret → wrong encryptedToken', async () => {
    const rx = receiver([app('some-other-secret')]);
    const r = await validateEndpoint(rx.url, SECRET, { timeoutMs: 1000 });
    expect(r).toMatchObject({ ok: false, reason: "wrong encryptedToken (check the app's secret token)", status: 200 });
    expect(r.encryptedToken).toBe(await hmacHexWebCrypto('some-other-secret', r.plainToken));
  });

  test('app echoing another plainToken → wrong plainToken', async () => {
    const rx = receiver([app(SECRET, true)]);
    const r = await validateEndpoint(rx.url, SECRET, { timeoutMs: 1000 });
    expect(r).toMatchObject({ ok: false, reason: 'wrong plainToken' });
  });

  test('HTTP 500 → non-2xx', async () => {
    const rx = receiver([() => new Response('boom', { status: 500 })]);
    const r = await validateEndpoint(rx.url, SECRET, { timeoutMs: 1000 });
    expect(r).toMatchObject({ ok: false, reason: 'non-2xx: HTTP 500', status: 500 });
  });

  test('200 with a non-JSON body → response is not JSON', async () => {
    const rx = receiver([() => new Response('<html>ok</html>', { headers: { 'content-type': 'text/html' } })]);
    const r = await validateEndpoint(rx.url, SECRET, { timeoutMs: 1000 });
    expect(r).toMatchObject({ ok: false, reason: 'response is not JSON', status: 200 });
  });

  test('JSON without the fields → says which fields are expected', async () => {
    const rx = receiver([() => Response.json({ status: 'ok' })]);
    const r = await validateEndpoint(rx.url, SECRET, { timeoutMs: 1000 });
    expect(r).toMatchObject({ ok: false, reason: 'response lacks plainToken/encryptedToken strings', status: 200 });
  });

  test('an app that never answers → timeout after N ms', async () => {
    const rx = receiver([hang]);
    const t0 = performance.now();
    const r = await validateEndpoint(rx.url, SECRET, { timeoutMs: 80 });
    expect(r).toMatchObject({ ok: false, reason: 'timeout after 80 ms' });
    expect(r.status).toBeUndefined();
    expect(performance.now() - t0).toBeLessThan(1000);
  });

  test('nothing listening → unreachable: <cause>', async () => {
    const port = await closedPort();
    const r = await validateEndpoint(`http://127.0.0.1:${port}/webhook`, SECRET, { timeoutMs: 1000 });
    expect(r.ok).toBe(false);
    expect(r.reason).toStartWith('unreachable: ');
    expect(r.reason).toContain('ECONNREFUSED');
  });

  test('a bad URL is reported with the URL message, nothing sent', async () => {
    const r = await validateEndpoint('localhost:3000/webhook', SECRET);
    expect(r.ok).toBe(false);
    expect(r.reason).toContain('did you mean "http://localhost:3000/webhook"?');
  });

  test('the injected fetch is used', async () => {
    const calls: string[] = [];
    const r = await validateEndpoint('http://app.invalid/hook', SECRET, {
      plainToken: 'fixed',
      fetch: async (url, init) => {
        calls.push(url);
        const token = JSON.parse(String(init.body)).payload.plainToken as string;
        return Response.json({ plainToken: token, encryptedToken: await hmacHexWebCrypto(SECRET, token) });
      },
    });
    expect(calls).toEqual(['http://app.invalid/hook']);
    expect(r).toMatchObject({ ok: true, plainToken: 'fixed' });
  });
});
