// The inspector feed (GET /api/events, server-sent events): log lines, media summaries, webhooks, stats.
import { afterEach, expect, test } from 'bun:test';
import { startReferenceApp, type ReferenceApp } from '../../src/client/reference-app.ts';
import type { LogEntry } from '../../src/engine/event-log.ts';
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

test('log lines carry seq 1, 2, 3… per meeting, the same in the feed and in GET /api/meetings/{uuid}; the page merges partial views by it', async () => {
  mock = await startMock();
  const ac = new AbortController();
  const res = await fetch(`${mock.baseUrl}/api/events`, { signal: ac.signal });
  app = await startReferenceApp({ log: false });
  const created = await mock.startMeeting(app.url);
  const path = `/api/meetings/${encodeURIComponent(created.meeting_uuid)}`;
  const events = await readEvents(res, (ev) => ev.some((e) => e.type === 'log' && e.entry.msg_type === 7), 6000); // CLIENT_READY_ACK
  ac.abort();
  const fed = events.filter((e) => e.type === 'log' && e.meeting_uuid === created.meeting_uuid).map((e) => e.entry);
  const fetched = (await mock.api('GET', path)).body.log as LogEntry[];
  // Numbered from 1 without gaps, in order; the feed's lines are the fetched log's lines with the same numbers.
  expect(fetched.map((e) => e.seq)).toEqual(fetched.map((_, i) => i + 1));
  for (const e of fed) expect(fetched[e.seq - 1]).toEqual(e);

  // The page's situation on a busy machine: the fetch answered with only the first lines, some lines were held
  // while the meeting was unknown, others shown live afterwards, overlapping. The merge gives each line once,
  // in order; nothing between the fetch and the live lines is lost.
  const { mergeLogEntries } = await import('../../web/src/store.ts');
  const n = fetched.length;
  expect(n).toBeGreaterThanOrEqual(6);
  const merged = mergeLogEntries(fetched.slice(0, 2), fetched.slice(1, 4).reverse(), fetched.slice(3));
  expect(merged).toEqual(fetched);
});
