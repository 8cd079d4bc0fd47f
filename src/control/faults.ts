// Control API for faults and verdicts (registered by api.ts): inject, list and clear faults of a meeting, and
// read the verdict on how the app behaved. Thin: the logic is src/engine/fault-injector.ts and verdict.ts.
import type { Context, Hono } from 'hono';
import type { RtmsEngine } from '../engine/rtms-engine.ts';
import type { Meeting } from '../engine/meeting.ts';
import { FAULT_CLASS, FAULT_OPTIONS, FAULT_TYPES, FaultBody, FaultSpecError } from '../engine/fault-spec.ts';
import { FaultStateError } from '../engine/fault-injector.ts';
import { meetingVerdict, type DeliveryLike } from '../engine/verdict.ts';
import { z } from 'zod';

export interface FaultRouteDeps {
  engine: RtmsEngine;
  /** The webhook delivery log of a meeting (WebhookDispatcher.logFor). */
  deliveries(meetingUuid: string): readonly DeliveryLike[];
}

const MAX_BODY = 64 * 1024;

type ErrorStatus = 400 | 404 | 409 | 413;
const fail = (c: Context, status: ErrorStatus, code: string, message: string) => c.json({ error: { code, message } }, status);

function findMeeting(engine: RtmsEngine, raw: string): Meeting | undefined {
  let decoded = raw;
  try { decoded = decodeURIComponent(raw); } catch { /* keep raw */ }
  return engine.meetings.get(raw) ?? engine.meetings.get(decoded);
}

/** The fault catalogue: types, classes and option defaults (for the page and scenario authors). */
export function faultCatalogue() {
  return FAULT_TYPES.map((type) => ({
    type,
    class: FAULT_CLASS[type],
    options: z.toJSONSchema(FAULT_OPTIONS[type], { io: 'input', unrepresentable: 'any' }),
    defaults: FAULT_OPTIONS[type].parse({}),
  }));
}

export function registerFaultRoutes(app: Hono, deps: FaultRouteDeps): void {
  const { engine } = deps;
  const withMeeting = (c: Context, fn: (m: Meeting) => Response | Promise<Response>) => {
    const raw = c.req.param('uuid') ?? '';
    const m = findMeeting(engine, raw);
    if (!m) return fail(c, 404, 'unknown_meeting', `no meeting with uuid ${JSON.stringify(raw)} (URL-encode uuids that contain / + =)`);
    return fn(m);
  };

  app.get('/api/faults', (c) => c.json({ types: faultCatalogue() }));

  app.post('/api/meetings/:uuid/faults', (c) => withMeeting(c, async (m) => {
    const text = await c.req.text();
    if (text.length > MAX_BODY) return fail(c, 413, 'body_too_large', `request body is over ${MAX_BODY} bytes`);
    if (text.trim() === '') return fail(c, 400, 'missing_body', `a JSON body is required: {"type": one of ${FAULT_TYPES.join(', ')}}`);
    let body: unknown;
    try { body = JSON.parse(text); } catch { return fail(c, 400, 'invalid_json', 'request body is not valid JSON'); }
    try {
      return c.json(engine.faults.inject(m, body), 201);
    } catch (err) {
      if (err instanceof FaultSpecError) return fail(c, 400, 'invalid_fault', err.message);
      if (err instanceof FaultStateError) return fail(c, 409, 'meeting_ended', err.message);
      throw err;
    }
  }));

  app.get('/api/meetings/:uuid/faults', (c) => withMeeting(c, (m) => c.json(engine.faults.list(m))));

  app.get('/api/meetings/:uuid/faults/:id', (c) => withMeeting(c, (m) => {
    const id = Number(c.req.param('id'));
    const f = Number.isInteger(id) ? engine.faults.get(m, id) : null;
    return f ? c.json(f) : fail(c, 404, 'unknown_fault', `no fault ${c.req.param('id')} in this meeting; see GET /api/meetings/{uuid}/faults`);
  }));

  app.delete('/api/meetings/:uuid/faults', (c) => withMeeting(c, (m) => c.json({ cleared: engine.faults.clear(m), ...engine.faults.list(m) })));

  app.delete('/api/meetings/:uuid/faults/:id', (c) => withMeeting(c, (m) => {
    const id = Number(c.req.param('id'));
    const f = Number.isInteger(id) ? engine.faults.get(m, id) : null;
    if (!f) return fail(c, 404, 'unknown_fault', `no fault ${c.req.param('id')} in this meeting`);
    if (f.state === 'done' || f.state === 'cleared') return fail(c, 409, 'fault_over', `fault ${id} is already ${f.state}`);
    engine.faults.clear(m, id);
    return c.json(engine.faults.get(m, id));
  }));

  app.get('/api/meetings/:uuid/verdict', (c) => withMeeting(c, (m) => c.json(meetingVerdict(engine, m, deps.deliveries(m.uuid)))));
}

/** OpenAPI paths of these routes (merged into /api/openapi.json by openapi.ts). */
export function faultOpenApiPaths(jsonContent: (s: z.ZodType) => unknown, error: (d: string) => unknown) {
  const uuidParam = { name: 'meeting_uuid', in: 'path', required: true, description: 'URL-encoded (uuids may contain / + =)', schema: { type: 'string' } };
  const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'integer' } };
  return {
    '/api/faults': { get: { summary: 'The fault catalogue: types, classes, options and defaults', responses: { 200: { description: 'Fault types' } } } },
    '/api/meetings/{meeting_uuid}/faults': {
      parameters: [uuidParam],
      post: {
        summary: 'Inject a fault (once by default, every_ms, or probability per opportunity)',
        requestBody: { required: true, content: jsonContent(FaultBody) },
        responses: { 201: { description: 'The fault' }, 400: error('Invalid fault'), 404: error('Unknown meeting'), 409: error('Meeting ended') },
      },
      get: { summary: 'Active and past faults of the meeting', responses: { 200: { description: '{active, past}' }, 404: error('Unknown meeting') } },
      delete: { summary: 'Clear every active fault (held webhooks are released)', responses: { 200: { description: '{cleared, active, past}' }, 404: error('Unknown meeting') } },
    },
    '/api/meetings/{meeting_uuid}/faults/{id}': {
      parameters: [uuidParam, idParam],
      get: { summary: 'One fault', responses: { 200: { description: 'The fault' }, 404: error('Unknown meeting or fault') } },
      delete: { summary: 'Clear one fault', responses: { 200: { description: 'The cleared fault' }, 404: error('Unknown meeting or fault'), 409: error('Already over') } },
    },
    '/api/meetings/{meeting_uuid}/verdict': {
      parameters: [uuidParam],
      get: { summary: 'How the app behaved: {passed, checks:[{name, passed, detail}], streams:[…]}', responses: { 200: { description: 'Verdict' }, 404: error('Unknown meeting') } },
    },
  };
}
