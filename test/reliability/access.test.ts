// Access to the HTTP side (README "Security and limits"; src/control/access.ts): loopback by default, a token
// required beyond it (start-up refuses otherwise, saying how to fix it), the token checked on the API, the page,
// EventSource and /ingest while the RTMS sockets stay open to apps; cross-origin writes refused and no CORS grant;
// Host names checked without a token (DNS rebinding); static files never served from outside their root;
// webhook URLs validated; and no secret in any log line of a whole flow at debug level.
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'bun:test';
import { createHmac } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkBindAccess, isLoopbackHost, tokenMatches } from '../../src/control/access.ts';
import { fileAssets } from '../../src/control/static-assets.ts';
import { legacySignature } from '../../src/protocol/signature.ts';
import { killAll, runCli, startCli } from '../cli/cli-process.ts';
import { startMock, type TestMock } from '../helpers/mock.ts';
import { CLIENT_ID, CLIENT_SECRET, SECRET_TOKEN, sign } from '../helpers/ws-client.ts';
import { startReceiver, type Receiver } from '../webhooks/receiver.ts';
import { LeanApp, closedPromise, meetingPath, openWs, rawGet, rawHttp, stats, until } from './kit.ts';

const TOKEN = 'rel-test-token-0123456789abcdef';
const mocks: TestMock[] = [];
const apps: LeanApp[] = [];
const receivers: Receiver[] = [];
afterEach(async () => {
  for (const a of apps.splice(0)) a.close();
  for (const r of receivers.splice(0)) await r.close();
  for (const m of mocks.splice(0)) await m.stop({ graceful: false });
  await killAll();
});

async function start(over: Parameters<typeof startMock>[0] = {}): Promise<TestMock> {
  const m = await startMock(over);
  mocks.push(m);
  return m;
}

/** fetch without the helper's automatic token. */
const call = (m: TestMock, path: string, init: RequestInit = {}) => fetch(`${m.baseUrl}${path}`, { redirect: 'manual', ...init });

