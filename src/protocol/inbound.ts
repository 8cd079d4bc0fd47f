// Inbound (app → mock) messages: decoding and zod validation (spec §3, §4, §10). Pure: no I/O.
import { z } from 'zod';
import { MsgType, StatusCode, msgTypeFromName } from './enums.ts';

export type Dialect = 'production' | 'seed';

/** The instance id keys of the four products (spec §3.1). */
export const INSTANCE_KEYS = ['meeting_uuid', 'webinar_uuid', 'session_id', 'engagement_id'] as const;
export type InstanceKey = (typeof INSTANCE_KEYS)[number];

const instanceFields = {
  meeting_uuid: z.string().min(1).optional(),
  webinar_uuid: z.string().min(1).optional(),
  session_id: z.string().min(1).optional(),
  engagement_id: z.string().min(1).optional(),
};

// Unknown extra fields are allowed everywhere (real clients add their own), so objects are loose.
export const SignalingHandshakeReq = z.looseObject({
  protocol_version: z.number().int().optional(),
  sequence: z.number().optional(),
  ...instanceFields,
  rtms_stream_id: z.string().min(1),
  signature: z.string().min(1),
  buffer_data: z.boolean().optional(),
});
export type SignalingHandshakeReq = z.infer<typeof SignalingHandshakeReq>;

export const DataHandshakeReq = z.looseObject({
  protocol_version: z.number().int().optional(),
  sequence: z.number().optional(),
  ...instanceFields,
  rtms_stream_id: z.string().min(1),
  signature: z.string().min(1),
  media_type: z.unknown().optional(),
  payload_encryption: z.boolean().optional(),
  media_params: z.unknown().optional(),
});
export type DataHandshakeReq = z.infer<typeof DataHandshakeReq>;

export const EventSubscription = z.looseObject({ events: z.unknown() });
export const ClientReadyAck = z.looseObject({ rtms_stream_id: z.string().optional() });
export const KeepAliveResp = z.looseObject({ timestamp: z.number().optional() });
export const SessionStateReq = z.looseObject({ rtms_session_id: z.string() });
export const StreamStateReq = z.looseObject({ rtms_stream_id: z.string() });
export const StreamCloseReq = z.looseObject({ rtms_stream_id: z.string() });
export const VideoSubscriptionReq = z.looseObject({ user_id: z.number().int(), subscribe: z.boolean() });

export interface DecodedMessage {
  type: number;
  dialect: Dialect;
  body: Record<string, unknown>;
}

export type DecodeResult = { ok: true; msg: DecodedMessage } | { ok: false; status: number; reason: string; type?: number };

const textDecoder = new TextDecoder('utf-8', { fatal: true });

/** Decodes one WebSocket frame: text, or the same UTF-8 JSON in a binary frame (spec §1). */
export function decodeFrame(data: string | ArrayBuffer | Uint8Array): DecodeResult {
  let text: string;
  if (typeof data === 'string') text = data;
  else {
    try {
      text = textDecoder.decode(data instanceof Uint8Array ? data : new Uint8Array(data));
    } catch {
      return { ok: false, status: StatusCode.INVALID_PAYLOAD, reason: 'binary frame is not UTF-8 JSON' };
    }
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, status: StatusCode.INVALID_PAYLOAD, reason: 'message is not valid JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, status: StatusCode.INVALID_PAYLOAD, reason: 'message must be a JSON object' };
  }
  const body = value as Record<string, unknown>;
  const raw = body.msg_type;
  if (typeof raw === 'number' && Number.isInteger(raw)) {
    if (raw < MsgType.SIGNALING_HAND_SHAKE_REQ || raw > MsgType.VIDEO_SUBSCRIPTION_RESP) {
      return { ok: false, status: StatusCode.INVALID_MESSAGE_TYPE, reason: `unknown msg_type ${raw}`, type: raw };
    }
    return { ok: true, msg: { type: raw, dialect: 'production', body } };
  }
  if (typeof raw === 'string') {
    // Seed dialect: msg_type is the name (spec §10).
    const n = msgTypeFromName(raw);
    if (n === undefined) return { ok: false, status: StatusCode.INVALID_MESSAGE_TYPE, reason: `unknown msg_type "${raw}"` };
    return { ok: true, msg: { type: n, dialect: 'seed', body } };
  }
  if (raw === undefined) return { ok: false, status: StatusCode.INVALID_PAYLOAD, reason: 'missing msg_type' };
  return { ok: false, status: StatusCode.INVALID_MESSAGE_TYPE, reason: `msg_type must be an integer, got ${JSON.stringify(raw)}` };
}

/** Validates a decoded body against a schema; failure is INVALID_PAYLOAD with the first issue named. */
export function validate<T extends z.ZodType>(schema: T, body: unknown):
  { ok: true; value: z.infer<T> } | { ok: false; status: number; reason: string } {
  const r = schema.safeParse(body);
  if (r.success) return { ok: true, value: r.data };
  const issue = r.error.issues[0];
  const where = issue && issue.path.length ? issue.path.join('.') : 'message';
  return { ok: false, status: StatusCode.INVALID_PAYLOAD, reason: `${where}: ${issue?.message ?? 'invalid'}` };
}

/** Returns which instance key the message used and its value (first of the four present). */
export function instanceIdOf(body: Record<string, unknown>): { key: InstanceKey; id: string } | null {
  for (const key of INSTANCE_KEYS) {
    const v = body[key];
    if (typeof v === 'string' && v.length > 0) return { key, id: v };
  }
  return null;
}
