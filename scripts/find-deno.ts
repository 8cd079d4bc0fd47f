// Where the deno executable is: $DENO_BIN, the one npm/bun installed with the devDependency `deno`
// (node_modules/@deno/<platform>/deno — the real binary, not npm's node wrapper, so signals reach it and its
// pid is the server's), or deno on PATH. Used by scripts/measure-startup.ts and the Deno tests.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export function findDeno(root: string): string | null {
  const exe = process.platform === 'win32' ? 'deno.exe' : 'deno';
  const scoped = join(root, 'node_modules', '@deno');
  const candidates = [
    process.env.DENO_BIN,
    ...(existsSync(scoped) ? readdirSync(scoped).map((d) => join(scoped, d, exe)) : []),
    join(root, 'node_modules', 'deno', exe),
  ];
  for (const c of candidates) if (c && existsSync(c)) return c;
  const which = spawnSync(process.platform === 'win32' ? 'where' : 'sh', process.platform === 'win32' ? ['deno'] : ['-c', 'command -v deno'], { encoding: 'utf8' });
  const found = which.status === 0 ? which.stdout.split(/\r?\n/)[0]?.trim() : '';
  return found || null;
}

/** `deno run` with the permissions the mock needs (network, its files, env for the flags, writes for --tls). */
export const DENO_RUN_ARGS = ['run', '--no-lock', '--allow-net', '--allow-read', '--allow-write', '--allow-env'];
