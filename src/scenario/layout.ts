// A plan (scenario clock) laid out on the wall clock of one run at a speed factor: every happening at
// origin + t/speed, speech placed on the 20 ms media grid (spec §8), active-speaker changes derived from who
// talks (the newest voice wins; when it stops while an earlier one still talks, that one is active again, as
// the built-in dialogue does), and each utterance's transcript at the end of its audio (spec §7).
//
// Speed compresses the scenario clock, and with it speech: an utterance that takes 3 s lasts 3/speed s and
// carries the first 3/speed s of its audio (at least one frame), so audio, transcript times and the timeline
// stay consistent. Below speed 1, speech keeps its natural length (audio cannot be stretched).
import type { Plan, PlanEvent, PlanParticipant, PlanSpeech } from './compile.ts';
import { BASE_MS } from './dialogue.ts';

export interface PlacedUtterance {
  /** Position in `utterances`. */
  index: number;
  who: PlanParticipant;
  speech: PlanSpeech;
  /** First 20 ms frame (index from the origin) and how many frames of the audio are played. */
  firstFrame: number;
  frames: number;
  /** Speech start and end, ms from the origin (the transcript's start_time / end_time). */
  startMs: number;
  endMs: number;
  /** The plan event this speech comes from. */
  event: PlanEvent;
}

export type WallEvent =
  | { at: number; seq: number; kind: 'action'; event: PlanEvent }
  | { at: number; seq: number; kind: 'speaker'; who: PlanParticipant; utterance: PlacedUtterance }
  | { at: number; seq: number; kind: 'transcript'; utterance: PlacedUtterance }
  | { at: number; seq: number; kind: 'end' };

export interface Layout {
  speed: number;
  /** Sorted by (at, seq); `at` in ms from the origin. */
  events: WallEvent[];
  /** Sorted by first frame. */
  utterances: PlacedUtterance[];
  /** When the meeting ends (ms from the origin). */
  endAt: number;
}

/** Frames of an utterance played at this speed: compressed, at least one, never more than recorded. */
export function framesAtSpeed(frames: number, speed: number): number {
  return speed <= 1 ? frames : Math.min(frames, Math.max(1, Math.ceil(frames / speed)));
}

export function layoutPlan(plan: Plan, speed: number): Layout {
  const events: WallEvent[] = [];
  const utterances: PlacedUtterance[] = [];
  const byId = new Map(plan.participants.map((p) => [p.id, p]));
  for (const e of plan.events) {
    const at = Math.round(e.st / speed);
    events.push({ at, seq: e.order * 4, kind: 'action', event: e });
    if (e.action.kind !== 'speak') continue;
    const speech = e.action.speech;
    const firstFrame = Math.round(e.st / speed / BASE_MS);
    const frames = framesAtSpeed(speech.frames, speed);
    const audioStart = firstFrame * BASE_MS;
    const audioEnd = audioStart + frames * BASE_MS;
    const startMs = Math.min(audioStart + speech.leadMs, audioEnd - 1);
    const endMs = Math.min(startMs + speech.speechMs, audioEnd);
    utterances.push({ index: utterances.length, who: byId.get(speech.who)!, speech, firstFrame, frames, startMs, endMs, event: e });
  }
  utterances.sort((a, b) => a.firstFrame - b.firstFrame || a.event.order - b.event.order);
  utterances.forEach((u, i) => { u.index = i; });

  // Active speaker: evaluated at every edge where someone starts or stops talking.
  const edges = new Map<number, { starts: PlacedUtterance[]; ends: PlacedUtterance[] }>();
  const edge = (f: number) => { let x = edges.get(f); if (!x) edges.set(f, x = { starts: [], ends: [] }); return x; };
  for (const u of utterances) { edge(u.firstFrame).starts.push(u); edge(u.firstFrame + u.frames).ends.push(u); }
  const talking: PlacedUtterance[] = [];
  let current: PlanParticipant | null = null;
  for (const f of [...edges.keys()].sort((a, b) => a - b)) {
    const x = edges.get(f)!;
    for (const u of x.ends) talking.splice(talking.indexOf(u), 1);
    talking.push(...x.starts);
    if (talking.length === 0) continue; // silence keeps the last speaker, as Zoom does
    const newest = talking.reduce((a, b) => (b.firstFrame > a.firstFrame || (b.firstFrame === a.firstFrame && b.index > a.index) ? b : a));
    if (newest.who !== current) {
      current = newest.who;
      events.push({ at: f * BASE_MS, seq: newest.event.order * 4 + 1, kind: 'speaker', who: newest.who, utterance: newest });
    }
  }
  for (const u of utterances) events.push({ at: u.endMs, seq: u.event.order * 4 + 2, kind: 'transcript', utterance: u });
  const endAt = Math.round(plan.endMs / speed);
  if (!plan.endsItself) events.push({ at: endAt, seq: Number.MAX_SAFE_INTEGER, kind: 'end' });
  events.sort((a, b) => a.at - b.at || a.seq - b.seq);
  return { speed, events, utterances, endAt };
}
