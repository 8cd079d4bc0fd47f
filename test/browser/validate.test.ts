// The page's webhook URL check (issue 3): "Validate" runs endpoint.url_validation against the URL in the
// "Webhook URL" field and shows whether it passed and, if not, why; the URL is remembered across reloads.
// Real apps on loopback: the reference app with the sample secret token (passes), the reference app with
// another token (refuses the signature with 401), an app that answers with a token hashed from another secret,
// an endpoint answering 503, and a port with nothing listening.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { startReferenceApp, type ReferenceApp } from '../../src/client/reference-app.ts';
import { closedPort, hmacHexWebCrypto, startReceiver, type Receiver } from '../webhooks/receiver.ts';
import { expectCleanPage, openMockPage, type MockPage } from './helpers/mock-page.ts';
import { expectDescription, expectVisible } from './helpers/ui.ts';

let mp: MockPage;
let good: ReferenceApp;
let wrongToken: ReferenceApp;
let failing: Receiver;
/** Skips the signature check and answers URL validation with HMAC(its own token, plainToken). */
let ownTokenApp: Receiver;
let deadUrl: string;

beforeAll(async () => {
  mp = await openMockPage();
  good = await startReferenceApp({ log: false });
  mp.defer(() => good.stop());
  wrongToken = await startReferenceApp({ log: false, secretToken: 'not-the-sample-token-x' });
  mp.defer(() => wrongToken.stop());
  failing = startReceiver([() => new Response('maintenance', { status: 503 })]);
  mp.defer(() => failing.close());
  ownTokenApp = startReceiver([
    async (req) => {
      const plainToken = JSON.parse(req.rawBody).payload.plainToken as string;
      return Response.json({ plainToken, encryptedToken: await hmacHexWebCrypto('some-other-secret-token', plainToken) });
    },
  ]);
  mp.defer(() => ownTokenApp.close());
  deadUrl = `http://127.0.0.1:${await closedPort()}/webhook`;
}, 30_000);

afterAll(async () => {
  await mp?.close();
});

const field = () => mp.page.getByRole('textbox', { name: 'Webhook URL' });
const validateButton = () => mp.page.getByRole('button', { name: 'Validate', exact: true });
/**
 * The outcome, as assistive technology gets it: the page writes it into a live region that is part of the
 * field's accessible description (aria-describedby), so it is read with the field.
 */
const expectOutcome = (pattern: RegExp | ((text: string) => boolean), what: string) => expectDescription(field(), pattern, what);

const PASSED = /\b(pass(ed|es)?|validated|succe\w*|ok)\b|✓|✔/i;
const FAILED = /\b(fail\w*|invalid|wrong|unreachable|error)\b|✗|✘/i;
/** The outcome reads as a pass: a pass word and no failure word. */
const passed = (text: string) => PASSED.test(text) && !FAILED.test(text);

async function validate(url: string): Promise<void> {
  await field().fill(url);
  await validateButton().click();
}

describe('Validate (webhook URL check from the page)', () => {
  test('the field and the button are there, addressed by their accessible names', async () => {
    await expectVisible(field(), 'the "Webhook URL" text field');
    await expectVisible(validateButton(), 'the "Validate" button');
  });

  test('passes against an app that answers with the right encryptedToken', async () => {
    const before = good.webhooks.length;
    await validate(good.url);
    // Ground truth: the app really received the signed endpoint.url_validation and answered 200.
    const hook = await good.waitFor((o) => o.kind === 'webhook' && o.event === 'endpoint.url_validation', 8_000);
    expect(hook.kind === 'webhook' && hook.status).toBe(200);
    expect(good.webhooks.length).toBeGreaterThan(before);
    await expectOutcome(passed, 'validation outcome for the good app (a pass, no failure words)');
  }, 20_000);

  test('fails against the reference app configured with another secret token (it refuses the signature: 401)', async () => {
    await validate(wrongToken.url);
    // The app checks x-zm-signature with its own token first (spec §9), so it answers 401.
    const hook = await wrongToken.waitFor((o) => o.kind === 'webhook', 8_000);
    expect(hook.kind === 'webhook' && hook.status).toBe(401);
    await expectOutcome(FAILED, 'validation outcome for the wrong-token app');
    await expectOutcome(/401/, 'the reason for the wrong-token app (its HTTP status)');
  }, 20_000);

  test('fails against an app that answers with an encryptedToken made from another token, naming it', async () => {
    await validate(ownTokenApp.url);
    await expectOutcome(FAILED, 'validation outcome for the app with its own token');
    await expectOutcome(/encryptedToken/i, 'the reason for a wrong encryptedToken');
    const req = ownTokenApp.requests.find((r) => r.rawBody.includes('endpoint.url_validation'));
    expect(req?.headers['x-zm-signature']).toMatch(/^v0=[0-9a-f]{64}$/);
  }, 20_000);

  test('fails against an unreachable URL, saying it is unreachable', async () => {
    await validate(deadUrl);
    await expectOutcome(/unreachable/i, 'the reason for a closed port');
  }, 20_000);

  test('fails against an endpoint that answers non-2xx, showing the HTTP status', async () => {
    await validate(failing.url);
    await expectOutcome(/503/, 'the reason for a 503 endpoint');
    await expectOutcome(/non-2xx|HTTP|status/i, 'the reason for a 503 endpoint');
    expect(failing.requests.some((r) => r.rawBody.includes('endpoint.url_validation'))).toBe(true);
  }, 20_000);

  test('the URL is remembered across a reload', async () => {
    await validate(good.url);
    await expectOutcome(passed, 'validation outcome before the reload');
    await mp.page.reload({ waitUntil: 'load' });
    await expectVisible(field(), 'the "Webhook URL" field after the reload');
    const deadline = Date.now() + 5_000;
    let value = '';
    while (Date.now() < deadline && (value = await field().inputValue()) !== good.url) await Bun.sleep(50);
    expect(value).toBe(good.url);
  }, 20_000);

  test('the page made no request outside loopback and threw no error', () => {
    expectCleanPage(mp);
  });
});
