// Verdicts: did the app behave as Zoom's contract asks? Judged from what the mock recorded (app-behaviour.ts,
// per-connection counters, the webhook delivery log). Each check says passed or not and why, per stream and for
// the whole meeting. Checks that cannot fail yet (a window still open) pass with a "waiting" detail.
import { StopReason, nameOf } from '../protocol/enums.ts';
import type { AppBehaviour, Interruption } from './app-behaviour.ts';
import type { Meeting } from './meeting.ts';
import type { RtmsStream } from './stream.ts';
import type { MockOptions } from '../config/options.ts';
import { timingOf } from './timing.ts';

export interface VerdictCheck {
  name: string;
  passed: boolean;
  detail: string;
}

export interface StreamVerdict {
  rtms_stream_id: string;
  passed: boolean;
  checks: VerdictCheck[];
}

export interface Verdict {
  meeting_uuid: string;
  passed: boolean;
  checks: VerdictCheck[];
  streams: StreamVerdict[];
  /** The limits the checks used (documented in the README). */
  thresholds: { webhook_answer_ms: number; ready_ack_ms: number };
  evaluated_at: number;
}

/** The part of a webhook delivery record the verdict reads (src/webhooks/delivery.ts DeliveryRecord). */
export interface DeliveryLike {
  event: string;
  body: string;
  cancelled?: boolean;
  attempts: readonly { attempt: number; status?: number; error?: string; detail?: string; latencyMs: number }[];
}

/** What the verdict needs from the engine. */
export interface VerdictSource {
  options: MockOptions;
  behaviour: AppBehaviour;
}

/** Zoom's documented limit for answering a webhook (3 s), or the mock's own timeout if that is shorter. */
export const WEBHOOK_ANSWER_MS = 3000;

export const CHECK_NAMES = [
  'keep_alive_answered', 'client_ready_ack', 'reconnected_after_interruptions', 'no_reconnect_after_stop',
  'no_second_concurrent_stream', 'media_consumed', 'webhooks_answered',
] as const;

const reasonName = (r: number | null) => (r === null ? 'none' : `${r} ${nameOf(StopReason, r)}`);

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** Grace for CLIENT_READY_ACK after the data handshake: one keep-alive interval of the meeting, at least 1 s. */
export function readyAckGraceMs(src: VerdictSource, meeting: Meeting): number {
  return Math.max(1000, Math.round(timingOf(meeting, src.options).keepAliveMs));
}

export function streamVerdict(src: VerdictSource, stream: RtmsStream): StreamVerdict {
  const b = src.behaviour.of(stream);
  const now = Math.round(stream.meeting.scheduler.now());
  const checks: VerdictCheck[] = [];

  // 1. Keep-alives (spec §4.1): each msg 12 answered by msg 13 before the next one was due.
  {
    let sent = b.evicted.keepAliveSent;
    let answered = b.evicted.keepAliveAnswered;
    let late = b.evicted.keepAliveLate;
    let slowest = 0;
    const bad: string[] = [];
    for (const c of b.connections) {
      sent += c.keepAlive.sent;
      answered += c.keepAlive.answered;
      late += c.keepAlive.late;
      slowest = Math.max(slowest, c.keepAlive.maxLatencyMs);
      if (c.keepAlive.late > 0) bad.push(`${c.kind === 'media' ? `media /${(c as { path?: string }).path}` : 'signaling'} #${c.id}: ${c.keepAlive.late} of ${c.keepAlive.sent} late or unanswered`);
    }
    checks.push(late === 0
      ? { name: 'keep_alive_answered', passed: true, detail: sent === 0 ? 'no keep-alive requests yet' : `answered ${answered} of ${sent} keep-alive requests in time (slowest ${slowest} ms)` }
      : { name: 'keep_alive_answered', passed: false, detail: `${plural(late, 'keep-alive request')} not answered before the next was due (${bad.join('; ')})` });
  }

  // 2. CLIENT_READY_ACK (spec §3.4) after the data handshake(s) of every signaling handshake.
  {
    const grace = readyAckGraceMs(src, stream.meeting);
    const cycles = b.cycles.filter((c) => !c.seed && c.dataAt !== null);
    const missing: string[] = [];
    let slowest = 0;
    for (const c of cycles) {
      if (c.readyAt !== null) { slowest = Math.max(slowest, c.readyAt - c.dataAt!); continue; }
      const over = c.superseded || stream.phase === 'stopped' || now - c.dataAt! > grace;
      if (over) missing.push(`no CLIENT_READY_ACK after the data handshake at +${c.dataAt! - stream.startedAt} ms (signaling #${c.conn})`);
    }
    const waiting = cycles.some((c) => c.readyAt === null) && missing.length === 0;
    checks.push(missing.length === 0
      ? { name: 'client_ready_ack', passed: true, detail: cycles.length === 0 ? 'no completed data handshake yet' : waiting ? 'waiting for CLIENT_READY_ACK (within the grace period)' : `sent after each of ${plural(cycles.length, 'handshake')} (at most ${slowest} ms after the data handshake)` }
      : { name: 'client_ready_ack', passed: false, detail: missing.join('; ') });
  }

  // 3. Reconnection within the window after every interruption that calls for it (spec §4.1, §9 failover).
  {
    const describe = (i: Interruption) => `${i.kind} (${i.cause})`;
    const expired = b.interruptions.filter((i) => i.outcome === 'expired');
    const done = b.interruptions.filter((i) => i.outcome === 'reconnected');
    const pending = b.interruptions.filter((i) => i.outcome === 'pending');
    let detail: string;
    if (b.interruptions.length === 0) detail = 'no interruptions';
    else if (expired.length) detail = expired.map((i) => `${describe(i)}: not reconnected within the ${i.windowMs} ms window`).join('; ');
    else {
      detail = `${plural(b.interruptions.length, 'interruption')}: ${b.interruptions.map((i) => i.outcome === 'reconnected'
        ? `${describe(i)} reconnected in ${i.reconnectedAt! - i.at} ms of ${i.windowMs}${i.resumedAt !== null ? ', media resumed' : ''}`
        : i.outcome === 'pending' ? `${describe(i)} window open` : `${describe(i)} ended by a stop`).join('; ')}`;
    }
    checks.push({ name: 'reconnected_after_interruptions', passed: expired.length === 0, detail: pending.length && !expired.length && !done.length ? `${detail} (waiting)` : detail });
  }

  // 4. No reconnection after a normal stop (spec §6: a stopped stream is over).
  {
    const n = b.lateHandshakes.length;
    checks.push(n === 0
      ? { name: 'no_reconnect_after_stop', passed: true, detail: b.stoppedAt === null ? 'stream not stopped' : `stopped (reason ${reasonName(b.stopReason)}); no handshake afterwards` }
      : { name: 'no_reconnect_after_stop', passed: false, detail: `${plural(n, 'handshake')} (${[...new Set(b.lateHandshakes.map((h) => h.socket))].join(', ')}) after the stream stopped with reason ${reasonName(b.stopReason)}: the app must not reconnect after a stop` });
  }

  // 5. One connection set at a time: a duplicate rtms_started (retry or failover, spec §9) must not open a second one.
  {
    const d = b.duplicateHandshakes;
    checks.push(d.length === 0
      ? { name: 'no_second_concurrent_stream', passed: true, detail: 'never opened a second concurrent connection for the stream' }
      : { name: 'no_second_concurrent_stream', passed: false, detail: `${plural(d.length, 'second concurrent handshake')} refused (${d.map((h) => `${h.socket} status ${h.status}`).join(', ')}): act on rtms_started once per stream` });
  }

  // 6. Slow consumer: media the mock dropped because the app did not read (send buffer above the bound).
  {
    let dropped = b.evicted.dropped;
    let bytes = b.evicted.droppedBytes;
    let peak = 0;
    for (const c of b.connections) {
      if (c.kind !== 'media') continue;
      dropped += c.counters.dropped;
      bytes += c.counters.droppedBytes;
      peak = Math.max(peak, c.bufferedHighWater);
    }
    checks.push(dropped === 0
      ? { name: 'media_consumed', passed: true, detail: `no media dropped (send buffer peaked at ${peak} bytes)` }
      : { name: 'media_consumed', passed: false, detail: `${plural(dropped, 'media message')} (${bytes} bytes) dropped because the app read too slowly (more than ${src.options.maxBufferedBytes} bytes queued on its socket)` });
  }

  return { rtms_stream_id: stream.id, passed: checks.every((c) => c.passed), checks };
}

