// Signed webhook delivery with retries (spec §9): the mock POSTs events to the app's webhook URL, retries an
// endpoint that does not answer 2xx in time, and keeps a bounded log the web inspector and log lines read.

import { signWebhook } from './signature.ts';
import { parseWebhookUrl } from './webhook-url.ts';

/** The subset of `fetch` we use; injectable so tests and the sandbox can substitute it. */
export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

/** Why an attempt did not count as delivered. `cancelled` only happens when the dispatcher is closed. */
export type AttemptErrorKind = 'timeout' | 'unreachable' | 'cancelled' | `http_${number}`;

export interface DeliveryAttempt {
  /** 1-based attempt number within its record. */
  attempt: number;
  /** When the request was sent (ms epoch, from the injected clock). */
  sentAt: number;
  /** HTTP status, when a response arrived. */
  status?: number;
  /** Absent when the app answered 2xx. */
  error?: AttemptErrorKind;
  /** Human-readable cause: the network error, "timeout after N ms", "HTTP 500". */
  detail?: string;
  latencyMs: number;
  /** `x-zm-request-timestamp` sent with this attempt (epoch seconds). */
  timestampHeader: string;
  /** `x-zm-signature` sent with this attempt. */
  signatureHeader: string;
  /** First ≤ 200 characters of the response body. */
  responseSnippet: string;
  /** A 2xx that the `webhook_retry` fault disregarded: the same bytes were sent again (spec §9). */
  forcedRetry?: boolean;
}

export type DeliveryOutcome = 'delivered' | 'failed' | 'pending';

export interface DeliveryRecord {
  id: string;
  url: string;
  event: string;
  meetingKey?: string;
  tag?: string;
  /** The exact bytes sent on every attempt. */
  body: string;
  /** `event_ts` inside the body (ms epoch). */
  eventTs: number;
  attempts: DeliveryAttempt[];
  outcome: DeliveryOutcome;
  createdAt: number;
  finishedAt?: number;
  /** Set on the second copy sent by the `duplicate` fault: id of the record it repeats. */
  duplicateOf?: string;
  /** True when close() stopped the delivery before it finished. */
  cancelled?: boolean;
}

export type DeliveryEventType = 'queued' | 'attempt' | 'retry_scheduled' | 'delivered' | 'failed';

/** What listeners receive. `record` is a snapshot: later changes do not show through it. */
export interface DeliveryEvent {
  type: DeliveryEventType;
  record: DeliveryRecord;
  /** The attempt just made (type "attempt"). */
  attempt?: DeliveryAttempt;
  /** Delay before the next attempt (type "retry_scheduled"). */
  retryInMs?: number;
}

export type DeliveryListener = (event: DeliveryEvent) => void;

export interface WebhookDispatcherOptions {
  secretToken: string;
  /** Per-attempt timeout, ms. Default 5000. */
  timeoutMs?: number;
  /** Attempts per delivery, first one included. Default 4. */
  maxAttempts?: number;
  /** Delay before the first retry, ms; doubles on each retry. Default 1000. */
  backoffMs?: number;
  /** Upper bound of a retry delay, ms. Default 30000. */
  maxBackoffMs?: number;
  /** Extra random delay, as a fraction of the backoff (0.1 = up to +10%). Default 0.1. */
  jitter?: number;
  /** Records kept in the log (oldest dropped first). Default 500. */
  logLimit?: number;
  fetch?: FetchLike;
  /** Clock for event_ts, the timestamp header and record times (ms epoch). Default Date.now. */
  now?: () => number;
  /** Random source for jitter, in [0, 1). Default Math.random. */
  random?: () => number;
  onEvent?: DeliveryListener;
}

export interface DeliverMeta {
  meetingKey?: string;
  tag?: string;
}

/** Per-call fault switches (spec §9 "faults worth reproducing"). */
export interface DeliverOptions {
  /** Send the same delivery (same bytes) a second time once the first has finished. */
  duplicate?: boolean;
  /** Wait this long before the first attempt (event_ts stays the time of the event). */
  delayMs?: number;
  /** Send the same bytes again this many times even after a 2xx, as a retry of the same record (fault). */
  forceRetries?: number;
  /** Backoff before the first retry for this delivery (a meeting's speed factor divides the default). */
  backoffMs?: number;
}

const SNIPPET_CHARS = 200;
const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024;

export interface SignedPostOptions {
  url: string;
  /** Exact body bytes; signed as is. */
  body: string;
  secretToken: string;
  timeoutMs: number;
  fetch?: FetchLike;
  now?: () => number;
  /** Aborting it cancels the attempt (error "cancelled"). */
  signal?: AbortSignal;
  /** Response bytes read at most (the rest is discarded). Default 64 KiB. */
  maxResponseBytes?: number;
}

