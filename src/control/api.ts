// The HTTP side of port 9092: /health, the control API under /api (every body validated with zod, clear 4xx
// errors), the OpenAPI document, and the web page.
import { Hono, type Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import { bodyLimit } from 'hono/body-limit';
import type { InspectorEvent } from '../engine/inspector.ts';
import type { z } from 'zod';
import { StopReason } from '../protocol/enums.ts';
import { MeetingLimitError, type RtmsEngine } from '../engine/rtms-engine.ts';
import { accessControl } from './access.ts';
import type { Meeting } from '../engine/meeting.ts';
import type { Product } from '../engine/products.ts';
import { PRODUCT_INFO } from '../engine/products.ts';
import type { WebhookDispatcher } from '../webhooks/delivery.ts';
import { checkWebhookUrl } from '../webhooks/webhook-url.ts';
import { validateEndpoint } from '../webhooks/url-validation.ts';
import { AddStreamBody, ChatBody, CreateMeetingBody, RtmsActionBody, ValidateWebhookBody } from './schemas.ts';
import { openApiDocument } from './openapi.ts';
import { registerFaultRoutes } from './faults.ts';
import { planFromRequest, registerScenarioRoutes } from '../scenario/routes.ts';
import { scenarioOf, startScenario } from '../scenario/runner.ts';
import { ScenarioError } from '../scenario/parse.ts';
import { PLACEHOLDER_PAGE } from './placeholder-page.ts';
import type { StaticAssets } from './static-assets.ts';

export interface ApiDeps {
  engine: RtmsEngine;
  webhooks: WebhookDispatcher;
  version: string;
  defaultWebhookUrl: string | null;
  startedAt: number;
  /** The web page (web/dist, or embedded in an executable); null or a missing page → the placeholder. */
  assets?: StaticAssets | null;
}

class HttpError extends Error {
  constructor(readonly status: 400 | 404 | 409 | 413 | 415, readonly code: string, message: string) {
    super(message);
  }
}

const MAX_BODY = 64 * 1024;

async function readJson<T extends z.ZodType>(c: Context, schema: T, required: boolean): Promise<z.infer<T>> {
  const text = await c.req.text();
  if (text.length > MAX_BODY) throw new HttpError(413, 'body_too_large', `request body is over ${MAX_BODY} bytes`);
  let value: unknown = {};
  if (text.trim().length > 0) {
    try {
      value = JSON.parse(text);
    } catch {
      throw new HttpError(400, 'invalid_json', 'request body is not valid JSON');
    }
  } else if (required) {
    throw new HttpError(400, 'missing_body', 'a JSON body is required');
  }
  const r = schema.safeParse(value);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const where = issue.path.length ? issue.path.join('.') : 'body';
    throw new HttpError(400, 'invalid_body', `${where}: ${issue.message}`);
  }
  return r.data;
}

export function describeMeeting(engine: RtmsEngine, m: Meeting, webhooks: WebhookDispatcher, full: boolean) {
  const current = m.streams[m.streams.length - 1] ?? null;
  const base = {
    meeting_uuid: m.uuid,
    product: m.product,
    id_key: PRODUCT_INFO[m.product].idKey,
    state: m.ended ? 'ended' : 'live',
    created_at: m.createdAt,
    webhook_url: m.webhookUrl,
    rtms_stream_id: current?.id ?? null,
    stream_phase: current?.phase ?? null,
    source: m.source,
    // Live meetings: each participant's /ingest socket (counters, latency), null once it left (docs/ingest.md).
    participants: [...m.participants.values()].map((p) => ({ user_id: p.userId, user_name: p.userName, present: p.present, camera_on: p.cameraOn,
      ...(m.source !== 'synthetic' ? { ingest: engine.ingest.describeParticipant(m, p.userId) } : {}) })),
    active_speaker: m.activeSpeaker ? { user_id: m.activeSpeaker.userId, user_name: m.activeSpeaker.userName } : null,
    sharing: m.sharer ? { user_id: m.sharer.userId, user_name: m.sharer.userName } : null,
    streams: m.streams.map((s) => s.describe()),
    speed: m.speed,
    // Injected faults (src/engine/fault-injector.ts); the verdict is GET /api/meetings/{uuid}/verdict.
    faults: engine.faults.list(m),
    // A meeting playing a scenario (src/scenario): its progress.
    ...(scenarioOf(m) ? { scenario: scenarioOf(m)!.status() } : {}),
  };
  if (!full) return base;
  return {
    ...base,
    server_urls: engine.signalingUrl(),
    media_server_urls: engine.mediaUrls(),
    webhook_deliveries: webhooks.logFor(m.uuid),
    log: m.log.entries(),
  };
}

