// Runs the mock as a separate process (the executable, `bun src/index.ts`, or Deno), reads its real ports from
// the "listening" log line (started with --port 0 --media-port 0), and stops it by its pid. Tests that use it
// register `stop()` in afterEach/afterAll, so no process outlives its test.
import type { Subprocess } from 'bun';

export interface MockProcess {
  readonly proc: Subprocess<'ignore', 'pipe', 'pipe'>;
  readonly port: number;
  readonly mediaPort: number;
  /** http(s)://127.0.0.1:port */
  readonly baseUrl: string;
  readonly tls: boolean;
  /** Everything printed so far (stdout and stderr). */
  output(): string;
  waitForOutput(re: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** Resolves once `text` was printed (the start-up lines after "listening" come a moment later). */
  waitForText(text: string, timeoutMs?: number): Promise<void>;
  /** Sends a signal and resolves with the exit code (kills it after timeoutMs). */
  signal(sig: 'SIGTERM' | 'SIGINT', timeoutMs?: number): Promise<number | null>;
  /** Kills it if it still runs; safe to call twice. */
  stop(): Promise<void>;
}

const LISTENING = /listening: (https?):\/\/[^\s:]+:(\d+) .*media wss?:\/\/[^\s:]+:(\d+)\//;

export async function spawnMock(cmd: string[], opts: { cwd: string; env?: Record<string, string | undefined>; timeoutMs?: number }): Promise<MockProcess> {
  const proc = Bun.spawn(cmd, { cwd: opts.cwd, env: opts.env ?? process.env, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' });
  let text = '';
  const waiters = new Set<() => void>();
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    const dec = new TextDecoder();
    const reader = stream.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += dec.decode(value, { stream: true });
      for (const w of waiters) w();
    }
  };
  void pump(proc.stdout);
  void pump(proc.stderr);

  const waitForOutput = (re: RegExp, timeoutMs = 10_000) =>
    new Promise<RegExpExecArray>((resolve, reject) => {
      const check = () => {
        const m = re.exec(text);
        if (m) {
          cleanup();
          resolve(m);
        } else if (proc.exitCode !== null) {
          cleanup();
          reject(new Error(`process exited (${proc.exitCode}) before printing ${re}:\n${text}`));
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`no ${re} after ${timeoutMs} ms; output so far:\n${text}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      void proc.exited.then(() => setTimeout(check, 50));
      check();
    });

  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGKILL');
      await proc.exited;
    }
  };

  let m: RegExpExecArray;
  try {
    m = await waitForOutput(LISTENING, opts.timeoutMs ?? 20_000);
  } catch (e) {
    await stop();
    throw e;
  }
  const tls = m[1] === 'https';
  const port = Number(m[2]);
  return {
    proc,
    port,
    mediaPort: Number(m[3]),
    baseUrl: `${m[1]}://127.0.0.1:${port}`,
    tls,
    output: () => text,
    waitForOutput,
    async waitForText(t, timeoutMs = 5000) {
      await waitForOutput(new RegExp(t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')), timeoutMs);
    },
    async signal(sig, timeoutMs = 15_000) {
      proc.kill(sig);
      const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
      const code = await proc.exited;
      clearTimeout(timer);
      return code;
    },
    stop,
  };
}
