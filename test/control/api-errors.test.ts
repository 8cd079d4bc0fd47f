// The control API on bad input (README "Control API"): every error is a 4xx with {"error":{"code","message"}}
// whose message says what was wrong — 400 for bodies, 404 for unknown meetings/participants/actions/routes
// (wrong methods included), 409 for transitions the state does not allow, 413 for oversized bodies — and the
// server keeps serving the meetings it has afterwards.
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'bun:test';
import { startReferenceApp, type ReferenceApp } from '../../src/client/reference-app.ts';
import { startMock, type TestMock } from '../helpers/mock.ts';
import { startReceiver, type Receiver } from '../webhooks/receiver.ts';

let mock: TestMock;
let receiver: Receiver;
/** A live meeting created before everything else; it must be unaffected by all the bad requests. */
let bystander: { meeting_uuid: string; rtms_stream_id: string };
let B = '';
let app: ReferenceApp | null = null;

beforeAll(async () => {
  mock = await startMock();
  receiver = startReceiver();
  bystander = await mock.startMeeting(receiver.url);
  B = path(bystander.meeting_uuid);
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

/** A raw request: `body` is sent as it is (strings) or as JSON. */
async function send(method: string, url: string, body?: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }) {
  const res = await fetch(`${mock.baseUrl}${url}`, {
    method,
    headers,
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, type: res.headers.get('content-type') ?? '', text, body: text ? JSON.parse(text) : undefined };
}

/** Asserts an error reply: exact status and code, and a message that matches. */
async function expectError(req: Promise<Awaited<ReturnType<typeof send>>>, status: number, code: string, message: string | RegExp) {
  const r = await req;
  expect({ status: r.status, code: r.body?.error?.code }).toEqual({ status, code });
  expect(r.type).toContain('application/json');
  expect(Object.keys(r.body)).toEqual(['error']);
  expect(Object.keys(r.body.error).sort()).toEqual(['code', 'message']);
  if (typeof message === 'string') expect(r.body.error.message).toBe(message);
  else expect(r.body.error.message).toMatch(message);
}

async function meetingCount(): Promise<number> {
  return (await send('GET', '/api/meetings')).body.meetings.length;
}

describe('400: bodies', () => {
  test('malformed JSON on every route that takes a body', async () => {
    const before = await meetingCount();
    for (const [url, body] of [
      ['/api/meetings', '{"webhook_url": '],
      [`${B}/rtms/stop`, '{reason: 1}'],
      [`${B}/chat`, "{'text': 'hi'}"],
      ['/api/webhooks/validate', 'url=http://127.0.0.1/'],
    ] as const) {
      await expectError(send('POST', url, body), 400, 'invalid_json', 'request body is not valid JSON');
    }
    expect(await meetingCount()).toBe(before);
  });

  test('a body that is JSON but not an object', async () => {
    await expectError(send('POST', '/api/meetings', 'null'), 400, 'invalid_body', 'body: Invalid input: expected object, received null');
    await expectError(send('POST', '/api/meetings', '[1]'), 400, 'invalid_body', 'body: Invalid input: expected object, received array');
    await expectError(send('POST', `${B}/rtms/stop`, '"stop"'), 400, 'invalid_body', 'body: Invalid input: expected object, received string');
  });

  test('wrong types and out-of-range values name the field', async () => {
    const before = await meetingCount();
    const cases: [string, unknown, string | RegExp][] = [
      ['/api/meetings', { webhook_url: 5 }, 'webhook_url: Invalid input: expected string, received number'],
      ['/api/meetings', { start_rtms: 'yes' }, 'start_rtms: Invalid input: expected boolean, received string'],
      ['/api/meetings', { product: 'zoomphone' }, /^product: Invalid option: expected one of "meeting"\|"webinar"\|"session"\|"contact_center"/],
      ['/api/meetings', { meeting_uuid: '' }, 'meeting_uuid: Too small: expected string to have >=1 characters'],
      ['/api/meetings', { rtms_stream_id: 'x'.repeat(201) }, 'rtms_stream_id: Too big: expected string to have <=200 characters'],
      [`${B}/rtms/stop`, { reason: '1' }, 'reason: Invalid input: expected number, received string'],
      [`${B}/rtms/stop`, { reason: 27 }, 'reason: Too big: expected number to be <=26'],
      [`${B}/rtms/stop`, { reason: -1 }, 'reason: Too small: expected number to be >=0'],
      [`${B}/rtms/stop`, { reason: 1.5 }, 'reason: Invalid input: expected int, received number'],
      [`${B}/chat`, { text: 5 }, 'text: Invalid input: expected string, received number'],
      [`${B}/chat`, { text: '' }, 'text: Too small: expected string to have >=1 characters'],
      [`${B}/chat`, { user_id: 'bob', text: 'hi' }, 'user_id: Invalid input: expected number, received string'],
      ['/api/webhooks/validate', { url: 5 }, 'url: Invalid input: expected string, received number'],
      ['/api/webhooks/validate', { url: receiver.url, timeout_ms: 0 }, 'timeout_ms: Too small: expected number to be >=1'],
    ];
    for (const [url, body, message] of cases) await expectError(send('POST', url, body), 400, 'invalid_body', message);
    expect(await meetingCount()).toBe(before);
    // The bystander's stream was not stopped by any of the bad stop requests.
    expect((await send('GET', B)).body.stream_phase).not.toBe('stopped');
  });

  test('unknown fields are rejected by name', async () => {
    await expectError(send('POST', '/api/meetings', { webhook_url: receiver.url, webhookUrl: receiver.url }), 400, 'invalid_body', 'body: Unrecognized key: "webhookUrl"');
    await expectError(send('POST', `${B}/rtms/stop`, { reason: 1, why: 'x' }), 400, 'invalid_body', 'body: Unrecognized key: "why"');
    await expectError(send('POST', `${B}/chat`, { text: 'hi', from: 1 }), 400, 'invalid_body', 'body: Unrecognized key: "from"');
    await expectError(send('POST', '/api/webhooks/validate', { url: receiver.url, retries: 2 }), 400, 'invalid_body', 'body: Unrecognized key: "retries"');
  });

  test('a required body that is missing', async () => {
    await expectError(send('POST', `${B}/chat`), 400, 'missing_body', 'a JSON body is required');
    await expectError(send('POST', '/api/webhooks/validate', '  '), 400, 'missing_body', 'a JSON body is required');
  });

  test('invalid webhook_url: 400 invalid_webhook_url saying why, and no meeting is created', async () => {
    const before = await meetingCount();
    const cases: [string, string | RegExp][] = [
      ['ftp://127.0.0.1/hook', 'webhook_url must be an http:// or https:// URL, got "ftp://127.0.0.1/hook"'],
      ['localhost:3000/hook', 'webhook_url must start with http:// or https://, got "localhost:3000/hook"; did you mean "http://localhost:3000/hook"?'],
      ['ws://127.0.0.1:8000/x', /^webhook_url must be an http:\/\/ or https:\/\/ URL, got "ws:\/\/127\.0\.0\.1:8000\/x" \(webhooks are HTTP POSTs/],
      ['http://', /^webhook_url is malformed: "http:\/\/"/],
      ['http://127.0.0.1:99999/x', /^webhook_url is not a valid URL: "http:\/\/127\.0\.0\.1:99999\/x"; check the host name, the port \(1-65535\)/],
      // An empty URL is an error, not a meeting that silently never sends a webhook.
      ['', /^webhook_url is empty: give the app's webhook endpoint/],
      ['   ', /^webhook_url is empty/],
    ];
    for (const [url, message] of cases) await expectError(send('POST', '/api/meetings', { webhook_url: url }), 400, 'invalid_webhook_url', message);
    await expectError(send('POST', '/api/webhooks/validate', { url: 'example.test/hook' }), 400, 'invalid_webhook_url', /^url must start with http:\/\/ or https:\/\//);
    expect(await meetingCount()).toBe(before);
  });
});

describe('404: unknown things, wrong methods', () => {
  test('an unknown meeting on every meeting route, named in the message', async () => {
    const msg = 'no meeting with uuid "no-such/meeting+=" (URL-encode uuids that contain / + =)';
    const P = path('no-such/meeting+=');
    await expectError(send('GET', P), 404, 'unknown_meeting', msg);
    await expectError(send('DELETE', P), 404, 'unknown_meeting', msg);
    await expectError(send('POST', `${P}/rtms/pause`), 404, 'unknown_meeting', msg);
    await expectError(send('POST', `${P}/participants/16778240/leave`), 404, 'unknown_meeting', msg);
    await expectError(send('POST', `${P}/chat`, { text: 'hi' }), 404, 'unknown_meeting', msg);
  });

  test('an unknown participant or action names it and lists what exists', async () => {
    await expectError(send('POST', `${B}/participants/42/leave`), 404, 'unknown_participant', 'no participant 42; see participants in GET /api/meetings/{uuid}');
    await expectError(send('POST', `${B}/participants/bob/leave`), 404, 'unknown_participant', /^no participant bob;/);
    await expectError(send('POST', `${B}/participants/16778240/dance`), 404, 'unknown_action', /^unknown action "dance": use join, leave, camera-on, camera-off/);
    await expectError(send('POST', `${B}/rtms/explode`), 404, 'unknown_action', 'unknown action "explode": use pause, resume, stop or start');
    // The typo is reported even with a body this action would reject.
    await expectError(send('POST', `${B}/rtms/explode`, { reason: 'x' }), 404, 'unknown_action', 'unknown action "explode": use pause, resume, stop or start');
  });

  test('unknown routes and wrong methods: 404 naming the method and path', async () => {
    const cases: [string, string][] = [
      ['GET', '/api/nothing'],
      ['GET', '/api/meetings/x/y/z/w'],
      ['POST', `${B}/rtms`],
      ['PUT', '/api/meetings'],
      ['PATCH', B],
      ['GET', `${B}/rtms/pause`],
      ['DELETE', '/api/stats'],
      ['POST', '/health'],
      ['OPTIONS', '/api/meetings'],
    ];
    for (const [method, url] of cases) {
      const r = await send(method, url);
      expect(r.status).toBe(404);
      expect(r.body).toEqual({ error: { code: 'not_found', message: `no route for ${method} ${url}; see /api/openapi.json` } });
    }
  });

  test('uuids with / + = work when URL-encoded', async () => {
    const uuid = 'vI8c7IGz/RnaP2+ZsQXd3dA==';
    const created = await send('POST', '/api/meetings', { webhook_url: receiver.url, meeting_uuid: uuid });
    expect(created.status).toBe(201);
    expect(created.body.meeting_uuid).toBe(uuid);
    const got = await send('GET', path(uuid));
    expect(got.status).toBe(200);
    expect(got.body.meeting_uuid).toBe(uuid);
    expect((await send('DELETE', path(uuid))).status).toBe(200);
  });
});

describe('409: transitions the state does not allow', () => {
  test('pause/resume/start/stop/delete in the wrong state, with a connected app', async () => {
    app = await startReferenceApp({ log: false, mediaTypes: 1 | 8 });
    const created = (await send('POST', '/api/meetings', { webhook_url: app.url })).body;
    const P = path(created.meeting_uuid);
    const id = created.rtms_stream_id;
    await app.waitFor((o) => o.kind === 'message' && o.msg.msg_type === 14, 5000);

    await expectError(send('POST', `${P}/rtms/resume`), 409, 'invalid_state', 'cannot resume: stream is active (resume needs a paused stream)');
    await expectError(send('POST', `${P}/rtms/start`), 409, 'already_started', `RTMS is already running (stream ${id}); stop it first`);
    expect((await send('POST', `${P}/rtms/pause`)).body).toEqual({ ok: true, rtms_stream_id: id, phase: 'paused' });
    await expectError(send('POST', `${P}/rtms/pause`), 409, 'invalid_state', 'cannot pause: stream is paused (pause needs a connected, active stream)');
    expect((await send('POST', `${P}/rtms/resume`)).body).toEqual({ ok: true, rtms_stream_id: id, phase: 'active' });
    expect((await send('POST', `${P}/rtms/stop`, { reason: 25 })).body).toEqual({ ok: true, rtms_stream_id: id, phase: 'stopped' });
    await expectError(send('POST', `${P}/rtms/stop`), 409, 'invalid_state', 'cannot stop: RTMS is not running; start it first');
    await expectError(send('POST', `${P}/rtms/pause`), 409, 'invalid_state', /^cannot pause: stream is not running/);
    await expectError(send('POST', `${P}/rtms/resume`), 409, 'invalid_state', /^cannot resume: stream is not running/);

    expect((await send('DELETE', P)).status).toBe(200);
    await expectError(send('DELETE', P), 409, 'meeting_ended', 'the meeting has already ended');
    for (const action of ['start', 'pause', 'resume', 'stop']) {
      await expectError(send('POST', `${P}/rtms/${action}`), 409, 'meeting_ended', 'the meeting has ended; create a new one');
    }
    await expectError(send('POST', `${P}/participants/16778240/leave`), 409, 'meeting_ended', 'the meeting has ended');
    await expectError(send('POST', `${P}/chat`, { text: 'hi' }), 409, 'meeting_ended', 'the meeting has ended');
    // An unknown action on an ended meeting is still a 404, not a 409.
    await expectError(send('POST', `${P}/rtms/explode`), 404, 'unknown_action', /^unknown action "explode"/);
  });

  test('pause before any app connected names the phase', async () => {
    const created = (await send('POST', '/api/meetings', { webhook_url: receiver.url })).body;
    const P = path(created.meeting_uuid);
    const phase = (await send('GET', P)).body.stream_phase;
    expect(phase).toBe('awaiting');
    await expectError(send('POST', `${P}/rtms/pause`), 409, 'invalid_state', 'cannot pause: stream is awaiting (pause needs a connected, active stream)');
    await expectError(send('POST', `${P}/rtms/resume`), 409, 'invalid_state', 'cannot resume: stream is awaiting (resume needs a paused stream)');
    expect((await send('DELETE', P)).status).toBe(200);
  });

  test('creating a meeting or stream that already exists', async () => {
    await expectError(send('POST', '/api/meetings', { meeting_uuid: bystander.meeting_uuid }), 409, 'meeting_exists', `meeting ${bystander.meeting_uuid} already exists and is live`);
    await expectError(send('POST', '/api/meetings', { rtms_stream_id: bystander.rtms_stream_id }), 409, 'stream_exists', `stream ${bystander.rtms_stream_id} already exists`);
  });
});

describe('413: oversized bodies', () => {
  const LIMIT = 64 * 1024;
  const TOO_LARGE = `request body is over ${LIMIT} bytes`;
  /** {"webhook_url": url} padded with spaces to exactly `bytes` bytes (still valid JSON). */
  const padded = (bytes: number) => {
    const json = JSON.stringify({ webhook_url: receiver.url });
    return json + ' '.repeat(bytes - json.length);
  };

  test('at the limit is accepted; one byte over is 413', async () => {
    const before = await meetingCount();
    const ok = await send('POST', '/api/meetings', padded(LIMIT));
    expect(ok.status).toBe(201);
    await expectError(send('POST', '/api/meetings', padded(LIMIT + 1)), 413, 'body_too_large', TOO_LARGE);
    expect(await meetingCount()).toBe(before + 1);
  });

  test('the limit counts bytes, not characters', async () => {
    // 40 000 characters, 80 000 bytes of UTF-8: a valid body that is too large.
    const body = JSON.stringify({ webhook_url: `${receiver.url}?x=${'é'.repeat(40_000)}` });
    expect(body.length).toBeLessThan(LIMIT);
    await expectError(send('POST', '/api/meetings', body), 413, 'body_too_large', TOO_LARGE);
  });

  test('a large body is refused on every route, without a Content-Length too (streamed)', async () => {
    const big = padded(4 * 1024 * 1024);
    for (const url of ['/api/meetings', `${B}/rtms/stop`, `${B}/chat`, '/api/webhooks/validate']) {
      await expectError(send('POST', url, big), 413, 'body_too_large', TOO_LARGE);
    }
    const chunk = new TextEncoder().encode(' '.repeat(16 * 1024));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 16) controller.enqueue(chunk); else controller.close();
      },
    });
    const res = await fetch(`${mock.baseUrl}/api/meetings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: stream });
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({ error: { code: 'body_too_large', message: TOO_LARGE } });
  });
});

test('after all of that the server still serves: the bystander meeting is live and new meetings start', async () => {
  const health = await send('GET', '/health');
  expect(health.status).toBe(200);
  const b = await send('GET', B);
  expect(b.status).toBe(200);
  expect(b.body.state).toBe('live');
  expect(b.body.rtms_stream_id).toBe(bystander.rtms_stream_id);
  expect(b.body.stream_phase).toBe('awaiting');
  const created = await send('POST', '/api/meetings', { webhook_url: receiver.url });
  expect(created.status).toBe(201);
  expect((await send('GET', path(created.body.meeting_uuid))).body.state).toBe('live');
  expect((await send('GET', '/api/stats')).body.scheduler.errors).toBe(0);
});