export function createApi(deps: ApiDeps): Hono {
  const { engine, webhooks } = deps;
  const app = new Hono();

  app.onError((err, c) => {
    if (err instanceof MeetingLimitError) {
      engine.log.warn(`API ${c.req.method} ${c.req.path}: 429 ${err.message}`);
      return c.json({ error: { code: 'too_many_meetings', message: err.message } }, 429);
    }
    if (err instanceof HttpError) {
      engine.log.warn(`API ${c.req.method} ${c.req.path}: ${err.status} ${err.message}`);
      return c.json({ error: { code: err.code, message: err.message } }, err.status);
    }
    engine.log.error(`API ${c.req.method} ${c.req.path}: ${(err as Error).stack ?? err}`);
    return c.json({ error: { code: 'internal', message: 'internal error (see the server log)' } }, 500);
  });
  app.notFound((c) => c.json({ error: { code: 'not_found', message: `no route for ${c.req.method} ${c.req.path}; see /api/openapi.json` } }, 404));
  // Token, cross-origin writes, Host names (src/control/access.ts; README "Security and limits"): before anything else.
  app.use('*', accessControl({ apiToken: engine.options.apiToken, publicHost: engine.options.publicHost, bindHost: engine.options.bindHost, log: engine.log }));
  // Bound every body before it is read: Content-Length is checked up front, a chunked body is counted as it
  // streams (readJson alone would buffer the whole body first, and counted characters rather than bytes).
  app.use('/api/*', bodyLimit({
    maxSize: MAX_BODY,
    onError: () => { throw new HttpError(413, 'body_too_large', `request body is over ${MAX_BODY} bytes`); },
  }));

  app.get('/health', (c) => c.json({ status: 'ok', version: deps.version, uptime_ms: Math.round(Date.now() - deps.startedAt) }));
  app.get('/api', (c) => c.json({ name: 'rtms-mock', version: deps.version, openapi: '/api/openapi.json' }));
  app.get('/api/openapi.json', (c) => c.json(openApiDocument(deps.version)));
  app.get('/api/stats', (c) => c.json({ ...engine.counters(), webhooks_pending: webhooks.pendingCount(), scheduler: {
    runs: engine.scheduler.stats.runs, max_lateness_ms: Math.round(engine.scheduler.stats.maxLatenessMs * 100) / 100, errors: engine.scheduler.stats.errors,
    // 1 ms buckets of (actual − due), the last one is ≥ 100 ms: the benchmark diffs two readings for p50/p99.
    lateness_histogram_ms: Array.from(engine.scheduler.stats.latenessBuckets),
  }, video_render_backlog: engine.videoRenderBacklog() }));

  const meetingOr404 = (c: Context): Meeting => {
    const raw = c.req.param('uuid') ?? '';
    const m = engine.meetings.get(raw) ?? engine.meetings.get(safeDecode(raw));
    if (!m) throw new HttpError(404, 'unknown_meeting', `no meeting with uuid ${JSON.stringify(raw)} (URL-encode uuids that contain / + =)`);
    return m;
  };

  app.get('/api/meetings', (c) => c.json({ meetings: [...engine.meetings.values()].map((m) => describeMeeting(engine, m, webhooks, false)) }));

  app.post('/api/meetings', async (c) => {
    const body = await readJson(c, CreateMeetingBody, false);
    let webhookUrl = body.webhook_url ?? deps.defaultWebhookUrl;
    // Checked whenever given: "" is an error ("webhook_url is empty"), not a meeting that silently gets no webhooks.
    if (webhookUrl !== null) {
      const check = checkWebhookUrl(webhookUrl);
      if (!check.ok) throw new HttpError(400, 'invalid_webhook_url', check.error);
      webhookUrl = check.url.toString();
    }
    if (body.meeting_uuid && engine.meetings.get(body.meeting_uuid)?.ended === false) {
      throw new HttpError(409, 'meeting_exists', `meeting ${body.meeting_uuid} already exists and is live`);
    }
    if (body.rtms_stream_id && engine.streams.has(body.rtms_stream_id)) {
      throw new HttpError(409, 'stream_exists', `stream ${body.rtms_stream_id} already exists`);
    }
    // A scenario (library name or inline object) decides the product and the participants.
    let plan = null;
    if (body.scenario !== undefined) {
      if (body.source !== 'synthetic') throw new HttpError(400, 'invalid_body', `scenario: a scenario plays synthetic media; it cannot be combined with source "${body.source}"`);
      try {
        plan = planFromRequest(engine, body.scenario);
      } catch (err) {
        if (err instanceof ScenarioError) throw new HttpError(400, 'invalid_scenario', err.message);
        throw err;
      }
    }
    const { meeting, stream } = plan ? startScenario(engine, plan, {
      webhookUrl: webhookUrl ?? null, speed: body.speed, meetingUuid: body.meeting_uuid, rtmsStreamId: body.rtms_stream_id,
      operatorId: body.operator_id, startRtms: body.start_rtms,
    }) : engine.createMeeting({
      webhookUrl: webhookUrl ?? null,
      product: body.product as Product,
      meetingUuid: body.meeting_uuid,
      rtmsStreamId: body.rtms_stream_id,
      operatorId: body.operator_id,
      startRtms: body.start_rtms,
      speed: body.speed,
      source: body.source,
    });
    return c.json({
      meeting_uuid: meeting.uuid,
      [PRODUCT_INFO[meeting.product].idKey]: meeting.uuid,
      ...(meeting.sessionKey ? { session_key: meeting.sessionKey } : {}),
      rtms_stream_id: stream?.id ?? null,
      server_urls: engine.signalingUrl(),
      media_server_urls: engine.mediaUrls(),
      product: meeting.product,
      webhook_url: meeting.webhookUrl,
      speed: meeting.speed,
      source: meeting.source,
      ...(meeting.source !== 'synthetic' ? { ingest_url: ingestUrl(engine, meeting.uuid) } : {}),
      ...(scenarioOf(meeting) ? { scenario: scenarioOf(meeting)!.status() } : {}),
    }, 201);
  });

  app.get('/api/meetings/:uuid', (c) => c.json(describeMeeting(engine, meetingOr404(c), webhooks, true)));

  app.delete('/api/meetings/:uuid', (c) => {
    const m = meetingOr404(c);
    if (m.ended) throw new HttpError(409, 'meeting_ended', 'the meeting has already ended');
    engine.endMeeting(m, StopReason.MEETING_ENDED);
    return c.json(describeMeeting(engine, m, webhooks, false));
  });

  app.post('/api/meetings/:uuid/streams', async (c) => {
    const m = meetingOr404(c);
    const body = await readJson(c, AddStreamBody, false);
    if (m.ended) throw new HttpError(409, 'meeting_ended', 'the meeting has ended; create a new one');
    let webhookUrl: string | null = null;
    if (body.webhook_url !== undefined) {
      const check = checkWebhookUrl(body.webhook_url);
      if (!check.ok) throw new HttpError(400, 'invalid_webhook_url', check.error);
      webhookUrl = body.webhook_url;
    }
    const s = engine.startStream(m, undefined, webhookUrl);
    return c.json({ ok: true, rtms_stream_id: s.id, server_urls: engine.signalingUrl(), webhook_url: webhookUrl ?? m.webhookUrl }, 201);
  });

  app.post('/api/meetings/:uuid/rtms/:action', async (c) => {
    const m = meetingOr404(c);
    const action = c.req.param('action');
    // An unknown action is a 404 whatever the meeting's state or the body (not a 409 or 400 that hides the typo).
    if (!['pause', 'resume', 'stop', 'start'].includes(action)) throw new HttpError(404, 'unknown_action', `unknown action "${action}": use pause, resume, stop or start`);
    const body = await readJson(c, RtmsActionBody, false);
    if (m.ended) throw new HttpError(409, 'meeting_ended', 'the meeting has ended; create a new one');
    const live = m.liveStreams[m.liveStreams.length - 1];
    switch (action) {
      case 'start': {
        if (live) throw new HttpError(409, 'already_started', `RTMS is already running (stream ${live.id}); stop it first`);
        const s = engine.startStream(m);
        return c.json({ ok: true, rtms_stream_id: s.id, server_urls: engine.signalingUrl() });
      }
      case 'pause':
        if (!live || !live.pause()) throw new HttpError(409, 'invalid_state', `cannot pause: stream is ${live?.phase ?? 'not running'} (pause needs a connected, active stream)`);
        break;
      case 'resume':
        if (!live || !live.resume()) throw new HttpError(409, 'invalid_state', `cannot resume: stream is ${live?.phase ?? 'not running'} (resume needs a paused stream)`);
        break;
      case 'stop':
        if (!live) throw new HttpError(409, 'invalid_state', 'cannot stop: RTMS is not running; start it first');
        live.stop(body.reason ?? StopReason.HOST_TRIGGERED);
        break;
      default:
        throw new HttpError(404, 'unknown_action', `unknown action "${action}": use pause, resume, stop or start`);
    }
    return c.json({ ok: true, rtms_stream_id: live.id, phase: live.phase });
  });

  app.post('/api/meetings/:uuid/participants/:userId/:action', async (c) => {
    const m = meetingOr404(c);
    if (m.ended) throw new HttpError(409, 'meeting_ended', 'the meeting has ended');
    const userId = Number(c.req.param('userId'));
    const p = m.participants.get(userId);
    if (!p) throw new HttpError(404, 'unknown_participant', `no participant ${c.req.param('userId')}; see participants in GET /api/meetings/{uuid}`);
    const action = c.req.param('action');
    if (m.source !== 'synthetic' && (action === 'join' || action === 'leave')) {
      throw new HttpError(409, 'live_participant', `${p.userName} joins and leaves with its /ingest socket`);
    }
    let changed: boolean;
    switch (action) {
      case 'join': changed = engine.setPresent(m, userId, true); break;
      case 'leave': changed = engine.setPresent(m, userId, false); break;
      case 'camera-on': changed = engine.setCamera(m, userId, true); break;
      case 'camera-off': changed = engine.setCamera(m, userId, false); break;
      // Overrides until the dialogue's next change of speaker / share (synthetic), or the next audio-level change (live).
      case 'speak': changed = engine.setActiveSpeaker(m, userId); break;
      case 'share-start': changed = engine.setSharing(m, userId); break;
      case 'share-stop': changed = m.sharer?.userId === userId && engine.setSharing(m, null); break;
      default: throw new HttpError(404, 'unknown_action', `unknown action "${action}": use join, leave, camera-on, camera-off, speak, share-start or share-stop`);
    }
    if (!changed) {
      const state: Record<string, string> = {
        join: 'present', leave: 'gone', 'camera-on': 'on camera (or not present)', 'camera-off': 'off camera (or not present)',
        speak: 'the active speaker (or not present)', 'share-start': 'sharing (or not present)', 'share-stop': 'not sharing',
      };
      throw new HttpError(409, 'no_change', `${p.userName} is already ${state[action]}`);
    }
    const extra = action === 'speak' || action.startsWith('share-') ? { active_speaker: m.activeSpeaker?.userId === userId, sharing: m.sharer?.userId === userId } : {};
    return c.json({ ok: true, user_id: userId, present: p.present, camera_on: p.cameraOn, ...extra });
  });

  app.post('/api/meetings/:uuid/chat', async (c) => {
    const m = meetingOr404(c);
    const body = await readJson(c, ChatBody, true);
    if (m.ended) throw new HttpError(409, 'meeting_ended', 'the meeting has ended');
    const sender = body.user_id ?? [...m.participants.values()].find((p) => p.present)?.userId;
    if (sender === undefined || !m.participant(sender)) throw new HttpError(409, 'no_sender', `user ${body.user_id ?? '(none)'} is not present in the meeting`);
    return c.json({ ok: true, delivered: engine.sendChat(m, sender, body.text) });
  });

  // Faults and verdicts: /api/faults, /api/meetings/{uuid}/faults[/{id}], /api/meetings/{uuid}/verdict.
  registerFaultRoutes(app, { engine, deliveries: (uuid) => webhooks.logFor(uuid) });
  // Scenarios: /api/scenarios (the library), /api/scenarios/schema, /api/scenarios/{name}.
  registerScenarioRoutes(app, engine);

  app.post('/api/webhooks/validate', async (c) => {
    const body = await readJson(c, ValidateWebhookBody, true);
    const check = checkWebhookUrl(body.url, 'url');
    if (!check.ok) throw new HttpError(400, 'invalid_webhook_url', check.error);
    const r = await validateEndpoint(check.url, engine.credentials.webhookSecretToken, { timeoutMs: body.timeout_ms ?? deps.engine.options.webhookTimeoutMs });
    engine.log.info(`URL validation of ${check.url}: ${r.ok ? 'passed' : `failed (${r.reason})`} in ${Math.round(r.latencyMs)} ms`);
    return c.json(r);
  });

  // Server-sent events for the inspector: a snapshot of every meeting, then live events (src/engine/inspector.ts).
  app.get('/api/events', (c) => streamSSE(c, async (stream) => {
    const queue: InspectorEvent[] = [];
    let wake: (() => void) | null = null;
    let dropped = 0;
    const unsubscribe = engine.inspector.subscribe((e) => {
      // Bounded: a slow page loses the oldest events, the server never buffers without limit.
      if (queue.length >= 5000) { queue.shift(); dropped++; }
      queue.push(e);
      wake?.();
    });
    let open = true;
    stream.onAbort(() => { open = false; unsubscribe(); wake?.(); });
    try {
      await stream.writeSSE({ event: 'meetings', data: JSON.stringify({ type: 'meetings', meetings: [...engine.meetings.values()].map((m) => describeMeeting(engine, m, webhooks, false)) }) });
      while (open) {
        if (queue.length === 0) {
          // The 15 s ping timer is cleared when an event wakes the loop first: left pending, a busy feed would
          // hold thousands of timers (and their promises) per client for 15 s each.
          let ping: ReturnType<typeof setTimeout> | undefined;
          await new Promise<void>((resolve) => { wake = resolve; ping = setTimeout(resolve, 15_000); });
          clearTimeout(ping);
          wake = null;
          if (queue.length === 0 && open) { await stream.writeSSE({ event: 'ping', data: '{}' }); continue; }
        }
        const batch = queue.splice(0, 500);
        for (const e of batch) await stream.writeSSE({ event: e.type, data: JSON.stringify(e) });
        if (dropped) { await stream.writeSSE({ event: 'dropped', data: JSON.stringify({ dropped }) }); dropped = 0; }
      }
    } finally {
      unsubscribe();
    }
  }));

  app.get('/api/webhooks/deliveries', (c) => c.json({ deliveries: webhooks.log() }));

  // The web page: every other GET (registered last, so API routes win). Without a built page, a placeholder.
  app.get('*', async (c) => {
    // The raw (still percent-encoded) path: the asset store decodes it once and refuses anything escaping its root.
    const path = new URL(c.req.url).pathname;
    if (/^\/(api|health|signaling|ingest)(\/|$)/.test(path)) return c.notFound();
    const res = deps.assets ? await deps.assets.get(path, c.req.raw) : null;
    if (res) return res;
    if (path === '/' || path === '/index.html') return c.html(PLACEHOLDER_PAGE);
    return c.text(`404: no file ${path} in the web page`, 404);
  });

  return app;
}

/** The feeders' WebSocket for a live meeting (docs/ingest.md §2): on the HTTP port, next to /signaling. */
function ingestUrl(engine: RtmsEngine, uuid: string): string {
  return `${engine.signalingUrl().replace(/\/signaling$/, '/ingest')}?meeting_uuid=${encodeURIComponent(uuid)}`;
}

function safeDecode(s: string): string {
  try { return decodeURIComponent(s); } catch { return s; }
}
