// The control API on good input (README "Control API"): /health, /api, creating meetings of every product,
// listing and details (streams, connections with negotiated parameters and counters, webhook deliveries, log),
// process stats, driving and ending streams; and /api/openapi.json: a valid OpenAPI 3.1 document that lists
// exactly the routes the app registers.
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'bun:test';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pkg from '../../package.json' with { type: 'json' };
import { startReferenceApp, type ReferenceApp } from '../../src/client/reference-app.ts';
import { createApi } from '../../src/control/api.ts';
import { CreatedMeeting } from '../../src/control/schemas.ts';
import { startMock, type TestMock } from '../helpers/mock.ts';
import { hmacHexWebCrypto, startReceiver, type Receiver } from '../webhooks/receiver.ts';

const SECRET_TOKEN = 'DyBoLm8OZoJT2Pi3-kY2px';
const PARTICIPANTS = [
  { user_id: 16778240, user_name: 'Alice Chen' },
  { user_id: 16779264, user_name: 'Bob Okafor' },
  { user_id: 16780288, user_name: 'Carol Diaz' },
];
const SUMMARY_KEYS = ['meeting_uuid', 'product', 'id_key', 'state', 'created_at', 'webhook_url', 'rtms_stream_id', 'stream_phase',
  'participants', 'active_speaker', 'sharing', 'streams'];
const DETAIL_ONLY_KEYS = ['server_urls', 'media_server_urls', 'webhook_deliveries', 'log'];

let mock: TestMock;
let receiver: Receiver;
let app: ReferenceApp | null = null;

beforeAll(async () => {
  mock = await startMock();
  receiver = startReceiver();
});
afterEach(async () => {
  await app?.stop();
  app = null;
});
afterAll(async () => {
  await mock.stop({ graceful: false });
  await receiver.close();
});

const path = (uuid: string) => `/api/meetings/${encodeURIComponent(uuid)}`;
const mediaUrls = () => Object.fromEntries(['all', 'audio', 'video', 'deskshare', 'transcript', 'chat'].map((p) => [p, `ws://127.0.0.1:${mock.mediaPort}/${p}`]));

async function until(cond: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(5);
  }
}

/**
 * expect() on a copy: Bun 1.4's toMatchObject writes the asymmetric matchers (expect.any…) into the object it
 * checks, which would break any later use of that object.
 */
const like = (v: unknown) => expect(structuredClone(v));

/** The webhooks the receiver got for one stream, parsed. */
const webhooksFor = (streamId: string) => receiver.requests.map((r) => ({ ...r, json: JSON.parse(r.rawBody) })).filter((r) => r.json.payload.rtms_stream_id === streamId);

async function stats() {
  const r = await mock.api('GET', '/api/stats');
  expect(r.status).toBe(200);
  return r.body;
}

/** A meeting with the reference app connected (audio + transcript) and audio flowing. */
async function connectedMeeting() {
  app = await startReferenceApp({ log: false, mediaTypes: 1 | 8 });
  const created = await mock.startMeeting(app.url);
  await app.waitFor((o) => o.kind === 'message' && o.msg.msg_type === 14, 5000);
  return created;
}

describe('service endpoints', () => {
  test('GET /health: status, version, uptime', async () => {
    const a = await mock.api('GET', '/health');
    expect(a.status).toBe(200);
    expect(Object.keys(a.body).sort()).toEqual(['status', 'uptime_ms', 'version']);
    expect(a.body.status).toBe('ok');
    expect(a.body.version).toBe(pkg.version);
    expect(Number.isInteger(a.body.uptime_ms)).toBe(true);
    await Bun.sleep(30);
    const b = await mock.api('GET', '/health');
    expect(b.body.uptime_ms - a.body.uptime_ms).toBeGreaterThanOrEqual(25);
  });

  test('GET /api: name, version and the OpenAPI address', async () => {
    const r = await mock.api('GET', '/api');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ name: 'rtms-mock', version: pkg.version, openapi: '/api/openapi.json' });
  });
});

