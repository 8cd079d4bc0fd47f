// The only place that knows Bun.serve: two listeners (HTTP + signaling, and media), each upgraded socket wrapped
// as an RtmsSocket and handed to the engine. Everything else is runtime-neutral.
import type { Server, ServerWebSocket } from 'bun';
import type { Connection } from '../engine/connection.ts';
import type { RtmsEngine } from '../engine/rtms-engine.ts';
import { MEDIA_PATHS, type MediaPath, type RtmsSocket, type SocketRole } from '../engine/socket.ts';
import { INGEST_PATH, INGEST_WS_MAX_PAYLOAD, ingestParams, type IngestConnection, type IngestOpenParams } from '../ingest/ingest-hub.ts';

interface SocketData {
  /** Signaling and media go to the engine; `ingest` (live feeders, docs/ingest.md) to engine.ingest. */
  role: SocketRole | { kind: 'ingest'; params: IngestOpenParams };
  remote: string;
  conn?: Connection;
  ingest?: IngestConnection;
}

export interface ListenOptions {
  hostname: string;
  port: number;
  mediaPort: number;
  maxFrameBytes: number;
  /** Per-socket send-buffer limit at which Bun reports backpressure (the engine drops media above its bound). */
  backpressureLimit: number;
  tls?: { cert: string; key: string };
}

export interface RunningServers {
  port: number;
  mediaPort: number;
  stop(): Promise<void>;
}

function wrap(ws: ServerWebSocket<SocketData>): RtmsSocket {
  return {
    send: (data) => ws.send(data),
    close: (code, reason) => ws.close(code, reason),
    bufferedAmount: () => ws.getBufferedAmount(),
    remoteAddress: ws.data.remote,
  };
}

function websocketHandlers(engine: RtmsEngine, opts: ListenOptions, maxPayloadLength = opts.maxFrameBytes) {
  return {
    maxPayloadLength,
    backpressureLimit: opts.backpressureLimit,
    closeOnBackpressureLimit: false,
    perMessageDeflate: false,
    // Keep-alives are the protocol's job (spec §4.1); Bun's own idle timer only catches dead TCP peers.
    idleTimeout: 960,
    open(ws: ServerWebSocket<SocketData>) {
      const role = ws.data.role;
      if (role.kind === 'ingest') ws.data.ingest = engine.ingest.open(wrap(ws), role.params);
      else ws.data.conn = engine.open(role, wrap(ws));
    },
    message(ws: ServerWebSocket<SocketData>, message: string | Buffer) {
      if (ws.data.ingest) return engine.ingest.message(ws.data.ingest, message);
      // The HTTP listener allows large ingest frames; signaling keeps the RTMS limit (1009 like Bun's own).
      if (message.length > opts.maxFrameBytes) return ws.close(1009, 'message too big');
      if (ws.data.conn) engine.message(ws.data.conn, message);
    },
    close(ws: ServerWebSocket<SocketData>, code: number, reason: string) {
      if (ws.data.ingest) engine.ingest.closed(ws.data.ingest, code, reason);
      else if (ws.data.conn) engine.closed(ws.data.conn, code, reason);
    },
  };
}

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

export function listenBun(engine: RtmsEngine, httpFetch: (req: Request) => Response | Promise<Response>, opts: ListenOptions): RunningServers {
  const ws = websocketHandlers(engine, opts);
  const isUpgrade = (req: Request) => req.headers.get('upgrade')?.toLowerCase() === 'websocket';

  const http: Server<SocketData> = Bun.serve<SocketData>({
    hostname: opts.hostname,
    port: opts.port,
    ...(opts.tls ? { tls: opts.tls } : {}),
    fetch(req, server) {
      const path = new URL(req.url).pathname;
      if (path === INGEST_PATH && isUpgrade(req)) {
        const remote = server.requestIP(req)?.address ?? 'unknown';
        if (server.upgrade(req, { data: { role: { kind: 'ingest', params: ingestParams(req) }, remote } })) return undefined;
        return json(400, { error: { code: 'upgrade_failed', message: 'WebSocket upgrade failed' } });
      }
      if ((path === '/signaling' || path === '/') && isUpgrade(req)) {
        const remote = server.requestIP(req)?.address ?? 'unknown';
        // "/" is the seed mock's signaling URL (spec §10); the dialect is still read from each message.
        const role: SocketRole = { kind: 'signaling', dialectHint: path === '/' ? 'seed' : 'production' };
        if (server.upgrade(req, { data: { role, remote } })) return undefined;
        return json(400, { error: { code: 'upgrade_failed', message: 'WebSocket upgrade failed' } });
      }
      return httpFetch(req);
    },
    websocket: websocketHandlers(engine, opts, Math.max(opts.maxFrameBytes, INGEST_WS_MAX_PAYLOAD)),
  });

  const media: Server<SocketData> = Bun.serve<SocketData>({
    hostname: opts.hostname,
    port: opts.mediaPort,
    ...(opts.tls ? { tls: opts.tls } : {}),
    fetch(req, server) {
      const path = new URL(req.url).pathname.replace(/^\/+/, '').replace(/\/+$/, '');
      if (!(MEDIA_PATHS as readonly string[]).includes(path)) {
        return json(404, { error: { code: 'not_found', message: `no media endpoint at /${path}; use one of ${MEDIA_PATHS.map((p) => `/${p}`).join(', ')}` } });
      }
      if (!isUpgrade(req)) {
        return json(426, { error: { code: 'upgrade_required', message: `/${path} is a WebSocket endpoint: connect with ws://` } });
      }
      const remote = server.requestIP(req)?.address ?? 'unknown';
      if (server.upgrade(req, { data: { role: { kind: 'media', path: path as MediaPath }, remote } })) return undefined;
      return json(400, { error: { code: 'upgrade_failed', message: 'WebSocket upgrade failed' } });
    },
    websocket: ws,
  });

  return {
    port: http.port ?? opts.port,
    mediaPort: media.port ?? opts.mediaPort,
    async stop() {
      await Promise.all([http.stop(true), media.stop(true)]);
    },
  };
}
