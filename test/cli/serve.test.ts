// The mock as a real process: environment variables and flags (flags win), --webhook --start at boot (a signed
// rtms_started), and shutdown: SIGTERM with a live stream sends TERMINATED and rtms_stopped (stop reason 17
// EXIT_SIGNAL, spec §6) before exiting 0; a second signal exits at once.
import { afterEach, expect, test } from 'bun:test';
import { startReferenceApp, type ReferenceApp } from '../../src/client/reference-app.ts';
import { hang, hmacHexWebCrypto, startReceiver, type Received, type Receiver, type Responder } from '../webhooks/receiver.ts';
import { freePort, killAll, spawnCli, startCli } from './cli-process.ts';

const SECRET_TOKEN = 'DyBoLm8OZoJT2Pi3-kY2px'; // data/rtms_credentials.json (the seed mock's sample)
const EXIT_SIGNAL = 17;

let receivers: Receiver[] = [];
let app: ReferenceApp | null = null;
afterEach(async () => {
  await killAll();
  await app?.stop();
  app = null;
  await Promise.all(receivers.map((r) => r.close()));
  receivers = [];
});

function receiver(script?: Responder[]): Receiver {
  const r = startReceiver(script);
  receivers.push(r);
  return r;
}

async function until(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(10);
  }
}

/** Checks x-zm-signature (spec §9) with WebCrypto, independently of the mock's node:crypto code. */
async function expectSigned(req: Received): Promise<void> {
  const ts = req.headers['x-zm-request-timestamp']!;
  expect(ts).toMatch(/^\d{10}$/); // seconds, not ms
  expect(Math.abs(Number(ts) - Date.now() / 1000)).toBeLessThan(30);
  expect(req.headers['x-zm-signature']).toBe(`v0=${await hmacHexWebCrypto(SECRET_TOKEN, `v0:${ts}:${req.rawBody}`)}`);
  expect(req.headers['content-type']).toContain('application/json');
}

const api = async (base: string, method: string, path: string, body?: unknown) => {
  const res = await fetch(`${base}${path}`, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as any };
};

test('--webhook URL --start sends a signed meeting.rtms_started at boot', async () => {
  const r = receiver();
  const mock = await startCli(['--port', '0', '--media-port', '0', '--public-host', '127.0.0.1', '--webhook', r.url, '--start']);
  await until(() => r.requests.length >= 1, 'rtms_started');
  const req = r.requests[0]!;
  expect(req.method).toBe('POST');
  expect(req.path).toBe('/webhook');
  await expectSigned(req);
  const body = JSON.parse(req.rawBody);
  expect(body.event).toBe('meeting.rtms_started');
  expect(Math.abs(body.event_ts - Date.now())).toBeLessThan(30_000); // ms
  expect(body.payload).toEqual({
    meeting_uuid: expect.any(String),
    operator_id: expect.any(String),
    rtms_stream_id: expect.stringMatching(/^[0-9a-f]{32}$/),
    server_urls: `ws://127.0.0.1:${mock.port}/signaling`,
  });
  // The log says what was started, and the API lists it.
  await mock.waitForOutput(new RegExp(`started meeting ${body.payload.meeting_uuid.replace(/[+/=]/g, '\\$&')} stream ${body.payload.rtms_stream_id} towards ${r.url}`));
  const list = await api(mock.baseUrl, 'GET', '/api/meetings');
  expect(list.body.meetings.map((m: any) => [m.meeting_uuid, m.rtms_stream_id, m.webhook_url])).toEqual([
    [body.payload.meeting_uuid, body.payload.rtms_stream_id, r.url],
  ]);
  expect(r.requests).toHaveLength(1); // answered 200: no retry
});

test('environment variables configure the mock: port, public host, webhook URL, start', async () => {
  const r = receiver();
  const port = await freePort();
  const mock = await startCli([], {
    RTMS_MOCK_PORT: String(port),
    RTMS_MOCK_MEDIA_PORT: '0',
    RTMS_MOCK_PUBLIC_HOST: 'env-host.test',
    RTMS_MOCK_WEBHOOK_URL: r.url,
    RTMS_MOCK_START: 'true',
  });
  expect(mock.port).toBe(port);
  expect(mock.output()).toContain(`http://env-host.test:${port} `);
  await until(() => r.requests.length >= 1, 'rtms_started');
  expect(JSON.parse(r.requests[0]!.rawBody).payload.server_urls).toBe(`ws://env-host.test:${port}/signaling`);
  // The default webhook URL serves API-created meetings too.
  const created = await api(mock.baseUrl, 'POST', '/api/meetings', {});
  expect(created.status).toBe(201);
  expect(created.body.webhook_url).toBe(r.url);
  expect(created.body.server_urls).toBe(`ws://env-host.test:${port}/signaling`);
  expect(created.body.media_server_urls.all).toBe(`ws://env-host.test:${mock.mediaPort}/all`);
  await until(() => r.requests.length >= 2, 'second rtms_started');
});

test('flags win over environment variables (even invalid ones, which are then never read)', async () => {
  const r = receiver();
  const mock = await startCli(['--port', '0', '--media-port', '0', '--public-host', 'flag-host.test', '--log-level', 'info', '--webhook', r.url], {
    RTMS_MOCK_PORT: 'abc',
    RTMS_MOCK_MEDIA_PORT: '-5',
    RTMS_MOCK_PUBLIC_HOST: 'env-host.test',
    RTMS_MOCK_LOG_LEVEL: 'silent',
    RTMS_MOCK_WEBHOOK_URL: 'ftp://env.test/x',
  });
  expect(mock.output()).toContain(`listening: http://flag-host.test:${mock.port} `); // info, not silent
  const created = await api(mock.baseUrl, 'POST', '/api/meetings', {});
  expect(created.status).toBe(201);
  expect(created.body.server_urls).toBe(`ws://flag-host.test:${mock.port}/signaling`);
  expect(created.body.webhook_url).toBe(r.url);
  expect(mock.output()).not.toContain('env-host.test');
});

