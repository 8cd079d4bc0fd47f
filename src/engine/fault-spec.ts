// The faults the mock can inject into a meeting (spec §4.1, §9 "faults worth reproducing", §6 stop reasons) and
// how they are scheduled: zod schemas shared by the control API (POST /api/meetings/{uuid}/faults) and any
// programmatic caller (a scenario runner), so both get the same validation and the same error messages.
import { z } from 'zod';
import { MEDIA_PATHS } from './socket.ts';

/** Which sockets a connection-level fault touches. */
const Sockets = z.enum(['signaling', 'media', 'both']);
/** Which webhook a webhook fault waits for (spec §9: `<product>.rtms_started` / `_stopped` / `_interrupted`). */
const WebhookEvent = z.enum(['started', 'stopped', 'interrupted', 'any']).default('any');

/** Options per fault type. Every field is optional; the defaults are the documented ones. */
export const FAULT_OPTIONS = {
  /** Close the signaling socket: rtms_interrupted, INTERRUPTED, signaling window (spec §4.1), then stop 19. */
  drop_signaling: z.strictObject({
    code: z.number().int().min(1000).max(4999).refine((c) => c !== 1005 && c !== 1006 && c !== 1015, 'reserved close code').default(1001)
      .describe('WebSocket close code the app sees (default 1001 going away)'),
  }),
  /** Close one media socket: event 7 and state 2/14 on signaling, media window (spec §4.1), then stop 19. */
  drop_media: z.strictObject({
    path: z.enum(MEDIA_PATHS as unknown as [string, ...string[]]).optional().describe('Which media socket (default the first one)'),
    code: z.number().int().min(1000).max(4999).refine((c) => c !== 1005 && c !== 1006 && c !== 1015, 'reserved close code').default(1001),
  }),
  /** Server failover: the old sockets close and a new rtms_started arrives; the app redoes both handshakes (§9). */
  duplicate_started: z.strictObject({}),
  /** The mock stops sending KEEP_ALIVE_REQ (msg 12) on the chosen sockets. */
  keepalive_stop: z.strictObject({ sockets: Sockets.default('both') }),
  /** The mock stops honouring KEEP_ALIVE_RESP (msg 13): three misses drop the socket, stop reason 24 (§4.1). */
  keepalive_ignore: z.strictObject({ sockets: Sockets.default('signaling') }),
  /** Delay a webhook before its first attempt. */
  webhook_delay: z.strictObject({ event: WebhookEvent, delay_ms: z.number().int().min(1).max(60_000).default(2000) }),
  /** Send the same bytes again as a retry although the app answered 2xx (Zoom retries, spec §9). */
  webhook_retry: z.strictObject({ event: WebhookEvent, retries: z.number().int().min(1).max(5).default(1) }),
  /** Deliver a webhook twice (a second delivery of the identical body). */
  webhook_duplicate: z.strictObject({ event: WebhookEvent }),
  /** Hold a webhook until the meeting's next webhook has been delivered (or hold_ms passed): out of order. */
  webhook_reorder: z.strictObject({ event: WebhookEvent, hold_ms: z.number().int().min(1).max(60_000).default(5000) }),
  /** The same UTF-8 JSON in binary frames (spec §1). */
  binary_frames: z.strictObject({ sockets: Sockets.default('both') }),
  /** Unknown fields added to every message (top level and inside `content` / `event`). */
  extra_fields: z.strictObject({ sockets: Sockets.default('both') }),
  /** Media sent late by a random 0..max_ms (order kept; timestamps stay on the grid, spec §8). */
  media_jitter: z.strictObject({ max_ms: z.number().int().min(1).max(1000).default(100) }),
  /** Media held for hold_ms, then sent all at once (timestamps stay on the grid). */
  media_burst: z.strictObject({ hold_ms: z.number().int().min(10).max(5000).default(1000) }),
  /** The host stops the app: stop reason 1 HOST_TRIGGERED by default (5 HOST_DISABLED_APP, 23, … spec §6). */
  host_stop: z.strictObject({ reason: z.number().int().min(0).max(26).default(1) }),
  /** The meeting ends: stop reason 6 MEETING_ENDED, rtms_stopped (spec §6). */
  meeting_end: z.strictObject({}),
  /** The app's authorisation is revoked: stop reason 18 AUTHENTICATION_FAILURE (spec §6). */
  auth_failure: z.strictObject({}),
} as const;

export type FaultType = keyof typeof FAULT_OPTIONS;
export const FAULT_TYPES = Object.keys(FAULT_OPTIONS) as FaultType[];
export type FaultOptions<T extends FaultType = FaultType> = z.output<(typeof FAULT_OPTIONS)[T]>;

/**
 * Fault classes decide what "once", "every_ms" and "probability" mean:
 * - action: a thing that happens (once: now or after delay_ms; every_ms: repeatedly; probability: at each
 *   opportunity = every keep-alive interval of the meeting);
 * - terminal: an action that ends the stream (once only);
 * - webhook: applies to the next matching webhook(s) (once: one; count: that many; probability: each one);
 * - mode: a state that lasts duration_ms (default: until cleared); every_ms switches it on for duration_ms every
 *   period; probability applies per message / keep-alive while it is on.
 */
