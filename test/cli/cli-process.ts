// Runs `bun src/index.ts …` as a real child process for the CLI tests. The environment is the test's own minus
// every RTMS_MOCK_* variable (so a developer's shell cannot change the outcome), plus what the test passes.
// Long-running mocks are started with --port 0 --media-port 0 and their real ports are read from the
// "listening" log line. Every child is tracked; killAll() (called in afterEach) ends the ones still running.
import type { Subprocess } from 'bun';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const ENTRY = 'src/index.ts';

const children = new Set<Subprocess>();

export function childEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('RTMS_MOCK_')) env[k] = v;
  return { ...env, ...extra };
}

export interface CliResult {
  /** Exit code; null if the process had to be killed (it did not exit within the time limit). */
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command that is expected to exit by itself (help, version, bad input). Killed after `timeoutMs`. */
export async function runCli(args: string[], env: Record<string, string> = {}, timeoutMs = 8000): Promise<CliResult> {
  const proc = Bun.spawn([process.execPath, ENTRY, ...args], { cwd: ROOT, env: childEnv(env), stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' });
  children.add(proc);
  let timedOut = false;
  const timer = setTimeout(() => { timedOut = true; proc.kill('SIGKILL'); }, timeoutMs);
  const [stdout, stderr] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  const code = await proc.exited;
  clearTimeout(timer);
  children.delete(proc);
  return { code: timedOut ? null : code, stdout, stderr };
}

export interface SpawnedCli {
  proc: Subprocess<'ignore', 'pipe', 'pipe'>;
  /** stdout and stderr so far, interleaved in arrival order. */
  output(): string;
  /** Resolves with the first match in the output (past or future); rejects on timeout or exit. */
  waitForOutput(re: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** Resolves with the exit code and the wall-clock time (Date.now()) the exit was seen. */
  exited: Promise<{ code: number; at: number }>;
}

export interface RunningCli extends SpawnedCli {
  port: number;
  mediaPort: number;
  /** http://127.0.0.1:port */
  baseUrl: string;
}

const LISTENING = /listening: https?:\/\/[^\s:]+:(\d+) .*media wss?:\/\/[^\s:]+:(\d+)\//;

/** Starts `bun src/index.ts ARGS` and collects its output; does not wait for anything. */
export function spawnCli(args: string[], env: Record<string, string> = {}): SpawnedCli {
  const proc = Bun.spawn([process.execPath, ENTRY, ...args], { cwd: ROOT, env: childEnv(env), stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' });
  children.add(proc);
  let text = '';
  const waiters = new Set<() => void>();
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    const dec = new TextDecoder();
    const reader = stream.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += dec.decode(value, { stream: true });
      for (const w of [...waiters]) w();
    }
  };
  const pumped = Promise.all([pump(proc.stdout), pump(proc.stderr)]);
  let done = false;
  const exited = proc.exited.then(async (code) => {
    const at = Date.now();
    await pumped; // everything printed before the exit is in the output once this resolves
    children.delete(proc);
    done = true;
    for (const w of [...waiters]) w();
    return { code, at };
  });

  const waitForOutput = (re: RegExp, ms = 5000) => new Promise<RegExpExecArray>((resolve, reject) => {
    const check = () => {
      const m = re.exec(text);
      if (m) { cleanup(); resolve(m); } else if (done) { cleanup(); reject(new Error(`exited before printing ${re}:\n${text}`)); }
    };
    const timer = setTimeout(() => { cleanup(); reject(new Error(`no ${re} within ${ms} ms; output:\n${text}`)); }, ms);
    const cleanup = () => { clearTimeout(timer); waiters.delete(check); };
    waiters.add(check);
    check();
  });
  return { proc, output: () => text, waitForOutput, exited };
}

/** Starts a long-running mock and waits for its "listening" line, which gives the real ports. */
export async function startCli(args: string[], env: Record<string, string> = {}, timeoutMs = 10_000): Promise<RunningCli> {
  const cli = spawnCli(args, env);
  let m: RegExpExecArray;
  try {
    m = await cli.waitForOutput(LISTENING, timeoutMs);
  } catch (e) {
    cli.proc.kill('SIGKILL');
    await cli.proc.exited;
    throw e;
  }
  const port = Number(m[1]);
  return { ...cli, port, mediaPort: Number(m[2]), baseUrl: `http://127.0.0.1:${port}` };
}

/** Kills every child still running (SIGKILL) and waits for it; for afterEach. */
export async function killAll(): Promise<void> {
  const running = [...children];
  children.clear();
  for (const p of running) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  await Promise.all(running.map((p) => p.exited));
}

/** A loopback port that was free a moment ago (bound, then released). */
export async function freePort(): Promise<number> {
  const s = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => new Response('') });
  const port = s.port ?? 0;
  await s.stop(true);
  return port;
}
