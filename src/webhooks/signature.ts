// Webhook signing and URL-validation tokens (spec §9). node:crypto so the same code runs in Bun and Deno.

import { createHmac, timingSafeEqual } from 'node:crypto';

function hmacHex(secretToken: string, message: string): string {
  return createHmac('sha256', secretToken).update(message, 'utf8').digest('hex');
}

/**
 * The `x-zm-signature` header value: `v0=` + hex HMAC-SHA256(secret, "v0:" + ts + ":" + rawBody) (spec §9).
 * `rawBody` must be the exact string that goes on the wire: re-serialising the JSON would change the bytes.
 */
export function signWebhook(secretToken: string, timestampSeconds: number | string, rawBody: string): string {
  return `v0=${hmacHex(secretToken, `v0:${timestampSeconds}:${rawBody}`)}`;
}

/** Constant-time string comparison that is safe for inputs of different lengths (returns false). */
export function constantTimeEqual(a: string, b: string): boolean {
  // TextEncoder rather than Buffer: no Node global needed under Deno.
  const ab = new TextEncoder().encode(a);
  const bb = new TextEncoder().encode(b);
  // timingSafeEqual throws on a length mismatch; the length is not secret (always "v0=" + 64 hex).
  if (ab.length !== bb.length) return false;
  return timingSafeEqual(ab, bb);
}

/**
 * Receiver-side check of a webhook (spec §9): recompute the signature over the raw body with the timestamp
 * header and compare in constant time. Missing headers never verify.
 */
export function verifyWebhookSignature(
  secretToken: string,
  tsHeader: string | null | undefined,
  rawBody: string,
  signatureHeader: string | null | undefined,
): boolean {
  if (!tsHeader || !signatureHeader) return false;
  return constantTimeEqual(signWebhook(secretToken, tsHeader, rawBody), signatureHeader);
}

/** `encryptedToken` of `endpoint.url_validation`: hex HMAC-SHA256(secret_token, plainToken) (spec §9). */
export function encryptToken(secretToken: string, plainToken: string): string {
  return hmacHex(secretToken, plainToken);
}