export interface SignedPostResult {
  /** True when a 2xx arrived. */
  ok: boolean;
  sentAt: number;
  status?: number;
  error?: AttemptErrorKind;
  detail?: string;
  latencyMs: number;
  timestampHeader: string;
  signatureHeader: string;
  /** Response body, up to maxResponseBytes. */
  responseText: string;
}

/** Backoff before retry number `retry` (1 = first retry): base·2^(retry-1), plus jitter, never above cap. */
export function computeBackoff(retry: number, baseMs: number, capMs: number, jitter: number, random: () => number): number {
  const raw = Math.min(capMs, baseMs * 2 ** Math.max(0, retry - 1));
  // Jitter only adds, so a retry never comes earlier than the documented backoff.
  return Math.min(capMs, raw + raw * jitter * random());
}

function describeError(err: unknown): string {
  const pick = (e: unknown): string | undefined => {
    if (!(e instanceof Error)) return e === undefined ? undefined : String(e);
    const code = (e as { code?: unknown }).code;
    const msg = e.message;
    if (typeof code === 'string' && code !== '' && !msg.includes(code)) return `${code}: ${msg}`;
    return msg;
  };
  // Node/undici wraps the socket error as `cause` of a generic "fetch failed".
  const cause = err instanceof Error ? pick(err.cause) : undefined;
  return cause ?? pick(err) ?? 'unknown error';
}

/** Reads at most `maxBytes` of the body; gives up (keeping what it has) when `signal` aborts. */
async function readCapped(res: Response, maxBytes: number, signal: AbortSignal): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<'aborted'>((resolve) => {
    onAbort = () => resolve('aborted');
    if (signal.aborted) resolve('aborted');
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    while (total < maxBytes) {
      // Race the read against the abort so a body that stalls cannot outlive the attempt timeout.
      const r = await Promise.race([reader.read(), aborted]);
      if (r === 'aborted' || r.done) break;
      chunks.push(r.value);
      total += r.value.byteLength;
    }
  } catch {
    // Body cut short (abort, reset): keep what arrived.
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
    reader.cancel().catch(() => {});
  }
  const all = new Uint8Array(Math.min(total, maxBytes));
  let off = 0;
  for (const c of chunks) {
    const part = c.subarray(0, all.length - off);
    all.set(part, off);
    off += part.length;
    if (off >= all.length) break;
  }
  return new TextDecoder().decode(all);
}

/**
 * One signed POST of `body` (spec §9): stamps `x-zm-request-timestamp` with the current second and signs the
 * exact bytes with it. Never throws; the result says what happened.
 */
export async function postSignedWebhook(o: SignedPostOptions): Promise<SignedPostResult> {
  const doFetch: FetchLike = o.fetch ?? ((u, init) => fetch(u, init));
  const sentAt = (o.now ?? Date.now)();
  const timestampHeader = String(Math.floor(sentAt / 1000));
  const signatureHeader = signWebhook(o.secretToken, timestampHeader, o.body);
  const base = { sentAt, timestampHeader, signatureHeader };

  if (o.signal?.aborted) {
    return { ...base, ok: false, error: 'cancelled', detail: 'dispatcher closed', latencyMs: 0, responseText: '' };
  }

  const timeoutReason = new Error('timeout');
  const ctl = new AbortController();
  const onOuterAbort = () => ctl.abort(new Error('cancelled'));
  o.signal?.addEventListener('abort', onOuterAbort, { once: true });
  const timer = setTimeout(() => ctl.abort(timeoutReason), o.timeoutMs);
  const t0 = performance.now();
  const elapsed = () => Math.round((performance.now() - t0) * 10) / 10;

  try {
    let res: Response;
    try {
      res = await doFetch(o.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-zm-request-timestamp': timestampHeader,
          'x-zm-signature': signatureHeader,
          'user-agent': 'rtms-mock',
        },
        body: o.body,
        signal: ctl.signal,
        // A redirect is not a 2xx: report it rather than silently following it.
        redirect: 'manual',
      });
    } catch (err) {
      const latencyMs = elapsed();
      if (ctl.signal.aborted) {
        return ctl.signal.reason === timeoutReason
          ? { ...base, ok: false, error: 'timeout', detail: `timeout after ${o.timeoutMs} ms`, latencyMs, responseText: '' }
          : { ...base, ok: false, error: 'cancelled', detail: 'dispatcher closed', latencyMs, responseText: '' };
      }
      return { ...base, ok: false, error: 'unreachable', detail: describeError(err), latencyMs, responseText: '' };
    }
    const responseText = await readCapped(res, o.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES, ctl.signal);
    const latencyMs = elapsed();
    const ok = res.status >= 200 && res.status < 300;
    return ok
      ? { ...base, ok, status: res.status, latencyMs, responseText }
      : { ...base, ok, status: res.status, error: `http_${res.status}`, detail: `HTTP ${res.status}`, latencyMs, responseText };
  } finally {
    clearTimeout(timer);
    o.signal?.removeEventListener('abort', onOuterAbort);
  }
}

