// The inspector feed (GET /api/events, server-sent events): log lines, media summaries, webhooks, stats.
import { afterEach, expect, test } from 'bun:test';
import { startReferenceApp, type ReferenceApp } from '../../src/client/reference-app.ts';
import { startMock, type TestMock } from '../helpers/mock.ts';

let mock: TestMock | null = null;
let app: ReferenceApp | null = null;
afterEach(async () => {
  await app?.stop();
  await mock?.stop({ graceful: false });
  app = null; mock = null;
});

async function readEvents(res: Response, until: (events: any[]) => boolean, timeoutMs = 5000): Promise<any[]> {
  const reader = res.body!.getReader();
  const events: any[] = [];
  let buf = '';
  const deadline = Date.now() + timeoutMs;
  while (!until(events)) {
    if (Date.now() > deadline) throw new Error(`inspector: only got ${events.map((e) => e.type).join(',')}`);
    const { value, done } = await reader.read();
    if (done) break;
    buf += new TextDecoder().decode(value);
    let i;
    while ((i = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, i);
      buf = buf.slice(i + 2);
      const data = block.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trim()).join('\n');
      if (data) events.push(JSON.parse(data));
    }
  }
  await reader.cancel();
  return events;
}

test('GET /api/events streams the snapshot, signaling log, media summaries, webhooks and stats', async () => {
  mock = await startMock();
  const ac = new AbortController();
  const res = await fetch(`${mock.baseUrl}/api/events`, { signal: ac.signal });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/event-stream');
  app = await startReferenceApp({ log: false });
  const created = await mock.startMeeting(app.url);
  const events = await readEvents(res, (ev) =>
    ev.some((e) => e.type === 'stats' && e.connections.some((c: any) => c.rate_out > 0)) &&
    ev.some((e) => e.type === 'media' && e.msg_type === 14) &&
    ev.some((e) => e.type === 'webhook'), 6000);
  expect(events[0].type).toBe('meetings');
  const log = events.filter((e) => e.type === 'log' && e.meeting_uuid === created.meeting_uuid).map((e) => e.entry);
  expect(log.some((e: any) => e.dir === 'in' && e.msg_type === 1)).toBe(true);
  expect(log.some((e: any) => e.dir === 'out' && e.msg_type === 2)).toBe(true);
  const media = events.find((e) => e.type === 'media' && e.msg_type === 14);
  expect(media).toMatchObject({ meeting_uuid: created.meeting_uuid, stream_id: created.rtms_stream_id, socket: 'all', dir: 'out' });
  expect(media.bytes).toBeGreaterThan(640); // JSON around base64 of 640 bytes, the payload itself is not included
  expect(media.data).toBeUndefined();
  const wh = events.find((e) => e.type === 'webhook');
  expect(wh.delivery.event).toBe('meeting.rtms_started');
  ac.abort();
  // Once the page goes away the tap is removed.
  for (let i = 0; i < 50 && mock.engine.inspector.active; i++) await Bun.sleep(20);
  expect(mock.engine.inspector.active).toBe(false);
});
