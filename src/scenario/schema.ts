// The scenario file format (YAML or JSON), as zod schemas: they validate every file and request, and generate
// the published JSON Schema (data/scenarios/scenario.schema.json, GET /api/scenarios/schema). A scenario is a
// meeting of one product (spec §9) with participants and a timeline of steps; cross-field rules (known
// participants, step references, who is present when) are checked by compile.ts with the same issue paths.
import { z } from 'zod';
import { FaultBody } from '../engine/fault-spec.ts';
import { MAX_SPEED, MIN_SPEED } from '../engine/timing.ts';
import { PRODUCTS } from '../engine/products.ts';
import { StopReason } from '../protocol/enums.ts';

/** `5s`, `1500ms`, `2m`, `1h`, `0.5s`, or a plain number of seconds. */
export const DURATION_PATTERN = '^\\d+(\\.\\d+)?(ms|s|m|h)$';
/** A time in the timeline: a duration from the start, or `+duration` after the previous step (or the `after` step). */
export const AT_PATTERN = '^\\+?\\d+(\\.\\d+)?(ms|s|m|h)$';
const ID_PATTERN = '^[a-z][a-z0-9_-]*$';

const Duration = z.union([
  z.number().nonnegative().max(86_400),
  z.string().regex(new RegExp(DURATION_PATTERN), 'expected a duration like 500ms, 5s, 2m or 1h'),
], { error: 'expected a duration: a number of seconds, or a string like 500ms, 5s, 2m, 1h' })
  .describe('A duration: seconds as a number, or a string with a unit (ms, s, m, h), e.g. "1500ms", "5s", "2m"');

const At = z.union([
  z.number().nonnegative().max(86_400),
  z.string().regex(new RegExp(AT_PATTERN), 'expected a time like 5s or +2s'),
], { error: 'expected a time: seconds as a number, "5s" (from the start) or "+2s" (after the previous step)' })
  .describe('When the step happens: "5s" from the scenario start, or "+2s" after the previous step ends (after the `after` step if given)');

const Id = z.string().regex(new RegExp(ID_PATTERN), 'expected an id: lower-case letters, digits, - and _, starting with a letter');

/** One participant id or several. */
const Who = z.union([Id, z.array(Id).min(1).max(50)], { error: 'expected a participant id or a list of them' })
  .describe('A participant id (or a list of them)');

const STOP_REASON_NAMES = Object.keys(StopReason) as [string, ...string[]];
const Reason = z.union([z.number().int().min(0).max(26), z.enum(STOP_REASON_NAMES)], {
  error: `expected a stop reason (spec §6): a number 0-26 or a name such as HOST_TRIGGERED, MEETING_ENDED`,
}).describe('Stop reason (spec §6): a number 0-26 or its name, e.g. HOST_TRIGGERED');

/** A dialogue line: its index (0 = first) in data/speech/transcript.json, its id ("01-alice"), or "random". */
const LineRef = z.union([z.number().int().min(0), z.string().min(1)], { error: 'expected a dialogue line: an index (0 = first), an id like "01-alice", or "random"' })
  .describe('A line of the built-in dialogue: index from 0, id like "01-alice" (the clip name), or "random" (seeded)');

export const SpeakSchema = z.strictObject({
  who: Id.describe('The participant who speaks'),
  line: LineRef.optional(),
  text: z.string().min(1).max(2000).optional()
    .describe('Free text: spoken by a synthetic "babble" voice (speech-like, unintelligible), transcript = this text'),
  language: z.number().int().min(-1).max(36).optional().describe('Transcript language (spec §6): 9 = English (default)'),
}).describe('Speech with aligned audio, transcript (spec §7) and active-speaker events (spec §4.3): a dialogue line (recorded clip) or free text');

export const DialogueSchema = z.strictObject({
  lines: z.array(LineRef).min(1).optional().describe('Only these lines (default: all, with their recorded timing)'),
  chat: z.boolean().default(true).describe("Also send the dialogue's chat lines"),
  cast: z.record(Id, Id).optional()
    .describe('Dialogue speaker → participant id (default: the participant whose voice is that speaker)'),
}).describe('The built-in dialogue, with its own timing, spoken by the participants with those voices');

export const ChatSchema = z.strictObject({
  from: Id.describe('The sender (a present participant)'),
  text: z.string().min(1).max(4096),
}).describe('A chat line (spec §7 msg 18)');

export const RepeatSchema = z.strictObject({
  every: Duration.describe('Period between occurrences'),
  times: z.number().int().min(1).max(100_000).optional().describe('How many occurrences (including the first)'),
  until: Duration.optional().describe('No occurrence after this time (from the scenario start)'),
}).describe('Repeat the step: every period, a number of times or until a time');

/** The step's action keys: exactly one per step. */
export const ACTIONS = [
  'join', 'leave', 'speak', 'dialogue', 'camera_on', 'camera_off', 'share_start', 'share_stop', 'chat',
  'pause', 'resume', 'stop', 'start_rtms', 'end', 'fault',
] as const;
export type ActionName = (typeof ACTIONS)[number];

