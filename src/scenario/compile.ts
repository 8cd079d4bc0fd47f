// A validated scenario → a plan: every step occurrence at its time on the scenario clock (ms from the start,
// before the speed factor), with speech durations known (recorded lines from the dialogue, free text from the
// babble plan), `after` references, repeats and seeded jitter resolved, and the meeting's state simulated so an
// action that cannot happen (a participant speaking after leaving, two shares, a step after the end) is an
// error naming the step's field. Pure and deterministic: the same scenario and seed give the same plan.
import { FaultSpecError, parseFault } from '../engine/fault-spec.ts';
import type { Product } from '../engine/products.ts';
import { StopReason, nameOf } from '../protocol/enums.ts';
import { babbleVoice, planBabble, type BabbleVoice } from './babble.ts';
import { BASE_MS, type DialogueInfo, type DialogueLine } from './dialogue.ts';
import { zodIssues, type IssuePath, type ScenarioIssue } from './parse.ts';
import { hash32, Prng } from './prng.ts';
import { ACTIONS, durationMs, ScenarioSchema, type ActionName, type ScenarioSpec, type Step } from './schema.ts';

export interface PlanParticipant {
  id: string;
  userId: number;
  userName: string;
  voice: string;
  babble: BabbleVoice;
  joined: boolean;
  camera: boolean;
  /** Contact Center: channel_id of this participant's audio and transcripts (spec §7). */
  channelId: number | undefined;
}

export type SpeechSource =
  | { kind: 'line'; line: DialogueLine }
  | { kind: 'babble'; text: string; voice: BabbleVoice; voiceKey: string; seed: number };

export interface PlanSpeech {
  who: string;
  source: SpeechSource;
  text: string;
  language: number;
  /** Audio length in 20 ms frames at speed 1. */
  frames: number;
  /** Where the speech starts inside its first frame (recorded lines), and how long it lasts. */
  leadMs: number;
  speechMs: number;
}

export type PlanAction =
  | { kind: 'join' | 'leave' | 'camera_on' | 'camera_off'; who: string[] }
  | { kind: 'share_start'; who: string }
  | { kind: 'share_stop' }
  | { kind: 'speak'; speech: PlanSpeech }
  | { kind: 'chat'; from: string; text: string }
  | { kind: 'pause' }
  | { kind: 'resume' }
  | { kind: 'stop'; reason: number }
  | { kind: 'start_rtms' }
  | { kind: 'end'; reason: number }
  | { kind: 'fault'; body: Record<string, unknown> };

export interface PlanEvent {
  /** Scenario ms from the start (speed 1). For speech: when its audio (first frame) starts. */
  st: number;
  /** Index of the step in the timeline, and which occurrence of it (repeat). */
  step: number;
  occurrence: number;
  /** Order among events at the same time. */
  order: number;
  action: PlanAction;
  label: string;
}

export interface Plan {
  name: string;
  description: string;
  product: Product;
  seed: number;
  speed: number;
  start: 'ready' | 'created';
  participants: PlanParticipant[];
  /** Sorted by (st, order). */
  events: PlanEvent[];
  /** When the meeting ends (scenario ms): an explicit `end` step, `duration`, or 2 s after the last step. */
  endMs: number;
  /** True when an `end` step (or a fault that ends the meeting) ends it; otherwise the runner ends it at endMs. */
  endsItself: boolean;
  steps: number;
}

/** Default user ids: Zoom-like, 1024 apart (the built-in speakers use 16778240, 16779264, 16780288). */
const FIRST_USER_ID = 16778240;
const MAX_EVENTS = 200_000;
const TAIL_MS = 2000;

export type CompileResult = { ok: true; plan: Plan } | { ok: false; issues: ScenarioIssue[] };

function reasonOf(r: number | string | undefined, dflt: number): number {
  if (r === undefined) return dflt;
  return typeof r === 'number' ? r : (StopReason as Record<string, number>)[r]!;
}

