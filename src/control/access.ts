// Who may use the HTTP side of port 9092 (README "Security and limits"): the control API, the page and /ingest.
// The RTMS sockets are not covered: apps authenticate there with their handshake signatures (spec §3.2).
//
// - Bind: loopback by default; any other address needs an API token (checkBindAccess, called at start-up).
// - Token: when set, every request but /health must carry it — `Authorization: Bearer TOKEN`, `?token=TOKEN`
//   (EventSource and WebSocket cannot set headers), or the cookie the page gets when opened once with ?token=.
//   Compared in constant time (tokenMatches).
// - Cross-origin writes: a POST/PUT/PATCH/DELETE whose Origin is not the server's own is refused (403), and no
//   response carries CORS headers, so another site's page can neither write nor read.
// - Without a token (so on loopback only), requests must name the server by a loopback name or --public-host
//   (Host header): a web page that rebinds its own DNS name to 127.0.0.1 cannot reach the API.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';

/** The page's cookie, set on a visit with ?token= (HttpOnly, SameSite=Strict). */
export const TOKEN_COOKIE = 'rtms_mock_token';
/** Shortest token accepted when the mock listens beyond loopback. */
export const MIN_REMOTE_TOKEN_LENGTH = 16;

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** localhost (and *.localhost), 127.0.0.0/8, ::1 and IPv4-mapped 127.x; brackets and a trailing dot allowed. */
export function isLoopbackHost(host: string): boolean {
  let h = host.trim().toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  if (h.endsWith('.')) h = h.slice(0, -1);
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h)) return true;
  if (/^(0{0,4}:){2,7}0{0,3}1$/.test(h) || h === '::1') return true;
  return /^::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/**
 * Start-up check of the bind address and the token: null when fine, else the message to print (it says how to
 * fix it). `names` are the settings as the user gave them ("--host" or "RTMS_MOCK_HOST (--host)").
 */
export function checkBindAccess(bindHost: string, apiToken: string | null | undefined,
  names: { host?: string; token?: string } = {}): string | null {
  const hostName = names.host ?? '--host';
  const tokenName = names.token ?? '--api-token';
  if (apiToken !== null && apiToken !== undefined) {
    if (apiToken.length === 0) return `${tokenName} is empty: give a token of printable characters, e.g. $(openssl rand -hex 16)`;
    if (!/^[\x21-\x7e]+$/.test(apiToken)) {
      return `${tokenName} must be printable ASCII without spaces (it travels in a header, a query string and a cookie), e.g. $(openssl rand -hex 16)`;
    }
  }
  if (isLoopbackHost(bindHost)) return null;
  const fix = `start with --api-token TOKEN or RTMS_MOCK_API_TOKEN=TOKEN (at least ${MIN_REMOTE_TOKEN_LENGTH} characters, e.g. ` +
    '$(openssl rand -hex 16)); clients then send "Authorization: Bearer TOKEN" and the page is opened once as ' +
    '/?token=TOKEN. Or keep the default loopback bind (--host 127.0.0.1)';
  if (!apiToken) {
    return `${hostName} ${bindHost} makes the control API, the page and /ingest reachable from other machines, so it needs an API token: ${fix}`;
  }
  if (apiToken.length < MIN_REMOTE_TOKEN_LENGTH) {
    return `${tokenName} is too short for ${hostName} ${bindHost}: ${apiToken.length} characters, at least ${MIN_REMOTE_TOKEN_LENGTH} are needed beyond loopback (e.g. $(openssl rand -hex 16))`;
  }
  return null;
}

/** Constant-time comparison (SHA-256 of both, so neither the content nor the length leaks through timing). */
export function tokenMatches(given: string | null | undefined, expected: string): boolean {
  if (typeof given !== 'string') return false;
  const a = createHash('sha256').update(given, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}

function cookieValue(header: string | null, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    try {
      return decodeURIComponent(part.slice(eq + 1).trim());
    } catch {
      return null;
    }
  }
  return null;
}

/** Every token a request carries: Bearer header, ?token= and the page's cookie (any one may match). */
export function requestTokens(req: Request): string[] {
  const out: string[] = [];
  const auth = req.headers.get('authorization');
  const bearer = auth ? /^bearer\s+(\S+)\s*$/i.exec(auth)?.[1] : undefined;
  if (bearer) out.push(bearer);
  const query = new URL(req.url).searchParams.get('token');
  if (query !== null) out.push(query);
  const cookie = cookieValue(req.headers.get('cookie'), TOKEN_COOKIE);
  if (cookie !== null) out.push(cookie);
  return out;
}

/** True when `apiToken` is null (no token configured) or the request carries it. */
export function requestAuthorized(req: Request, apiToken: string | null | undefined): boolean {
  if (!apiToken) return true;
  let ok = false;
  // Every candidate is compared (no early exit), each in constant time.
  for (const t of requestTokens(req)) ok = tokenMatches(t, apiToken) || ok;
  return ok;
}

