// Webhook delivery driven by the engine (spec §9): a real HTTP receiver that fails, then succeeds, sees the
// exact same signed bytes on every attempt; one that never answers 2xx is recorded as failed with every attempt,
// in GET /api/meetings/{uuid} and in GET /api/webhooks/deliveries.
import { afterEach, expect, test } from 'bun:test';
import { startMock, type TestMock } from '../helpers/mock.ts';
import { until } from '../helpers/driven-app.ts';
import { SECRET_TOKEN } from '../helpers/ws-client.ts';
import { closedPort, hmacHexWebCrypto, startReceiver, type Receiver } from '../webhooks/receiver.ts';

let mock: TestMock | null = null;
const receivers: Receiver[] = [];
afterEach(async () => {
  await mock?.stop({ graceful: false });
  for (const r of receivers.splice(0)) await r.close();
  mock = null;
});

function receiver(...statuses: number[]): Receiver {
  const r = startReceiver(statuses.map((s) => () => new Response(s < 300 ? 'ok' : 'nope', { status: s })));
  receivers.push(r);
  return r;
}

const meetingPath = (uuid: string) => `/api/meetings/${encodeURIComponent(uuid)}`;

test('500, 500, 200: three identical signed bodies with the same event_ts, recorded as delivered after 3 attempts', async () => {
  mock = await startMock({ webhookBackoffMs: 20, webhookMaxAttempts: 5 });
  const rx = receiver(500, 500, 200);
  const created = await mock.startMeeting(rx.url, { start_rtms: true });
  await until(() => rx.requests.length >= 3, 3000, 'three attempts');
  await Bun.sleep(100);
  expect(rx.requests).toHaveLength(3); // 2xx ends the retries

  const bodies = rx.requests.map((r) => r.rawBody);
  expect(new Set(bodies).size).toBe(1);
  const body = JSON.parse(bodies[0]!);
  expect(body).toEqual({
    event: 'meeting.rtms_started',
    event_ts: expect.any(Number),
    payload: { meeting_uuid: created.meeting_uuid, operator_id: expect.any(String), rtms_stream_id: created.rtms_stream_id, server_urls: created.server_urls },
  });
  for (const r of rx.requests) {
    expect(r.method).toBe('POST');
    expect(r.headers['content-type']).toBe('application/json');
    const ts = r.headers['x-zm-request-timestamp']!;
    expect(ts).toMatch(/^\d{10}$/); // epoch seconds, not ms
    expect(Math.abs(Number(ts) - r.wallMs / 1000)).toBeLessThan(5);
    expect(Math.abs(body.event_ts - r.wallMs)).toBeLessThan(5000);
    // spec §9: v0= HMAC-SHA256(secret token, "v0:" + timestamp + ":" + raw body), computed independently.
    expect(r.headers['x-zm-signature']).toBe(`v0=${await hmacHexWebCrypto(SECRET_TOKEN, `v0:${ts}:${r.rawBody}`)}`);
  }
  // Retries back off: the attempts are spread out, not fired at once.
  expect(rx.requests[2]!.at - rx.requests[0]!.at).toBeGreaterThanOrEqual(20 + 40 - 5);

  const m = await mock.api('GET', meetingPath(created.meeting_uuid));
  const d = m.body.webhook_deliveries;
  expect(d).toHaveLength(1);
  expect(d[0]).toMatchObject({ event: 'meeting.rtms_started', url: rx.url, outcome: 'delivered', eventTs: body.event_ts, body: bodies[0] });
  expect(d[0].attempts.map((a: any) => a.status)).toEqual([500, 500, 200]);
  expect(d[0].attempts.map((a: any) => a.error ?? null)).toEqual(['http_500', 'http_500', null]);
  expect(d[0].attempts.map((a: any) => a.timestampHeader)).toEqual(rx.requests.map((r) => r.headers['x-zm-request-timestamp']));
  // The meeting's log shows the attempts too.
  expect(m.body.log.filter((e: any) => e.socket === 'webhook').length).toBeGreaterThanOrEqual(3);
});