export const StepSchema = z.strictObject({
  id: Id.optional().describe('Name other steps can refer to with `after`'),
  at: At.optional(),
  after: z.string().regex(/^[a-z][a-z0-9_-]*(\s*\+\s*\d+(\.\d+)?(ms|s|m|h))?$/, 'expected a step id, optionally with an offset: "hello" or "hello +2s"').optional()
    .describe('Start when that step ends (a speech when its audio ends), optionally "+2s" later'),
  jitter: Duration.optional().describe('A seeded random delay between 0 and this, added to each occurrence'),
  repeat: RepeatSchema.optional(),
  note: z.string().max(500).optional().describe('A comment, shown in the meeting log'),
  join: Who.optional().describe('Participants join (PARTICIPANT_JOIN, spec §4.3 event 3)'),
  leave: Who.optional().describe('Participants leave (PARTICIPANT_LEAVE, event 4)'),
  speak: SpeakSchema.optional(),
  dialogue: DialogueSchema.optional(),
  camera_on: Who.optional().describe('Cameras on (PARTICIPANT_VIDEO_ON, event 8; video frames follow, spec §8)'),
  camera_off: Who.optional().describe('Cameras off (PARTICIPANT_VIDEO_OFF, event 9)'),
  share_start: Id.optional().describe('A participant starts sharing (SHARING_START, event 5)'),
  share_stop: z.union([Id, z.literal(true)], { error: 'expected the sharer\'s id or true' }).optional().describe('The share stops (SHARING_STOP, event 6)'),
  chat: ChatSchema.optional(),
  pause: z.literal(true).optional().describe('The host pauses the stream (state PAUSED, spec §6)'),
  resume: z.literal(true).optional().describe('The host resumes it (RESUMED)'),
  stop: z.union([z.literal(true), z.strictObject({ reason: Reason })], { error: 'expected true or {"reason": …}' }).optional()
    .describe('The stream stops (default reason 1 HOST_TRIGGERED); the meeting goes on'),
  start_rtms: z.literal(true).optional().describe('A new RTMS stream starts (a new rtms_started) after a stop'),
  end: z.union([z.literal(true), z.strictObject({ reason: Reason.optional() })], { error: 'expected true or {"reason": …}' }).optional()
    .describe('The meeting ends (default reason 6 MEETING_ENDED)'),
  fault: FaultBody.optional().describe('Any fault of the fault module (GET /api/faults): {type, options?, once | every_ms | probability, delay_ms?, duration_ms?, count?}'),
}).describe('One step of the timeline: when (at / after) and exactly one action');
export type Step = z.output<typeof StepSchema>;

export const ParticipantSchema = z.strictObject({
  id: Id.describe('Used by the steps'),
  name: z.string().min(1).max(100).describe('user_name (spec §4.3, §7)'),
  user_id: z.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional().describe('Numeric user id (default 16778240 + 1024·index)'),
  voice: z.string().regex(new RegExp(ID_PATTERN)).default('babble')
    .describe('A speaker of the built-in dialogue (alice, bob, carol) or "babble"; free text is always babble at this voice\'s pitch'),
  pitch: z.number().min(60).max(400).optional().describe('Babble pitch in Hz (default by voice)'),
  joined: z.boolean().default(true).describe('In the meeting from the start (false: joins with a join step)'),
  camera: z.boolean().default(true).describe('Camera on from the start'),
  channel_id: z.number().int().min(0).max(65535).optional().describe('Contact Center: channel_id on this participant\'s audio and transcripts (spec §7); default 1'),
});
export type ParticipantSpec = z.output<typeof ParticipantSchema>;

export const ScenarioSchema = z.strictObject({
  $schema: z.string().optional(),
  name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'expected a name of lower-case letters, digits and -').max(80).optional()
    .describe('Library name (default: the file name)'),
  description: z.string().max(2000).optional(),
  product: z.enum(PRODUCTS as unknown as [string, ...string[]]).default('meeting').describe('meeting, webinar, session (Video SDK) or contact_center'),
  seed: z.number().int().min(0).max(4294967295).default(1).describe('Seed of every random choice (jitter, random lines, babble): same seed, same meeting'),
  speed: z.number().min(MIN_SPEED).max(MAX_SPEED).default(1)
    .describe('Time factor: the timeline, keep-alives, reconnection windows and webhook retries run this much faster'),
  start: z.enum(['ready', 'created']).default('ready')
    .describe('When the timeline clock starts: "ready" = when the app\'s stream becomes active (FIRST_PACKET_TIMESTAMP), "created" = at once'),
  duration: Duration.optional().describe('The meeting ends (reason 6) at this time unless a step ended it; default 2 s after the last step'),
  participants: z.array(ParticipantSchema).min(1).max(50),
  timeline: z.array(StepSchema).min(1).max(10_000),
}).describe('An rtms-mock scenario: a meeting, its participants and a timeline of steps');
export type ScenarioInput = z.input<typeof ScenarioSchema>;
export type ScenarioSpec = z.output<typeof ScenarioSchema>;

/** Parses "5s", "1500ms", "2m", "+2s" or a number of seconds into milliseconds. */
export function durationMs(v: string | number): number {
  if (typeof v === 'number') return Math.round(v * 1000);
  const m = /^\+?(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(v);
  if (!m) throw new Error(`bad duration ${v}`);
  const n = Number(m[1]);
  const unit = m[2] === 'ms' ? 1 : m[2] === 's' ? 1000 : m[2] === 'm' ? 60_000 : 3_600_000;
  return Math.round(n * unit);
}

/** The published JSON Schema (draft 2020-12) of the input format. */
export function scenarioJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(ScenarioSchema, { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' }) as Record<string, unknown>;
  return {
    $schema: schema.$schema,
    title: 'rtms-mock scenario',
    ...schema,
  };
}