function snapshot(r: DeliveryRecord): DeliveryRecord {
  return { ...r, attempts: r.attempts.map((a) => ({ ...a })) };
}

function numberAtLeast(name: string, v: number | undefined, dflt: number, min: number): number {
  if (v === undefined) return dflt;
  if (!Number.isFinite(v) || v < min) throw new RangeError(`WebhookDispatcher: ${name} must be a number ≥ ${min}, got ${v}`);
  return v;
}

export class WebhookDispatcher {
  // Private (#) so the secret never shows up in JSON.stringify, inspect output or the log.
  readonly #secret: string;
  readonly #timeoutMs: number;
  readonly #maxAttempts: number;
  readonly #backoffMs: number;
  readonly #maxBackoffMs: number;
  readonly #jitter: number;
  readonly #logLimit: number;
  readonly #fetch: FetchLike;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #listeners = new Set<DeliveryListener>();
  readonly #log: DeliveryRecord[] = [];
  readonly #pending = new Set<DeliveryRecord>();
  readonly #running = new Set<Promise<unknown>>();
  readonly #closer = new AbortController();
  #seq = 0;

  constructor(opts: WebhookDispatcherOptions) {
    if (typeof opts.secretToken !== 'string' || opts.secretToken === '') {
      throw new TypeError('WebhookDispatcher: secretToken must be a non-empty string (the app\'s webhook secret token)');
    }
    this.#secret = opts.secretToken;
    this.#timeoutMs = numberAtLeast('timeoutMs', opts.timeoutMs, 5000, 1);
    this.#maxAttempts = Math.floor(numberAtLeast('maxAttempts', opts.maxAttempts, 4, 1));
    this.#backoffMs = numberAtLeast('backoffMs', opts.backoffMs, 1000, 0);
    this.#maxBackoffMs = numberAtLeast('maxBackoffMs', opts.maxBackoffMs, 30_000, 0);
    this.#jitter = numberAtLeast('jitter', opts.jitter, 0.1, 0);
    this.#logLimit = Math.floor(numberAtLeast('logLimit', opts.logLimit, 500, 1));
    this.#fetch = opts.fetch ?? ((u, init) => fetch(u, init));
    this.#now = opts.now ?? Date.now;
    this.#random = opts.random ?? Math.random;
    if (opts.onEvent) this.#listeners.add(opts.onEvent);
  }