describe('bind address and token at start-up', () => {
  test('loopback names; the messages say how to fix a non-loopback bind', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', 'LOCALHOST', 'app.localhost', '::1', '[::1]', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1', 'localhost.']) expect(isLoopbackHost(h), h).toBe(true);
    for (const h of ['0.0.0.0', '::', '192.168.1.5', '10.0.0.1', 'example.com', 'localhost.example.com', '128.0.0.1', '::2']) expect(isLoopbackHost(h), h).toBe(false);
    expect(checkBindAccess('127.0.0.1', null)).toBeNull();
    expect(checkBindAccess('127.0.0.1', 'short')).toBeNull(); // any token on loopback
    expect(checkBindAccess('0.0.0.0', 'x'.repeat(16))).toBeNull();
    expect(checkBindAccess('0.0.0.0', null)).toMatch(/^--host 0\.0\.0\.0 makes the control API, the page and \/ingest reachable from other machines, so it needs an API token: start with --api-token TOKEN or RTMS_MOCK_API_TOKEN=TOKEN/);
    expect(checkBindAccess('::', 'x'.repeat(15))).toMatch(/--api-token is too short for --host ::: 15 characters, at least 16/);
    expect(checkBindAccess('127.0.0.1', '')).toMatch(/--api-token is empty/);
    expect(checkBindAccess('127.0.0.1', 'with space 0123456789')).toMatch(/printable ASCII without spaces/);
    expect(tokenMatches(TOKEN, TOKEN)).toBe(true);
    for (const bad of [TOKEN.slice(0, -1), `${TOKEN}x`, TOKEN.toUpperCase(), '', null, undefined]) expect(tokenMatches(bad, TOKEN)).toBe(false);
  });

  test('CLI: a non-loopback --host (or RTMS_MOCK_HOST) without a token, or with a short one, exits 2 before listening', async () => {
    const env = { RTMS_MOCK_PORT: '0', RTMS_MOCK_MEDIA_PORT: '0' };
    const cases: [string[], Record<string, string>, RegExp][] = [
      [['--host', '0.0.0.0'], {}, /^rtms-mock: --host 0\.0\.0\.0 makes the control API.*needs an API token: start with --api-token TOKEN or RTMS_MOCK_API_TOKEN=TOKEN.*Authorization: Bearer TOKEN.*--host 127\.0\.0\.1/],
      [[], { RTMS_MOCK_HOST: '::' }, /^rtms-mock: RTMS_MOCK_HOST \(--host\) :: makes the control API/],
      [['--host', '192.0.2.10', '--api-token', 'tooshort'], {}, /--api-token is too short for --host 192\.0\.2\.10: 8 characters, at least 16/],
      [['--host', '0.0.0.0'], { RTMS_MOCK_API_TOKEN: 'short' }, /RTMS_MOCK_API_TOKEN \(--api-token\) is too short/],
      [['--api-token', 'has a space in it!!'], {}, /--api-token must be printable ASCII without spaces/],
      [['--max-connections', '0'], {}, /--max-connections must be an integer between 1 and 1000000, got "0"/],
      [[], { RTMS_MOCK_MAX_MEETINGS: 'many' }, /RTMS_MOCK_MAX_MEETINGS \(--max-meetings\) must be an integer/],
    ];
    const results = await Promise.all(cases.map(([args, e]) => runCli(args, { ...env, ...e }, 8000)));
    results.forEach((r, i) => {
      expect(r.stderr).toMatch(cases[i]![2]);
      expect(r.stdout).not.toContain('listening');
      expect(r.code).toBe(2);
    });
  });

  test('CLI: RTMS_MOCK_API_TOKEN on loopback: /api and the page need it, /health does not; --max-meetings from the environment applies', async () => {
    const cli = await startCli(['--port', '0', '--media-port', '0'], { RTMS_MOCK_API_TOKEN: TOKEN, RTMS_MOCK_MAX_MEETINGS: '1' });
    const auth = { authorization: `Bearer ${TOKEN}` };
    expect((await fetch(`${cli.baseUrl}/health`)).status).toBe(200);
    const no = await fetch(`${cli.baseUrl}/api/stats`);
    expect(no.status).toBe(401);
    expect(no.headers.get('www-authenticate')).toBe('Bearer realm="rtms-mock"');
    expect((await fetch(`${cli.baseUrl}/`)).status).toBe(401);
    expect((await fetch(`${cli.baseUrl}/api/stats`, { headers: auth })).status).toBe(200);
    const post = (h: Record<string, string>) => fetch(`${cli.baseUrl}/api/meetings`, { method: 'POST', headers: { ...h, 'content-type': 'application/json' }, body: '{"start_rtms":false}' });
    expect((await post({})).status).toBe(401);
    expect((await post(auth)).status).toBe(201);
    const second = await post(auth);
    expect(second.status).toBe(429);
    expect((await second.json()).error.code).toBe('too_many_meetings');
    // The token never shows in the output.
    expect(cli.output()).not.toContain(TOKEN);
  }, 20_000);
});