describe('meetings', () => {
  test('POST /api/meetings: 201 with ids, URLs and the normalised webhook URL; rtms_started matches it', async () => {
    const base = receiver.url.replace('http://', 'HTTP://').replace('/webhook', '');
    const r = await mock.api('POST', '/api/meetings', { webhook_url: base });
    expect(r.status).toBe(201);
    expect(CreatedMeeting.safeParse(r.body).success).toBe(true);
    like(r.body).toMatchObject({
      meeting_uuid: expect.stringMatching(/^[A-Za-z0-9+/]{22}$/),
      rtms_stream_id: expect.stringMatching(/^[0-9a-f]{32}$/),
      server_urls: `ws://127.0.0.1:${mock.port}/signaling`,
      media_server_urls: mediaUrls(),
      product: 'meeting',
      webhook_url: `${receiver.url.replace('/webhook', '')}/`,
    });
    await until(() => webhooksFor(r.body.rtms_stream_id).length === 1, 'rtms_started');
    const hook = webhooksFor(r.body.rtms_stream_id)[0]!;
    expect(hook.path).toBe('/');
    expect(hook.json.event).toBe('meeting.rtms_started');
    expect(hook.json.payload).toEqual({
      meeting_uuid: r.body.meeting_uuid, operator_id: expect.any(String), rtms_stream_id: r.body.rtms_stream_id, server_urls: r.body.server_urls,
    });
    const ts = hook.headers['x-zm-request-timestamp']!;
    expect(hook.headers['x-zm-signature']).toBe(`v0=${await hmacHexWebCrypto(SECRET_TOKEN, `v0:${ts}:${hook.rawBody}`)}`);
  });

  test('every product gets its id key and webhook event (spec §9)', async () => {
    const cases = [
      { product: 'webinar', key: 'webinar_uuid', event: 'webinar.rtms_started' },
      { product: 'session', key: 'session_id', event: 'session.rtms_started' },
      { product: 'contact_center', key: 'engagement_id', event: 'contact_center.voice_rtms_started' },
    ];
    for (const c of cases) {
      const r = await mock.api('POST', '/api/meetings', { webhook_url: receiver.url, product: c.product });
      expect(r.status).toBe(201);
      expect(r.body.product).toBe(c.product);
      expect(r.body[c.key]).toBe(r.body.meeting_uuid);
      if (c.product === 'session') expect(r.body.session_key).toEqual(expect.any(String));
      else expect(r.body.session_key).toBeUndefined();
      await until(() => webhooksFor(r.body.rtms_stream_id).length === 1, c.event);
      const hook = webhooksFor(r.body.rtms_stream_id)[0]!.json;
      expect(hook.event).toBe(c.event);
      expect(hook.payload[c.key]).toBe(r.body.meeting_uuid);
      const details = (await mock.api('GET', path(r.body.meeting_uuid))).body;
      expect(details).toMatchObject({ product: c.product, id_key: c.key });
    }
  });

  test('start_rtms false: no stream and no webhook until rtms/start', async () => {
    const before = receiver.requests.length;
    const r = await mock.api('POST', '/api/meetings', { webhook_url: receiver.url, start_rtms: false });
    expect(r.status).toBe(201);
    expect(r.body.rtms_stream_id).toBeNull();
    const d = (await mock.api('GET', path(r.body.meeting_uuid))).body;
    expect(d).toMatchObject({ state: 'live', rtms_stream_id: null, stream_phase: null, streams: [], webhook_deliveries: [] });
    await Bun.sleep(30);
    expect(receiver.requests.length).toBe(before);
    const s = await mock.api('POST', `${path(r.body.meeting_uuid)}/rtms/start`);
    expect(s.status).toBe(200);
    expect(s.body).toEqual({ ok: true, rtms_stream_id: expect.stringMatching(/^[0-9a-f]{32}$/), server_urls: `ws://127.0.0.1:${mock.port}/signaling` });
    await until(() => webhooksFor(s.body.rtms_stream_id).length === 1, 'rtms_started after start');
  });

  test('list gives summaries, details add URLs, deliveries and the log', async () => {
    const created = await mock.startMeeting(receiver.url, { meeting_uuid: 'list+detail/uuid==' });
    await until(() => webhooksFor(created.rtms_stream_id).length === 1, 'rtms_started');
    const list = await mock.api('GET', '/api/meetings');
    expect(list.status).toBe(200);
    expect(Object.keys(list.body)).toEqual(['meetings']);
    const summary = list.body.meetings.find((m: any) => m.meeting_uuid === 'list+detail/uuid==');
    for (const k of SUMMARY_KEYS) expect(summary).toHaveProperty(k);
    for (const k of DETAIL_ONLY_KEYS) expect(summary).not.toHaveProperty(k);
    expect(summary).toMatchObject({
      product: 'meeting', id_key: 'meeting_uuid', state: 'live', webhook_url: receiver.url,
      rtms_stream_id: created.rtms_stream_id, stream_phase: 'awaiting', sharing: null,
    });
    expect(Math.abs(summary.created_at - Date.now())).toBeLessThan(10_000);
    expect(summary.participants).toEqual(PARTICIPANTS.map((p) => ({ ...p, present: true, camera_on: true })));
    expect(summary.streams).toHaveLength(1);
    expect(summary.streams[0]).toMatchObject({ rtms_stream_id: created.rtms_stream_id, phase: 'awaiting', stop_reason: null, signaling: null, media: [] });

    const details = await mock.api('GET', path('list+detail/uuid=='));
    expect(details.status).toBe(200);
    for (const k of SUMMARY_KEYS) expect(details.body[k]).toEqual(summary[k]);
    expect(details.body.server_urls).toBe(`ws://127.0.0.1:${mock.port}/signaling`);
    expect(details.body.media_server_urls).toEqual(mediaUrls());
    expect(details.body.webhook_deliveries).toHaveLength(1);
    const delivery = details.body.webhook_deliveries[0];
    expect(delivery).toMatchObject({ url: receiver.url, event: 'meeting.rtms_started', outcome: 'delivered', meetingKey: 'list+detail/uuid==' });
    expect(delivery.attempts).toHaveLength(1);
    expect(delivery.attempts[0]).toMatchObject({ attempt: 1, status: 200 });
    // The logged signature is the one computed over the logged body.
    const a = delivery.attempts[0];
    expect(a.signatureHeader).toBe(`v0=${await hmacHexWebCrypto(SECRET_TOKEN, `v0:${a.timestampHeader}:${delivery.body}`)}`);
    expect(details.body.log.length).toBeGreaterThan(0);
    for (const e of details.body.log) like(e).toMatchObject({ at: expect.any(Number), dir: expect.any(String), text: expect.any(String) });

    const all = await mock.api('GET', '/api/webhooks/deliveries');
    expect(all.status).toBe(200);
    expect(all.body.deliveries.some((d: any) => d.id === delivery.id && d.meetingKey === 'list+detail/uuid==')).toBe(true);
  });

  test('a connected stream: phase, states, connections with negotiated parameters and counters; stats follow', async () => {
    const s0 = await stats();
    const created = await connectedMeeting();
    const s1 = await stats();
    expect(s1.meetings - s0.meetings).toBe(1);
    expect(s1.meetings_live - s0.meetings_live).toBe(1);
    expect(s1.meetingsCreated - s0.meetingsCreated).toBe(1);
    expect(s1.streams_live - s0.streams_live).toBe(1);
    expect(s1.connections - s0.connections).toBe(2);
    expect(s1.signalingOpened - s0.signalingOpened).toBe(1);
    expect(s1.mediaOpened - s0.mediaOpened).toBe(1);
    expect(s1.webhooks_pending).toEqual(expect.any(Number));
    expect(s1.media_dropped).toBe(0);
    like(s1.scheduler).toMatchObject({ runs: expect.any(Number), max_lateness_ms: expect.any(Number), errors: 0 });
    expect(s1.scheduler.runs).toBeGreaterThan(s0.scheduler.runs);

    const d = (await mock.api('GET', path(created.meeting_uuid))).body;
    expect(d.stream_phase).toBe('active');
    const stream = d.streams[0];
    expect(stream).toMatchObject({
      rtms_stream_id: created.rtms_stream_id, phase: 'active', stream_state: 1, stream_state_name: 'ACTIVE',
      session_state: 2, session_state_name: 'STARTED', ready_acked: true, stop_reason: null, stopped_at: null,
    });
    expect(stream.signaling).toMatchObject({ kind: 'signaling', dialect: 'production', remote_address: '127.0.0.1', closed: false });
    expect(stream.signaling.counters.inByType).toMatchObject({ 1: 1, 7: 1 });
    expect(stream.signaling.counters.outByType).toMatchObject({ 2: 1 });
    expect(stream.media).toHaveLength(1);
    const media = stream.media[0];
    expect(media).toMatchObject({ kind: 'media', path: 'all', media_type: 9, closed: false });
    expect(media.media_params).toEqual({
      audio: { content_type: 2, sample_rate: 1, channel: 1, codec: 1, data_opt: 1, send_rate: 20 },
      transcript: expect.objectContaining({ content_type: 5 }),
    });
    expect(media.sent.audio).toBeGreaterThan(0);
    expect(media.counters.outByType['14']).toBe(media.sent.audio);

    expect((await mock.api('DELETE', path(created.meeting_uuid))).status).toBe(200);
    const s2 = await stats();
    expect(s1.meetings_live - s2.meetings_live).toBe(1);
    expect(s1.streams_live - s2.streams_live).toBe(1);
  });

  test('stop (default reason 1, or the one given) and DELETE (6) report the reason in the API and in rtms_stopped', async () => {
    const created = await mock.startMeeting(receiver.url);
    const P = path(created.meeting_uuid);
    const stopped = await mock.api('POST', `${P}/rtms/stop`);
    expect(stopped.body).toEqual({ ok: true, rtms_stream_id: created.rtms_stream_id, phase: 'stopped' });
    const again = await mock.api('POST', `${P}/rtms/start`);
    expect(again.status).toBe(200);
    expect(again.body.rtms_stream_id).not.toBe(created.rtms_stream_id);
    expect((await mock.api('POST', `${P}/rtms/stop`, { reason: 25 })).status).toBe(200);
    const third = (await mock.api('POST', `${P}/rtms/start`)).body.rtms_stream_id;
    const ended = await mock.api('DELETE', P);
    expect(ended.status).toBe(200);
    expect(ended.body.state).toBe('ended');
    expect(ended.body.streams.map((s: any) => [s.rtms_stream_id, s.phase, s.stop_reason])).toEqual([
      [created.rtms_stream_id, 'stopped', 1],
      [again.body.rtms_stream_id, 'stopped', 25],
      [third, 'stopped', 6],
    ]);
    expect(ended.body.streams[2]).toMatchObject({ stream_state: 4, stream_state_name: 'TERMINATED', session_state: 5, session_state_name: 'STOPPED' });
    for (const [id, reason] of [[created.rtms_stream_id, 1], [again.body.rtms_stream_id, 25], [third, 6]] as const) {
      await until(() => webhooksFor(id).some((w) => w.json.event === 'meeting.rtms_stopped'), `rtms_stopped of ${id}`);
      const hook = webhooksFor(id).find((w) => w.json.event === 'meeting.rtms_stopped')!;
      expect(hook.json.payload).toEqual({ meeting_uuid: created.meeting_uuid, rtms_stream_id: id, stop_reason: reason });
    }
    // An ended meeting is still listed, as ended.
    const listed = (await mock.api('GET', '/api/meetings')).body.meetings.find((m: any) => m.meeting_uuid === created.meeting_uuid);
    expect(listed.state).toBe('ended');
  });
});

