// The built-in dialogue (data/speech/transcript.json, loaded by speech-program.ts) as scenarios see it: lines
// with an index and an id ("01-alice", the name of its clip), the speakers (the voices), and the chat lines.
import type { ChatLine, SpeechProgram, Speaker } from '../media/types.ts';

/** Audio is cut and placed on the 20 ms grid of the pre-encoded tracks (spec §8). */
export const BASE_MS = 20;

export interface DialogueLine {
  index: number;
  /** "01-alice": two-digit position from 1 and the speaker, as the clip files are named. */
  id: string;
  speaker: string;
  text: string;
  /** Offsets in the dialogue loop. */
  startMs: number;
  endMs: number;
  /** The 20 ms-grid hull of [startMs, endMs): the frames of the speaker's track that carry this line. */
  spanStartMs: number;
  spanEndMs: number;
}

export interface DialogueInfo {
  lines: DialogueLine[];
  chat: ChatLine[];
  durationMs: number;
  voices: Speaker[];
}

export function dialogueInfo(program: SpeechProgram): DialogueInfo {
  return {
    lines: program.utterances.map((u, i) => ({
      index: i,
      id: `${String(i + 1).padStart(2, '0')}-${u.speaker}`,
      speaker: u.speaker,
      text: u.text,
      startMs: u.startMs,
      endMs: u.endMs,
      spanStartMs: Math.floor(u.startMs / BASE_MS) * BASE_MS,
      spanEndMs: Math.ceil(u.endMs / BASE_MS) * BASE_MS,
    })),
    chat: program.chat,
    durationMs: program.durationMs,
    voices: program.speakers,
  };
}