describe('with an API token', () => {
  test('every /api route and the page need it (Bearer, ?token=, or the page cookie); wrong or partial tokens are 401; /health is open', async () => {
    const m = await start({ apiToken: TOKEN });
    const created = await m.startMeeting(null); // the helper sends the Bearer token
    const paths = ['/api', '/api/stats', '/api/meetings', meetingPath(created.meeting_uuid), '/api/webhooks/deliveries', '/api/openapi.json', '/api/faults', '/api/nope', '/', '/index.html', '/main.js'];
    for (const p of paths) {
      for (const headers of [{}, { authorization: `Bearer ${TOKEN}x` }, { authorization: `Bearer ${TOKEN.slice(0, -1)}` }, { authorization: TOKEN }, { authorization: `Basic ${btoa(`u:${TOKEN}`)}` }, { cookie: 'rtms_mock_token=nope' }] as Record<string, string>[]) {
        const r = await call(m, p, { headers });
        expect(r.status, `${p} ${JSON.stringify(headers)}`).toBe(401);
        if (p.startsWith('/api')) expect((await r.json()).error).toEqual({ code: 'unauthorized', message: expect.stringMatching(/API token.*Authorization: Bearer TOKEN/) });
        else expect(await r.text()).toMatch(/open \/\?token=TOKEN once/);
      }
      const ok = await call(m, p, { headers: { authorization: `bearer ${TOKEN}` } });
      expect(ok.status, p).not.toBe(401);
    }
    expect((await call(m, `/api/stats?token=${TOKEN}`)).status).toBe(200);
    expect((await call(m, `/api/stats?token=${TOKEN}0`)).status).toBe(401);
    expect((await call(m, '/health')).status).toBe(200);
    // Writes need it too.
    expect((await call(m, meetingPath(created.meeting_uuid), { method: 'DELETE' })).status).toBe(401);
    expect((await call(m, '/api/meetings', { method: 'POST', body: '{}' })).status).toBe(401);
    expect((await stats(m)).meetings_live).toBe(1);
    // EventSource style: ?token= on /api/events opens the stream.
    const ctl = new AbortController();
    const es = await call(m, `/api/events?token=${encodeURIComponent(TOKEN)}`, { signal: ctl.signal });
    expect(es.status).toBe(200);
    expect(es.headers.get('content-type')).toContain('text/event-stream');
    ctl.abort();
    await until(async () => (await stats(m)).inspector_clients === 0, 3000, 'event stream closed');
  });

  test('the page opened with ?token= gets an HttpOnly SameSite=Strict cookie and a redirect without the token; the cookie then opens the page, the API and /ingest', async () => {
    const m = await start({ apiToken: TOKEN });
    const r = await call(m, `/?token=${encodeURIComponent(TOKEN)}&tab=inspector`);
    expect(r.status).toBe(303);
    expect(r.headers.get('location')).toBe('/?tab=inspector');
    const cookie = r.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^rtms_mock_token=[^;]+; Path=\/; HttpOnly; SameSite=Strict$/);
    const jar = cookie.split(';')[0]!;
    expect((await call(m, '/', { headers: { cookie: jar } })).status).toBe(200);
    expect((await call(m, '/api/stats', { headers: { cookie: jar } })).status).toBe(200);
    expect((await call(m, '/?token=wrong')).status).toBe(401);
    // /ingest: the cookie is sent on the page's WebSocket upgrade (same origin).
    const live = await m.startMeeting(null, { source: 'browser' });
    const url = `ws://127.0.0.1:${m.port}/ingest?meeting_uuid=${encodeURIComponent(live.meeting_uuid)}`;
    const withCookie = await openWs(url, { cookie: jar });
    const msgs: any[] = [];
    withCookie.addEventListener('message', (e) => msgs.push(JSON.parse(String(e.data))));
    withCookie.send(JSON.stringify({ type: 'hello', user_name: 'Page', camera: false }));
    await until(() => msgs.find((x) => x.type === 'welcome'), 3000, 'welcome');
    withCookie.close();
    for (const h of [{}, { cookie: 'rtms_mock_token=wrong' }, { authorization: 'Bearer wrong' }] as Record<string, string>[]) {
      const ws = await openWs(url, h);
      expect((await closedPromise(ws)).code).toBe(4401);
    }
    const bearer = await openWs(url, { authorization: `Bearer ${TOKEN}` });
    await Bun.sleep(100);
    expect(bearer.readyState).toBe(WebSocket.OPEN);
    bearer.close();
  });

  test('the RTMS sockets stay open to apps without the token: they authenticate with their handshake signature (spec §3.2)', async () => {
    const m = await start({ apiToken: TOKEN });
    const created = await m.startMeeting(null);
    const app = new LeanApp({ signalingUrl: created.server_urls, meetingUuid: created.meeting_uuid, streamId: created.rtms_stream_id, path: 'audio', mediaType: 1, steps: { 14: 20 } });
    apps.push(app);
    await app.connect();
    await app.waitFor(14, 5);
    expect(app.track(14).problems).toEqual([]);
  });
});