/**
 * The request's Origin when it is not the server's own (compared with the Host header the browser used, so it
 * holds behind a proxy and for any name of the server), else null. "null" origins (sandboxed frames, file://)
 * are foreign. Without an Origin, a browser's `Sec-Fetch-Site: cross-site` counts as foreign too.
 */
export function foreignOrigin(req: Request): string | null {
  const origin = req.headers.get('origin');
  if (origin === null) return req.headers.get('sec-fetch-site') === 'cross-site' ? 'a cross-site page (Sec-Fetch-Site)' : null;
  const host = req.headers.get('host') ?? new URL(req.url).host;
  let o: URL;
  try {
    o = new URL(origin);
  } catch {
    return origin.slice(0, 100);
  }
  if (o.protocol !== 'http:' && o.protocol !== 'https:') return origin.slice(0, 100);
  let own: string;
  try {
    own = new URL(`${o.protocol}//${host}`).host;
  } catch {
    return origin.slice(0, 100);
  }
  return o.host === own ? null : origin.slice(0, 100);
}

export interface AccessOptions {
  apiToken: string | null | undefined;
  /** --public-host: a name the server may be reached by (Host check without a token). */
  publicHost: string;
  /** --host: likewise. */
  bindHost: string;
  log?: { warn(msg: string): void; debug(msg: string): void };
}

/** The Hono middleware enforcing all of the above on the HTTP app (mount it first). */
export function accessControl(opts: AccessOptions): MiddlewareHandler {
  const token = opts.apiToken || null;
  const names = new Set([opts.publicHost.toLowerCase(), opts.bindHost.toLowerCase()]);
  const hostAllowed = (hostname: string) => isLoopbackHost(hostname) || names.has(hostname.toLowerCase().replace(/^\[|\]$/g, ''));

  return async (c, next) => {
    const req = c.req.raw;
    const url = new URL(req.url);
    const path = url.pathname;
    const api = path === '/api' || path.startsWith('/api/');

    const deny = (status: 401 | 403, code: string, message: string, headers: Record<string, string> = {}) => {
      for (const [k, v] of Object.entries(headers)) c.header(k, v);
      // API paths (and clients asking for JSON) get the API's error shape; the page gets a readable text.
      if (api || (req.headers.get('accept') ?? '').includes('application/json')) return c.json({ error: { code, message } }, status);
      return c.text(`rtms-mock: ${message}\n`, status);
    };

    if (!token) {
      const hostHeader = req.headers.get('host');
      if (hostHeader) {
        let hostname = '';
        try { hostname = new URL(`http://${hostHeader}`).hostname; } catch { hostname = hostHeader; }
        if (!hostAllowed(hostname)) {
          opts.log?.warn(`HTTP ${req.method} ${path}: refused Host ${hostHeader.slice(0, 80)} (not a loopback name or --public-host)`);
          return deny(403, 'host_not_allowed', `this mock answers to loopback names (localhost, 127.0.0.1, [::1]) and its --public-host ` +
            `(${opts.publicHost}), not to ${JSON.stringify(hostHeader.slice(0, 80))}: use one of those, or start it with --public-host ` +
            'set to this name (a non-loopback --host also needs --api-token)');
        }
      }
    }

    if (!SAFE_METHODS.has(req.method)) {
      const foreign = foreignOrigin(req);
      if (foreign !== null) {
        opts.log?.warn(`HTTP ${req.method} ${path}: refused a cross-origin write from ${foreign}`);
        return deny(403, 'cross_origin', `cross-origin ${req.method} refused: Origin ${foreign} is not this server's origin; the control ` +
          'API takes writes only from its own page and from clients that send no Origin header (curl, scripts, apps)');
      }
    }

    if (token && path !== '/health') {
      if (!requestAuthorized(req, token)) {
        const given = requestTokens(req).length > 0;
        opts.log?.debug(`HTTP ${req.method} ${path}: 401 (${given ? 'wrong' : 'no'} API token)`);
        return deny(401, 'unauthorized', `${given ? 'wrong API token' : 'this mock needs its API token'}: send ` +
          '"Authorization: Bearer TOKEN" (EventSource and WebSocket: ?token=TOKEN); for the page, open /?token=TOKEN once',
        { 'www-authenticate': 'Bearer realm="rtms-mock"' });
      }
      // The page opened with ?token=: keep the token in a cookie (sent by its fetches, EventSource and the
      // /ingest socket) and take it out of the address bar.
      const q = url.searchParams.get('token');
      if (!api && (req.method === 'GET' || req.method === 'HEAD') && q !== null && tokenMatches(q, token)) {
        url.searchParams.delete('token');
        const secure = url.protocol === 'https:' ? '; Secure' : '';
        return redirect(c, `${url.pathname}${url.search}`, `${TOKEN_COOKIE}=${encodeURIComponent(token)}; Path=/; HttpOnly; SameSite=Strict${secure}`);
      }
    }
    await next();
  };
}

function redirect(c: Context, location: string, cookie: string): Response {
  c.header('set-cookie', cookie);
  c.header('cache-control', 'no-store');
  return c.redirect(location, 303);
}
