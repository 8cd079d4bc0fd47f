// Contracts between the media sources (src/media) and the engine that paces and sends them (src/engine).
// Everything here is produced once (at startup or on first use) and shared by every stream: the engine never
// encodes per frame (spec §8: the cadence is the engine's job, the bytes are the library's).

/** Audio formats the protocol allows (spec §8). G711 means G.711 µ-law (PCMU). */
export type AudioCodec = 'L16' | 'G711' | 'G722' | 'OPUS';

export interface AudioFormat {
  codec: AudioCodec;
  /** Hz: L16 8000/16000/32000/48000; G711 8000; G722 16000; OPUS 48000. */
  sampleRate: 8000 | 16000 | 32000 | 48000;
  channels: 1 | 2;
}

export interface Speaker {
  /** Stable key used in data files, e.g. "alice". */
  key: string;
  /** Zoom-style numeric user id, e.g. 16778240. */
  userId: number;
  userName: string;
}

export interface Utterance {
  speaker: string; // Speaker.key
  text: string;
  /** Offsets from the start of the program loop, in ms. */
  startMs: number;
  endMs: number;
}

export interface ChatLine {
  speaker: string; // Speaker.key
  text: string;
  atMs: number; // offset in the loop
}

/**
 * The built-in dialogue: real speech with an aligned transcript. It loops every `durationMs`.
 * Frames are indexed from the loop start: frame i covers [i*frameMs, (i+1)*frameMs).
 */
export interface SpeechProgram {
  durationMs: number;
  speakers: Speaker[];
  utterances: Utterance[]; // sorted by startMs
  chat: ChatLine[]; // sorted by atMs
  /** Mixed stream (all speakers, silence included): durationMs / frameMs frames, each exactly one frame's bytes. */
  mixedFrames(format: AudioFormat, frameMs: number): readonly Uint8Array[];
  /** One speaker alone: same indexing; null where that speaker is silent (multi-stream sends nothing then). */
  speakerFrames(speakerKey: string, format: AudioFormat, frameMs: number): readonly (Uint8Array | null)[];
}

export type VideoCodec = 'JPG' | 'PNG' | 'H264';

/** What a video frame shows. Camera frames show the participant's name; share frames a "screen". */
export type VideoSubject =
  | { kind: 'camera'; userName: string; userId: number }
  | { kind: 'share'; userName: string; userId: number }
  | { kind: 'gallery'; userNames: string[] };

export interface VideoLibrary {
  /**
   * A loop of encoded frames for a subject. JPG/PNG: whole images with the subject's name and a visible frame
   * counter; H264: Annex-B access units (SPS/PPS before each key frame). Cached per (subject, codec, size):
   * the same array is returned to every caller. A progressive library returns a JPG/PNG loop that may still be
   * growing (rendered in the background): index it with `n % frames.length` at each use.
   */
  frames(subject: VideoSubject, codec: VideoCodec, width: number, height: number): readonly Uint8Array[];
  /** Loops still being rendered in the background (0 when idle, or for a non-progressive library). */
  renderBacklog?(): number;
}
