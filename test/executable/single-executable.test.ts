// The single executable (issue 4): `scripts/build.ts` compiles dist/rtms-mock with the page, the ffmpeg core
// .wasm, the credentials and data/ embedded. Built here into a temporary directory, copied alone into another
// empty one, and run there with a PATH that has no Bun: the reference app runs the main flow against it (signed
// webhook, both handshakes, media), the page and the .wasm come from the embedded assets byte for byte, and
// SIGTERM stops the stream with rtms_stopped before it exits 0. Slow (the compile takes tens of seconds).
import { afterAll, afterEach, beforeAll, expect, test } from 'bun:test';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import { startReferenceApp, type ReferenceApp } from '../../src/client/reference-app.ts';
import { expectStoppedBySignal, runMainFlow } from '../helpers/main-flow.ts';
import { spawnMock, type MockProcess } from '../helpers/mock-process.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
const work = mkdtempSync(join(tmpdir(), 'rtms-exe-'));
const runDir = join(work, 'run');
const binary = join(runDir, 'rtms-mock');
// What a machine without Bun has: no .tools/, no ~/.bun; HOME is an empty directory of the test's.
const bareEnv = { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: join(work, 'home'), NO_COLOR: '1', LANG: 'C.UTF-8' };

let mock: MockProcess | null = null;
let app: ReferenceApp | null = null;

beforeAll(() => {
  const built = join(work, 'build', 'rtms-mock');
  const r = Bun.spawnSync([process.execPath, 'scripts/build.ts', '--outfile', built], { cwd: root, stdout: 'pipe', stderr: 'pipe' });
  if (r.exitCode !== 0) throw new Error(`bun scripts/build.ts failed (${r.exitCode}):\n${r.stdout.toString()}\n${r.stderr.toString()}`);
  mkdirSync(runDir);
  mkdirSync(bareEnv.HOME);
  copyFileSync(built, binary);
  chmodSync(binary, 0o755);
  rmSync(join(work, 'build'), { recursive: true, force: true });
}, 300_000);

afterEach(async () => {
  await app?.stop();
  await mock?.stop();
  app = null;
  mock = null;
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

test('--version and --help work with no Bun on PATH', () => {
  expect(Bun.spawnSync(['sh', '-c', 'command -v bun'], { env: bareEnv }).exitCode).not.toBe(0);
  const v = Bun.spawnSync([binary, '--version'], { cwd: runDir, env: bareEnv, stdout: 'pipe', stderr: 'pipe' });
  expect(v.exitCode).toBe(0);
  expect(v.stdout.toString()).toMatch(new RegExp(`^rtms-mock ${version.replace(/\./g, '\\.')} \\(build [0-9a-f]+(\\+dirty)?, .+, bun-${process.platform}-(x64|arm64)\\)`));
  const h = Bun.spawnSync([binary, '--help'], { cwd: runDir, env: bareEnv, stdout: 'pipe', stderr: 'pipe' });
  expect(h.exitCode).toBe(0);
  for (const flag of ['--port', '--media-port', '--public-host', '--credentials', '--data-dir', '--tls']) expect(h.stdout.toString()).toContain(flag);
});

test('alone in an empty directory: embedded page and .wasm, main flow, SIGTERM stops the stream with rtms_stopped', async () => {
  expect(readdirSync(runDir)).toEqual(['rtms-mock']);
  mock = await spawnMock([binary, '--port', '0', '--media-port', '0', '--public-host', '127.0.0.1'], { cwd: runDir, env: bareEnv, timeoutMs: 30_000 });
  await mock.waitForText('page: built into the executable');
  expect(mock.output()).toContain('data: built into the executable');
  expect(mock.output()).toContain('credentials: built-in sample credentials');

  // The page and the ffmpeg core, byte for byte what the build embedded (scripts/build.ts rebuilt web/dist).
  for (const [path, file, type] of [
    ['/', 'web/dist/index.html', 'text/html'],
    ['/main.js', 'web/dist/main.js', 'javascript'],
    ['/vendor/ffmpeg/core/ffmpeg-core.wasm', 'web/dist/vendor/ffmpeg/core/ffmpeg-core.wasm', 'application/wasm'],
  ] as const) {
    const r = await fetch(`${mock.baseUrl}${path}`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toContain(type);
    const body = new Uint8Array(await r.arrayBuffer());
    const want = readFileSync(join(root, file));
    expect(body.length).toBe(statSync(join(root, file)).size);
    expect(sha256(body)).toBe(sha256(want));
  }
  expect((await fetch(`${mock.baseUrl}/no-such-file.js`)).status).toBe(404);

  app = await startReferenceApp({ log: false, reconnect: false });
  const flow = await runMainFlow(app, mock.baseUrl);
  const code = await mock.signal('SIGTERM');
  await expectStoppedBySignal(app, flow);
  expect(code).toBe(0);
  // It needed nothing beside it and left nothing behind.
  expect(readdirSync(runDir)).toEqual(['rtms-mock']);
}, 90_000);
