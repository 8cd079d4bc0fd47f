// The baseline for the fan-out figure: a bare Bun.serve WebSocket server with no RTMS logic. A feeder on /in
// sends messages; each one is forwarded to every socket on /out. Run as its own process: it prints "port N" and
// serves until killed.
//   bare-forwarder.ts           the feeder sends already-built RTMS messages (text), forwarded as they are
//   bare-forwarder.ts --encode  the feeder sends ingest frames (16-byte header + JPEG, docs/ingest.md); each is
//                               base64'd and wrapped in the spec §7 JSON once, then forwarded: the work the
//                               production protocol itself demands of any server, and nothing else
import { videoMessage } from './video-message.ts';

const encode = process.argv.includes('--encode');
const apps = new Set<import('bun').ServerWebSocket<{ role: string }>>();

const server = Bun.serve<{ role: string }>({
  hostname: '127.0.0.1',
  port: 0,
  fetch(req, srv) {
    const role = new URL(req.url).pathname === '/in' ? 'in' : 'out';
    return srv.upgrade(req, { data: { role } }) ? undefined : new Response('upgrade', { status: 426 });
  },
  websocket: {
    maxPayloadLength: 16 * 1024 * 1024,
    perMessageDeflate: false,
    open(ws) { if (ws.data.role === 'out') apps.add(ws); },
    message(ws, msg) {
      if (ws.data.role !== 'in') return;
      const text = typeof msg === 'string' ? msg : encode ? videoMessage(msg.subarray(16), Date.now()) : new TextDecoder().decode(msg);
      // The same bound as the mock's slow-consumer policy (4 MiB buffered), so both drop alike.
      for (const a of apps) if (a.getBufferedAmount() <= 4 * 1024 * 1024) a.send(text);
    },
    close(ws) { apps.delete(ws); },
  },
});
console.log(`port ${server.port}`);