describe('cross-origin writes and Host names', () => {
  test('a POST/DELETE with another origin is 403 cross_origin and changes nothing; same-origin and Origin-less writes work; no response grants CORS', async () => {
    const m = await start();
    const own = `http://127.0.0.1:${m.port}`;
    const created = await m.startMeeting(null);
    // (The scheme is not compared: one port serves one scheme, and a TLS proxy in front changes it.)
    const foreign = ['http://evil.example', `http://localhost:${m.port}`, `http://127.0.0.1:${m.port + 1}`, `http://127.0.0.2:${m.port}`, 'null', 'file://', 'not a url', 'chrome-extension://abc'];
    for (const origin of foreign) {
      for (const [method, path, body] of [['POST', '/api/meetings', '{}'], ['DELETE', meetingPath(created.meeting_uuid), undefined], ['POST', `${meetingPath(created.meeting_uuid)}/rtms/stop`, '{}'], ['POST', '/api/webhooks/validate', '{"url":"http://127.0.0.1:1/"}']] as const) {
        const r = await call(m, path, { method, headers: { origin, 'content-type': 'text/plain' }, ...(body ? { body } : {}) });
        expect(r.status, `${method} ${path} from ${origin}`).toBe(403);
        expect(r.headers.get('access-control-allow-origin')).toBeNull();
        const e = (await r.json()).error;
        expect(e.code).toBe('cross_origin');
        expect(e.message).toMatch(new RegExp(`^cross-origin ${method} refused: Origin .* is not this server's origin`));
      }
    }
    // A browser's cross-site request without Origin is recognised by Sec-Fetch-Site.
    expect((await call(m, '/api/meetings', { method: 'POST', headers: { 'sec-fetch-site': 'cross-site' }, body: '{}' })).status).toBe(403);
    expect(await stats(m)).toMatchObject({ meetings_live: 1, meetingsCreated: 1 });
    expect((await m.api('GET', meetingPath(created.meeting_uuid))).body.stream_phase).not.toBe('stopped');
    // Reads are not blocked, but nothing lets another origin read them: no CORS headers, preflights not granted.
    const read = await call(m, '/api/stats', { headers: { origin: 'http://evil.example' } });
    expect(read.status).toBe(200);
    expect([...read.headers.keys()].filter((k) => k.startsWith('access-control-'))).toEqual([]);
    const pre = await call(m, '/api/meetings', { method: 'OPTIONS', headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } });
    expect([...pre.headers.keys()].filter((k) => k.startsWith('access-control-'))).toEqual([]);
    // The page's own origin, and clients that send none (curl, apps), may write.
    expect((await call(m, '/api/meetings', { method: 'POST', headers: { origin: own }, body: '{}' })).status).toBe(201);
    expect((await call(m, '/api/meetings', { method: 'POST', body: '{}' })).status).toBe(201);
    // With a token, a foreign origin is refused even when it carries the token.
    const t = await start({ apiToken: TOKEN });
    expect((await call(t, '/api/meetings', { method: 'POST', headers: { origin: 'http://evil.example', authorization: `Bearer ${TOKEN}` }, body: '{}' })).status).toBe(403);
    // /ingest from another site's page: 4403.
    const live = await m.startMeeting(null, { source: 'browser' });
    const ws = await openWs(`ws://127.0.0.1:${m.port}/ingest?meeting_uuid=${encodeURIComponent(live.meeting_uuid)}`, { origin: 'http://evil.example' });
    const msgs: any[] = [];
    ws.addEventListener('message', (e) => msgs.push(JSON.parse(String(e.data))));
    expect((await closedPromise(ws)).code).toBe(4403);
    expect(msgs[0]).toMatchObject({ type: 'error', code: 4403, message: expect.stringMatching(/cross-origin ingest refused: Origin http:\/\/evil\.example/) });
  });

  test('without a token, only loopback names and --public-host reach the HTTP side (DNS rebinding); with a token any Host name works', async () => {
    const m = await start({ publicHost: 'rtms.test' });
    for (const host of ['evil.example', `evil.example:${m.port}`, `192.0.2.1:${m.port}`, 'localhost.evil.example']) {
      for (const path of ['/api/stats', '/']) {
        const r = await rawGet(m.port, path, { Host: host });
        expect(r.status, `${host} ${path}`).toBe(403);
        expect(r.body).toMatch(/answers to loopback names.*--public-host/);
      }
    }
    for (const host of [`127.0.0.1:${m.port}`, `localhost:${m.port}`, `[::1]:${m.port}`, `rtms.test:${m.port}`, 'LOCALHOST']) {
      expect((await rawGet(m.port, '/api/stats', { Host: host })).status, host).toBe(200);
    }
    expect((await rawGet(m.port, '/health', { Host: 'evil.example' })).status).toBe(403);
    const t = await start({ apiToken: TOKEN });
    expect((await rawGet(t.port, '/api/stats', { Host: 'my-box.example', Authorization: `Bearer ${TOKEN}` })).status).toBe(200);
  });
});