describe('/api/openapi.json', () => {
  const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

  async function doc() {
    const r = await fetch(`${mock.baseUrl}/api/openapi.json`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toContain('application/json');
    return (await r.json()) as any;
  }

  /** "/api/meetings/:uuid/rtms/:action" and "/api/meetings/{meeting_uuid}/rtms/{action}" → "/api/meetings/{}/rtms/{}". */
  const shape = (p: string) => p.replace(/:[A-Za-z_]+/g, '{}').replace(/\{[A-Za-z_]+\}/g, '{}');

  test('is OpenAPI 3.1 with the version, and its operations are well formed', async () => {
    const d = await doc();
    expect(d.openapi).toMatch(/^3\.1\.\d+$/);
    like(d.info).toMatchObject({ title: expect.any(String), version: pkg.version });
    expect(Object.keys(d.paths).length).toBeGreaterThan(0);
    for (const [p, item] of Object.entries<any>(d.paths)) {
      expect(p.startsWith('/')).toBe(true);
      const templated = [...p.matchAll(/\{([A-Za-z_]+)\}/g)].map((m) => m[1]);
      const ops = Object.keys(item).filter((k) => METHODS.includes(k));
      expect(ops.length).toBeGreaterThan(0);
      for (const k of Object.keys(item)) expect([...METHODS, 'parameters', 'summary', 'description']).toContain(k);
      for (const method of ops) {
        const op = item[method];
        const params = [...(item.parameters ?? []), ...(op.parameters ?? [])];
        for (const prm of params) {
          expect(['path', 'query', 'header', 'cookie']).toContain(prm.in);
          expect(prm.schema ?? prm.content).toBeDefined();
          if (prm.in === 'path') {
            expect(prm.required).toBe(true);
            expect(templated).toContain(prm.name);
          }
        }
        // Every templated segment is declared (OpenAPI: path parameters must be).
        expect(params.filter((x) => x.in === 'path').map((x) => x.name).sort()).toEqual([...templated].sort());
        expect(Object.keys(op.responses).length).toBeGreaterThan(0);
        // A success: 2xx, or 101 for a WebSocket endpoint.
        expect(Object.keys(op.responses).some((code) => /^(2\d\d|101)$/.test(code))).toBe(true);
        for (const [code, res] of Object.entries<any>(op.responses)) {
          expect(code).toMatch(/^([1-5]\d\d|[1-5]XX|default)$/);
          expect(typeof res.description).toBe('string');
          if (/^4/.test(code)) expect(res.content['application/json'].schema.properties.error.required).toEqual(['code', 'message']);
        }
        if (op.requestBody) expect(op.requestBody.content['application/json'].schema).toBeDefined();
      }
    }
    // The bodies the API validates are described by their schemas.
    const create = d.paths['/api/meetings'].post.requestBody.content['application/json'].schema;
    expect(create.additionalProperties).toBe(false);
    expect(Object.keys(create.properties)).toEqual(expect.arrayContaining(['webhook_url', 'product', 'meeting_uuid', 'rtms_stream_id', 'start_rtms']));
    expect(create.properties.product.enum).toEqual(['meeting', 'webinar', 'session', 'contact_center']);
    // The access rules (README "Security and limits") are documented on every HTTP operation but /health.
    expect(Object.keys(d.components.securitySchemes).sort()).toEqual(['bearer', 'cookie', 'token']);
    for (const [p, item] of Object.entries<any>(d.paths)) {
      for (const m of Object.keys(item).filter((k) => METHODS.includes(k))) {
        const codes = Object.keys(item[m].responses);
        if (p === '/health' || codes.join() === '101') { expect(codes).not.toContain('401'); continue; }
        expect(codes).toEqual(expect.arrayContaining(['401', '403']));
        if (item[m].requestBody) expect(codes).toContain('413');
      }
    }
    expect(Object.keys(d.paths['/api/meetings'].post.responses)).toContain('429');
  });

  test('lists exactly the routes the app registers (method and path)', async () => {
    const d = await doc();
    const documented = new Set<string>();
    for (const [p, item] of Object.entries<any>(d.paths)) {
      for (const m of Object.keys(item).filter((k) => METHODS.includes(k))) {
        // WebSocket endpoints (only a 101 response) are served by the transport, not by Hono routes.
        if (Object.keys(item[m].responses).join() === '101') continue;
        documented.add(`${m.toUpperCase()} ${shape(p)}`);
      }
    }
    const hono = createApi({ engine: mock.engine, webhooks: mock.webhooks, version: pkg.version, defaultWebhookUrl: null, startedAt: Date.now() });
    const registered = new Set<string>();
    for (const r of hono.routes) {
      if (r.method === 'ALL') continue; // middleware (body limit), not a route
      if (r.method === 'GET' && r.path === '/*') continue; // the web page's files, not part of the API
      registered.add(`${r.method} ${shape(r.path)}`);
    }
    expect(registered.size).toBeGreaterThan(10);
    expect([...registered].filter((r) => !documented.has(r)).sort()).toEqual([]);
    expect([...documented].filter((r) => !registered.has(r)).sort()).toEqual([]);
  });

  test('the documented action enums are the actions the API accepts', async () => {
    const d = await doc();
    const created = await mock.startMeeting(receiver.url);
    const P = path(created.meeting_uuid);
    const enumOf = (p: string) => d.paths[p].parameters.find((x: any) => x.name === 'action').schema.enum as string[];
    const accepted = (msg: string) => msg.replace(/^.*: use /, '').split(/, | or /);
    const rtms = await mock.api('POST', `${P}/rtms/nope`);
    expect(enumOf('/api/meetings/{meeting_uuid}/rtms/{action}').sort()).toEqual(accepted(rtms.body.error.message).sort());
    const part = await mock.api('POST', `${P}/participants/16778240/nope`);
    expect(enumOf('/api/meetings/{meeting_uuid}/participants/{user_id}/{action}').sort()).toEqual(accepted(part.body.error.message).sort());
  });

  // A second opinion from a full validator when the machine has one (python3 with openapi-spec-validator).
  const haveValidator = spawnSync('python3', ['-c', 'import openapi_spec_validator'], { stdio: 'ignore' }).status === 0;
  test.skipIf(!haveValidator)('passes openapi-spec-validator', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rtms-openapi-'));
    try {
      const file = join(dir, 'openapi.json');
      writeFileSync(file, JSON.stringify(await doc()));
      const r = spawnSync('python3', ['-c', 'import sys, json; from openapi_spec_validator import validate; validate(json.load(open(sys.argv[1]))); print("valid")', file], { encoding: 'utf8' });
      expect(r.stderr).toBe('');
      expect(r.stdout.trim()).toBe('valid');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
