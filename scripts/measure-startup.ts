#!/usr/bin/env bun
// Cold start-up and idle memory of the mock, started the ways a user starts it:
//   bun scripts/measure-startup.ts [--runs 5] [--idle-ms 2000] [--only binary,dev,bun,deno] [--binary PATH]
// For each way: a fresh process, the time from spawn to the first successful GET /health, then after an idle
// pause the peak resident memory (VmHWM, Linux /proc) of the server process — and, for `bun run dev`, of the
// whole process tree (watcher + server). Prints a Markdown table (the README's). Every process started here is
// stopped here, by its id.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DENO_RUN_ARGS, findDeno } from './find-deno.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    runs: { type: 'string', default: '5' },
    'idle-ms': { type: 'string', default: '2000' },
    only: { type: 'string' },
    binary: { type: 'string' },
  },
});
const RUNS = Math.max(1, Number(values.runs));
const IDLE_MS = Math.max(0, Number(values['idle-ms']));
const only = values.only?.split(',').map((s) => s.trim());

interface Way {
  key: string;
  label: string;
  cmd: string;
  args: string[];
  /** The server process inside the tree (for `bun run dev`, the child running src/index.ts). */
  serverMatch?: RegExp;
}

const common = ['--port', '0', '--media-port', '0', '--log-level', 'info'];
const binary = values.binary ?? join(root, 'dist', process.platform === 'win32' ? 'rtms-mock.exe' : 'rtms-mock');
const deno = findDeno(root);
const ways: Way[] = [
  { key: 'binary', label: 'single executable (dist/rtms-mock)', cmd: binary, args: common },
  { key: 'dev', label: '`bun run dev` (watcher + server)', cmd: process.execPath, args: ['run', 'dev', '--', ...common], serverMatch: /src\/index\.ts\0serve/ },
  { key: 'bun', label: '`bun src/index.ts` (npm start without the install check)', cmd: process.execPath, args: ['src/index.ts', ...common] },
  ...(deno ? [{ key: 'deno', label: '`deno run` (bun run deno)', cmd: deno, args: [...DENO_RUN_ARGS, 'src/index.ts', ...common] }] : []),
].filter((w) => !only || only.includes(w.key));

function children(pid: number): number[] {
  if (!existsSync('/proc')) return [];
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(d), ...children(Number(d)));
    } catch {
      /* gone */
    }
  }
  return out;
}

function statusKb(pid: number, field: 'VmHWM' | 'VmRSS'): number | null {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return '';
  }
}

async function waitForPort(child: ChildProcess, out: { text: string }, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const m = /listening: https?:\/\/[^\s:]+:(\d+)/.exec(out.text);
    if (m) return Number(m[1]);
    if (child.exitCode !== null) throw new Error(`exited (${child.exitCode}) before listening:\n${out.text}`);
    await new Promise((r) => setTimeout(r, 2));
  }
  throw new Error(`no "listening" line after ${timeoutMs} ms:\n${out.text}`);
}

async function stopTree(child: ChildProcess): Promise<void> {
  const pids = [...children(child.pid!).reverse(), child.pid!];
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      /* already gone */
    }
  }
  const exited = new Promise<void>((r) => (child.exitCode !== null || child.signalCode !== null ? r() : child.once('exit', () => r())));
  const timer = new Promise<void>((r) => setTimeout(r, 5000));
  await Promise.race([exited, timer]);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
}

interface Sample { startMs: number; serverKb: number | null; treeKb: number | null }

async function once(w: Way): Promise<Sample> {
  const out = { text: '' };
  const t0 = performance.now();
  const child = spawn(w.cmd, w.args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  child.stdout!.on('data', (d) => (out.text += d));
  child.stderr!.on('data', (d) => (out.text += d));
  try {
    const port = await waitForPort(child, out, 30_000);
    let startMs = 0;
    for (;;) {
      try {
        const r = await fetch(`http://127.0.0.1:${port}/health`);
        if (r.ok) {
          startMs = performance.now() - t0;
          break;
        }
      } catch {
        /* not yet */
      }
      if (performance.now() - t0 > 30_000) throw new Error('/health did not answer in 30 s');
      await new Promise((r) => setTimeout(r, 2));
    }
    await new Promise((r) => setTimeout(r, IDLE_MS));
    const tree = [child.pid!, ...children(child.pid!)];
    const server = w.serverMatch ? tree.find((p) => w.serverMatch!.test(cmdline(p))) ?? child.pid! : child.pid!;
    const kbs = tree.map((p) => statusKb(p, 'VmHWM')).filter((k): k is number => k !== null);
    return { startMs, serverKb: statusKb(server, 'VmHWM'), treeKb: kbs.length ? kbs.reduce((a, b) => a + b, 0) : null };
  } finally {
    await stopTree(child);
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const mb = (kb: number | null) => (kb === null ? 'n/a' : `${(kb / 1024).toFixed(0)} MB`);

const rows: string[] = [];
for (const w of ways) {
  if (w.key === 'binary' && !existsSync(w.cmd)) {
    console.error(`skipping the executable: ${w.cmd} does not exist (bun run build)`);
    continue;
  }
  const samples: Sample[] = [];
  for (let i = 0; i < RUNS; i++) {
    try {
      samples.push(await once(w));
    } catch (e) {
      console.error(`${w.label}: run ${i + 1} failed: ${(e as Error).message}`);
    }
  }
  if (!samples.length) continue;
  const starts = samples.map((s) => s.startMs);
  const server = median(samples.map((s) => s.serverKb ?? 0));
  const tree = median(samples.map((s) => s.treeKb ?? 0));
  console.error(`${w.key}: ${starts.map((s) => s.toFixed(0)).join(', ')} ms`);
  rows.push(`| ${w.label} | ${median(starts).toFixed(0)} ms (${Math.min(...starts).toFixed(0)}–${Math.max(...starts).toFixed(0)}) | ${mb(server)}${w.serverMatch ? ` (tree ${mb(tree)})` : ''} |`);
}

const cpu = (() => {
  try {
    return /model name\s*:\s*(.+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? process.arch;
  } catch {
    return process.arch;
  }
})();
console.log(`Start-up to the first successful GET /health (median of ${RUNS} fresh processes, min–max) and peak resident memory`);
console.log(`(VmHWM) after ${IDLE_MS} ms idle; ${process.platform}-${process.arch}, ${cpu}.`);
console.log('');
console.log('| how | start-up to /health | peak memory at idle |');
console.log('|---|---|---|');
for (const r of rows) console.log(r);
