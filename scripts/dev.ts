#!/usr/bin/env bun
// `bun run dev [-- server flags]`: the mock in watch mode. The server (bun src/index.ts serve …) starts at once
// and restarts when src/ or data/ changes (gracefully: live streams get their stop messages and rtms_stopped);
// the web page is rebuilt (bun scripts/build-web.ts → web/dist/) when web/ changes, and the running server
// serves the new files without a restart. Ctrl-C stops everything (twice: at once).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, watch, type FSWatcher } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const serverArgs = process.argv.slice(2);
const webScript = join(root, 'scripts', 'build-web.ts');
const say = (msg: string) => console.error(`[dev] ${msg}`);

// ---- the server ----

let server: ChildProcess | null = null;
let restarting = false;
let quitting = false;

function startServer(): void {
  // Its own process group: a terminal Ctrl-C reaches only this watcher, which then sends the server exactly one
  // signal (a second one would make it exit at once, skipping the graceful stop).
  const child = spawn(process.execPath, ['src/index.ts', 'serve', ...serverArgs], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'], detached: true });
  server = child;
  child.on('exit', (code, signal) => {
    if (server === child) server = null;
    if (!restarting && !quitting) say(`server exited (${signal ?? `code ${code}`}); it restarts on the next change in src/ or data/`);
  });
}

/** SIGTERM (graceful: streams stopped, webhooks sent), then SIGKILL if it has not exited in 5 s. */
function stopServer(): Promise<void> {
  const child = server;
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

async function restartServer(why: string): Promise<void> {
  if (restarting || quitting) return;
  restarting = true;
  say(`${why}: restarting the server`);
  await stopServer();
  restarting = false;
  if (!quitting) startServer();
}

// ---- the page ----

let building: Promise<void> | null = null;
let buildAgain = false;

function buildWeb(why: string): void {
  if (!existsSync(webScript)) return;
  if (building) {
    buildAgain = true;
    return;
  }
  say(`${why}: building the page`);
  const t0 = performance.now();
  building = new Promise<void>((resolve) => {
    const child = spawn(process.execPath, [webScript], { cwd: root, stdio: 'inherit' });
    child.on('exit', (code) => {
      say(code === 0 ? `page built in ${Math.round(performance.now() - t0)} ms` : `page build failed (exit ${code}); fix it and save again`);
      resolve();
    });
  }).then(() => {
    building = null;
    if (buildAgain && !quitting) {
      buildAgain = false;
      buildWeb('more changes');
    }
  });
}

// ---- watching ----

const ignored = (file: string) => {
  const parts = file.split(/[\\/]/);
  const base = parts[parts.length - 1] ?? '';
  // Build outputs (web/dist, the page build's hidden .dist-* staging directories, src/generated) and editor
  // droppings would otherwise trigger rebuilds of themselves.
  return parts.some((p) => p === 'node_modules' || p === 'generated' || p === 'dist' || p.startsWith('.'))
    || base.endsWith('~') || base.endsWith('.swp') || base.endsWith('.tmp');
};

function debounced(fn: (file: string) => void, ms = 150): (file: string) => void {
  let timer: ReturnType<typeof setTimeout> | null = null;
  let last = '';
  return (file) => {
    last = file;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      fn(last);
    }, ms);
  };
}

const watchers: FSWatcher[] = [];
function watchDir(dir: string, onChange: (file: string) => void): void {
  const abs = join(root, dir);
  if (!existsSync(abs)) return;
  watchers.push(watch(abs, { recursive: true }, (_event, name) => {
    const file = name ? `${dir}${sep}${name}` : dir;
    if (!ignored(file)) onChange(file);
  }));
}

const onServerChange = debounced((file) => void restartServer(`${file} changed`));
const onWebChange = debounced((file) => buildWeb(`${file} changed`));
watchDir('src', onServerChange);
watchDir('data', onServerChange);
watchDir('web', onWebChange);

// ---- start and stop ----

startServer();
// The page builds next to the starting server, so /health answers as fast as with `npm start`.
buildWeb('start');
say(`watching src/ and data/ (restart the server) and web/ (rebuild the page); Ctrl-C to stop`);

async function quit(): Promise<void> {
  if (quitting) {
    server?.kill('SIGKILL');
    process.exit(130);
  }
  quitting = true;
  for (const w of watchers) w.close();
  say('stopping (Ctrl-C again to kill the server at once)');
  await stopServer();
  await building;
  process.exit(0);
}
process.on('SIGINT', () => void quit());
process.on('SIGTERM', () => void quit());
// Whatever ends this watcher, the server (in its own process group) must not outlive it.
process.on('exit', () => {
  if (server && server.exitCode === null && server.signalCode === null) server.kill('SIGKILL');
});