/** The meeting's verdict: every stream's checks combined, plus how its webhooks were answered. */
export function meetingVerdict(src: VerdictSource, meeting: Meeting, deliveries: readonly DeliveryLike[]): Verdict {
  const streams = meeting.streams.map((s) => streamVerdict(src, s));
  const checks: VerdictCheck[] = [];
  for (const name of CHECK_NAMES) {
    if (name === 'webhooks_answered') continue;
    const per = streams.map((v) => ({ id: v.rtms_stream_id, c: v.checks.find((c) => c.name === name)! }));
    const failed = per.filter((p) => !p.c.passed);
    if (per.length === 0) checks.push({ name, passed: true, detail: 'no RTMS stream yet' });
    else if (per.length === 1) checks.push({ ...per[0]!.c });
    else if (failed.length) checks.push({ name, passed: false, detail: failed.map((p) => `stream ${p.id.slice(0, 8)}: ${p.c.detail}`).join(' | ') });
    else checks.push({ name, passed: true, detail: per.map((p) => `stream ${p.id.slice(0, 8)}: ${p.c.detail}`).join(' | ') });
  }

  // Webhooks (spec §9): every attempt answered 2xx within the limit (Zoom retries the others).
  const limit = Math.min(WEBHOOK_ANSWER_MS, src.options.webhookTimeoutMs);
  let attempts = 0;
  let slowest = 0;
  const bad: string[] = [];
  for (const d of deliveries) {
    for (const a of d.attempts) {
      if (a.error === 'cancelled') continue;
      attempts++;
      slowest = Math.max(slowest, a.latencyMs);
      const ok = a.status !== undefined && a.status >= 200 && a.status < 300 && a.latencyMs <= limit;
      if (!ok) bad.push(`${d.event} attempt ${a.attempt}: ${a.status !== undefined ? `HTTP ${a.status} in ${Math.round(a.latencyMs)} ms` : a.detail ?? a.error ?? 'no answer'}`);
    }
  }
  checks.push(bad.length === 0
    ? { name: 'webhooks_answered', passed: true, detail: attempts === 0 ? 'no webhook sent yet' : `${plural(attempts, 'webhook attempt')} answered 2xx, slowest ${Math.round(slowest)} ms (limit ${limit} ms)` }
    : { name: 'webhooks_answered', passed: false, detail: `${bad.length} of ${plural(attempts, 'attempt')} not answered 2xx within ${limit} ms: ${bad.slice(0, 5).join('; ')}${bad.length > 5 ? '; …' : ''}` });

  return {
    meeting_uuid: meeting.uuid,
    passed: checks.every((c) => c.passed),
    checks,
    streams,
    thresholds: { webhook_answer_ms: limit, ready_ack_ms: readyAckGraceMs(src, meeting) },
    evaluated_at: Math.round(meeting.scheduler.now()),
  };
}
