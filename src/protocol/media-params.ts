// Data-handshake parameter negotiation (spec §3.3, §8): fill defaults, reject invalid values with the matching
// status code (spec §5: 17-39, 43), and coerce odd-but-accepted combinations to what will actually be sent.
import {
  Codec, ContentType, DataOption, LANGUAGE_MAX, LANGUAGE_MIN, LANGUAGE_ENGLISH, MediaBit, Resolution, SampleRate,
  StatusCode,
} from './enums.ts';

export interface AudioParams {
  content_type: number; sample_rate: number; channel: number; codec: number; data_opt: number; send_rate: number;
}
export interface VideoParams { content_type: number; codec: number; resolution: number; data_opt: number; fps: number }
export interface DeskshareParams { content_type: number; codec: number; resolution: number; fps: number }
export interface TranscriptParams { content_type: number; src_language: number; enable_lid: boolean }
export interface ChatParams { content_type: number }

export interface MediaParams {
  audio?: AudioParams;
  video?: VideoParams;
  deskshare?: DeskshareParams;
  transcript?: TranscriptParams;
  chat?: ChatParams;
}

/** Spec §8 defaults. */
export const DEFAULT_AUDIO: Readonly<AudioParams> = {
  content_type: ContentType.RAW_AUDIO, sample_rate: SampleRate.SR_16K, channel: 1, codec: Codec.L16,
  data_opt: DataOption.AUDIO_MIXED_STREAM, send_rate: 20,
};
export const DEFAULT_VIDEO: Readonly<VideoParams> = {
  content_type: ContentType.RAW_VIDEO, codec: Codec.JPG, resolution: Resolution.HD,
  data_opt: DataOption.VIDEO_SINGLE_ACTIVE_STREAM, fps: 5,
};
export const DEFAULT_DESKSHARE: Readonly<DeskshareParams> = {
  content_type: ContentType.RAW_VIDEO, codec: Codec.JPG, resolution: Resolution.FHD, fps: 1,
};
export const DEFAULT_TRANSCRIPT: Readonly<TranscriptParams> = {
  content_type: ContentType.TEXT, src_language: LANGUAGE_ENGLISH, enable_lid: true,
};
export const DEFAULT_CHAT: Readonly<ChatParams> = { content_type: ContentType.TEXT };

export type Negotiation =
  | { ok: true; params: MediaParams; notes: string[] }
  | { ok: false; status: number; reason: string };

class Reject {
  constructor(readonly status: number, readonly reason: string) {}
}

type Raw = Record<string, unknown>;

