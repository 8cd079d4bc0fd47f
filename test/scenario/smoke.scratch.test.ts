import { test, expect } from 'bun:test';
import { startMock } from '../helpers/mock.ts';
import { startReferenceApp } from '../../src/client/reference-app.ts';
test('smoke', async () => {
  const mock = await startMock();
  const app = await startReferenceApp({ log: false, mediaTypes: 1 | 8 | 16, events: [2, 3, 4, 5, 6, 8, 9] });
  const t0 = Date.now();
  const created = await mock.startMeeting(app.url, { scenario: 'one-on-one', speed: 10 });
  console.log(JSON.stringify(created.scenario));
  await app.waitFor((o) => o.kind === 'webhook' && o.event === 'meeting.rtms_stopped', 15000);
  console.log('took', Date.now() - t0);
  const s = app.streams.get(created.rtms_stream_id)!;
  const counts: Record<string, number> = {};
  for (const m of s.messages) { const k = m.msg.msg_type === 6 ? `6.${m.msg.event.event_type}` : String(m.msg.msg_type); counts[k] = (counts[k] ?? 0) + 1; }
  console.log(counts);
  for (const m of s.messages) if (m.msg.msg_type === 17 || m.msg.msg_type === 18 || m.msg.msg_type === 6) console.log(JSON.stringify(m.msg).slice(0, 200));
  const v = await mock.api('GET', `/api/meetings/${encodeURIComponent(created.meeting_uuid)}/verdict`);
  console.log(JSON.stringify(v.body.checks));
  const mt = await mock.api('GET', `/api/meetings/${encodeURIComponent(created.meeting_uuid)}`);
  console.log(JSON.stringify(mt.body.scenario));
  await app.stop(); await mock.stop();
}, 30000);
