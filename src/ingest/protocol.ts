// The ingest wire format (docs/ingest.md): feeder → mock text messages validated with zod, the 16-byte binary
// frame header, and the mock → feeder messages and close codes. Pure: no I/O, no engine state.
import { z } from 'zod';
import { Codec, LANGUAGE_MAX, LANGUAGE_MIN } from '../protocol/enums.ts';

/** Close codes (docs/ingest.md §2); the same number is the `code` of the error message sent before closing. */
export const IngestClose = {
  BAD_REQUEST: 4400,
  UNAUTHORIZED: 4401,
  /** The upgrade came from another site's page (Origin not the server's own). */
  FORBIDDEN: 4403,
  UNKNOWN_MEETING: 4404,
  HELLO_TIMEOUT: 4408,
  NOT_LIVE: 4409,
  /** A connection limit was reached (README "Security and limits"). */
  TOO_MANY: 4429,
} as const;

/** The audio the mock expects (docs/ingest.md §2): s16le at 48 kHz, 1 or 2 channels per frame header. */
export const INGEST_AUDIO_RATE = 48000;
/** Largest binary frame accepted (docs/ingest.md §4); larger ones are refused with an error. */
export const INGEST_MAX_FRAME_BYTES = 4 * 1024 * 1024;
/** Consecutive refused frames or messages before the socket is closed with 4400. */
export const INGEST_MAX_ERRORS_IN_A_ROW = 3;
export const HEADER_BYTES = 16;

export const IngestKind = { AUDIO: 1, CAMERA: 2, SHARE: 3 } as const;
export type IngestKindName = 'audio' | 'camera' | 'share';

// ---- text messages (feeder → mock); unknown fields are ignored ----

export const Hello = z.looseObject({
  type: z.literal('hello'),
  user_name: z.string().trim().min(1).max(128),
  user_id: z.number().int().min(1).max(0x7fffffff).optional(),
  audio: z.boolean().default(true),
  camera: z.boolean().default(true),
  share: z.boolean().default(false),
});
export type Hello = z.infer<typeof Hello>;

const TranscriptMsg = z.looseObject({
  type: z.literal('transcript'),
  text: z.string().min(1).max(16_384),
  start_time: z.number().finite().nonnegative().optional(),
  end_time: z.number().finite().nonnegative().optional(),
  /** spec §6 language id, or a BCP-47 tag ("en-US"). */
  language: z.union([z.number().int().min(LANGUAGE_MIN).max(LANGUAGE_MAX), z.string().min(1).max(35)]).optional(),
});
const ChatMsg = z.looseObject({ type: z.literal('chat'), text: z.string().min(1).max(4096) });
const CameraMsg = z.looseObject({ type: z.literal('camera'), on: z.boolean() });
const ShareMsg = z.looseObject({ type: z.literal('share'), on: z.boolean() });
const PingMsg = z.looseObject({ type: z.literal('ping') });

export const FeederMessage = z.discriminatedUnion('type', [Hello, TranscriptMsg, ChatMsg, CameraMsg, ShareMsg, PingMsg]);
export type FeederMessage = z.infer<typeof FeederMessage>;

export type ParseResult<T> = { ok: true; value: T } | { ok: false; message: string };

function zodMessage(err: z.ZodError): string {
  const issue = err.issues[0]!;
  const where = issue.path.length ? issue.path.join('.') : 'message';
  return `${where}: ${issue.message}`;
}

/** Parses one text frame: JSON, then the schema (the error says which field is wrong). */
export function parseText<T>(text: string, schema: z.ZodType<T>): ParseResult<T> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, message: 'not valid JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, message: 'a message must be a JSON object' };
  const r = schema.safeParse(value);
  if (!r.success) {
    const type = (value as Record<string, unknown>).type;
    if (schema === (FeederMessage as z.ZodType) && typeof type === 'string' && !['hello', 'transcript', 'chat', 'camera', 'share', 'ping'].includes(type)) {
      return { ok: false, message: `unknown message type ${JSON.stringify(type.slice(0, 40))} (hello, transcript, chat, camera, share, ping)` };
    }
    return { ok: false, message: zodMessage(r.error) };
  }
  return { ok: true, value: r.data };
}

/** BCP-47 tag or spec §6 id → spec §6 id. Only English has a documented id (9); other tags use `fallback`. */
export function languageId(language: number | string | undefined, fallback: number): number {
  if (typeof language === 'number') return language;
  if (typeof language === 'string' && /^en(\b|[-_])/i.test(language)) return 9;
  return fallback;
}

// ---- binary frames (feeder → mock) ----

