// The fault and verdict API: validation with clear 4xx errors, listing (active / past), clearing, the fault
// shown in GET /api/meetings/{uuid} and in the inspector feed, the catalogue and the OpenAPI document.
import { afterEach, describe, expect, test } from 'bun:test';
import type { InspectorEvent } from '../../src/engine/inspector.ts';
import { startMock, type TestMock } from '../helpers/mock.ts';
import { setup, teardown, until } from './harness.ts';

let bare: TestMock | null = null;
afterEach(async () => {
  await teardown();
  await bare?.stop({ graceful: false });
  bare = null;
});

describe('POST /api/meetings/{uuid}/faults validation', () => {
  test.each([
    [{}, 'invalid_fault', /^type: /],
    [{ type: 'explode' }, 'invalid_fault', /^type: .*drop_signaling/],
    [{ type: 'drop_signaling', options: { code: 1006 } }, 'invalid_fault', /^options\.code: reserved close code/],
    [{ type: 'drop_media', options: { path: 'nowhere' } }, 'invalid_fault', /^options\.path: /],
    [{ type: 'media_jitter', options: { max_ms: 5000 } }, 'invalid_fault', /^options\.max_ms: /],
    [{ type: 'webhook_delay', options: { bogus: 1 } }, 'invalid_fault', /^options: .*bogus/],
    [{ type: 'drop_signaling', every_ms: 100, probability: 0.5 }, 'invalid_fault', /choose one schedule/],
    [{ type: 'drop_signaling', once: false }, 'invalid_fault', /needs "every_ms" or "probability"/],
    [{ type: 'host_stop', every_ms: 1000 }, 'invalid_fault', /can only happen once/],
    [{ type: 'webhook_retry', every_ms: 1000 }, 'invalid_fault', /applies per webhook/],
    [{ type: 'drop_media', duration_ms: 100 }, 'invalid_fault', /duration_ms only applies to mode faults/],
    [{ type: 'binary_frames', every_ms: 100, duration_ms: 200 }, 'invalid_fault', /shorter than every_ms/],
    [{ type: 'drop_signaling', probability: 2 }, 'invalid_fault', /^probability: /],
    [{ type: 'drop_signaling', extra: true }, 'invalid_fault', /extra/],
  ])('%j → 400 %s', async (body, code, message) => {
    const h = await setup({ waitMedia: false });
    const r = await h.inject(body);
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe(code);
    expect(r.body.error.message).toMatch(message);
  });

  test('bad JSON, no body, unknown meeting, ended meeting', async () => {
    const h = await setup({ waitMedia: false });
    expect((await h.inject('{nope')).body.error.code).toBe('invalid_json');
    const empty = await h.mock.api('POST', `${h.uuidPath}/faults`);
    expect(empty).toMatchObject({ status: 400, body: { error: { code: 'missing_body' } } });
    const unknown = await h.mock.api('POST', '/api/meetings/nope/faults', { type: 'drop_media' });
    expect(unknown).toMatchObject({ status: 404, body: { error: { code: 'unknown_meeting' } } });
    expect((await h.mock.api('GET', '/api/meetings/nope/verdict')).status).toBe(404);
    await h.mock.api('DELETE', h.uuidPath);
    const ended = await h.inject({ type: 'drop_media' });
    expect(ended).toMatchObject({ status: 409, body: { error: { code: 'meeting_ended' } } });
  });
});

