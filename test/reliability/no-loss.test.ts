// No loss under load: 100 meetings streaming at once, each to its own app with its own negotiated media (L16
// 16 kHz / 20 ms, L16 48 kHz stereo / 40 ms, G.711 8 kHz, audio + transcript, audio + SD JPEG video at 5 fps).
// Every media message each app was due arrives — from the first grid point after FIRST_PACKET_TIMESTAMP up to
// the stop, in order, each timestamp exactly one step after the previous (spec §3.4, §8) — and nothing is dropped.
// Every webhook (spec §9) is delivered or recorded as failed with all its attempts: the delivery log
// (GET /api/webhooks/deliveries) is checked against what the receiver actually got, byte for byte, attempt by
// attempt, signatures verified independently.
import { afterAll, expect, test } from 'bun:test';
import { createHmac } from 'node:crypto';
import type { Server } from 'bun';
import { startMock, type TestMock } from '../helpers/mock.ts';
import { SECRET_TOKEN } from '../helpers/ws-client.ts';
import { LeanApp, meetingPath, stats, until } from './kit.ts';

const MEETINGS = 100;
/** How long every app streams once all are connected. */
const STREAM_MS = 3000;
/** The last message may precede the stop by one step plus this much scheduler lateness (a loaded CI machine). */
const TAIL_MS = 250;

interface Profile { name: string; path: string; mediaType: number; mediaParams: Record<string, unknown>; steps: Record<number, number> }
const PROFILES: Profile[] = [
  { name: 'L16 16 kHz 20 ms on /all', path: 'all', mediaType: 1, mediaParams: {}, steps: { 14: 20 } },
  { name: 'L16 48 kHz stereo 40 ms on /audio', path: 'audio', mediaType: 1, mediaParams: { audio: { sample_rate: 3, channel: 2, send_rate: 40 } }, steps: { 14: 40 } },
  { name: 'G.711 8 kHz on /audio', path: 'audio', mediaType: 1, mediaParams: { audio: { codec: 2, sample_rate: 0 } }, steps: { 14: 20 } },
  { name: 'audio + transcript on /all', path: 'all', mediaType: 9, mediaParams: {}, steps: { 14: 20 } },
  { name: 'audio + JPG SD 5 fps video on /all', path: 'all', mediaType: 3, mediaParams: { video: { codec: 5, resolution: 1, fps: 5 } }, steps: { 14: 20, 15: 200 } },
];

/** Webhook receiver behaviour per meeting (by index): how each attempt is answered. */
type Group = 'ok' | 'fail' | 'retry_then_ok' | 'timeout_then_ok';
const groupOf = (i: number): Group => (['fail', 'retry_then_ok', 'timeout_then_ok'] as const)[i % 10] ?? 'ok';

interface Got { i: number; body: string; signature: string; timestamp: string; status: number | 'hung' }

let mock: TestMock | null = null;
let server: Server<undefined> | null = null;
const apps: LeanApp[] = [];
afterAll(async () => {
  for (const a of apps) a.close();
  await mock?.stop({ graceful: false });
  await server?.stop(true);
});

