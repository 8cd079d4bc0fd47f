// Builds media messages (spec §7) so that the bytes of a frame are base64-encoded and wrapped in JSON once per
// (frame, format, sender) and shared by every stream: the hot path only appends the timestamp.
import { MsgType } from '../protocol/enums.ts';
import type { Dialect } from '../protocol/inbound.ts';

const SEED_NAMES: Record<number, string> = {
  [MsgType.MEDIA_DATA_AUDIO]: 'MEDIA_DATA_AUDIO',
  [MsgType.MEDIA_DATA_VIDEO]: 'MEDIA_DATA_VIDEO',
  [MsgType.MEDIA_DATA_SHARE]: 'MEDIA_DATA_SHARE',
  [MsgType.MEDIA_DATA_TRANSCRIPT]: 'MEDIA_DATA_TRANSCRIPT',
  [MsgType.MEDIA_DATA_CHAT]: 'MEDIA_DATA_CHAT',
};

type WithToBase64 = Uint8Array & { toBase64?: () => string };
/** Base64 of bytes: Uint8Array.prototype.toBase64 where the runtime has it (about twice as fast), else Buffer. */
export function toBase64(bytes: Uint8Array): string {
  const fast = (bytes as WithToBase64).toBase64;
  return fast ? fast.call(bytes) : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

export interface Sender {
  userId: number;
  /** Omitted for the mixed audio stream (spec §7). */
  userName?: string;
  /** Contact Center streams add channel_id to audio and transcript (spec §7). */
  channelId?: number;
}

function head(dialect: Dialect, msgType: number, sender: Sender): string {
  const type = dialect === 'seed' ? JSON.stringify(SEED_NAMES[msgType]) : String(msgType);
  let s = `{"msg_type":${type},"content":{"user_id":${sender.userId}`;
  if (dialect === 'production') {
    if (sender.userName !== undefined) s += `,"user_name":${JSON.stringify(sender.userName)}`;
    if (sender.channelId !== undefined) s += `,"channel_id":${sender.channelId}`;
  }
  return s;
}

/** Per (dialect, type, sender): each frame's text before the timestamp, and the last whole message built. */
interface Slots { prefix: (string | undefined)[]; ts: number[]; text: (string | undefined)[] }
type PrefixCache = Map<string, Slots>;

export class MediaPacker {
  private readonly binaryCache = new WeakMap<readonly (Uint8Array | null)[], PrefixCache>();
  private readonly base64Cache = new WeakMap<Uint8Array, string>();

  base64(frame: Uint8Array): string {
    let b = this.base64Cache.get(frame);
    if (b === undefined) {
      b = toBase64(frame);
      this.base64Cache.set(frame, b);
    }
    return b;
  }

  /**
   * Audio/video/share message for frame `index` of a shared frame array. Returns the whole message text.
   * Cached per (frames array, dialect, type, sender) as the text before the timestamp.
   */
  binary(frames: readonly (Uint8Array | null)[], index: number, dialect: Dialect, msgType: number, sender: Sender,
    timestamp: number): string | null {
    const frame = frames[index];
    if (!frame) return null;
    let byKey = this.binaryCache.get(frames);
    if (!byKey) { byKey = new Map(); this.binaryCache.set(frames, byKey); }
    const key = `${dialect}|${msgType}|${sender.userId}|${sender.userName ?? ''}|${sender.channelId ?? ''}`;
    let slots = byKey.get(key);
    if (!slots) { slots = { prefix: [], ts: [], text: [] }; byKey.set(key, slots); }
    // Apps of one meeting with the same parameters get the same frame at the same tick: hand them the very same
    // string, so it is built (and flattened) once, not once per app.
    if (slots.ts[index] === timestamp) return slots.text[index]!;
    let prefix = slots.prefix[index];
    if (prefix === undefined) {
      prefix = `${head(dialect, msgType, sender)},"data":"${this.base64(frame)}"` +
        (dialect === 'production' ? `,"length":${frame.byteLength}` : '') + ',"timestamp":';
      slots.prefix[index] = prefix;
    }
    const text = `${prefix}${timestamp}}}`;
    slots.ts[index] = timestamp;
    slots.text[index] = text;
    return text;
  }

  /** A one-off binary payload (RTP-wrapped audio, browser frames): not cached. */
  binaryOnce(bytes: Uint8Array, dialect: Dialect, msgType: number, sender: Sender, timestamp: number): string {
    const b64 = toBase64(bytes);
    return `${head(dialect, msgType, sender)},"data":"${b64}"` +
      (dialect === 'production' ? `,"length":${bytes.byteLength}` : '') + `,"timestamp":${timestamp}}}`;
  }

  transcript(dialect: Dialect, sender: Sender, text: string, startTime: number, endTime: number, language: number): string {
    if (dialect === 'seed') return `${head(dialect, MsgType.MEDIA_DATA_TRANSCRIPT, sender)},"data":${JSON.stringify(text)},"timestamp":${startTime}}}`;
    return `${head(dialect, MsgType.MEDIA_DATA_TRANSCRIPT, sender)},"data":${JSON.stringify(text)},"timestamp":${startTime},` +
      `"start_time":${startTime},"end_time":${endTime},"language":${language}}}`;
  }

  chat(dialect: Dialect, sender: Sender, text: string, timestamp: number): string {
    return `${head(dialect, MsgType.MEDIA_DATA_CHAT, sender)},"data":${JSON.stringify(text)},"timestamp":${timestamp}}}`;
  }
}

/** RTP (RFC 3550) header + payload for audio content_type 1 (spec §8: OPUS, G711, G722 at 20 ms). */
export function rtpPacket(payload: Uint8Array, payloadType: number, seq: number, rtpTimestamp: number, ssrc: number): Uint8Array {
  const p = new Uint8Array(12 + payload.byteLength);
  const v = new DataView(p.buffer);
  p[0] = 0x80; // version 2
  p[1] = payloadType & 0x7f;
  v.setUint16(2, seq & 0xffff);
  v.setUint32(4, rtpTimestamp >>> 0);
  v.setUint32(8, ssrc >>> 0);
  p.set(payload, 12);
  return p;
}
