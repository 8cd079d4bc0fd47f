// What a synthetic meeting plays (spec §8): a MediaProgram hands the media pump the audio of each tick. The
// built-in looping dialogue is one implementation (below); a scenario's timeline is another (src/scenario). The
// program only says which already-encoded frame goes out when: encoding happens once, at handshake time at the
// latest, and the same frame arrays are shared by every stream so the packer caches their JSON.
import type { AudioFormat, SpeechProgram, Speaker } from '../media/types.ts';

/** Who an audio message is from (spec §7): user_id 0 and no name for the mixed stream; channel_id for Contact Center. */
export interface AudioSender {
  userId: number;
  userName?: string;
  channelId?: number;
}

/** Receives one audio message to send: element `index` of a shared frame array (null = nothing). */
export type AudioEmit = (frames: readonly (Uint8Array | null)[], index: number, sender: AudioSender) => void;

/** The audio of one media connection at its negotiated format and send rate. */
export interface AudioTrack {
  /** Emits what goes out for the frame starting at `ts` (ms epoch on the meeting's grid): mixed or one per talker. */
  frame(ts: number, emit: AudioEmit): void;
}

/** Presence and roster as a program sees them. */
export interface ProgramMeeting {
  readonly mediaOrigin: number;
  readonly product: string;
  isPresent(userId: number): boolean;
}

export interface MediaProgram {
  /**
   * False: the meeting walks the built-in dialogue's timeline itself (participants, active speaker, share,
   * transcripts, chat). True: something else drives the meeting through the engine (a scenario runner); the
   * meeting starts with no participants and reports the current speaker and sharer as they are.
   */
  readonly scripted: boolean;
  /** Prepares (encodes) the audio for one connection; called at handshake or resume time, never inside a tick. */
  audio(meeting: ProgramMeeting, format: AudioFormat, frameMs: number, multi: boolean): AudioTrack;
}

function mod(a: number, n: number): number {
  return ((a % n) + n) % n;
}

/** The built-in dialogue, looping from the meeting's media origin: what every synthetic meeting played before. */
export function dialogueProgram(program: SpeechProgram): MediaProgram {
  return {
    scripted: false,
    audio(meeting, format, frameMs, multi) {
      const D = program.durationMs;
      const t0 = meeting.mediaOrigin;
      const channelId = meeting.product === 'contact_center' ? 1 : undefined;
      const mixed = multi ? null : program.mixedFrames(format, frameMs);
      const perSpeaker = multi
        ? program.speakers.map((s: Speaker) => ({ s, frames: program.speakerFrames(s.key, format, frameMs), sender: { userId: s.userId, userName: s.userName, channelId } }))
        : [];
      const count = mixed ? mixed.length : (perSpeaker[0]?.frames.length ?? 1);
      const mixedSender: AudioSender = { userId: 0, channelId };
      return {
        frame(ts, emit) {
          const idx = Math.floor(mod(ts - t0, D) / frameMs) % count;
          if (mixed) { emit(mixed, idx, mixedSender); return; }
          // Multi-stream: one message per talking participant; silence sends nothing (spec §8).
          for (const p of perSpeaker) if (meeting.isPresent(p.s.userId)) emit(p.frames, idx, p.sender);
        },
      };
    },
  };
}
