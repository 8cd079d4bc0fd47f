// Validation of a user-supplied webhook URL (CLI flag, config file, control API). Webhooks are plain HTTP POSTs
// (spec §9), so only http: and https: make sense; the messages say what is wrong and how to fix it.

const EXAMPLE = 'http://127.0.0.1:3000/webhook';
/** Longest webhook URL accepted (README "Security and limits"); browsers and servers commonly stop near 2 KiB. */
export const MAX_URL_LENGTH = 2048;

export class WebhookUrlError extends Error {
  override name = 'WebhookUrlError';
}

export type WebhookUrlCheck = { ok: true; url: URL } | { ok: false; error: string };

function show(input: string): string {
  const s = input.length > 120 ? `${input.slice(0, 120)}…` : input;
  return JSON.stringify(s);
}

/**
 * Checks `input` and returns the parsed URL or a human-readable error. `field` names the setting in the
 * message (e.g. "--webhook-url"), default "webhook_url".
 */
export function checkWebhookUrl(input: unknown, field = 'webhook_url'): WebhookUrlCheck {
  if (typeof input !== 'string') {
    return { ok: false, error: `${field} must be a string URL such as ${EXAMPLE}, got ${typeof input}` };
  }
  const s = input.trim();
  if (s === '') {
    return { ok: false, error: `${field} is empty: give the app's webhook endpoint, e.g. ${EXAMPLE}` };
  }
  if (s.length > MAX_URL_LENGTH) {
    return { ok: false, error: `${field} is too long: ${s.length} characters, at most ${MAX_URL_LENGTH}` };
  }

  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(s)?.[1]?.toLowerCase();
  // "localhost:3000/x" parses with scheme "localhost:"; a scheme followed by a digit is really host:port.
  const looksLikeHostPort = scheme !== undefined && /^[a-z][a-z0-9+.-]*:\d/i.test(s);
  if (scheme === undefined || looksLikeHostPort) {
    return {
      ok: false,
      error: `${field} must start with http:// or https://, got ${show(s)}; did you mean ${show(`http://${s}`)}?`,
    };
  }
  if (scheme !== 'http' && scheme !== 'https') {
    const hint =
      scheme === 'ws' || scheme === 'wss'
        ? ' (webhooks are HTTP POSTs; the WebSocket URL is what the mock sends the app in server_urls)'
        : '';
    return { ok: false, error: `${field} must be an http:// or https:// URL, got ${show(s)}${hint}` };
  }
  if (!/^https?:\/\/[^/]/i.test(s)) {
    return { ok: false, error: `${field} is malformed: ${show(s)}; write it as ${scheme}://host[:port]/path, e.g. ${EXAMPLE}` };
  }

  let url: URL;
  try {
    url = new URL(s);
  } catch {
    return {
      ok: false,
      error:
        `${field} is not a valid URL: ${show(s)}; check the host name, the port (1-65535) and ` +
        `percent-encode spaces, e.g. ${EXAMPLE}`,
    };
  }
  if (url.hostname === '') {
    return { ok: false, error: `${field} has no host: ${show(s)}; e.g. ${EXAMPLE}` };
  }
  return { ok: true, url };
}

/** Like checkWebhookUrl, but returns the URL or throws a WebhookUrlError carrying the message. */
export function parseWebhookUrl(input: unknown, field = 'webhook_url'): URL {
  const r = checkWebhookUrl(input, field);
  if (!r.ok) throw new WebhookUrlError(r.error);
  return r.url;
}