function isObject(v: unknown): v is Raw {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Reads an optional integer field; a wrong type or a value outside `allowed` is rejected with `status`. */
function int(obj: Raw, key: string, fallback: number, status: number, allowed: (n: number) => boolean, what: string): number {
  const v = obj[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || !allowed(v)) {
    throw new Reject(status, `invalid ${what}: ${JSON.stringify(v)}`);
  }
  return v;
}

function negotiateAudio(raw: unknown, notes: string[]): AudioParams {
  if (raw === undefined || raw === null) return { ...DEFAULT_AUDIO };
  if (!isObject(raw)) throw new Reject(StatusCode.INVALID_MEDIA_AUDIO_PARAMS, 'media_params.audio must be an object');
  const S = StatusCode;
  const contentType = int(raw, 'content_type', DEFAULT_AUDIO.content_type, S.INVALID_MEDIA_AUDIO_CONTENT_TYPE,
    (n) => n === ContentType.RTP || n === ContentType.RAW_AUDIO, 'audio content_type (1 RTP or 2 RAW_AUDIO)');
  let codec = int(raw, 'codec', DEFAULT_AUDIO.codec, S.INVALID_MEDIA_AUDIO_CODEC,
    (n) => n >= Codec.L16 && n <= Codec.OPUS, 'audio codec (1 L16, 2 G711, 3 G722, 4 OPUS)');
  let sampleRate = int(raw, 'sample_rate', DEFAULT_AUDIO.sample_rate, S.INVALID_MEDIA_AUDIO_SAMPLE_RATE,
    (n) => n >= 0 && n <= 3, 'audio sample_rate (0 8k, 1 16k, 2 32k, 3 48k)');
  let channel = int(raw, 'channel', DEFAULT_AUDIO.channel, S.INVALID_MEDIA_AUDIO_CHANNEL,
    (n) => n === 1 || n === 2, 'audio channel (1 mono, 2 stereo)');
  const dataOpt = int(raw, 'data_opt', DEFAULT_AUDIO.data_opt, S.INVALID_MEDIA_AUDIO_DATA_OPT,
    (n) => n === DataOption.AUDIO_MIXED_STREAM || n === DataOption.AUDIO_MULTI_STREAMS,
    'audio data_opt (1 mixed, 2 multi-stream)');
  let sendRate = int(raw, 'send_rate', DEFAULT_AUDIO.send_rate, S.INVALID_MEDIA_AUDIO_SEND_RATE,
    (n) => n >= 20 && n <= 1000 && n % 20 === 0, 'audio send_rate (a multiple of 20 ms up to 1000)');
  let content = contentType;

  // Each codec fixes its rate and channels (spec §8); we echo what will actually be sent.
  if (codec === Codec.G711) {
    if (sampleRate !== SampleRate.SR_8K || channel !== 1) notes.push('G711 is 8 kHz mono');
    sampleRate = SampleRate.SR_8K; channel = 1;
  } else if (codec === Codec.G722) {
    if (sampleRate !== SampleRate.SR_16K || channel !== 1) notes.push('G722 is 16 kHz mono');
    sampleRate = SampleRate.SR_16K; channel = 1;
  } else if (codec === Codec.OPUS) {
    if (sampleRate !== SampleRate.SR_48K) notes.push('OPUS is 48 kHz');
    sampleRate = SampleRate.SR_48K;
    if (sendRate !== 20) notes.push('OPUS packets are 20 ms');
    sendRate = 20;
  }
  if (content === ContentType.RTP) {
    if (codec === Codec.L16) {
      // Real clients send RTP + L16 (+ send_rate 100); the media is raw PCM, so say so.
      notes.push('RTP carries OPUS, G711 or G722; L16 is sent as RAW_AUDIO');
      content = ContentType.RAW_AUDIO;
    } else {
      if (sendRate !== 20) notes.push('RTP packets are 20 ms');
      sendRate = 20;
      channel = 1;
    }
  }
  if (codec !== Codec.L16 && codec !== Codec.OPUS && channel !== 1) channel = 1;
  codec = codec as number;
  return { content_type: content, sample_rate: sampleRate, channel, codec, data_opt: dataOpt, send_rate: sendRate };
}

interface VideoCodes { params: number; content: number; codec: number; resolution: number; fps: number; dataOpt?: number }

function negotiateVisual(raw: unknown, defaults: { content_type: number; codec: number; resolution: number; fps: number },
  codes: VideoCodes, label: string, notes: string[]): { content_type: number; codec: number; resolution: number; fps: number; raw: Raw } {
  if (raw === undefined || raw === null) return { ...defaults, raw: {} };
  if (!isObject(raw)) throw new Reject(codes.params, `media_params.${label} must be an object`);
  const contentType = int(raw, 'content_type', defaults.content_type, codes.content,
    (n) => n === ContentType.RAW_VIDEO || n === ContentType.FILE_STREAM, `${label} content_type (3 RAW_VIDEO)`);
  const codecGiven = raw.codec !== undefined && raw.codec !== null;
  let codec = int(raw, 'codec', defaults.codec, codes.codec,
    (n) => n === Codec.JPG || n === Codec.PNG || n === Codec.H264, `${label} codec (5 JPG, 6 PNG, 7 H264)`);
  const resolution = int(raw, 'resolution', defaults.resolution, codes.resolution,
    (n) => n >= Resolution.SD && n <= Resolution.QHD, `${label} resolution (1 SD, 2 HD, 3 FHD, 4 QHD)`);
  let fps = int(raw, 'fps', defaults.fps, codes.fps, (n) => n >= 1 && n <= 30, `${label} fps (1-30)`);
  // JPG/PNG go up to 5 fps; above that needs H264. With no codec given we fall back to JPG at 5 fps (spec §8).
  if (fps > 5 && codec !== Codec.H264) {
    notes.push(codecGiven ? `${label}: JPG/PNG are limited to 5 fps` : `${label}: fps above 5 without a codec falls back to JPG at 5 fps`);
    fps = 5;
    if (!codecGiven) codec = Codec.JPG;
  }
  // Everything we send is raw frames.
  return { content_type: contentType === ContentType.FILE_STREAM ? ContentType.RAW_VIDEO : contentType, codec, resolution, fps, raw };
}

function negotiateVideo(raw: unknown, notes: string[]): VideoParams {
  const S = StatusCode;
  const base = negotiateVisual(raw, DEFAULT_VIDEO, {
    params: S.INVALID_MEDIA_VIDEO_PARAMS, content: S.INVALID_MEDIA_VIDEO_CONTENT_TYPE, codec: S.INVALID_MEDIA_VIDEO_CODEC,
    resolution: S.INVALID_MEDIA_VIDEO_RESOLUTION, fps: S.INVALID_MEDIA_VIDEO_FPS,
  }, 'video', notes);
  const dataOpt = int(base.raw, 'data_opt', DEFAULT_VIDEO.data_opt, S.INVALID_MEDIA_VIDEO_DATA_OPT,
    (n) => n >= DataOption.VIDEO_SINGLE_ACTIVE_STREAM && n <= DataOption.VIDEO_MIXED_GALLERY_VIEW,
    'video data_opt (3 active speaker, 4 individual, 5 gallery)');
  return { content_type: base.content_type, codec: base.codec, resolution: base.resolution, data_opt: dataOpt, fps: base.fps };
}

function negotiateDeskshare(raw: unknown, notes: string[]): DeskshareParams {
  const S = StatusCode;
  const base = negotiateVisual(raw, DEFAULT_DESKSHARE, {
    params: S.INVALID_MEDIA_DESKSHARE_PARAMS, content: S.INVALID_MEDIA_DESKSHARE_CONTENT_TYPE,
    codec: S.INVALID_MEDIA_DESKSHARE_CODEC, resolution: S.INVALID_MEDIA_DESKSHARE_RESOLUTION, fps: S.INVALID_MEDIA_DESKSHARE_FPS,
  }, 'deskshare', notes);
  return { content_type: base.content_type, codec: base.codec, resolution: base.resolution, fps: base.fps };
}

function negotiateTranscript(raw: unknown): TranscriptParams {
  if (raw === undefined || raw === null) return { ...DEFAULT_TRANSCRIPT };
  const S = StatusCode;
  if (!isObject(raw)) throw new Reject(S.INVALID_MEDIA_TRANSCRIPT_PARAMS, 'media_params.transcript must be an object');
  const contentType = int(raw, 'content_type', ContentType.TEXT, S.INVALID_MEDIA_TRANSCRIPT_CONTENT_TYPE,
    (n) => n === ContentType.TEXT, 'transcript content_type (5 TEXT)');
  const lang = int(raw, 'src_language', LANGUAGE_ENGLISH, S.INVALID_MEDIA_TRANSCRIPT_SOURCE_LANGUAGE,
    (n) => n >= LANGUAGE_MIN && n <= LANGUAGE_MAX, 'transcript src_language (-1 auto, 0-36)');
  if (raw.target_language !== undefined) {
    const t = raw.target_language;
    const ok = (n: unknown) => typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= LANGUAGE_MAX;
    if (!(Array.isArray(t) ? t.every(ok) : ok(t))) {
      throw new Reject(S.INVALID_MEDIA_TRANSCRIPT_TARGET_LANGUAGE, `invalid transcript target_language: ${JSON.stringify(t)}`);
    }
  }
  const lid = raw.enable_lid;
  if (lid !== undefined && typeof lid !== 'boolean') {
    throw new Reject(S.INVALID_MEDIA_TRANSCRIPT_PARAMS, 'transcript enable_lid must be a boolean');
  }
  return { content_type: contentType, src_language: lang, enable_lid: lid ?? DEFAULT_TRANSCRIPT.enable_lid };
}

function negotiateChat(raw: unknown): ChatParams {
  if (raw === undefined || raw === null) return { ...DEFAULT_CHAT };
  const S = StatusCode;
  if (!isObject(raw)) throw new Reject(S.INVALID_MEDIA_CHAT_PARAMS, 'media_params.chat must be an object');
  const contentType = int(raw, 'content_type', ContentType.TEXT, S.INVALID_MEDIA_CHAT_CONTENT_TYPE,
    (n) => n === ContentType.TEXT, 'chat content_type (5 TEXT)');
  return { content_type: contentType };
}

/**
 * Negotiates the parameters for the media types in `mask` (already expanded: no ALL bit).
 * Sub-objects for types not requested are ignored, as production does.
 */
export function negotiateMediaParams(rawParams: unknown, mask: number): Negotiation {
  const notes: string[] = [];
  try {
    if (rawParams !== undefined && rawParams !== null && !isObject(rawParams)) {
      throw new Reject(StatusCode.INVALID_MEDIA_PARAMS, 'media_params must be an object');
    }
    const raw = (rawParams ?? {}) as Raw;
    const params: MediaParams = {};
    if (mask & MediaBit.AUDIO) params.audio = negotiateAudio(raw.audio, notes);
    if (mask & MediaBit.VIDEO) params.video = negotiateVideo(raw.video, notes);
    if (mask & MediaBit.DESKSHARE) params.deskshare = negotiateDeskshare(raw.deskshare, notes);
    if (mask & MediaBit.TRANSCRIPT) params.transcript = negotiateTranscript(raw.transcript);
    if (mask & MediaBit.CHAT) params.chat = negotiateChat(raw.chat);
    return { ok: true, params, notes };
  } catch (e) {
    if (e instanceof Reject) return { ok: false, status: e.status, reason: e.reason };
    throw e;
  }
}