export interface AudioFrame {
  kind: 'audio';
  channels: 1 | 2;
  captureMs: number;
  /** s16le PCM, interleaved when stereo. */
  payload: Uint8Array;
}
export interface VideoFrame {
  kind: 'camera' | 'share';
  codec: 5 | 6 | 7;
  keyFrame: boolean;
  /** Byte 3: the fps of the `wants` entry this frame was encoded for; 0 = not said. */
  fps: number;
  width: number;
  height: number;
  captureMs: number;
  payload: Uint8Array;
}
export type BinaryFrame = AudioFrame | VideoFrame;

/**
 * Parses the 16-byte header (little-endian; docs/ingest.md §4) and checks the payload against it.
 * Never throws: anything wrong comes back as a message for the feeder.
 */
// A reused 8-byte scratch for the f64 capture time: reading it through `data.buffer` would make the runtime
// materialise an ArrayBuffer for every received frame (a measurable share of the fan-out hot path).
const scratch = new Uint8Array(8);
const scratchView = new DataView(scratch.buffer);

export function parseBinaryFrame(data: Uint8Array): ParseResult<BinaryFrame> {
  if (data.byteLength > INGEST_MAX_FRAME_BYTES + HEADER_BYTES) {
    return { ok: false, message: `frame of ${data.byteLength} bytes is over the ${INGEST_MAX_FRAME_BYTES}-byte limit` };
  }
  if (data.byteLength < HEADER_BYTES) return { ok: false, message: `truncated header: ${data.byteLength} of ${HEADER_BYTES} bytes` };
  const kind = data[0]!;
  const codec = data[1]!;
  const b2 = data[2]!;
  const b3 = data[3]!;
  const width = data[4]! | (data[5]! << 8);
  const height = data[6]! | (data[7]! << 8);
  for (let i = 0; i < 8; i++) scratch[i] = data[8 + i]!;
  const captureMs = scratchView.getFloat64(0, true);
  const payload = data.subarray(HEADER_BYTES);
  if (!Number.isFinite(captureMs)) return { ok: false, message: 'capture time (bytes 8-15) is not a finite number' };
  if (kind === IngestKind.AUDIO) {
    if (codec !== Codec.L16) return { ok: false, message: `audio codec ${codec} is not accepted: send 1 (L16, s16le PCM)` };
    if (b2 !== 1 && b2 !== 2) return { ok: false, message: `audio channels (byte 2) must be 1 or 2, got ${b2}` };
    if (payload.byteLength === 0) return { ok: false, message: 'empty audio frame' };
    if (payload.byteLength % (2 * b2) !== 0) return { ok: false, message: `audio payload of ${payload.byteLength} bytes is not whole ${b2}-channel s16 samples` };
    return { ok: true, value: { kind: 'audio', channels: b2, captureMs, payload } };
  }
  if (kind === IngestKind.CAMERA || kind === IngestKind.SHARE) {
    if (codec !== Codec.JPG && codec !== Codec.PNG && codec !== Codec.H264) {
      return { ok: false, message: `video codec ${codec} is not accepted: 5 JPG, 6 PNG or 7 H264` };
    }
    if (width === 0 || height === 0) return { ok: false, message: 'video width and height (bytes 4-7) must be set' };
    if (payload.byteLength === 0) return { ok: false, message: 'empty video frame' };
    return {
      ok: true,
      value: { kind: kind === IngestKind.CAMERA ? 'camera' : 'share', codec, keyFrame: (b2 & 1) === 1, fps: b3, width, height, captureMs, payload },
    };
  }
  return { ok: false, message: `unknown kind ${kind} (byte 0): 1 audio, 2 camera, 3 share` };
}

// ---- mock → feeder ----

export interface VideoWant { codec: 'JPG' | 'PNG' | 'H264'; width: number; height: number; fps: number }
export interface Wants { camera: VideoWant[]; share: VideoWant[] }

export function welcomeMessage(meetingUuid: string, userId: number, userName: string): string {
  return JSON.stringify({
    type: 'welcome', meeting_uuid: meetingUuid, user_id: userId, user_name: userName,
    audio: { format: 's16le', sample_rate: INGEST_AUDIO_RATE, channels: 1 },
  });
}

export function wantsMessage(w: Wants): string {
  return JSON.stringify({ type: 'wants', camera: w.camera, share: w.share });
}

export function errorMessage(code: number, message: string): string {
  return JSON.stringify({ type: 'error', code, message });
}

/** A WebSocket close reason is at most 123 UTF-8 bytes. */
export function closeReason(message: string): string {
  const enc = new TextEncoder();
  if (enc.encode(message).byteLength <= 123) return message;
  let s = message.slice(0, 120);
  while (enc.encode(`${s}…`).byteLength > 123) s = s.slice(0, -1);
  return `${s}…`;
}
