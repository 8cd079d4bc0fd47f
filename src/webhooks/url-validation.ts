// Zoom's endpoint URL validation (spec §9): POST `endpoint.url_validation` with a random plainToken, signed like
// every webhook; the app must answer 200 {"plainToken","encryptedToken": hex HMAC-SHA256(secret, plainToken)}.

import { randomBytes } from 'node:crypto';
import { postSignedWebhook, type FetchLike } from './delivery.ts';
import { UrlValidationResponse } from './schemas.ts';
import { encryptToken } from './signature.ts';
import { checkWebhookUrl } from './webhook-url.ts';

export interface ValidateEndpointOptions {
  /** How long the app has to answer, ms. Default 3000 (Zoom's documented limit for this check). */
  timeoutMs?: number;
  fetch?: FetchLike;
  /** Clock for event_ts and the timestamp header (ms epoch). Default Date.now. */
  now?: () => number;
  /** Token to send instead of a random one (reproducible tests). */
  plainToken?: string;
}

export interface EndpointValidationResult {
  ok: boolean;
  /**
   * "ok", "unreachable: <cause>", "timeout after N ms", "non-2xx: HTTP <code>", "response is not JSON",
   * "response lacks plainToken/encryptedToken strings", "wrong plainToken",
   * "wrong encryptedToken (check the app's secret token)", or the URL problem.
   */
  reason: string;
  status?: number;
  latencyMs: number;
  /** The token we sent. */
  plainToken: string;
  /** The encryptedToken the app answered, when it answered one. */
  encryptedToken?: string;
}

export async function validateEndpoint(
  url: string | URL,
  secretToken: string,
  opts: ValidateEndpointOptions = {},
): Promise<EndpointValidationResult> {
  // Zoom's tokens are 22 url-safe characters; 16 random bytes in base64url give the same shape.
  const plainToken = opts.plainToken ?? randomBytes(16).toString('base64url');
  const timeoutMs = opts.timeoutMs ?? 3000;
  const now = opts.now ?? Date.now;

  const checked = checkWebhookUrl(typeof url === 'string' ? url : url.href);
  if (!checked.ok) return { ok: false, reason: checked.error, latencyMs: 0, plainToken };

  const body = JSON.stringify({ event: 'endpoint.url_validation', event_ts: now(), payload: { plainToken } });
  const res = await postSignedWebhook({
    url: checked.url.href,
    body,
    secretToken,
    timeoutMs,
    now,
    ...(opts.fetch ? { fetch: opts.fetch } : {}),
  });
  const base = { latencyMs: res.latencyMs, plainToken };
  const fail = (reason: string, extra: { status?: number; encryptedToken?: string } = {}): EndpointValidationResult => ({
    ok: false,
    reason,
    ...base,
    ...extra,
  });

  if (res.error === 'timeout') return fail(`timeout after ${timeoutMs} ms`);
  if (res.error === 'unreachable' || res.error === 'cancelled') return fail(`unreachable: ${res.detail ?? 'unknown error'}`);
  const status = res.status;
  if (status === undefined) return fail('unreachable: no response');
  if (!res.ok) return fail(`non-2xx: HTTP ${status}`, { status });

  let json: unknown;
  try {
    json = JSON.parse(res.responseText);
  } catch {
    return fail('response is not JSON', { status });
  }
  const parsed = UrlValidationResponse.safeParse(json);
  if (!parsed.success) return fail('response lacks plainToken/encryptedToken strings', { status });

  const { plainToken: echoed, encryptedToken } = parsed.data;
  if (echoed !== plainToken) return fail('wrong plainToken', { status, encryptedToken });
  if (encryptedToken !== encryptToken(secretToken, plainToken)) {
    return fail("wrong encryptedToken (check the app's secret token)", { status, encryptedToken });
  }
  return { ok: true, reason: 'ok', status, encryptedToken, ...base };
}