describe('listing and clearing', () => {
  test('GET lists active and past; DELETE one and DELETE all; the meeting shows them; every step is in the event log and the inspector feed', async () => {
    const h = await setup({ waitMedia: false });
    const events: InspectorEvent[] = [];
    const unsubscribe = h.mock.engine.inspector.subscribe((e) => events.push(e));
    try {
      const a = (await h.inject({ type: 'media_jitter' })).body;
      const b = (await h.inject({ type: 'webhook_delay', options: { event: 'stopped' } })).body;
      const c = (await h.inject({ type: 'host_stop', delay_ms: 60_000 })).body;
      expect([a.state, b.state, c.state]).toEqual(['active', 'active', 'scheduled']);
      let list = (await h.mock.api('GET', `${h.uuidPath}/faults`)).body;
      expect(list.active.map((f: any) => f.id)).toEqual([a.id, b.id, c.id]);
      expect(list.past).toEqual([]);
      expect((await h.mock.api('GET', `${h.uuidPath}/faults/${a.id}`)).body).toMatchObject({ id: a.id, type: 'media_jitter', options: { max_ms: 100 }, on: true });
      expect((await h.mock.api('GET', `${h.uuidPath}/faults/999`)).status).toBe(404);

      const one = await h.mock.api('DELETE', `${h.uuidPath}/faults/${a.id}`);
      expect(one.body).toMatchObject({ id: a.id, state: 'cleared', on: false });
      expect((await h.mock.api('DELETE', `${h.uuidPath}/faults/${a.id}`)).status).toBe(409);
      const all = await h.mock.api('DELETE', `${h.uuidPath}/faults`);
      expect(all.body.cleared).toBe(2);
      expect(all.body.active).toEqual([]);
      list = (await h.mock.api('GET', `${h.uuidPath}/faults`)).body;
      expect(list.past.map((f: any) => [f.id, f.state])).toEqual([[a.id, 'cleared'], [b.id, 'cleared'], [c.id, 'cleared']]);

      const m = await h.meeting();
      expect(m.speed).toBe(50);
      expect(m.faults.past).toHaveLength(3);
      const notes = m.log.filter((e: any) => e.socket === 'fault').map((e: any) => e.text);
      expect(notes).toContain(`fault #${a.id} media_jitter: injected (once) {"max_ms":100}`);
      expect(notes).toContain(`fault #${c.id} host_stop: cleared`);
      // The scheduled stop never happened.
      expect(m.streams[0].stop_reason).toBeNull();
      const fed = events.filter((e) => e.type === 'log' && e.entry.socket === 'fault');
      expect(fed.length).toBe(notes.length);
    } finally {
      unsubscribe();
    }
  });

  test('a mode fault with every_ms: on for duration_ms each period, count times, then done', async () => {
    const h = await setup();
    const t0 = Date.now();
    const f = (await h.inject({ type: 'extra_fields', every_ms: 200, duration_ms: 80, count: 2 })).body;
    expect(f).toMatchObject({ state: 'active', on: false, schedule: { mode: 'every', every_ms: 200, duration_ms: 80, count: 2 } });
    await until(async () => (await h.mock.api('GET', `${h.uuidPath}/faults/${f.id}`)).body.state === 'done', 2000, 'done');
    const done = (await h.mock.api('GET', `${h.uuidPath}/faults/${f.id}`)).body;
    expect(done.activations).toBe(2);
    expect(done.history.map((x: any) => x.detail).slice(1)).toEqual(['on', 'off after 80 ms', 'on', 'off after 80 ms', 'done']);
    // Audio with the extra field only inside the two windows.
    const marked = h.media().filter((m) => m.at > t0 && m.msg.x_rtms_mock_unknown !== undefined);
    const plain = h.media().filter((m) => m.at > t0 && m.msg.x_rtms_mock_unknown === undefined);
    expect(marked.length).toBeGreaterThan(3);
    expect(plain.length).toBeGreaterThan(3);
  });

  test('a held webhook is released when its fault is cleared', async () => {
    const h = await setup({ waitMedia: false, meeting: { start_rtms: false } });
    await h.inject({ type: 'webhook_reorder' });
    await h.mock.api('POST', `${h.uuidPath}/rtms/start`);
    await Bun.sleep(50);
    expect(h.app.webhooks).toHaveLength(0);
    await h.mock.api('DELETE', `${h.uuidPath}/faults`);
    await until(() => h.app.webhooks.length === 1, 2000, 'released webhook');
  });
});

describe('catalogue and OpenAPI', () => {
  test('GET /api/faults lists every type with its class and defaults; openapi.json documents the routes', async () => {
    bare = await startMock();
    const cat = (await bare.api('GET', '/api/faults')).body.types;
    expect(cat.map((t: any) => t.type)).toEqual(['drop_signaling', 'drop_media', 'duplicate_started', 'keepalive_stop', 'keepalive_ignore',
      'webhook_delay', 'webhook_retry', 'webhook_duplicate', 'webhook_reorder', 'binary_frames', 'extra_fields', 'media_jitter', 'media_burst',
      'host_stop', 'meeting_end', 'auth_failure']);
    expect(cat.find((t: any) => t.type === 'host_stop')).toMatchObject({ class: 'terminal', defaults: { reason: 1 } });
    expect(cat.find((t: any) => t.type === 'webhook_reorder')).toMatchObject({ class: 'webhook', defaults: { event: 'any', hold_ms: 5000 } });
    const doc = (await bare.api('GET', '/api/openapi.json')).body;
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/faults', '/api/meetings/{meeting_uuid}/faults', '/api/meetings/{meeting_uuid}/faults/{id}', '/api/meetings/{meeting_uuid}/verdict']));
    expect(doc.paths['/api/meetings/{meeting_uuid}/faults'].post.requestBody.content['application/json'].schema.properties.type.enum).toContain('duplicate_started');
    expect(doc.paths['/api/meetings'].post.requestBody.content['application/json'].schema.properties.speed).toMatchObject({ type: 'number', minimum: 0.01, maximum: 1000 });
  });

  test('a verdict before anything happened: no stream yet, every check passes', async () => {
    bare = await startMock();
    const created = await bare.startMeeting(null, { start_rtms: false });
    const v = (await bare.api('GET', `/api/meetings/${encodeURIComponent(created.meeting_uuid)}/verdict`)).body;
    expect(v).toMatchObject({ meeting_uuid: created.meeting_uuid, passed: true, streams: [] });
    expect(v.checks.find((c: any) => c.name === 'keep_alive_answered').detail).toBe('no RTMS stream yet');
    expect(v.checks.find((c: any) => c.name === 'webhooks_answered').detail).toBe('no webhook sent yet');
  });
});
