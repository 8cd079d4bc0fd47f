// Picks the listener for the runtime the mock runs on: Bun.serve (bun-server.ts) or Deno.serve (deno-server.ts).
// The rest of the server never touches a runtime's own API.
import type { RtmsEngine } from '../engine/rtms-engine.ts';
import { listenBun, type ListenOptions, type RunningServers } from './bun-server.ts';

export type { ListenOptions, RunningServers } from './bun-server.ts';

export type Runtime = 'bun' | 'deno';

export function currentRuntime(): Runtime {
  if (typeof (globalThis as { Bun?: unknown }).Bun !== 'undefined') return 'bun';
  if (typeof (globalThis as { Deno?: unknown }).Deno !== 'undefined') return 'deno';
  throw new Error('rtms-mock runs on Bun or Deno; this runtime is neither (Node.js: use `npm start`, which installs Bun)');
}

export async function listen(engine: RtmsEngine, httpFetch: (req: Request) => Response | Promise<Response>, opts: ListenOptions): Promise<RunningServers> {
  if (currentRuntime() === 'bun') return listenBun(engine, httpFetch, opts);
  const { listenDeno } = await import('./deno-server.ts');
  return listenDeno(engine, httpFetch, opts);
}