  /** Adds a listener (inspector, log lines); returns a function that removes it. */
  subscribe(listener: DeliveryListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Delivers `event` with `payload` to `url`, retrying as configured. Resolves with the final record (after the
   * duplicate too, when asked). Rejects only when `url` is not a usable http(s) URL (WebhookUrlError).
   */
  async deliver(
    url: string | URL,
    event: string,
    payload: object,
    meta: DeliverMeta = {},
    opts: DeliverOptions = {},
  ): Promise<DeliveryRecord> {
    const target = parseWebhookUrl(typeof url === 'string' ? url : url.href).href;
    const eventTs = this.#now();
    // Serialised once: every retry and the duplicate send these exact bytes, as Zoom's retries do (spec §9).
    const body = JSON.stringify({ event, event_ts: eventTs, payload });
    const primary = this.#newRecord(target, event, body, eventTs, meta);

    const run = (async () => {
      if (opts.delayMs !== undefined && opts.delayMs > 0 && !(await this.#sleep(opts.delayMs))) {
        this.#finish(primary, 'failed', true);
        return;
      }
      await this.#attemptAll(primary, opts);
      if (opts.duplicate) {
        // The duplicate fault (spec §9): the app sees the same event_ts and payload twice.
        const dup = this.#newRecord(target, event, body, eventTs, meta, primary.id);
        await this.#attemptAll(dup, { backoffMs: opts.backoffMs });
      }
    })();
    this.#running.add(run);
    try {
      await run;
    } finally {
      this.#running.delete(run);
    }
    return snapshot(primary);
  }

  /** All kept records, oldest first (snapshots). */
  log(): DeliveryRecord[] {
    return this.#log.map(snapshot);
  }

  logFor(meetingKey: string): DeliveryRecord[] {
    return this.#log.filter((r) => r.meetingKey === meetingKey).map(snapshot);
  }

  get(id: string): DeliveryRecord | undefined {
    const r = this.#log.find((x) => x.id === id);
    return r && snapshot(r);
  }

  /** Deliveries not finished yet (in flight, waiting for a retry or for their delay). */
  pendingCount(): number {
    return this.#pending.size;
  }

  get closed(): boolean {
    return this.#closer.signal.aborted;
  }

  /** Cancels in-flight attempts and pending retries; resolves once every deliver() call has settled. */
  async close(): Promise<void> {
    if (!this.#closer.signal.aborted) this.#closer.abort();
    await Promise.allSettled([...this.#running]);
  }

  #newRecord(url: string, event: string, body: string, eventTs: number, meta: DeliverMeta, duplicateOf?: string): DeliveryRecord {
    const r: DeliveryRecord = {
      id: `wh_${++this.#seq}`,
      url,
      event,
      body,
      eventTs,
      attempts: [],
      outcome: 'pending',
      createdAt: this.#now(),
    };
    if (meta.meetingKey !== undefined) r.meetingKey = meta.meetingKey;
    if (meta.tag !== undefined) r.tag = meta.tag;
    if (duplicateOf !== undefined) r.duplicateOf = duplicateOf;
    this.#log.push(r);
    // Bounded: a long-running sandbox must not grow without limit.
    while (this.#log.length > this.#logLimit) this.#log.shift();
    this.#pending.add(r);
    this.#emit({ type: 'queued', record: snapshot(r) });
    return r;
  }

  async #attemptAll(r: DeliveryRecord, o: DeliverOptions = {}): Promise<void> {
    let forced = Math.max(0, Math.floor(o.forceRetries ?? 0));
    const backoff = o.backoffMs ?? this.#backoffMs;
    let failures = 0;
    for (let n = 1; ; n++) {
      if (this.closed) return this.#finish(r, 'failed', true);
      const res = await postSignedWebhook({
        url: r.url,
        body: r.body,
        secretToken: this.#secret,
        timeoutMs: this.#timeoutMs,
        fetch: this.#fetch,
        now: this.#now,
        signal: this.#closer.signal,
      });
      const a: DeliveryAttempt = {
        attempt: n,
        sentAt: res.sentAt,
        latencyMs: res.latencyMs,
        timestampHeader: res.timestampHeader,
        signatureHeader: res.signatureHeader,
        responseSnippet: res.responseText.slice(0, SNIPPET_CHARS),
      };
      if (res.status !== undefined) a.status = res.status;
      if (res.error !== undefined) a.error = res.error;
      if (res.detail !== undefined) a.detail = res.detail;
      if (res.ok && forced > 0) a.forcedRetry = true;
      r.attempts.push(a);
      this.#emit({ type: 'attempt', record: snapshot(r), attempt: { ...a } });

      if (res.ok && forced === 0) return this.#finish(r, 'delivered', false);
      if (res.error === 'cancelled') return this.#finish(r, 'failed', true);
      // Not 2xx in time → retried (spec §9); the app will see the same bytes again. Forced retries do not count.
      if (res.ok) forced--;
      else if (++failures >= this.#maxAttempts) break;
      const wait = computeBackoff(n, backoff, this.#maxBackoffMs, this.#jitter, this.#random);
      this.#emit({ type: 'retry_scheduled', record: snapshot(r), retryInMs: Math.round(wait) });
      if (!(await this.#sleep(wait))) return this.#finish(r, 'failed', true);
    }
    this.#finish(r, 'failed', false);
  }

  #finish(r: DeliveryRecord, outcome: 'delivered' | 'failed', cancelled: boolean): void {
    r.outcome = outcome;
    r.finishedAt = this.#now();
    if (cancelled) r.cancelled = true;
    this.#pending.delete(r);
    this.#emit({ type: outcome, record: snapshot(r) });
  }

  /** Resolves true after `ms`, or false as soon as the dispatcher is closed. */
  #sleep(ms: number): Promise<boolean> {
    const sig = this.#closer.signal;
    if (sig.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const onAbort = () => {
        clearTimeout(t);
        resolve(false);
      };
      const t = setTimeout(() => {
        sig.removeEventListener('abort', onAbort);
        resolve(true);
      }, ms);
      sig.addEventListener('abort', onAbort, { once: true });
    });
  }

  #emit(e: DeliveryEvent): void {
    for (const l of this.#listeners) {
      try {
        l(e);
      } catch {
        // A failing listener (inspector, logger) must not break delivery.
      }
    }
  }
}