describe('static files', () => {
  let root = '';
  let m: TestMock;
  beforeAll(async () => {
    const base = mkdtempSync(join(tmpdir(), 'rtms-rel-static-'));
    root = join(base, 'dist');
    mkdirSync(join(root, 'assets'), { recursive: true });
    writeFileSync(join(root, 'index.html'), '<!doctype html><title>page</title>');
    writeFileSync(join(root, 'assets', 'a.js'), 'ok');
    writeFileSync(join(base, 'secret.txt'), 'TOP-SECRET-OUTSIDE-ROOT');
    m = await startMock({ assets: fileAssets(root) });
  });
  afterAll(async () => {
    await m?.stop({ graceful: false });
    rmSync(join(root, '..'), { recursive: true, force: true });
  });

  test('../, %2e%2e, %2f, backslashes, absolute paths, drive letters, NUL bytes and double encoding never leave the root (raw request lines)', async () => {
    const secretAbs = join(root, '..', 'secret.txt');
    const attempts = [
      '/../secret.txt', '/../../../../etc/passwd', '/%2e%2e/secret.txt', '/%2E%2E/secret.txt', '/.%2e/secret.txt', '/%2e%2e%2fsecret.txt',
      '/..%2fsecret.txt', '/..%2Fsecret.txt', '/assets/..%2f..%2fsecret.txt', '/assets/%2e%2e/%2e%2e/secret.txt', '/..%5csecret.txt',
      '/..\\secret.txt', '/assets\\..\\..\\secret.txt', '/%5c..%5c..%5csecret.txt', '//etc/passwd', '///etc/passwd', '/%2fetc%2fpasswd',
      `/${secretAbs}`, `/${encodeURIComponent(secretAbs)}`, `/%2f${secretAbs.slice(1)}`, '/C:/Windows/win.ini', '/C:%5cWindows%5cwin.ini', '/c:secret.txt',
      '/index.html%00.txt', '/%00', '/assets/a.js%00', '/%252e%252e/secret.txt', '/%25%32%65%25%32%65/secret.txt', '/%c0%ae%c0%ae/secret.txt',
      '/%zz', '/assets//a.js', '/~/secret.txt',
    ];
    for (const p of attempts) {
      const r = await rawGet(m.port, p);
      expect(r.body, p).not.toContain('TOP-SECRET');
      expect(r.status === 404 || r.status === 400, `${p} → ${r.status}`).toBe(true);
    }
    // Absolute-form request targets too.
    for (const target of ['http://127.0.0.1/../secret.txt', `file://${secretAbs}`]) {
      const r = await rawHttp(m.port, `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${m.port}\r\nConnection: close\r\n\r\n`);
      expect(r.body).not.toContain('TOP-SECRET');
    }
    // Dot segments that stay inside the root are resolved by the HTTP layer and serve the file inside.
    for (const p of ['/./index.html', '/assets/../index.html']) expect((await rawGet(m.port, p)).body, p).toContain('<title>page</title>');
    // The files inside are served.
    expect((await rawGet(m.port, '/assets/a.js')).body).toBe('ok');
    expect((await rawGet(m.port, '/')).body).toContain('<title>page</title>');
  });
});

