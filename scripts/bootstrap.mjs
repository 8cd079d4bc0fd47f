#!/usr/bin/env node
// Fresh-machine entry point: needs only Node.js and npm. Installs the pinned Bun into .tools/ (from the npm
// registry), installs the project's dependencies with the committed bun.lock, then runs the requested task.
//   node scripts/bootstrap.mjs start [args…]   start the mock on its defaults
//   node scripts/bootstrap.mjs test  [args…]   run the test suite (CI's command)
//   node scripts/bootstrap.mjs client [args…]  run the reference RTMS app
//   node scripts/bootstrap.mjs bun   [args…]   run any bun command with the pinned Bun
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const BUN_VERSION = '1.4.5';
const toolsDir = join(root, '.tools');
const bunBin = join(toolsDir, 'node_modules', '.bin', process.platform === 'win32' ? 'bun.exe' : 'bun');

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, ...opts });
  if (r.error) throw r.error;
  return r.status ?? 1;
}

function bunVersion() {
  if (!existsSync(bunBin)) return null;
  const r = spawnSync(bunBin, ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

function ensureBun() {
  if (bunVersion() === BUN_VERSION) return;
  console.error(`[bootstrap] installing bun ${BUN_VERSION} into .tools/ from the npm registry…`);
  mkdirSync(toolsDir, { recursive: true });
  // allowScripts lets bun's postinstall put the native binary in place (npm 11 blocks it otherwise).
  writeFileSync(join(toolsDir, 'package.json'),
    JSON.stringify({ name: 'rtms-mock-tools', private: true, allowScripts: { bun: true } }, null, 2));
  const status = run('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--loglevel=error', `bun@${BUN_VERSION}`],
    { cwd: toolsDir });
  if (status !== 0 || bunVersion() !== BUN_VERSION) {
    console.error('[bootstrap] could not install bun from the npm registry; check that npm can reach it (npm ping).');
    process.exit(1);
  }
}

function ensureDeps() {
  const stamp = join(root, 'node_modules', '.bootstrap-stamp');
  const lock = existsSync(join(root, 'bun.lock')) ? readFileSync(join(root, 'bun.lock'), 'utf8') : '';
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === lock) return;
  console.error('[bootstrap] installing dependencies (bun install)…');
  const args = ['install'];
  if (lock) args.push('--frozen-lockfile');
  if (run(bunBin, args) !== 0) process.exit(1);
  writeFileSync(stamp, lock);
}

// The web page (web/dist/, built by scripts/build-web.ts) is rebuilt when missing or older than its sources.
function newestMtime(dir) {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'dist' || e.name.startsWith('.')) continue;
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

function ensureWeb() {
  const web = join(root, 'web');
  if (!existsSync(join(web, 'index.html'))) return;
  const stamp = join(web, 'dist', 'build-info.json');
  const inputs = [join(root, 'scripts', 'build-web.ts'), join(root, 'bun.lock')].filter(existsSync).map((p) => statSync(p).mtimeMs);
  const newest = Math.max(newestMtime(web), ...inputs);
  if (existsSync(stamp) && statSync(stamp).mtimeMs >= newest) return;
  console.error('[bootstrap] building the web page (bun run build:web)…');
  if (run(bunBin, ['scripts/build-web.ts']) !== 0) process.exit(1);
}

const [task = 'start', ...rest] = process.argv.slice(2);
ensureBun();
ensureDeps();
const env = { ...process.env, PATH: `${dirname(bunBin)}:${process.env.PATH}` };
let status;
if (task === 'start' || task === 'test') ensureWeb();
switch (task) {
  case 'start':
    status = run(bunBin, ['src/index.ts', 'serve', ...rest], { env });
    break;
  case 'client':
    status = run(bunBin, ['src/index.ts', 'client', ...rest], { env });
    break;
  case 'test':
    status = run('bash', ['scripts/test.sh', ...rest], { env });
    break;
  case 'bun':
    status = run(bunBin, rest, { env });
    break;
  default:
    console.error(`[bootstrap] unknown task "${task}"; use start, test or bun`);
    status = 2;
}
process.exit(status);
