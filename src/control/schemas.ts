// Request and response bodies of the control API, as zod schemas: they validate input and generate OpenAPI.
import { z } from 'zod';
import { PRODUCTS } from '../engine/products.ts';
import { MEETING_SOURCES, type MeetingSource } from '../engine/meeting.ts';
import { ScenarioField } from '../scenario/routes.ts';

export const CreateMeetingBody = z.strictObject({
  webhook_url: z.string().optional().describe("The app's webhook endpoint (http:// or https://). Defaults to --webhook."),
  product: z.enum(PRODUCTS as unknown as [string, ...string[]]).default('meeting')
    .describe('meeting, webinar, session (Video SDK) or contact_center'),
  meeting_uuid: z.string().min(1).max(200).optional().describe('Use this instance id instead of a fresh one'),
  rtms_stream_id: z.string().min(1).max(200).optional().describe('Use this stream id instead of a fresh one'),
  operator_id: z.string().min(1).max(200).optional(),
  start_rtms: z.boolean().default(true).describe('Send rtms_started right away'),
  speed: z.number().min(0.01).max(1000).optional()
    .describe('Protocol-time factor: keep-alive interval, reconnection windows and webhook retry backoff are divided by it (10 → a 60 s window lasts 6 s); media stays real time'),
  source: z.enum(MEETING_SOURCES as unknown as [MeetingSource, ...MeetingSource[]]).default('synthetic')
    .describe('synthetic: the built-in dialogue; browser / file: no built-in participants, media fed through WebSocket /ingest (docs/ingest.md)'),
  scenario: ScenarioField.optional(),
}).describe('Create a meeting with synthetic participants');

export const AddStreamBody = z.strictObject({
  webhook_url: z.string().optional().describe("This app's webhook endpoint; defaults to the meeting's"),
}).describe('Another app subscribed to the same meeting: a new RTMS stream of its own, announced by rtms_started');

export const RtmsActionBody = z.strictObject({
  reason: z.number().int().min(0).max(26).optional().describe('Stop reason (spec §6) for stop; default 1 HOST_TRIGGERED'),
}).describe('Optional body of /rtms/{action}');

export const ValidateWebhookBody = z.strictObject({
  url: z.string().describe('The webhook URL to validate'),
  timeout_ms: z.number().int().min(1).max(60_000).optional(),
});

export const ErrorBody = z.object({
  error: z.object({ code: z.string(), message: z.string() }),
});

export const CreatedMeeting = z.object({
  meeting_uuid: z.string(),
  rtms_stream_id: z.string().nullable(),
  server_urls: z.string(),
  media_server_urls: z.record(z.string(), z.string()),
  product: z.string(),
  webhook_url: z.string().nullable(),
  source: z.enum(MEETING_SOURCES as unknown as [MeetingSource, ...MeetingSource[]]),
  ingest_url: z.string().optional().describe('Live sources only: the feeders\' WebSocket (docs/ingest.md)'),
  speed: z.number().describe('Protocol-time factor (keep-alives, windows, webhook backoff divided by it)'),
});

export const ValidationResult = z.object({
  ok: z.boolean(), reason: z.string(), status: z.number().optional(), latencyMs: z.number(), plainToken: z.string(),
  encryptedToken: z.string().optional(),
});

export const ParticipantActionBody = z.strictObject({}).describe('No body');

export const ChatBody = z.strictObject({
  user_id: z.number().int().optional().describe('Sender (a participant of the meeting); default the first present one'),
  text: z.string().min(1).max(4096),
});
