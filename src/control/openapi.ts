// OpenAPI 3.1 description generated from the same zod schemas that validate requests.
import { z } from 'zod';
import { AddStreamBody, ChatBody, CreateMeetingBody, CreatedMeeting, ErrorBody, RtmsActionBody, ValidateWebhookBody, ValidationResult } from './schemas.ts';

import { faultOpenApiPaths } from './faults.ts';
import { TOKEN_COOKIE } from './access.ts';
import { scenarioOpenApiPaths } from '../scenario/routes.ts';

const schema = (s: z.ZodType) => z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' });
const jsonContent = (s: z.ZodType) => ({ 'application/json': { schema: schema(s) } });
const error = (description: string) => ({ description, content: jsonContent(ErrorBody) });
const uuidParam = { name: 'meeting_uuid', in: 'path', required: true, description: 'URL-encoded (uuids may contain / + =)', schema: { type: 'string' } };

const WRITE_METHODS = new Set(['post', 'put', 'patch', 'delete']);

/** The access rules of README "Security and limits", on every operation that has them (all but /health). */
function withAccessResponses<T extends { paths: Record<string, Record<string, any>> }>(doc: T): T {
  for (const [path, item] of Object.entries(doc.paths)) {
    if (path === '/health') continue;
    for (const [method, op] of Object.entries(item)) {
      // WebSocket endpoints (101 only) report access errors as close codes (docs/ingest.md), not responses.
      if (method === 'parameters' || typeof op !== 'object' || !op.responses || op.responses[101]) continue;
      op.security = [{}, { bearer: [] }, { token: [] }, { cookie: [] }];
      op.responses[401] ??= error('API token missing or wrong (only when the mock runs with --api-token / RTMS_MOCK_API_TOKEN)');
      op.responses[403] ??= error(WRITE_METHODS.has(method)
        ? 'cross_origin: the request\'s Origin is not this server\'s; or host_not_allowed: the Host is not a loopback name or --public-host'
        : 'host_not_allowed: the Host is not a loopback name or --public-host (DNS rebinding guard, when no token is set)');
      if (op.requestBody) op.responses[413] ??= error('body_too_large: the request body is over 64 KiB');
    }
  }
  const create = doc.paths['/api/meetings']?.post;
  if (create) create.responses[429] ??= error('too_many_meetings: --max-meetings live meetings already');
  return doc;
}

