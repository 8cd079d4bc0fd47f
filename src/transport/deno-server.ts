// The Deno twin of bun-server.ts: the same two listeners (HTTP + signaling + ingest, and media) with
// Deno.serve and Deno.upgradeWebSocket, each upgraded socket wrapped as an RtmsSocket for the engine. Only
// loaded on Deno (src/transport/listen.ts); the Deno API is described by the small local types below, so the
// project's type check needs no Deno typings.
import type { Connection } from '../engine/connection.ts';
import type { RtmsEngine } from '../engine/rtms-engine.ts';
import { MEDIA_PATHS, type MediaPath, type RtmsSocket, type SocketRole } from '../engine/socket.ts';
import { INGEST_PATH, INGEST_WS_MAX_PAYLOAD, ingestParams, type IngestConnection, type IngestOpenParams } from '../ingest/ingest-hub.ts';
import type { ListenOptions, RunningServers } from './bun-server.ts';

interface DenoServeHandlerInfo {
  remoteAddr: { hostname: string; port: number };
}
interface DenoHttpServer {
  addr: { hostname: string; port: number };
  shutdown(): Promise<void>;
  finished: Promise<void>;
}
interface DenoServeOptions {
  hostname: string;
  port: number;
  cert?: string;
  key?: string;
  onListen?: (addr: { hostname: string; port: number }) => void;
  onError?: (error: unknown) => Response | Promise<Response>;
}
interface DenoApi {
  serve(options: DenoServeOptions, handler: (req: Request, info: DenoServeHandlerInfo) => Response | Promise<Response>): DenoHttpServer;
  upgradeWebSocket(req: Request, options?: { idleTimeout?: number }): { socket: WebSocket; response: Response };
}

function deno(): DenoApi {
  const d = (globalThis as { Deno?: DenoApi }).Deno;
  if (!d) throw new Error('listenDeno needs the Deno runtime (on Bun, bun-server.ts is used)');
  return d;
}

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

const isUpgrade = (req: Request) => req.headers.get('upgrade')?.toLowerCase() === 'websocket';

export function listenDeno(engine: RtmsEngine, httpFetch: (req: Request) => Response | Promise<Response>, opts: ListenOptions): RunningServers {
  const D = deno();
  const open = new Set<WebSocket>();

  /** Upgrades and wires one socket to the engine (the engine sees exactly what bun-server.ts gives it). */
  const upgrade = (req: Request, role: SocketRole | { kind: 'ingest'; params: IngestOpenParams }, remote: string): Response => {
    // Deno pings idle sockets itself; a long interval leaves keep-alives to the protocol (spec §4.1), as on Bun.
    const { socket, response } = D.upgradeWebSocket(req, { idleTimeout: 120 });
    socket.binaryType = 'arraybuffer';
    let conn: Connection | undefined;
    let ingest: IngestConnection | undefined;
    const rtms: RtmsSocket = {
      send(data) {
        if (socket.readyState !== WebSocket.OPEN) return 0;
        // A Uint8Array goes out as a binary frame, as on Bun.
        socket.send(data as string | Uint8Array<ArrayBuffer>);
        // Bun's contract: -1 when the message was queued behind backpressure.
        return socket.bufferedAmount > opts.backpressureLimit ? -1 : typeof data === 'string' ? data.length : data.byteLength;
      },
      close(code, reason) {
        try {
          socket.close(code, reason);
        } catch {
          socket.close();
        }
      },
      bufferedAmount: () => socket.bufferedAmount,
      remoteAddress: remote,
    };
    socket.addEventListener('open', () => {
      open.add(socket);
      if (role.kind === 'ingest') ingest = engine.ingest.open(rtms, role.params);
      else conn = engine.open(role, rtms);
    });
    socket.addEventListener('message', (e: MessageEvent) => {
      const data = e.data as string | ArrayBuffer;
      const size = typeof data === 'string' ? new TextEncoder().encode(data).length : data.byteLength;
      // Bun enforces maxPayloadLength itself (1009); Deno has no such option. Ingest frames may be larger.
      if (size > (ingest ? INGEST_WS_MAX_PAYLOAD : opts.maxFrameBytes)) {
        rtms.close(1009, 'message too big');
        return;
      }
      if (ingest) engine.ingest.message(ingest, data);
      else if (conn) engine.message(conn, data);
    });
    socket.addEventListener('close', (e: CloseEvent) => {
      open.delete(socket);
      if (ingest) engine.ingest.closed(ingest, e.code, e.reason);
      else if (conn) engine.closed(conn, e.code, e.reason);
    });
    socket.addEventListener('error', () => {
      /* a 'close' event follows */
    });
    return response;
  };

  const tls = opts.tls ? { cert: opts.tls.cert, key: opts.tls.key } : {};
  const onError = (err: unknown) => {
    engine.log.error(`HTTP handler failed: ${(err as Error)?.stack ?? err}`);
    return json(500, { error: { code: 'internal', message: 'internal error (see the server log)' } });
  };

  const http = D.serve({ hostname: opts.hostname, port: opts.port, ...tls, onListen: () => {}, onError }, (req, info) => {
    const path = new URL(req.url).pathname;
    // Live feeders (docs/ingest.md) on the HTTP port.
    if (path === INGEST_PATH && isUpgrade(req)) return upgrade(req, { kind: 'ingest', params: ingestParams(req) }, info.remoteAddr.hostname);
    if ((path === '/signaling' || path === '/') && isUpgrade(req)) {
      // "/" is the seed mock's signaling URL (spec §10); the dialect is still read from each message.
      const role: SocketRole = { kind: 'signaling', dialectHint: path === '/' ? 'seed' : 'production' };
      return upgrade(req, role, info.remoteAddr.hostname);
    }
    return httpFetch(req);
  });

  const media = D.serve({ hostname: opts.hostname, port: opts.mediaPort, ...tls, onListen: () => {}, onError }, (req, info) => {
    const path = new URL(req.url).pathname.replace(/^\/+/, '').replace(/\/+$/, '');
    if (!(MEDIA_PATHS as readonly string[]).includes(path)) {
      return json(404, { error: { code: 'not_found', message: `no media endpoint at /${path}; use one of ${MEDIA_PATHS.map((p) => `/${p}`).join(', ')}` } });
    }
    if (!isUpgrade(req)) {
      return json(426, { error: { code: 'upgrade_required', message: `/${path} is a WebSocket endpoint: connect with ws://` } });
    }
    return upgrade(req, { kind: 'media', path: path as MediaPath }, info.remoteAddr.hostname);
  });

  return {
    port: http.addr.port,
    mediaPort: media.addr.port,
    async stop() {
      // Deno's shutdown waits for upgraded sockets: close them first (Bun's stop(true) drops them).
      for (const s of open) {
        try {
          s.close(1001, 'server shutting down');
        } catch {
          /* already closing */
        }
      }
      const bounded = (p: Promise<void>) => Promise.race([p, new Promise<void>((r) => setTimeout(r, 2000))]);
      await Promise.all([bounded(http.shutdown()), bounded(media.shutdown())]);
    },
  };
}