describe('webhook URLs', () => {
  test('only well-formed http(s) URLs up to 2048 characters are accepted, on every route that takes one; nothing is created otherwise', async () => {
    const m = await start();
    const created = await m.startMeeting(null);
    const bad = ['ftp://127.0.0.1/x', 'file:///etc/passwd', 'javascript:alert(1)', 'data:text/html,x', 'ws://127.0.0.1/x', 'HTTP//x', 'http:/x', 'http://',
      'http://[::1', 'http://a b/', 'http://127.0.0.1:70000/', '127.0.0.1:3000/hook', `http://127.0.0.1/${'a'.repeat(2100)}`];
    for (const u of bad) {
      for (const [path, body] of [['/api/meetings', { webhook_url: u }], [`${meetingPath(created.meeting_uuid)}/streams`, { webhook_url: u }], ['/api/webhooks/validate', { url: u }]] as const) {
        const r = await m.api('POST', path, body);
        expect(r.status, `${path} ${u.slice(0, 40)}`).toBe(400);
        expect(r.body.error.code).toBe('invalid_webhook_url');
      }
    }
    expect((await m.api('POST', '/api/meetings', { webhook_url: `http://127.0.0.1/${'a'.repeat(2000)}`, start_rtms: false })).status).toBe(201);
    expect(await stats(m)).toMatchObject({ meetings_live: 2, streams: 1 });
  });
});

