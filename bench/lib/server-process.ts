// The mock under test runs in its own process, pinned to one core, so the load generator (this process, pinned
// to the other core) cannot steal its CPU and its CPU/memory can be read from /proc.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dir, '..', '..');

export interface ServerProcess {
  pid: number;
  port: number;
  mediaPort: number;
  baseUrl: string;
  /** CPU seconds (user + system) used so far. */
  cpuSeconds(): number;
  /** Resident set size now and its peak (VmHWM), in MiB. */
  memory(): { rssMiB: number; peakMiB: number };
  api<T = any>(method: string, path: string, body?: unknown): Promise<T>;
  stop(): Promise<void>;
  /** Milliseconds from spawn to the first successful /health. */
  startupMs: number;
  /** Resolves once no video loop is rendering in the background (`video_render_backlog` 0 in /api/stats). */
  renderIdle(timeoutMs?: number): Promise<void>;
}

const CLK_TCK = 100; // Linux USER_HZ

export function pin(pid: number, core: number): boolean {
  const r = Bun.spawnSync(['taskset', '-a', '-p', '-c', String(core), String(pid)], { stdout: 'ignore', stderr: 'ignore' });
  return r.exitCode === 0;
}

export async function startServer(opts: { core?: number; args?: string[]; cmd?: string[]; settleMs?: number } = {}): Promise<ServerProcess> {
  const t0 = performance.now();
  const cmd = opts.cmd ?? [process.execPath, join(ROOT, 'src/index.ts')];
  // info level: the "listening" line carries the real ports; later lines are drained and dropped.
  const args = ['--port', '0', '--media-port', '0', '--log-level', 'info', ...(opts.args ?? [])];
  const proc = Bun.spawn([...cmd, ...args], {
    cwd: ROOT, stdout: 'pipe', stderr: 'pipe', env: { ...process.env },
  });
  if (opts.core !== undefined) pin(proc.pid, opts.core);
  let port = 0;
  let mediaPort = 0;
  let logTail = '';
  const decoder = new TextDecoder();
  const readLines = async (stream: ReadableStream<Uint8Array>) => {
    const reader = stream.getReader();
    for (;;) {
      const { value: chunk, done } = await reader.read();
      if (done) return;
      const text = decoder.decode(chunk);
      if (!port) {
        logTail = (logTail + text).slice(-4000);
        const m = /listening: https?:\/\/[^:]+:(\d+).*media wss?:\/\/[^:]+:(\d+)/.exec(logTail);
        if (m) { port = Number(m[1]); mediaPort = Number(m[2]); }
      } else if (/ERROR|WARN/.test(text) && process.env.BENCH_VERBOSE) {
        process.stderr.write(`[server] ${text}`);
      }
    }
  };
  void readLines(proc.stdout);
  void readLines(proc.stderr);
  const deadline = Date.now() + 20_000;
  let startupMs = 0;
  while (true) {
    if (Date.now() > deadline) { proc.kill(); throw new Error(`server did not start: ${logTail}`); }
    if (port) {
      try {
        const r = await fetch(`http://127.0.0.1:${port}/health`);
        if (r.ok) { startupMs = performance.now() - t0; break; }
      } catch { /* not yet */ }
    }
    await Bun.sleep(2);
  }
  const baseUrl = `http://127.0.0.1:${port}`;
  // The mock renders its default camera loops in the background after start-up (seconds of CPU on one core):
  // measure after, or the figures include that work.
  const renderIdle = async (timeoutMs = 120_000) => {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      const stats = await (await fetch(`${baseUrl}/api/stats`)).json() as { video_render_backlog?: number };
      if (!stats.video_render_backlog) return;
      await Bun.sleep(100);
    }
  };
  if (opts.settleMs !== 0) {
    await Bun.sleep(500);
    await renderIdle();
    await Bun.sleep(opts.settleMs ?? 200);
  }
  return {
    renderIdle,
    pid: proc.pid, port, mediaPort, baseUrl, startupMs,
    cpuSeconds() {
      const f = readFileSync(`/proc/${proc.pid}/stat`, 'utf8');
      const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
      return (Number(rest[11]) + Number(rest[12])) / CLK_TCK;
    },
    memory() {
      const s = readFileSync(`/proc/${proc.pid}/status`, 'utf8');
      const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)?.[1] ?? 0);
      return { rssMiB: kb('VmRSS') / 1024, peakMiB: kb('VmHWM') / 1024 };
    },
    async api(method, path, body) {
      const r = await fetch(baseUrl + path, {
        method, headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await r.text();
      if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${text}`);
      return (text ? JSON.parse(text) : null) as any;
    },
    async stop() {
      proc.kill('SIGKILL');
      await proc.exited;
    },
  };
}