function asList(w: string | string[]): string[] {
  return typeof w === 'string' ? [w] : w;
}

const secs = (ms: number) => `${Math.round(ms) / 1000}s`;

/** Validates (zod, then cross-field rules) and plans a scenario. `fallbackName`: the file name, for `name`. */
export function compileScenario(input: unknown, dialogue: DialogueInfo, fallbackName = 'scenario'): CompileResult {
  const parsed = ScenarioSchema.safeParse(input);
  if (!parsed.success) return { ok: false, issues: zodIssues(parsed.error, input) };
  const spec = parsed.data;
  const issues: ScenarioIssue[] = [];
  const issue = (path: IssuePath, message: string) => { issues.push({ path, message }); };

  // ---- participants ----
  const voices = new Set(dialogue.voices.map((v) => v.key));
  const participants: PlanParticipant[] = [];
  const byId = new Map<string, PlanParticipant>();
  const userIds = new Map<number, number>();
  spec.participants.forEach((p, i) => {
    if (byId.has(p.id)) issue(['participants', i, 'id'], `duplicate participant id "${p.id}"`);
    if (p.voice !== 'babble' && !voices.has(p.voice)) {
      issue(['participants', i, 'voice'], `unknown voice "${p.voice}": expected babble or a speaker of the built-in dialogue (${[...voices].join(', ')})`);
    }
    const userId = p.user_id ?? FIRST_USER_ID + 1024 * i;
    const prev = userIds.get(userId);
    if (prev !== undefined) issue(['participants', i, 'user_id'], `user_id ${userId} is also participant ${prev}'s (give each participant its own)`);
    userIds.set(userId, i);
    const pp: PlanParticipant = {
      id: p.id, userId, userName: p.name, voice: p.voice, babble: babbleVoice(p.voice, p.pitch), joined: p.joined,
      camera: p.camera, channelId: spec.product === 'contact_center' ? (p.channel_id ?? 1) : p.channel_id,
    };
    participants.push(pp);
    if (!byId.has(p.id)) byId.set(p.id, pp);
  });

  // ---- steps: action, references, durations ----
  const steps = spec.timeline;
  const stepIndex = new Map<string, number>();
  steps.forEach((s, i) => {
    if (s.id === undefined) return;
    if (stepIndex.has(s.id)) issue(['timeline', i, 'id'], `duplicate step id "${s.id}" (also timeline[${stepIndex.get(s.id)}])`);
    else stepIndex.set(s.id, i);
  });
  const actionOf = (s: Step): ActionName | null => {
    const present = ACTIONS.filter((a) => s[a] !== undefined);
    return present.length === 1 ? present[0]! : null;
  };
  const knownWho = (i: number, field: IssuePath, who: string | string[]) => {
    asList(who).forEach((w, k) => {
      if (!byId.has(w)) issue(typeof who === 'string' ? ['timeline', i, ...field] : ['timeline', i, ...field, k], `unknown participant "${w}" (participants: ${[...byId.keys()].join(', ')})`);
    });
  };
  const lineOf = (ref: number | string, path: IssuePath, rng: Prng): DialogueLine | null => {
    if (ref === 'random') return dialogue.lines[rng.int(dialogue.lines.length)]!;
    const found = typeof ref === 'number' ? dialogue.lines[ref] : dialogue.lines.find((l) => l.id === ref);
    if (!found) {
      issue(path, `unknown dialogue line ${JSON.stringify(ref)}: expected an index 0-${dialogue.lines.length - 1}, an id (${dialogue.lines[0]?.id} … ${dialogue.lines.at(-1)?.id}) or "random"`);
      return null;
    }
    return found;
  };
  const castOf = (i: number, s: Step): Map<string, string> | null => {
    const cast = new Map<string, string>();
    const explicit = s.dialogue?.cast ?? {};
    for (const [k, v] of Object.entries(explicit)) {
      if (!voices.has(k)) issue(['timeline', i, 'dialogue', 'cast', k], `"${k}" is not a speaker of the dialogue (${[...voices].join(', ')})`);
      else if (!byId.has(v)) issue(['timeline', i, 'dialogue', 'cast', k], `unknown participant "${v}"`);
      else cast.set(k, v);
    }
    for (const v of voices) if (!cast.has(v)) { const p = participants.find((x) => x.voice === v); if (p) cast.set(v, p.id); }
    return cast;
  };

  const lineSpeech = (who: string, line: DialogueLine, language: number): PlanSpeech => ({
    who, source: { kind: 'line', line }, text: line.text, language,
    frames: (line.spanEndMs - line.spanStartMs) / BASE_MS, leadMs: line.startMs - line.spanStartMs, speechMs: line.endMs - line.startMs,
  });
  const babbleSpeech = (who: string, text: string, language: number): PlanSpeech => {
    const p = byId.get(who)!;
    const seed = hash32(`${p.voice}|${p.babble.pitchHz}`, spec.seed);
    const plan = planBabble(text, seed);
    return { who, source: { kind: 'babble', text, voice: p.babble, voiceKey: p.voice, seed }, text, language, frames: plan.durationMs / BASE_MS, leadMs: 0, speechMs: plan.durationMs };
  };

  // Per-step checks that do not depend on time.
  const actions: (ActionName | null)[] = steps.map((s, i) => {
    const a = actionOf(s);
    if (a === null) {
      const present = ACTIONS.filter((x) => s[x] !== undefined);
      issue(['timeline', i], present.length === 0
        ? `a step needs one action: ${ACTIONS.join(', ')}`
        : `one action per step, found ${present.join(' and ')}: split it into several steps`);
      return null;
    }
    switch (a) {
      case 'join': case 'leave': case 'camera_on': case 'camera_off': knownWho(i, [a], s[a]!); break;
      case 'share_start': knownWho(i, [a], s.share_start!); break;
      case 'share_stop': if (s.share_stop !== true) knownWho(i, [a], s.share_stop!); break;
      case 'chat': knownWho(i, ['chat', 'from'], s.chat!.from); break;
      case 'speak': {
        const sp = s.speak!;
        if (!byId.has(sp.who)) issue(['timeline', i, 'speak', 'who'], `unknown participant "${sp.who}" (participants: ${[...byId.keys()].join(', ')})`);
        if ((sp.line === undefined) === (sp.text === undefined)) issue(['timeline', i, 'speak'], 'give either "line" (a dialogue line) or "text" (free text), not both or neither');
        if (sp.line !== undefined && sp.line !== 'random') lineOf(sp.line, ['timeline', i, 'speak', 'line'], new Prng(0));
        break;
      }
      case 'dialogue': {
        const cast = castOf(i, s);
        const lines = s.dialogue!.lines;
        const needed = new Set<string>();
        if (lines) lines.forEach((l, k) => { const d = l === 'random' ? null : lineOf(l, ['timeline', i, 'dialogue', 'lines', k], new Prng(0)); if (d) needed.add(d.speaker); });
        else {
          for (const l of dialogue.lines) needed.add(l.speaker);
          if (s.dialogue!.chat) for (const c of dialogue.chat) needed.add(c.speaker);
        }
        if (lines?.includes('random')) for (const l of dialogue.lines) needed.add(l.speaker);
        for (const k of needed) {
          if (!cast?.has(k)) issue(['timeline', i, 'dialogue'], `the dialogue has lines of "${k}" but no participant has voice "${k}": add one, or map it with dialogue.cast: {${k}: <participant id>}`);
        }
        break;
      }
      case 'fault':
        try { parseFault(s.fault); } catch (err) {
          if (err instanceof FaultSpecError) issue(['timeline', i, 'fault'], err.message); else throw err;
        }
        break;
      default: break;
    }
    if (s.after !== undefined && s.at !== undefined && !String(s.at).startsWith('+')) {
      issue(['timeline', i, 'at'], 'with "after", "at" must be relative ("+2s"): the step starts that long after the other one ends');
    }
    if (s.after !== undefined) {
      const ref = s.after.split(/\s*\+/)[0]!.trim();
      if (!stepIndex.has(ref)) issue(['timeline', i, 'after'], `no step with id "${ref}"${stepIndex.size ? ` (ids: ${[...stepIndex.keys()].join(', ')})` : ''}`);
      else if (stepIndex.get(ref) === i) issue(['timeline', i, 'after'], 'a step cannot come after itself');
    }
    if (s.repeat) {
      if (s.repeat.times === undefined && s.repeat.until === undefined) issue(['timeline', i, 'repeat'], 'repeat needs "times" or "until"');
      if (durationMs(s.repeat.every) <= 0) issue(['timeline', i, 'repeat', 'every'], 'must be more than 0');
    }
    return a;
  });
  if (issues.length) return { ok: false, issues };

  // ---- time: resolve each step's first start (after / at / sequential), with seeded jitter ----
  const rngs = steps.map((_, i) => new Prng(hash32(`step:${i}`, spec.seed)));
  const jitterOf = (i: number) => (steps[i]!.jitter !== undefined ? Math.round(rngs[i]!.next() * durationMs(steps[i]!.jitter!)) : 0);
  const first = new Map<number, { start: number; jitter: number }>();
  const durations = new Map<number, number>();
  const visiting = new Set<number>();
  let cycle = false;

  // Duration of one occurrence (what `after` waits for): speech until its audio ends, the dialogue its loop.
  const durationOf = (i: number): number => {
    const cached = durations.get(i);
    if (cached !== undefined) return cached;
    const s = steps[i]!;
    let d = 0;
    if (actions[i] === 'speak') {
      const sp = s.speak!;
      d = sp.text !== undefined ? planBabble(sp.text, hash32(`${byId.get(sp.who)!.voice}|${byId.get(sp.who)!.babble.pitchHz}`, spec.seed)).durationMs
        : sp.line === 'random' ? Math.max(...dialogue.lines.map((l) => l.spanEndMs - l.spanStartMs))
          : (() => { const l = lineOf(sp.line!, [], new Prng(0))!; return l.spanEndMs - l.spanStartMs; })();
    } else if (actions[i] === 'dialogue') {
      d = s.dialogue!.lines ? subsetLayout(s.dialogue!.lines.map((l) => (l === 'random' ? dialogue.lines[0]! : lineOf(l, [], new Prng(0))!)), dialogue.lines).end : dialogue.durationMs;
    }
    durations.set(i, d);
    return d;
  };
  const startOf = (i: number): number => {
    const known = first.get(i);
    if (known) return known.start;
    if (visiting.has(i)) {
      if (!cycle) issue(['timeline', i, 'after'], `steps wait for each other in a cycle (${[...visiting].map((k) => steps[k]!.id ?? `timeline[${k}]`).join(' → ')})`);
      cycle = true;
      return 0;
    }
    visiting.add(i);
    const s = steps[i]!;
    const rel = s.at !== undefined && String(s.at).startsWith('+') ? durationMs(s.at) : 0;
    let base: number;
    if (s.after !== undefined) {
      const [ref, off] = s.after.split(/\s*\+\s*/);
      const j = stepIndex.get(ref!.trim())!;
      base = startOf(j) + durationOf(j) + (off ? durationMs(off) : 0) + rel;
    } else if (s.at !== undefined && !String(s.at).startsWith('+')) {
      base = durationMs(s.at);
    } else {
      base = (i === 0 ? 0 : startOf(i - 1) + durationOf(i - 1)) + rel;
    }
    visiting.delete(i);
    const jitter = jitterOf(i);
    first.set(i, { start: base + jitter, jitter });
    return base + jitter;
  };
  for (let i = 0; i < steps.length; i++) startOf(i);
  if (issues.length) return { ok: false, issues };

  // ---- events: occurrences (repeat), expanded speech and dialogues ----
  const events: PlanEvent[] = [];
  let order = 0;
  const push = (st: number, step: number, occurrence: number, action: PlanAction, label: string) => {
    events.push({ st: Math.round(st), step, occurrence, order: order++, action, label });
  };
  for (let i = 0; i < steps.length && events.length <= MAX_EVENTS; i++) {
    const s = steps[i]!;
    const a = actions[i]!;
    const rng = rngs[i]!;
    const f = first.get(i)!;
    const base = f.start - f.jitter;
    const every = s.repeat ? durationMs(s.repeat.every) : 0;
    const times = s.repeat ? (s.repeat.times ?? Number.MAX_SAFE_INTEGER) : 1;
    const until = s.repeat?.until !== undefined ? durationMs(s.repeat.until) : Number.POSITIVE_INFINITY;
    for (let k = 0; k < times; k++) {
      const nominal = base + k * every;
      if (k > 0 && nominal > until) break;
      if (events.length > MAX_EVENTS) { issue(['timeline', i, 'repeat'], `more than ${MAX_EVENTS} events: repeat less often`); break; }
      const t = k === 0 ? f.start : nominal + jitterOf(i);
      expand(i, k, s, a, t, rng);
    }
  }
  function expand(i: number, k: number, s: Step, a: ActionName, t: number, rng: Prng): void {
    const note = s.note ? ` (${s.note})` : '';
    const name = (id: string) => byId.get(id)!.userName;
    switch (a) {
      case 'join': case 'leave': case 'camera_on': case 'camera_off': {
        const who = asList(s[a]!);
        push(t, i, k, { kind: a, who }, `${who.map(name).join(', ')} ${a === 'join' ? 'join' : a === 'leave' ? 'leave' : a === 'camera_on' ? 'camera on' : 'camera off'}${note}`);
        return;
      }
      case 'share_start': push(t, i, k, { kind: 'share_start', who: s.share_start! }, `${name(s.share_start!)} starts sharing${note}`); return;
      case 'share_stop': push(t, i, k, { kind: 'share_stop' }, `share stops${note}`); return;
      case 'chat': push(t, i, k, { kind: 'chat', from: s.chat!.from, text: s.chat!.text }, `chat from ${name(s.chat!.from)}${note}`); return;
      case 'pause': push(t, i, k, { kind: 'pause' }, `pause${note}`); return;
      case 'resume': push(t, i, k, { kind: 'resume' }, `resume${note}`); return;
      case 'start_rtms': push(t, i, k, { kind: 'start_rtms' }, `new RTMS stream${note}`); return;
      case 'stop': {
        const reason = reasonOf(s.stop === true ? undefined : s.stop!.reason, StopReason.HOST_TRIGGERED);
        push(t, i, k, { kind: 'stop', reason }, `stream stops: reason ${reason} ${nameOf(StopReason, reason)}${note}`);
        return;
      }
      case 'end': {
        const reason = reasonOf(s.end === true ? undefined : s.end!.reason, StopReason.MEETING_ENDED);
        push(t, i, k, { kind: 'end', reason }, `meeting ends: reason ${reason} ${nameOf(StopReason, reason)}${note}`);
        return;
      }
      case 'fault': push(t, i, k, { kind: 'fault', body: s.fault as Record<string, unknown> }, `fault ${s.fault!.type}${note}`); return;
      case 'speak': {
        const sp = s.speak!;
        const language = sp.language ?? 9;
        const speech = sp.text !== undefined ? babbleSpeech(sp.who, sp.text, language) : lineSpeech(sp.who, lineOf(sp.line!, [], rng)!, language);
        push(t, i, k, { kind: 'speak', speech }, `${name(sp.who)} says ${sp.text !== undefined ? 'free text' : `line ${(speech.source as { line: DialogueLine }).line.id}`}${note}`);
        return;
      }
      case 'dialogue': {
        const d = s.dialogue!;
        const cast = castOf(i, s)!;
        if (!d.lines) {
          // The whole dialogue with its recorded timing: each line's audio starts on its own 20 ms frame.
          for (const l of dialogue.lines) push(t + l.spanStartMs, i, k, { kind: 'speak', speech: lineSpeech(cast.get(l.speaker)!, l, 9) }, `${name(cast.get(l.speaker)!)} says line ${l.id} (dialogue)${note}`);
          if (d.chat) for (const c of dialogue.chat) push(t + c.atMs, i, k, { kind: 'chat', from: cast.get(c.speaker)!, text: c.text }, `chat from ${name(cast.get(c.speaker)!)} (dialogue)`);
          return;
        }
        const picked = d.lines.map((l) => lineOf(l, [], rng)!);
        const { starts } = subsetLayout(picked, dialogue.lines);
        picked.forEach((l, n) => push(t + starts[n]!, i, k, { kind: 'speak', speech: lineSpeech(cast.get(l.speaker)!, l, 9) }, `${name(cast.get(l.speaker)!)} says line ${l.id} (dialogue)${note}`));
        return;
      }
    }
  }
  if (issues.length) return { ok: false, issues };
  events.sort((x, y) => x.st - y.st || x.order - y.order);

  // ---- simulate the meeting: who is there, sharing, the stream's state ----
  const present = new Map(participants.map((p) => [p.id, p.joined]));
  const camera = new Map(participants.map((p) => [p.id, p.camera]));
  let sharer: string | null = null;
  let stream: 'live' | 'paused' | 'stopped' = 'live';
  let ended: PlanEvent | null = null;
  const reported = new Set<number>();
  const bad = (e: PlanEvent, field: IssuePath, message: string) => {
    if (reported.has(e.step)) return;
    reported.add(e.step);
    issue(['timeline', e.step, ...field], `${message} (at ${secs(e.st)}${e.occurrence ? `, occurrence ${e.occurrence + 1}` : ''})`);
  };
  const needPresent = (e: PlanEvent, field: IssuePath, who: string, what: string) => {
    if (!present.get(who)) { bad(e, field, `${byId.get(who)!.userName} (${who}) ${what} while not in the meeting`); return false; }
    return true;
  };
  let lastEnd = 0;
  for (const e of events) {
    if (ended) { bad(e, [], `comes after the meeting ended at ${secs(ended.st)} (timeline[${ended.step}])`); continue; }
    const a = e.action;
    switch (a.kind) {
      case 'join':
        for (const w of a.who) { if (present.get(w)) bad(e, ['join'], `${w} is already in the meeting`); present.set(w, true); }
        break;
      case 'leave':
        for (const w of a.who) {
          if (!present.get(w)) bad(e, ['leave'], `${w} is not in the meeting`);
          present.set(w, false);
          if (sharer === w) sharer = null;
        }
        break;
      case 'camera_on': case 'camera_off':
        for (const w of a.who) {
          if (!needPresent(e, [a.kind], w, `turns the camera ${a.kind === 'camera_on' ? 'on' : 'off'}`)) continue;
          if (camera.get(w) === (a.kind === 'camera_on')) bad(e, [a.kind], `${w}'s camera is already ${a.kind === 'camera_on' ? 'on' : 'off'}`);
          camera.set(w, a.kind === 'camera_on');
        }
        break;
      case 'share_start':
        if (needPresent(e, ['share_start'], a.who, 'starts sharing')) sharer = a.who;
        break;
      case 'share_stop': {
        const s = steps[e.step]!.share_stop;
        if (sharer === null) bad(e, ['share_stop'], 'nobody is sharing');
        else if (s !== true && s !== sharer) bad(e, ['share_stop'], `${s} is not the one sharing (${sharer} is)`);
        sharer = null;
        break;
      }
      case 'speak': {
        const field = steps[e.step]!.dialogue ? ['dialogue'] : ['speak', 'who'];
        needPresent(e, field, a.speech.who, 'speaks');
        break;
      }
      case 'chat': needPresent(e, steps[e.step]!.dialogue ? ['dialogue'] : ['chat', 'from'], a.from, 'chats'); break;
      case 'pause':
        if (stream !== 'live') bad(e, ['pause'], `the stream is ${stream === 'paused' ? 'already paused' : 'stopped'}`);
        else stream = 'paused';
        break;
      case 'resume':
        if (stream !== 'paused') bad(e, ['resume'], `the stream is ${stream === 'live' ? 'not paused' : 'stopped'}`);
        else stream = 'live';
        break;
      case 'stop':
        if (stream === 'stopped') bad(e, ['stop'], 'the stream is already stopped');
        stream = 'stopped';
        break;
      case 'start_rtms':
        if (stream !== 'stopped') bad(e, ['start_rtms'], 'an RTMS stream is already running: stop it first');
        stream = 'live';
        break;
      case 'end': ended = e; break;
      case 'fault': {
        const t = (a.body as { type?: string }).type;
        if (t === 'meeting_end' && !('delay_ms' in a.body)) ended = e;
        break;
      }
    }
    lastEnd = Math.max(lastEnd, e.st + (a.kind === 'speak' ? a.speech.frames * BASE_MS : 0));
  }
  let endMs: number;
  if (spec.duration !== undefined) {
    endMs = durationMs(spec.duration);
    const late = events.find((e) => e.st > endMs);
    if (late) issue(['timeline', late.step], `happens at ${secs(late.st)}, after the scenario's duration (${secs(endMs)})`);
  } else {
    endMs = ended ? ended.st : lastEnd + TAIL_MS;
  }
  if (issues.length) return { ok: false, issues };
  return {
    ok: true,
    plan: {
      name: spec.name ?? fallbackName,
      description: spec.description ?? '',
      product: spec.product as Product,
      seed: spec.seed,
      speed: spec.speed,
      start: spec.start,
      participants,
      events,
      endMs: ended ? Math.min(ended.st, endMs) : endMs,
      endsItself: ended !== null,
      steps: steps.length,
    },
  };
}

