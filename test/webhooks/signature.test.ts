// spec §9: webhook signature and URL-validation token, checked against WebCrypto (an independent HMAC).

import { describe, expect, test } from 'bun:test';
import { hmacHexWebCrypto } from './receiver.ts';
import { constantTimeEqual, encryptToken, signWebhook, verifyWebhookSignature } from '../../src/webhooks/signature.ts';

const SECRET = 'whsec-test-Token_123';
const BODY = '{"event":"meeting.rtms_started","event_ts":1732460000123,"payload":{"meeting_uuid":"a/b+c=="}}';

describe('signWebhook (spec §9)', () => {
  test('is v0= + hex HMAC-SHA256(secret, "v0:" + ts + ":" + body)', async () => {
    const sig = signWebhook(SECRET, 1732460000, BODY);
    expect(sig).toMatch(/^v0=[0-9a-f]{64}$/);
    expect(sig).toBe(`v0=${await hmacHexWebCrypto(SECRET, `v0:1732460000:${BODY}`)}`);
  });

  test('accepts the timestamp as string or number', () => {
    expect(signWebhook(SECRET, '1732460000', BODY)).toBe(signWebhook(SECRET, 1732460000, BODY));
  });

  test('signs non-ASCII bodies as UTF-8', async () => {
    const body = '{"payload":{"name":"Zoë 会议"}}';
    expect(signWebhook(SECRET, 1, body)).toBe(`v0=${await hmacHexWebCrypto(SECRET, `v0:1:${body}`)}`);
  });
});

describe('verifyWebhookSignature', () => {
  const ts = '1732460000';
  const good = signWebhook(SECRET, ts, BODY);

  test('accepts the right signature', () => {
    expect(verifyWebhookSignature(SECRET, ts, BODY, good)).toBe(true);
  });

  test('rejects a changed body, timestamp, secret or signature', () => {
    expect(verifyWebhookSignature(SECRET, ts, `${BODY} `, good)).toBe(false);
    expect(verifyWebhookSignature(SECRET, '1732460001', BODY, good)).toBe(false);
    expect(verifyWebhookSignature('other', ts, BODY, good)).toBe(false);
    expect(verifyWebhookSignature(SECRET, ts, BODY, good.toUpperCase())).toBe(false);
  });

  test('rejects signatures of another length and missing headers without throwing', () => {
    expect(verifyWebhookSignature(SECRET, ts, BODY, good.slice(0, -1))).toBe(false);
    expect(verifyWebhookSignature(SECRET, ts, BODY, `${good}0`)).toBe(false);
    expect(verifyWebhookSignature(SECRET, ts, BODY, '')).toBe(false);
    expect(verifyWebhookSignature(SECRET, null, BODY, good)).toBe(false);
    expect(verifyWebhookSignature(SECRET, ts, BODY, undefined)).toBe(false);
  });

  test('constantTimeEqual handles different lengths', () => {
    expect(constantTimeEqual('abc', 'abc')).toBe(true);
    expect(constantTimeEqual('abc', 'abcd')).toBe(false);
    expect(constantTimeEqual('', '')).toBe(true);
  });
});

describe('encryptToken (spec §9 url_validation)', () => {
  test('is hex HMAC-SHA256(secret, plainToken)', async () => {
    const plain = 'qgg8vlvZRS6UYooatFL8Aw';
    expect(encryptToken(SECRET, plain)).toBe(await hmacHexWebCrypto(SECRET, plain));
  });
});
