// The same sources on Deno (src/transport/deno-server.ts): deno runs the mock, the Bun test process drives it
// with the reference app — webhook, both handshakes, media — and stops it with SIGTERM (rtms_stopped).
import { afterEach, expect, test } from 'bun:test';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startReferenceApp, type ReferenceApp } from '../../src/client/reference-app.ts';
import { DENO_RUN_ARGS, findDeno } from '../../scripts/find-deno.ts';
import { expectStoppedBySignal, runMainFlow } from '../helpers/main-flow.ts';
import { spawnMock, type MockProcess } from '../helpers/mock-process.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
let mock: MockProcess | null = null;
let app: ReferenceApp | null = null;

afterEach(async () => {
  await app?.stop();
  await mock?.stop();
  app = null;
  mock = null;
});

function deno(): string {
  const d = findDeno(root);
  // The devDependency `deno` provides it (npm test installs it); no silent skip.
  if (!d) throw new Error('deno not found: run `bun install` (devDependency "deno"), or set DENO_BIN');
  return d;
}

test('deno: main flow (webhook, both handshakes, audio/video/transcript), then SIGTERM stops the stream with rtms_stopped', async () => {
  const t0 = performance.now();
  mock = await spawnMock([deno(), ...DENO_RUN_ARGS, 'src/index.ts', '--port', '0', '--media-port', '0', '--public-host', '127.0.0.1'], {
    cwd: root,
    env: { ...process.env, NO_COLOR: '1' },
    timeoutMs: 30_000,
  });
  const startMs = performance.now() - t0;
  await mock.waitForText('(from source)');
  const health = await fetch(`${mock.baseUrl}/health`);
  expect(health.status).toBe(200);
  expect(await health.json()).toMatchObject({ status: 'ok' });

  app = await startReferenceApp({ log: false, reconnect: false });
  const flow = await runMainFlow(app, mock.baseUrl);

  // The engine's view of the stream over Deno's sockets.
  const detail = await (await fetch(`${mock.baseUrl}/api/meetings/${encodeURIComponent(flow.meetingUuid)}`)).json() as { stream_phase: string };
  expect(detail.stream_phase).toBe('active');

  const code = await mock.signal('SIGTERM');
  await expectStoppedBySignal(app, flow);
  expect(code).toBe(0);
  await mock.waitForText('SIGTERM: stopping every stream');
  console.error(`deno: listening after ${Math.round(startMs)} ms`);
}, 60_000);

test('deno: --tls serves https:// and wss:// that verify against the generated CA', async () => {
  const tlsDir = mkdtempSync(join(tmpdir(), 'rtms-deno-tls-'));
  try {
    mock = await spawnMock([deno(), ...DENO_RUN_ARGS, 'src/index.ts', '--port', '0', '--media-port', '0', '--tls', '--tls-dir', tlsDir], {
      cwd: root,
      env: { ...process.env, NO_COLOR: '1' },
      timeoutMs: 30_000,
    });
    expect(mock.tls).toBe(true);
    const ca = readFileSync(join(tlsDir, 'ca.pem'), 'utf8');
    const r = await fetch(`https://localhost:${mock.port}/health`, { tls: { ca } } as RequestInit);
    expect(r.status).toBe(200);
    const ws = new WebSocket(`wss://localhost:${mock.mediaPort}/all`, { tls: { ca } } as unknown as string[]);
    await new Promise<void>((resolve, reject) => {
      ws.onopen = () => resolve();
      ws.onerror = () => reject(new Error('wss:// to Deno failed'));
    });
    ws.close();
    expect(await mock.signal('SIGTERM')).toBe(0);
  } finally {
    rmSync(tlsDir, { recursive: true, force: true });
  }
}, 60_000);

test('deno: a wrong flag is reported with what to do', async () => {
  const p = Bun.spawn([deno(), ...DENO_RUN_ARGS, 'src/index.ts', '--port', 'abc'], { cwd: root, stdout: 'pipe', stderr: 'pipe' });
  const [code, err] = await Promise.all([p.exited, new Response(p.stderr).text()]);
  expect(code).toBe(2);
  expect(err).toContain('--port must be an integer between 0 and 65535, got "abc"');
}, 30_000);