export type FaultClass = 'action' | 'terminal' | 'webhook' | 'mode';
export const FAULT_CLASS: Record<FaultType, FaultClass> = {
  drop_signaling: 'action', drop_media: 'action', duplicate_started: 'action',
  host_stop: 'terminal', meeting_end: 'terminal', auth_failure: 'terminal',
  webhook_delay: 'webhook', webhook_retry: 'webhook', webhook_duplicate: 'webhook', webhook_reorder: 'webhook',
  keepalive_stop: 'mode', keepalive_ignore: 'mode', binary_frames: 'mode', extra_fields: 'mode', media_jitter: 'mode', media_burst: 'mode',
};

/** The request body: `{"type", "options"?, "once"? | "every_ms"? | "probability"?, "delay_ms"?, "duration_ms"?, "count"?}`. */
export const FaultBody = z.strictObject({
  type: z.enum(FAULT_TYPES as [FaultType, ...FaultType[]]).describe(`One of: ${FAULT_TYPES.join(', ')}`),
  options: z.record(z.string(), z.unknown()).optional().describe('Type-specific options (see the README)'),
  once: z.boolean().optional().describe('Default schedule: one activation'),
  every_ms: z.number().int().min(10).max(3_600_000).optional().describe('Activate periodically (not for terminal or webhook faults)'),
  probability: z.number().gt(0).max(1).optional().describe('Chance per opportunity (webhook, message, keep-alive or keep-alive interval)'),
  delay_ms: z.number().int().min(0).max(3_600_000).optional().describe('Wait before the first activation'),
  duration_ms: z.number().int().min(1).max(3_600_000).optional().describe('Mode faults: how long each activation lasts'),
  count: z.number().int().min(1).max(100_000).optional().describe('Stop after this many activations (webhook faults: webhooks affected)'),
}).describe('Inject a fault into a meeting');
export type FaultBody = z.input<typeof FaultBody>;

export type ScheduleMode = 'once' | 'every' | 'probability';

/** A validated, normalised fault request. */
export interface FaultSpec {
  type: FaultType;
  cls: FaultClass;
  options: Record<string, unknown>;
  mode: ScheduleMode;
  everyMs: number | null;
  probability: number | null;
  delayMs: number;
  durationMs: number | null;
  /** Activations before the fault is done (null = unlimited). */
  count: number | null;
}

export class FaultSpecError extends Error {}

function firstIssue(e: z.ZodError, prefix: string): string {
  const i = e.issues[0]!;
  return `${[prefix, ...i.path.map(String)].filter(Boolean).join('.')}: ${i.message}`;
}

/** Validates and normalises a fault request; throws FaultSpecError with a message that says what is wrong. */
export function parseFault(input: unknown): FaultSpec {
  const r = FaultBody.safeParse(input);
  if (!r.success) throw new FaultSpecError(firstIssue(r.error, ''));
  const b = r.data;
  const cls = FAULT_CLASS[b.type];
  const o = FAULT_OPTIONS[b.type].safeParse(b.options ?? {});
  if (!o.success) throw new FaultSpecError(firstIssue(o.error, 'options'));
  const picked = [b.once === true, b.every_ms !== undefined, b.probability !== undefined].filter(Boolean).length;
  if (picked > 1) throw new FaultSpecError('choose one schedule: "once", "every_ms" or "probability"');
  if (b.once === false && picked === 0) throw new FaultSpecError('"once": false needs "every_ms" or "probability" instead');
  const mode: ScheduleMode = b.every_ms !== undefined ? 'every' : b.probability !== undefined ? 'probability' : 'once';
  if (cls === 'terminal' && mode !== 'once') throw new FaultSpecError(`${b.type} ends the stream: it can only happen once (use delay_ms to schedule it)`);
  if (cls === 'webhook' && mode === 'every') throw new FaultSpecError(`${b.type} applies per webhook: use "once" (the next one), "count" or "probability"`);
  if (b.duration_ms !== undefined && cls !== 'mode') throw new FaultSpecError(`duration_ms only applies to mode faults (${FAULT_TYPES.filter((t) => FAULT_CLASS[t] === 'mode').join(', ')})`);
  if (mode === 'every' && cls === 'mode' && b.duration_ms !== undefined && b.duration_ms >= b.every_ms!) {
    throw new FaultSpecError('duration_ms must be shorter than every_ms');
  }
  let count: number | null = b.count ?? null;
  if (count === null && mode === 'once' && cls !== 'mode') count = 1;
  if (cls === 'terminal') count = 1;
  return {
    type: b.type,
    cls,
    options: o.data as Record<string, unknown>,
    mode,
    everyMs: b.every_ms ?? null,
    probability: b.probability ?? null,
    delayMs: b.delay_ms ?? 0,
    durationMs: b.duration_ms ?? (mode === 'every' && cls === 'mode' ? Math.max(1, Math.floor(b.every_ms! / 2)) : null),
    count,
  };
}
