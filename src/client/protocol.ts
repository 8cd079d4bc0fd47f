// The few pieces of the RTMS protocol a consumer app needs, written from the spec alone. The reference app
// deliberately keeps its own constants instead of importing the server's: it is the example of how an app is
// written against the documented wire format, and it catches the server drifting from the spec.
import { createHmac, timingSafeEqual } from 'node:crypto';

/** msg_type numbers (spec §2). */
export const MSG = {
  SIGNALING_HAND_SHAKE_REQ: 1,
  SIGNALING_HAND_SHAKE_RESP: 2,
  DATA_HAND_SHAKE_REQ: 3,
  DATA_HAND_SHAKE_RESP: 4,
  EVENT_SUBSCRIPTION: 5,
  EVENT_UPDATE: 6,
  CLIENT_READY_ACK: 7,
  STREAM_STATE_UPDATE: 8,
  SESSION_STATE_UPDATE: 9,
  KEEP_ALIVE_REQ: 12,
  KEEP_ALIVE_RESP: 13,
  MEDIA_DATA_AUDIO: 14,
  MEDIA_DATA_VIDEO: 15,
  MEDIA_DATA_SHARE: 16,
  MEDIA_DATA_TRANSCRIPT: 17,
  MEDIA_DATA_CHAT: 18,
} as const;

type MsgName = keyof typeof MSG;

/** The seed dialect names msg_type with strings (spec §10); map both ways. */
export function msgTypeNumber(msgType: unknown): number | undefined {
  if (typeof msgType === 'number') return msgType;
  if (typeof msgType === 'string' && msgType in MSG) return MSG[msgType as MsgName];
  return undefined;
}

export function msgTypeName(n: number): string {
  for (const [name, value] of Object.entries(MSG)) if (value === n) return name;
  return String(n);
}

/** Media sockets and their media_type bits (spec §6). */
export const MEDIA_BITS = { audio: 1, video: 2, deskshare: 4, transcript: 8, chat: 16 } as const;
export const MEDIA_ALL = 32;
export type MediaKind = keyof typeof MEDIA_BITS;
export type MediaSocketName = MediaKind | 'all';
export type SocketName = 'signaling' | MediaSocketName;

/** The per-type sockets a media_type bitmask asks for (32 = every type). */
export function mediaKindsOf(mask: number): MediaKind[] {
  const all = (mask & MEDIA_ALL) !== 0;
  return (Object.keys(MEDIA_BITS) as MediaKind[]).filter((k) => all || (mask & MEDIA_BITS[k]) !== 0);
}

/** Audio enumerations needed to write a WAV file (spec §6). */
export const SAMPLE_RATE_HZ: Record<number, number> = { 0: 8000, 1: 16000, 2: 32000, 3: 48000 };
export const CONTENT_TYPE_RAW_AUDIO = 2;
export const CODEC_L16 = 1;

/** Stream states (spec §6) that mean "no more media will come". */
export const STREAM_STATE_TERMINATED = 4;
export const SESSION_STATE_STOPPED = 5;

/** The instance-id key each product puts in webhooks and handshakes (spec §3.1, §9). */
export const INSTANCE_ID_KEYS = ['meeting_uuid', 'webinar_uuid', 'session_id', 'engagement_id'] as const;
export type InstanceIdKey = (typeof INSTANCE_ID_KEYS)[number];

const hmacHex = (key: string, message: string): string => createHmac('sha256', key).update(message).digest('hex');

/** spec §3.2: HMAC-SHA256(client_secret, "client_id,instance_id,rtms_stream_id"), lowercase hex. */
export function handshakeSignature(clientId: string, clientSecret: string, instanceId: string, streamId: string): string {
  return hmacHex(clientSecret, `${clientId},${instanceId},${streamId}`);
}

/** spec §9: x-zm-signature = "v0=" + hex HMAC-SHA256(secret_token, "v0:" + timestamp + ":" + raw_body). */
export function webhookSignature(secretToken: string, timestamp: string, rawBody: string): string {
  return `v0=${hmacHex(secretToken, `v0:${timestamp}:${rawBody}`)}`;
}

/** spec §9 url_validation: encryptedToken = hex HMAC-SHA256(secret_token, plainToken). */
export function encryptPlainToken(secretToken: string, plainToken: string): string {
  return hmacHex(secretToken, plainToken);
}

/** Constant-time string comparison, so a forged signature cannot be found byte by byte. */
export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
