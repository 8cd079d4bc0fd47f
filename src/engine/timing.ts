// Protocol time per meeting: keep-alive interval, reconnection windows and webhook retry backoff (spec §4.1,
// §9), divided by the meeting's `speed` so tests and scenarios can run a 60 s window in 6 s (speed 10).
// Media cadence (spec §8) and the app's own latencies are real time and never scaled.
import type { MockOptions } from '../config/options.ts';

/** Bounds of the speed factor accepted by the API (1 = real protocol time). */
export const MIN_SPEED = 0.01;
export const MAX_SPEED = 1000;
/** No scaled interval goes below this (a keep-alive every 0.1 ms would only measure the event loop). */
const FLOOR_MS = 5;

export interface ProtocolTiming {
  speed: number;
  /** Keep-alive request interval on every socket (spec §4.1: 10 s by default). */
  keepAliveMs: number;
  /** Unanswered keep-alives in a row before the socket is dropped (spec §4.1: three; not scaled). */
  keepAliveMisses: number;
  /** Window to redo both handshakes after a signaling loss (spec §4.1: 60 s). */
  signalingWindowMs: number;
  /** Window to redo the data handshake after a media loss (spec §4.1: 30 s). */
  mediaWindowMs: number;
  /** First webhook retry delay, doubling per retry (spec §9). */
  webhookBackoffMs: number;
}

/** Anything with a speed factor (a Meeting). */
export interface HasSpeed {
  speed?: number;
}

export function scaled(ms: number, speed: number): number {
  return Math.max(FLOOR_MS, ms / speed);
}

export function timingOf(meeting: HasSpeed | null | undefined, options: MockOptions): ProtocolTiming {
  const speed = meeting?.speed && meeting.speed > 0 ? meeting.speed : 1;
  return {
    speed,
    keepAliveMs: scaled(options.keepAliveMs, speed),
    keepAliveMisses: options.keepAliveMisses,
    signalingWindowMs: scaled(options.signalingWindowMs, speed),
    mediaWindowMs: scaled(options.mediaWindowMs, speed),
    webhookBackoffMs: options.webhookBackoffMs / speed,
  };
}