test('a never-2xx endpoint: every attempt made, recorded as failed in the meeting and in /api/webhooks/deliveries', async () => {
  mock = await startMock({ webhookBackoffMs: 20, webhookMaxAttempts: 3 });
  const rx = receiver(503);
  const created = await mock.startMeeting(rx.url);
  const failed = await until(async () => {
    const all = (await mock!.api('GET', '/api/webhooks/deliveries')).body.deliveries as any[];
    return all.find((x) => x.meetingKey === created.meeting_uuid && x.outcome === 'failed');
  }, 3000, 'failed delivery');
  expect(rx.requests).toHaveLength(3);
  expect(new Set(rx.requests.map((r) => r.rawBody)).size).toBe(1);
  expect(failed).toMatchObject({ event: 'meeting.rtms_started', url: rx.url, outcome: 'failed' });
  expect(failed.attempts).toHaveLength(3);
  for (const [i, a] of failed.attempts.entries()) {
    expect(a).toMatchObject({ attempt: i + 1, status: 503, error: 'http_503', detail: 'HTTP 503', responseSnippet: 'nope' });
  }
  expect(failed.finishedAt).toBeGreaterThanOrEqual(failed.createdAt);

  const m = (await mock.api('GET', meetingPath(created.meeting_uuid))).body;
  expect(m.webhook_deliveries).toHaveLength(1);
  expect(m.webhook_deliveries[0]).toMatchObject({ id: failed.id, outcome: 'failed' });
  expect(m.webhook_deliveries[0].attempts).toHaveLength(3);
  // A failed webhook does not take the meeting down: the stream is still waiting for its app.
  expect(m.state).toBe('live');
  expect(m.streams[0].phase).toBe('awaiting');
});

test('an unreachable endpoint is recorded as failed with "unreachable" attempts; stop webhooks are retried too', async () => {
  mock = await startMock({ webhookBackoffMs: 10, webhookMaxAttempts: 2 });
  const url = `http://127.0.0.1:${await closedPort()}/webhook`;
  const created = await mock.startMeeting(url);
  const rec = await until(async () => {
    const d = (await mock!.api('GET', meetingPath(created.meeting_uuid))).body.webhook_deliveries as any[];
    return d.find((x) => x.outcome === 'failed');
  }, 3000, 'failed delivery');
  expect(rec.attempts.map((a: any) => a.error)).toEqual(['unreachable', 'unreachable']);
  expect(rec.attempts[0].detail.length).toBeGreaterThan(0);

  // rtms_stopped goes through the same retrying delivery: 500 then 200 → two identical bodies.
  const seen = new Set<string>();
  const rx = startReceiver([(req) => {
    const event = JSON.parse(req.rawBody).event as string;
    const first = !seen.has(event);
    seen.add(event);
    return new Response(first && event === 'meeting.rtms_stopped' ? 'busy' : 'ok', { status: first && event === 'meeting.rtms_stopped' ? 500 : 200 });
  }]);
  receivers.push(rx);
  const second = await mock.startMeeting(rx.url);
  await until(() => rx.requests.length >= 1, 2000, 'rtms_started');
  await mock.api('POST', `${meetingPath(second.meeting_uuid)}/rtms/stop`, { reason: 25 });
  await until(() => rx.requests.filter((r) => r.rawBody.includes('rtms_stopped')).length >= 2, 3000, 'rtms_stopped retried');
  const stops = rx.requests.filter((r) => r.rawBody.includes('rtms_stopped'));
  expect(stops[0]!.rawBody).toBe(stops[1]!.rawBody);
  expect(JSON.parse(stops[0]!.rawBody).payload).toEqual({ meeting_uuid: second.meeting_uuid, rtms_stream_id: second.rtms_stream_id, stop_reason: 25 });
});
