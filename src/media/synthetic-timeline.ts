// The built-in meeting as a loop of timed happenings derived from the dialogue: who speaks when (active
// speaker), each utterance's transcript at its end, chat lines, and a screen share. Computed once per program
// and shared by every meeting; meetings only add their own origin time.
import type { SpeechProgram, Speaker, Utterance } from './types.ts';

export type TimelineItem =
  | { at: number; kind: 'speaker'; speaker: Speaker | null }
  | { at: number; kind: 'transcript'; speaker: Speaker; utterance: Utterance }
  | { at: number; kind: 'chat'; speaker: Speaker; text: string }
  | { at: number; kind: 'share_start'; speaker: Speaker }
  | { at: number; kind: 'share_stop' };

export interface SyntheticTimeline {
  durationMs: number;
  items: TimelineItem[]; // sorted by `at`, all in [0, durationMs)
  /** Who is the active speaker at a loop offset (the last one who started talking; null before anyone). */
  speakerAt(offset: number): Speaker | null;
  sharerAt(offset: number): Speaker | null;
  shareWindow: { start: number; stop: number; speaker: Speaker } | null;
}

export function buildTimeline(program: SpeechProgram): SyntheticTimeline {
  const byKey = new Map(program.speakers.map((s) => [s.key, s]));
  const speakerOf = (key: string): Speaker => {
    const s = byKey.get(key);
    if (!s) throw new Error(`dialogue names an unknown speaker "${key}"`);
    return s;
  };
  const D = program.durationMs;
  const items: TimelineItem[] = [];
  // Active speaker: changes when someone starts talking; during crosstalk the newest voice wins, and when it
  // ends while an earlier one is still talking, the earlier one is active again.
  const changes: { at: number; speaker: Speaker | null }[] = [];
  const edges = new Set<number>();
  for (const u of program.utterances) { edges.add(u.startMs); edges.add(u.endMs); }
  let current: Speaker | null = null;
  for (const t of [...edges].sort((a, b) => a - b)) {
    const talking = program.utterances.filter((u) => u.startMs <= t && t < u.endMs);
    if (talking.length === 0) continue; // silence keeps the last speaker, as Zoom does
    const newest = talking.reduce((a, b) => (b.startMs > a.startMs ? b : a));
    const s = speakerOf(newest.speaker);
    if (s !== current) { changes.push({ at: t, speaker: s }); current = s; }
  }
  for (const c of changes) items.push({ at: c.at, kind: 'speaker', speaker: c.speaker });
  for (const u of program.utterances) {
    items.push({ at: Math.min(u.endMs, D - 1), kind: 'transcript', speaker: speakerOf(u.speaker), utterance: u });
  }
  for (const c of program.chat) items.push({ at: c.atMs % D, kind: 'chat', speaker: speakerOf(c.speaker), text: c.text });
  // A screen share by the last speaker of the dialogue from 1 s in until 1 s before the loop ends.
  let shareWindow: SyntheticTimeline['shareWindow'] = null;
  const sharer = program.speakers[program.speakers.length - 1];
  if (sharer && D > 4000) {
    shareWindow = { start: 1000, stop: D - 1000, speaker: sharer };
    items.push({ at: shareWindow.start, kind: 'share_start', speaker: sharer });
    items.push({ at: shareWindow.stop, kind: 'share_stop' });
  }
  items.sort((a, b) => a.at - b.at);
  // The speaker at offset 0 is whoever was active at the end of the previous loop.
  const last = changes[changes.length - 1]?.speaker ?? null;
  return {
    durationMs: D,
    items,
    shareWindow,
    speakerAt(offset: number) {
      let s: Speaker | null = last;
      for (const c of changes) { if (c.at <= offset) s = c.speaker; else break; }
      return s;
    },
    sharerAt(offset: number) {
      return shareWindow && offset >= shareWindow.start && offset < shareWindow.stop ? shareWindow.speaker : null;
    },
  };
}
