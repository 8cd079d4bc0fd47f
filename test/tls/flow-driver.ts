// Run by tls.test.ts in its own process with NODE_EXTRA_CA_CERTS=<the generated ca.pem>: the reference app,
// unchanged (plain `new WebSocket(url)` and `fetch`), runs the flow against a --tls mock. Prints one JSON line.
//   bun test/tls/flow-driver.ts https://localhost:PORT
import { startReferenceApp } from '../../src/client/reference-app.ts';

const base = process.argv[2];
if (!base) {
  console.error('usage: bun test/tls/flow-driver.ts https://localhost:PORT');
  process.exit(2);
}
const app = await startReferenceApp({ log: (l) => console.error(l), reconnect: false });
const timer = setTimeout(() => {
  console.error('flow driver: timed out');
  process.exit(1);
}, 20_000);
try {
  const res = await fetch(`${base}/api/meetings`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ webhook_url: app.url }),
  });
  if (res.status !== 201) throw new Error(`POST /api/meetings → ${res.status} ${await res.text()}`);
  const created = (await res.json()) as { rtms_stream_id: string; server_urls: string };
  await app.waitFor((o) => o.kind === 'message' && o.msg.msg_type === 14, 15_000, { label: 'audio' });
  await app.waitFor((o) => o.kind === 'message' && o.msg.msg_type === 15, 15_000, { label: 'video' });
  const s = app.streams.get(created.rtms_stream_id)!;
  console.log(JSON.stringify({
    server_urls: created.server_urls,
    media_url: s.signalingResponse?.media_server?.server_urls?.all,
    state: s.state,
    received: { audio: (s.counts['14'] ?? 0) > 0, video: (s.counts['15'] ?? 0) > 0 },
  }));
} finally {
  clearTimeout(timer);
  await app.stop();
}
process.exit(0);
