// A real HTTP receiver on 127.0.0.1 for the webhook tests: records the raw bytes and headers of every request
// and answers from a script (one responder per request, the last one repeats).

import type { Server } from 'bun';

export interface Received {
  method: string;
  path: string;
  headers: Record<string, string>;
  rawBody: string;
  /** performance.now() at arrival. */
  at: number;
  /** Date.now() at arrival. */
  wallMs: number;
}

export type Responder = (req: Received) => Response | Promise<Response>;

/** A responder that never answers (the client must time out). */
export const hang: Responder = () => new Promise<Response>(() => {});

export interface Receiver {
  url: string;
  port: number;
  requests: Received[];
  close(): Promise<void>;
}

export function startReceiver(script: Responder[] = [() => new Response('ok')]): Receiver {
  const requests: Received[] = [];
  const server: Server<undefined> = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    async fetch(req) {
      const rawBody = await req.text();
      const headers: Record<string, string> = {};
      req.headers.forEach((v, k) => {
        headers[k] = v;
      });
      const rec: Received = {
        method: req.method,
        path: new URL(req.url).pathname,
        headers,
        rawBody,
        at: performance.now(),
        wallMs: Date.now(),
      };
      const i = requests.length;
      requests.push(rec);
      const responder = script[Math.min(i, script.length - 1)] ?? (() => new Response('ok'));
      return responder(rec);
    },
  });
  return {
    url: `http://127.0.0.1:${server.port}/webhook`,
    port: server.port ?? 0,
    requests,
    close: () => server.stop(true),
  };
}

/** A loopback port with nothing listening: bind one, then release it. */
export async function closedPort(): Promise<number> {
  const s = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => new Response('') });
  const port = s.port ?? 0;
  await s.stop(true);
  return port;
}

/** HMAC-SHA256 hex via WebCrypto: an implementation independent of the node:crypto code under test. */
export async function hmacHexWebCrypto(secret: string, message: string): Promise<string> {
  const enc = new TextEncoder();
  const key = await crypto.subtle.importKey('raw', enc.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key, enc.encode(message)));
  return Array.from(mac, (b) => b.toString(16).padStart(2, '0')).join('');
}