/**
 * A subset of dialogue lines played one after the other: each keeps the recorded gap before it (negative for
 * crosstalk) when it follows its own predecessor, and at least 250 ms otherwise. Offsets are of each line's first
 * 20 ms frame; `end` is when the last audio ends.
 */
function subsetLayout(lines: DialogueLine[], all: readonly DialogueLine[]): { starts: number[]; end: number } {
  const starts: number[] = [];
  let speechEnd = 0;
  let end = 0;
  lines.forEach((l, n) => {
    const lead = l.startMs - l.spanStartMs;
    let speechStart = lead;
    if (n > 0) {
      const before = all[l.index - 1];
      const recorded = before ? l.startMs - before.endMs : 300;
      speechStart = speechEnd + (lines[n - 1]!.index === l.index - 1 ? recorded : Math.max(250, recorded));
    }
    const st = Math.max(0, speechStart - lead);
    starts.push(st);
    speechEnd = Math.max(speechEnd, speechStart + (l.endMs - l.startMs));
    end = Math.max(end, st + l.spanEndMs - l.spanStartMs);
  });
  return { starts, end };
}

/** Scenario-time summary for listings: participants, steps, how long it lasts. */
export function planSummary(plan: Plan) {
  return {
    name: plan.name,
    description: plan.description,
    product: plan.product,
    participants: plan.participants.map((p) => ({ id: p.id, name: p.userName, user_id: p.userId, voice: p.voice })),
    steps: plan.steps,
    events: plan.events.length,
    duration_ms: plan.endMs,
    speed: plan.speed,
    seed: plan.seed,
  };
}