export function openApiDocument(version: string) {
  return withAccessResponses({
    openapi: '3.1.0',
    info: { title: 'rtms-mock control API', version, description: 'Start and drive mock Zoom RTMS meetings.' },
    paths: {
      '/health': { get: { summary: 'Liveness', responses: { 200: { description: 'ok' } } } },
      '/api/meetings': {
        get: { summary: 'List meetings', responses: { 200: { description: 'Meetings with their streams and counters' } } },
        post: {
          summary: 'Create a meeting and start its RTMS stream (sends rtms_started)',
          requestBody: { required: false, content: jsonContent(CreateMeetingBody) },
          responses: { 201: { description: 'Created', content: jsonContent(CreatedMeeting) }, 400: error('Invalid body') },
        },
      },
      '/api/meetings/{meeting_uuid}': {
        parameters: [uuidParam],
        get: { summary: 'One meeting: state, connections, counters, webhook deliveries, log', responses: { 200: { description: 'Meeting' }, 404: error('Unknown meeting') } },
        delete: { summary: 'End the meeting (stop reason 6 MEETING_ENDED, rtms_stopped)', responses: { 200: { description: 'Ended' }, 404: error('Unknown meeting') } },
      },
      '/api/meetings/{meeting_uuid}/streams': {
        parameters: [uuidParam],
        post: {
          summary: 'Another app subscribes to the meeting: a new RTMS stream of its own, announced to its webhook by rtms_started',
          requestBody: { required: false, content: jsonContent(AddStreamBody) },
          responses: { 201: { description: 'The new stream' }, 400: error('Invalid webhook_url'), 404: error('Unknown meeting'), 409: error('The meeting has ended') },
        },
      },
      '/api/meetings/{meeting_uuid}/rtms/{action}': {
        parameters: [uuidParam, { name: 'action', in: 'path', required: true, schema: { type: 'string', enum: ['pause', 'resume', 'stop', 'start'] } }],
        post: {
          summary: 'Pause, resume, stop or (re)start the RTMS stream',
          requestBody: { required: false, content: jsonContent(RtmsActionBody) },
          responses: { 200: { description: 'Done' }, 404: error('Unknown meeting'), 409: error('Not valid in the current state') },
        },
      },
      '/api/meetings/{meeting_uuid}/participants/{user_id}/{action}': {
        parameters: [uuidParam, { name: 'user_id', in: 'path', required: true, schema: { type: 'integer' } },
          { name: 'action', in: 'path', required: true, schema: { type: 'string', enum: ['join', 'leave', 'camera-on', 'camera-off', 'speak', 'share-start', 'share-stop'] } }],
        post: {
          summary: 'A participant joins, leaves, turns the camera on/off (events 3, 4, 8, 9), becomes the active speaker (event 2), '
            + 'or starts/stops sharing (events 5, 6; a share by someone else stops first)',
          description: 'speak and share-start/-stop override the synthetic dialogue until its next change of speaker or share; '
            + 'in a live (browser/file) meeting, join and leave belong to the participant\'s /ingest socket (409).',
          responses: { 200: { description: 'Done (speak and share-* add active_speaker and sharing)' }, 404: error('Unknown meeting or participant'), 409: error('No change') },
        },
      },
      '/ingest': {
        get: {
          summary: 'WebSocket for live media into a browser/file meeting (docs/ingest.md): ?meeting_uuid=…, hello → welcome + wants, '
            + 'then binary frames (16-byte header) and text messages; close codes 4400, 4401, 4404, 4408, 4409',
          parameters: [{ name: 'meeting_uuid', in: 'query', required: true, schema: { type: 'string' } },
            { name: 'token', in: 'query', required: false, schema: { type: 'string' }, description: 'API token, when the mock has one' }],
          responses: { 101: { description: 'Switching protocols (WebSocket)' } },
        },
      },
      '/api/meetings/{meeting_uuid}/chat': {
        parameters: [uuidParam],
        post: {
          summary: 'Send a chat line (msg 18) from a participant',
          requestBody: { required: true, content: jsonContent(ChatBody) },
          responses: { 200: { description: 'Sent' }, 400: error('Invalid body'), 404: error('Unknown meeting'), 409: error('Sender not present') },
        },
      },
      '/api/webhooks/validate': {
        post: {
          summary: 'Run endpoint.url_validation against a webhook URL',
          requestBody: { required: true, content: jsonContent(ValidateWebhookBody) },
          responses: { 200: { description: 'Result (ok true or false with a reason)', content: jsonContent(ValidationResult) }, 400: error('Invalid body') },
        },
      },
      '/api/webhooks/deliveries': { get: { summary: 'Every webhook delivery with its attempts', responses: { 200: { description: 'Deliveries' } } } },
      '/api/stats': { get: { summary: 'Process counters (meetings, streams, connections, scheduler)', responses: { 200: { description: 'Counters' } } } },
      ...faultOpenApiPaths(jsonContent, error),
      ...scenarioOpenApiPaths(error),
      '/api': { get: { summary: 'API index: name, version and where this document is', responses: { 200: { description: 'Index' } } } },
      '/api/events': {
        get: {
          summary: 'Server-sent events for the inspector: a "meetings" snapshot, then live events (log, webhook, stats…)',
          responses: { 200: { description: 'An event stream', content: { 'text/event-stream': { schema: { type: 'string' } } } } },
        },
      },
      '/api/openapi.json': { get: { summary: 'This document', responses: { 200: { description: 'OpenAPI 3.1' } } } },
    } as Record<string, Record<string, any>>,
    components: {
      // Only enforced when the mock runs with an API token; `{}` in each operation's security says "or none".
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'Authorization: Bearer TOKEN' },
        token: { type: 'apiKey', in: 'query', name: 'token', description: 'Where headers cannot be set (EventSource, WebSocket)' },
        cookie: { type: 'apiKey', in: 'cookie', name: TOKEN_COOKIE, description: 'Set by opening the page once with ?token=' },
      },
    },
  });
}
