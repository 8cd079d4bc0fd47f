// Handshake signature (spec §3.2): hex HMAC-SHA256(client_secret, client_id + "," + instance_id + "," + stream_id).
import { createHmac, timingSafeEqual } from 'node:crypto';

export function handshakeSignature(clientId: string, clientSecret: string, instanceId: string, streamId: string): string {
  return createHmac('sha256', clientSecret).update(`${clientId},${instanceId},${streamId}`).digest('hex');
}

/** The comma-less variant of the seed README (a documentation error; only with --lenient-signature). */
export function legacySignature(clientId: string, clientSecret: string, instanceId: string, streamId: string): string {
  return createHmac('sha256', clientSecret).update(`${clientId}${instanceId}${streamId}`).digest('hex');
}

/** Constant-time comparison of two hex strings (length leaks nothing useful: signatures are fixed-length). */
export function safeEqualHex(a: string, b: string): boolean {
  const ab = Buffer.from(a.toLowerCase(), 'utf8');
  const bb = Buffer.from(b.toLowerCase(), 'utf8');
  if (ab.length !== bb.length) {
    timingSafeEqual(bb, bb);
    return false;
  }
  return timingSafeEqual(ab, bb);
}

export interface ClientCredential { client_id: string; client_secret: string }

export type SignatureMatch = { ok: true; clientId: string; form: 'comma' | 'legacy' } | { ok: false };

/** Tries every configured client (the credentials file may hold several, spec §10). */
export function matchSignature(signature: string, creds: readonly ClientCredential[], instanceId: string, streamId: string,
  lenient: boolean): SignatureMatch {
  let found: SignatureMatch = { ok: false };
  for (const c of creds) {
    // No early exit: every candidate is compared so timing does not reveal which client matched.
    if (safeEqualHex(signature, handshakeSignature(c.client_id, c.client_secret, instanceId, streamId)) && !found.ok) {
      found = { ok: true, clientId: c.client_id, form: 'comma' };
    } else if (lenient && !found.ok &&
      safeEqualHex(signature, legacySignature(c.client_id, c.client_secret, instanceId, streamId))) {
      found = { ok: true, clientId: c.client_id, form: 'legacy' };
    }
  }
  return found;
}