test(`${MEETINGS} meetings × 1 app each: every media message due arrives in order with exact steps; every webhook delivered or failed with its attempts, as the receiver saw them`, async () => {
  // The receiver: answers per meeting group; a hung answer outlasts the mock's 1 s timeout, then answers anyway.
  const got: Got[] = [];
  const seen = new Map<string, number>();
  server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    async fetch(req) {
      const i = Number(new URL(req.url).searchParams.get('i'));
      const body = await req.text();
      const n = (seen.get(body) ?? 0) + 1;
      seen.set(body, n);
      const g = groupOf(i);
      const status = g === 'fail' ? 500 : g === 'retry_then_ok' && n === 1 ? 503 : 200;
      const rec: Got = { i, body, signature: req.headers.get('x-zm-signature') ?? '', timestamp: req.headers.get('x-zm-request-timestamp') ?? '', status };
      got.push(rec);
      if (g === 'timeout_then_ok' && n === 1) { rec.status = 'hung'; await Bun.sleep(1500); }
      return new Response(status === 200 ? 'ok' : 'no', { status });
    },
  });
  mock = await startMock({ webhookMaxAttempts: 3, webhookBackoffMs: 30, webhookTimeoutMs: 1000, keepAliveMs: 1000 });
  const m = mock;

  // Create and connect, 20 at a time.
  const created: { uuid: string; origin: number; profile: Profile; app: LeanApp }[] = [];
  for (let i0 = 0; i0 < MEETINGS; i0 += 20) {
    await Promise.all(Array.from({ length: Math.min(20, MEETINGS - i0) }, async (_, k) => {
      const i = i0 + k;
      const c = await m.startMeeting(`http://127.0.0.1:${server!.port}/webhook?i=${i}`);
      const profile = PROFILES[i % PROFILES.length]!;
      const app = new LeanApp({ signalingUrl: c.server_urls, meetingUuid: c.meeting_uuid, streamId: c.rtms_stream_id, ...profile });
      apps.push(app);
      await app.connect();
      const origin = (await m.api('GET', meetingPath(c.meeting_uuid))).body.created_at as number;
      created[i] = { uuid: c.meeting_uuid, origin, profile, app };
    }));
  }
  await until(() => apps.every((a) => a.track(14).count > 0), 10_000, 'audio on every app');
  await Bun.sleep(STREAM_MS);
  const before = await stats(m);
  expect(before).toMatchObject({ meetings_live: MEETINGS, streams_live: MEETINGS, connections: 2 * MEETINGS, media_dropped: 0 });

  // Stop every meeting (stop reason 6): TERMINATED on signaling, sockets closed, rtms_stopped sent.
  await Promise.all(created.map((c) => m.api('DELETE', meetingPath(c.uuid))));
  await until(() => apps.every((a) => a.states.some((s) => s.state === 4)), 10_000, 'TERMINATED everywhere');
  await until(async () => (await stats(m)).connections === 0, 10_000, 'every socket closed');

  // Media: for each app and each cadenced type, exactly the messages due between activation and the stop.
  let total = 0;
  let maxTail = 0;
  const report: string[] = [];
  for (const [i, c] of created.entries()) {
    const { app, profile, origin } = c;
    const fp = app.firstPacketAt!;
    const stopAt = app.states.find((s) => s.state === 4)!.timestamp;
    for (const [type, step] of Object.entries(profile.steps).map(([t, s]) => [Number(t), s] as const)) {
      const t = app.track(type);
      const where = `meeting ${i} (${profile.name}) msg ${type}`;
      if (t.problems.length) report.push(`${where}: ${t.problems.slice(0, 3).join('; ')}`);
      if (t.first === null || t.last === null) { report.push(`${where}: nothing arrived`); continue; }
      // First: the first point of the meeting's grid at or after FIRST_PACKET_TIMESTAMP (spec §3.4, §8).
      if (!(t.first >= fp && t.first < fp + step && (t.first - origin) % step === 0)) report.push(`${where}: first ${t.first}, FIRST_PACKET ${fp}, origin ${origin}`);
      // Last: within one step (plus scheduler lateness) of the stop.
      if (t.last > stopAt || stopAt - t.last > step + TAIL_MS) report.push(`${where}: last ${t.last}, stopped at ${stopAt}`);
      maxTail = Math.max(maxTail, stopAt - t.last - step);
      // Everything in between: as many messages as grid points, none missing, none repeated.
      if (t.count !== (t.last - t.first) / step + 1) report.push(`${where}: ${t.count} messages for ${(t.last - t.first) / step + 1} grid points`);
      total += t.count;
    }
    if (profile.mediaType & 8 && app.track(17).count === 0 && stopAt - fp > 6000) report.push(`meeting ${i}: no transcript in ${stopAt - fp} ms`);
  }
  console.log(`no-loss: ${total} media messages checked; the last one came at most ${Math.max(0, maxTail)} ms more than a step before the stop`);
  expect(report).toEqual([]);
  expect(total).toBeGreaterThan(MEETINGS * (STREAM_MS / 40));

  // Webhooks: 100 rtms_started + 100 rtms_stopped, each settled (delivered or failed), none pending.
  await until(async () => (await stats(m)).webhooks_pending === 0, 15_000, 'webhooks settled');
  const ours = new Set(created.map((c) => c.uuid));
  const records = ((await m.api('GET', '/api/webhooks/deliveries')).body.deliveries as any[]).filter((r) => ours.has(r.meetingKey));
  expect(records.length).toBe(2 * MEETINGS);
  const byBody = new Map<string, Got[]>();
  for (const g of got) byBody.set(g.body, [...(byBody.get(g.body) ?? []), g]);
  const problems: string[] = [];
  let attempts = 0;
  for (const r of records) {
    const i = created.findIndex((c) => c.uuid === r.meetingKey);
    const g = groupOf(i);
    const seenBy = byBody.get(r.body) ?? [];
    attempts += r.attempts.length;
    const where = `${r.event} of meeting ${i} (${g})`;
    const expected = { ok: ['200'], fail: ['500', '500', '500'], retry_then_ok: ['503', '200'], timeout_then_ok: ['timeout', '200'] }[g];
    const statuses = r.attempts.map((a: any) => (a.status !== undefined ? String(a.status) : a.error));
    if (JSON.stringify(statuses) !== JSON.stringify(expected)) problems.push(`${where}: attempts ${statuses}, expected ${expected}`);
    if (r.outcome !== (g === 'fail' ? 'failed' : 'delivered')) problems.push(`${where}: outcome ${r.outcome}`);
    // The receiver got exactly these attempts, the same bytes each time, with the signatures the log records.
    if (seenBy.length !== r.attempts.length) problems.push(`${where}: receiver got ${seenBy.length} requests for ${r.attempts.length} attempts`);
    seenBy.forEach((s, k) => {
      const a = r.attempts[k];
      if (!a || a.signatureHeader !== s.signature || a.timestampHeader !== s.timestamp) problems.push(`${where}: attempt ${k + 1} headers differ from the log`);
      const mac = `v0=${createHmac('sha256', SECRET_TOKEN).update(`v0:${s.timestamp}:${s.body}`).digest('hex')}`;
      if (s.signature !== mac) problems.push(`${where}: attempt ${k + 1} signature does not verify`);
      if (a && s.status !== 'hung' && a.status !== s.status) problems.push(`${where}: attempt ${k + 1} logged ${a.status}, receiver answered ${s.status}`);
    });
    if (JSON.parse(r.body).payload.meeting_uuid !== r.meetingKey) problems.push(`${where}: payload names another meeting`);
  }
  expect(problems).toEqual([]);
  expect(got.length).toBe(attempts); // nothing reached the receiver that the log does not show
  expect(records.filter((r) => r.event === 'meeting.rtms_started').length).toBe(MEETINGS);
  expect(records.filter((r) => r.event === 'meeting.rtms_stopped').every((r) => JSON.parse(r.body).payload.stop_reason === 6)).toBe(true);
  expect((await stats(m)).scheduler.errors).toBe(0);
}, 60_000);
