// OpenAPI 3.1 description generated from the same zod schemas that validate requests.
import { z } from 'zod';
import { ChatBody, CreateMeetingBody, CreatedMeeting, ErrorBody, RtmsActionBody, ValidateWebhookBody, ValidationResult } from './schemas.ts';

const schema = (s: z.ZodType) => z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' });
const jsonContent = (s: z.ZodType) => ({ 'application/json': { schema: schema(s) } });
const error = (description: string) => ({ description, content: jsonContent(ErrorBody) });
const uuidParam = { name: 'meeting_uuid', in: 'path', required: true, description: 'URL-encoded (uuids may contain / + =)', schema: { type: 'string' } };

export function openApiDocument(version: string) {
  return {
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
          { name: 'action', in: 'path', required: true, schema: { type: 'string', enum: ['join', 'leave', 'camera-on', 'camera-off'] } }],
        post: {
          summary: 'A synthetic participant joins, leaves, or turns the camera on/off (events 3, 4, 8, 9)',
          responses: { 200: { description: 'Done' }, 404: error('Unknown meeting or participant'), 409: error('No change') },
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
      '/api/openapi.json': { get: { summary: 'This document', responses: { 200: { description: 'OpenAPI 3.1' } } } },
    },
  };
}