test('no secret in any log line: a whole flow at debug level (URL validation, a retried webhook, handshakes good and bad, a legacy signature, ingest, tokens right and wrong, stop)', async () => {
  const lines: string[] = [];
  const m = await start({ logLevel: 'debug', logSink: (l) => lines.push(l), apiToken: TOKEN, lenientSignature: true, webhookBackoffMs: 20 });
  let n = 0;
  const receiver = startReceiver([async (req) => {
    const body = JSON.parse(req.rawBody);
    if (body.event === 'endpoint.url_validation') {
      const plain = body.payload.plainToken;
      return Response.json({ plainToken: plain, encryptedToken: createHmac('sha256', SECRET_TOKEN).update(plain).digest('hex') });
    }
    return new Response(n++ === 0 ? 'fail first' : 'ok', { status: n === 1 ? 500 : 200 });
  }]);
  receivers.push(receiver);
  const secrets = new Set<string>([CLIENT_SECRET, SECRET_TOKEN, TOKEN, encodeURIComponent(TOKEN)]);
  const v = await m.api('POST', '/api/webhooks/validate', { url: receiver.url });
  expect(v.body.ok).toBe(true);
  secrets.add(v.body.encryptedToken);
  const created = await m.startMeeting(receiver.url);
  const app = new LeanApp({ signalingUrl: created.server_urls, meetingUuid: created.meeting_uuid, streamId: created.rtms_stream_id, mediaType: 1 });
  apps.push(app);
  await app.connect();
  await app.waitFor(14, 3);
  secrets.add(sign(created.meeting_uuid, created.rtms_stream_id));
  // Bad signatures (signaling and data handshakes) are secrets of the app too.
  for (const [url, type] of [[created.server_urls, 1], [app.mediaUrls.audio!, 3]] as const) {
    const bad = createHmac('sha256', 'guess').update('x').digest('hex');
    secrets.add(bad);
    const ws = await openWs(url);
    const c = closedPromise(ws);
    ws.send(JSON.stringify({ msg_type: type, meeting_uuid: created.meeting_uuid, rtms_stream_id: created.rtms_stream_id, signature: bad, media_type: 1 }));
    await c;
  }
  // The comma-less signature of the seed README, accepted with --lenient-signature: logged as a form, not a value.
  const legacyMeeting = await m.startMeeting(null);
  const legacy = legacySignature(CLIENT_ID, CLIENT_SECRET, legacyMeeting.meeting_uuid, legacyMeeting.rtms_stream_id);
  secrets.add(legacy);
  const lw = await openWs(legacyMeeting.server_urls);
  const lr = new Promise<any>((resolve) => lw.addEventListener('message', (e) => resolve(JSON.parse(String(e.data)))));
  lw.send(JSON.stringify({ msg_type: 1, meeting_uuid: legacyMeeting.meeting_uuid, rtms_stream_id: legacyMeeting.rtms_stream_id, signature: legacy }));
  expect((await lr).status_code).toBe(0);
  lw.close();
  // Ingest with the token in the query, and with wrong ones; API calls with right and wrong tokens.
  const live = await m.startMeeting(null, { source: 'browser' });
  const ingest = await openWs(`ws://127.0.0.1:${m.port}/ingest?meeting_uuid=${encodeURIComponent(live.meeting_uuid)}&token=${encodeURIComponent(TOKEN)}`);
  ingest.send(JSON.stringify({ type: 'hello', user_name: 'Logged', camera: false }));
  const wrongTokens = ['wrong-token-aaaaaaaaaaaaaaaa', `${TOKEN}-but-longer`];
  for (const w of wrongTokens) {
    secrets.add(w);
    const ws = await openWs(`ws://127.0.0.1:${m.port}/ingest?meeting_uuid=${encodeURIComponent(live.meeting_uuid)}&token=${w}`);
    await closedPromise(ws);
    await call(m, `/api/stats?token=${w}`);
    await call(m, '/api/stats', { headers: { authorization: `Bearer ${w}` } });
  }
  await call(m, `/api/stats?token=${TOKEN}`);
  await call(m, `/?token=${TOKEN}`);
  await call(m, '/api/meetings', { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, origin: 'http://evil.example' }, body: '{}' });
  ingest.close();
  expect((await m.api('DELETE', meetingPath(created.meeting_uuid))).status).toBe(200);
  await until(() => receiver.requests.filter((r) => r.rawBody.includes('rtms_stopped')).length >= 1, 5000, 'rtms_stopped');
  await until(async () => (await stats(m)).webhooks_pending === 0, 5000, 'webhooks settled');
  for (const r of receiver.requests) {
    const s = r.headers['x-zm-signature']!;
    secrets.add(s);
    secrets.add(s.replace(/^v0=/, ''));
  }
  // The flow really was logged at debug level (not a vacuous pass).
  const all = lines.join('\n');
  for (const expected of [/signaling handshake ok/, /data handshake ok/, /invalid signature/, /comma-less \(legacy\) signature/, /webhook meeting\.rtms_started .*attempt 1 HTTP 500/,
    /webhook meeting\.rtms_started .*attempt 2 HTTP 200/, /URL validation of/, /ingest socket #\d+ opened/, /DEBUG/]) expect(all).toMatch(expected);
  expect(lines.length).toBeGreaterThan(30);
  const leaks = lines.filter((l) => [...secrets].some((s) => s.length >= 8 && l.includes(s)));
  expect(leaks).toEqual([]);
});