test('RTMS_MOCK_LOG_LEVEL=warn: no INFO lines, warnings still printed', async () => {
  const port = await freePort();
  // No "listening" line at warn level: poll /health on the port given in the environment instead.
  const mock = spawnCli([], { RTMS_MOCK_PORT: String(port), RTMS_MOCK_MEDIA_PORT: '0', RTMS_MOCK_LOG_LEVEL: 'warn' });
  const base = `http://127.0.0.1:${port}`;
  let up = false;
  for (let i = 0; i < 250 && !up && mock.proc.exitCode === null; i++) {
    up = await fetch(`${base}/health`).then((res) => res.ok, () => false);
    if (!up) await Bun.sleep(20);
  }
  expect(up).toBe(true);
  const bad = await api(base, 'POST', '/api/meetings', { webhook_url: 'nope' });
  expect(bad.status).toBe(400);
  await mock.waitForOutput(/WARN  API POST \/api\/meetings: 400 webhook_url must start with http:\/\/ or https:\/\//);
  expect(mock.output()).not.toContain(' INFO ');
});

test('SIGTERM with a live stream: TERMINATED (reason 17) and rtms_stopped arrive, then exit 0', async () => {
  // Audio and transcript only: the first JPG video frames of a fresh process take seconds to render.
  app = await startReferenceApp({ log: false, mediaTypes: 1 | 8 });
  const mock = await startCli(['--port', '0', '--media-port', '0', '--public-host', '127.0.0.1', '--webhook', app.url, '--start']);
  await app.waitFor((o) => o.kind === 'message' && o.msg.msg_type === 14, 3000).catch((e: Error) => { // audio: the stream is live
    throw new Error(`${e.message}\nmock output:\n${mock.output()}`);
  });
  const session = [...app.streams.values()][0]!;
  expect(session.state).toBe('ready');

  mock.proc.kill('SIGTERM');
  const { code, at: exitedAt } = await mock.exited;
  expect(code).toBe(0);
  expect(mock.output()).toContain('SIGTERM: stopping every stream');

  // Stream state TERMINATED with the graceful stop reason, on signaling and on the media socket.
  const terminated = session.messages.filter((m) => m.msg.msg_type === 8 && m.msg.state === 4);
  expect(terminated.map((m) => [m.socket, m.msg.reason, m.msg.stop_reason])).toEqual([
    ['all', EXIT_SIGNAL, EXIT_SIGNAL],
    ['signaling', EXIT_SIGNAL, EXIT_SIGNAL],
  ]);
  const sessionStopped = session.messages.find((m) => m.msg.msg_type === 9 && m.msg.state === 5);
  expect(sessionStopped?.msg.stop_reason).toBe(EXIT_SIGNAL);
  // The signed rtms_stopped reached the app (it verified the signature and answered 200).
  const stopped = app.webhooks.filter((w) => w.event === 'meeting.rtms_stopped');
  expect(stopped).toHaveLength(1);
  expect(stopped[0]!.status).toBe(200);
  expect(stopped[0]!.body.payload).toEqual({ meeting_uuid: session.instanceId, rtms_stream_id: session.streamId, stop_reason: EXIT_SIGNAL });
  // …all before the process was gone.
  for (const t of [...terminated.map((m) => m.at), sessionStopped!.at, stopped[0]!.receivedAt]) expect(t).toBeLessThanOrEqual(exitedAt);
  expect(session.closes.filter((c) => !c.byClient).map((c) => c.code)).toEqual([1000, 1000]);
});

test('a second signal exits at once (130) while the first is still draining webhooks', async () => {
  // rtms_started is answered; rtms_stopped never is, so the first SIGTERM waits for it (up to 3 s).
  const r = receiver([() => new Response('ok'), hang]);
  const mock = await startCli(['--port', '0', '--media-port', '0', '--webhook', r.url, '--start', '--webhook-timeout-ms', '5000']);
  await until(() => r.requests.length >= 1, 'rtms_started');
  mock.proc.kill('SIGTERM');
  await until(() => r.requests.length >= 2, 'rtms_stopped');
  expect(JSON.parse(r.requests[1]!.rawBody)).toMatchObject({ event: 'meeting.rtms_stopped', payload: { stop_reason: EXIT_SIGNAL } });
  await Bun.sleep(100);
  expect(mock.proc.exitCode).toBeNull(); // still draining
  const t0 = Date.now();
  mock.proc.kill('SIGINT');
  const { code, at } = await mock.exited;
  expect(code).toBe(130);
  expect(at - t0).toBeLessThan(1000);
  expect(mock.output()).toContain('SIGINT again: exiting now');
});

test('SIGINT with nothing running exits 0 promptly', async () => {
  const mock = await startCli(['--port', '0', '--media-port', '0']);
  const t0 = Date.now();
  mock.proc.kill('SIGINT');
  const { code, at } = await mock.exited;
  expect(code).toBe(0);
  expect(at - t0).toBeLessThan(2000);
  expect(mock.output()).toContain('SIGINT: stopping every stream');
});
