// Fault injection per meeting: the failures Zoom's reconnection contract is written for (spec §4.1, §9), the
// host's and the meeting's stops (§6), webhook endpoint trouble (§9) and wire oddities (§1). Faults are validated
// by fault-spec.ts, scheduled on the engine's scheduler, logged in the meeting's event log (and so in the
// inspector feed), and listed in GET /api/meetings/{uuid}. Callers: src/control/faults.ts (REST) and any
// programmatic driver (a scenario runner) through `engine.faults.inject(meeting, body)`.
import { StopReason, nameOf } from '../protocol/enums.ts';
import type { Connection, ConnectionHooks, MediaConnection, SignalingConnection } from './connection.ts';
import { FAULT_CLASS, parseFault, type FaultClass, type FaultSpec, type FaultType, type ScheduleMode } from './fault-spec.ts';
import type { Meeting } from './meeting.ts';
import type { StreamEvent } from './observer.ts';
import type { RtmsEngine, WebhookSendOptions } from './rtms-engine.ts';
import type { Task } from './scheduler.ts';
import type { RtmsStream } from './stream.ts';
import { timingOf } from './timing.ts';

export { FaultSpecError } from './fault-spec.ts';

/** Injecting into a meeting that cannot take it (ended). */
export class FaultStateError extends Error {}

export type FaultState = 'scheduled' | 'active' | 'done' | 'cleared';

export interface FaultActivation {
  at: number;
  detail: string;
}

/** A fault as the API shows it. */
export interface FaultView {
  id: number;
  type: FaultType;
  class: FaultClass;
  state: FaultState;
  options: Record<string, unknown>;
  schedule: { mode: ScheduleMode; every_ms: number | null; probability: number | null; delay_ms: number; duration_ms: number | null; count: number | null };
  created_at: number;
  ended_at: number | null;
  /** Mode faults: currently switched on. */
  on: boolean;
  /** Times it took effect (actions done, webhooks affected, mode activations). */
  activations: number;
  /** Messages, keep-alives or webhooks it changed. */
  hits: number;
  /** The stream live when it was injected. */
  rtms_stream_id: string | null;
  /** The latest notes (what it did), oldest first. */
  history: FaultActivation[];
}

interface Fault {
  id: number;
  spec: FaultSpec;
  meeting: Meeting;
  state: FaultState;
  createdAt: number;
  endedAt: number | null;
  streamId: string | null;
  activations: number;
  hits: number;
  history: FaultActivation[];
  tasks: Task[];
  on: boolean;
  offTask: Task | null;
  /** keepalive_ignore (once / every): the connections open when it switched on; null = every connection. */
  targets: WeakSet<Connection> | null;
  /** media_burst: when the current hold started. */
  burstStart: number;
}

interface Held {
  fault: Fault;
  event: string;
  fire: () => void;
  timer: Task;
  released: boolean;
}

interface Queued {
  text: string;
  type: number;
  max: number;
  at: number;
}

interface Shaper {
  queue: Queued[];
  head: number;
  bytes: number;
  lastAt: number;
  task: Task | null;
}

const HISTORY = 20;
const FAULTS_PER_MEETING = 200;
/** Media held per socket by jitter/bursts at most (beyond: dropped and counted, like a slow consumer). */
const MAX_QUEUED = 5000;
const encoder = new TextEncoder();
/** The unknown field added by extra_fields (apps must ignore fields they do not know). */
export const EXTRA_FIELD = 'x_rtms_mock_unknown';

/** Adds an unknown field at the top level and inside `content` / `event` of a JSON object text. */
export function withExtraFields(text: string, id: number): string {
  if (text.length < 2 || text[0] !== '{') return text;
  const field = `"${EXTRA_FIELD}":{"fault":${id},"note":"ignore unknown fields"}`;
  let out = text === '{}' ? `{${field}}` : `{${field},${text.slice(1)}`;
  out = out.replace('"content":{"', `"content":{"${EXTRA_FIELD}":${id},"`).replace('"event":{"', `"event":{"${EXTRA_FIELD}":${id},"`);
  return out;
}

function socketsMatch(which: unknown, conn: Connection): boolean {
  return which === 'both' || which === conn.kind;
}

export class FaultInjector {
  private readonly byMeeting = new WeakMap<Meeting, Fault[]>();
  private readonly held = new WeakMap<Meeting, Held[]>();
  private readonly shapers = new WeakMap<Connection, Shaper>();
  private nextId = 1;
  /** Random source for probabilities and jitter; replace it for reproducible runs. */
  random: () => number = Math.random;

  private readonly hooks: ConnectionHooks = {
    frame: (conn, text, type) => this.frame(conn, text, type),
    media: (conn, text, type, max) => this.media(conn, text, type, max),
    keepAliveReq: (conn) => this.keepAliveReq(conn),
    keepAliveResp: (conn) => this.keepAliveResp(conn),
  };

  constructor(private readonly engine: RtmsEngine) {
    engine.observers.add((s, e) => this.onStream(s, e));
  }

  // --- the programmatic interface ---

  /**
   * Validates `body` (the POST /api/meetings/{uuid}/faults body: {type, options?, once? | every_ms? |
   * probability?, delay_ms?, duration_ms?, count?}) and starts the fault. Throws FaultSpecError (bad input) or
   * FaultStateError (meeting ended).
   */
  inject(meeting: Meeting, body: unknown): FaultView {
    if (meeting.ended) throw new FaultStateError('the meeting has ended; faults need a live meeting');
    const spec = parseFault(body);
    const list = this.listOf(meeting);
    const f: Fault = {
      id: this.nextId++, spec, meeting, state: 'scheduled', createdAt: this.now, endedAt: null,
      streamId: meeting.liveStreams.at(-1)?.id ?? null, activations: 0, hits: 0, history: [], tasks: [], on: false,
      offTask: null, targets: null, burstStart: 0,
    };
    list.push(f);
    // Bounded: forget the oldest finished faults of a long-running meeting.
    while (list.length > FAULTS_PER_MEETING) {
      const i = list.findIndex((x) => x.state === 'done' || x.state === 'cleared');
      if (i < 0) break;
      list.splice(i, 1);
    }
    const sched = spec.mode === 'every' ? `every ${spec.everyMs} ms` : spec.mode === 'probability' ? `probability ${spec.probability}` : 'once';
    this.note(f, `injected (${sched}${spec.delayMs ? `, after ${spec.delayMs} ms` : ''}${spec.count !== null && spec.mode !== 'once' ? `, at most ${spec.count}` : ''}) ${JSON.stringify(spec.options)}`);
    this.start(f);
    return this.view(f);
  }

  /** Active (scheduled or running) and past (done or cleared) faults of a meeting. */
  list(meeting: Meeting): { active: FaultView[]; past: FaultView[] } {
    const all = (this.byMeeting.get(meeting) ?? []).map((f) => this.view(f));
    return { active: all.filter((f) => f.state === 'scheduled' || f.state === 'active'), past: all.filter((f) => f.state === 'done' || f.state === 'cleared') };
  }

  get(meeting: Meeting, id: number): FaultView | null {
    const f = this.byMeeting.get(meeting)?.find((x) => x.id === id);
    return f ? this.view(f) : null;
  }

  /** Clears one fault (by id) or every active one; held webhooks are released. Returns how many were cleared. */
  clear(meeting: Meeting, id?: number): number {
    let n = 0;
    for (const f of this.byMeeting.get(meeting) ?? []) {
      if (id !== undefined && f.id !== id) continue;
      if (f.state === 'done' || f.state === 'cleared') continue;
      this.finish(f, 'cleared', 'cleared');
      n++;
    }
    for (const h of [...(this.held.get(meeting) ?? [])]) if (id === undefined || h.fault.id === id) this.release(meeting, h);
    return n;
  }

  /** Called by the engine when a meeting ends: schedules stop, held webhooks go out. */
  meetingEnded(meeting: Meeting): void {
    for (const f of this.byMeeting.get(meeting) ?? []) {
      if (f.state === 'scheduled' || f.state === 'active') this.finish(f, 'done', 'meeting ended');
    }
    for (const h of [...(this.held.get(meeting) ?? [])]) this.release(meeting, h);
  }

  /**
   * Engine hook for every webhook of a meeting (spec §9): applies webhook faults. Returns true if it took care
   * of sending (now, later, or after the next webhook); false to let the engine send it plainly.
   */
  interceptWebhook(meeting: Meeting, kind: 'started' | 'stopped' | 'interrupted', event: string, send: (opts?: WebhookSendOptions) => void | Promise<unknown>): boolean {
    const list = this.byMeeting.get(meeting);
    const held = this.held.get(meeting);
    if (!list?.length && !held?.length) return false;
    const opts: WebhookSendOptions = {};
    let holder: Fault | null = null;
    for (const f of list ?? []) {
      if (f.state !== 'active' || f.spec.cls !== 'webhook') continue;
      const want = f.spec.options.event;
      if (want !== 'any' && want !== kind) continue;
      if (!this.chance(f)) continue;
      f.activations++;
      f.hits++;
      const o = f.spec.options;
      switch (f.spec.type) {
        case 'webhook_delay': opts.delayMs = Math.max(opts.delayMs ?? 0, o.delay_ms as number); this.note(f, `${event} delayed by ${o.delay_ms} ms`); break;
        case 'webhook_retry': opts.forceRetries = o.retries as number; this.note(f, `${event} will be sent ${o.retries} more time(s) with the same body`); break;
        case 'webhook_duplicate': opts.duplicate = true; this.note(f, `${event} delivered twice`); break;
        case 'webhook_reorder': holder = f; this.note(f, `${event} held until the next webhook is delivered (at most ${o.hold_ms} ms)`); break;
        default: break;
      }
      if (f.spec.count !== null && f.activations >= f.spec.count) this.finish(f, 'done', 'done');
    }
    if (holder) {
      this.hold(meeting, holder, event, () => void send(opts));
      return true;
    }
    if (held?.length) {
      // Out of order: this one first, the held ones once it has been delivered.
      const waiting = held.splice(0); // released by this delivery, not by a meeting end in between
      void Promise.resolve(send(opts)).finally(() => {
        for (const h of waiting) {
          if (!h.released) this.note(h.fault, `${h.event} released after ${event} was delivered`);
          this.release(meeting, h);
        }
      });
      return true;
    }
    if (Object.keys(opts).length === 0) return false;
    void send(opts);
    return true;
  }

  // --- scheduling ---

  private get now(): number {
    return Math.round(this.engine.scheduler.now());
  }

  private listOf(meeting: Meeting): Fault[] {
    let l = this.byMeeting.get(meeting);
    if (!l) { l = []; this.byMeeting.set(meeting, l); }
    return l;
  }

  private chance(f: Fault): boolean {
    return f.spec.probability === null || this.random() < f.spec.probability;
  }

  private start(f: Fault): void {
    const { spec } = f;
    const sched = this.engine.scheduler;
    const begin = (fn: () => void) => {
      if (spec.delayMs > 0) f.tasks.push(sched.after(spec.delayMs, () => { if (f.state === 'scheduled') fn(); }));
      else fn();
    };
    if (spec.cls === 'webhook') {
      begin(() => { f.state = 'active'; });
      return;
    }
    if (spec.cls === 'action' || spec.cls === 'terminal') {
      if (spec.mode === 'once') return begin(() => { f.state = 'active'; this.act(f); this.finish(f, 'done', null); });
      const period = spec.mode === 'every' ? spec.everyMs! : timingOf(f.meeting, this.engine.options).keepAliveMs;
      return begin(() => {
        f.state = 'active';
        f.tasks.push(sched.every(period, () => {
          if (f.state !== 'active' || (spec.mode === 'probability' && !this.chance(f))) return;
          this.act(f);
          if (spec.count !== null && f.activations >= spec.count) this.finish(f, 'done', 'done');
        }));
      });
    }
    // Mode faults.
    if (spec.mode === 'every') {
      return begin(() => {
        f.state = 'active';
        f.tasks.push(sched.every(spec.everyMs!, () => {
          if (f.state !== 'active' || f.on) return;
          this.switchOn(f);
          f.offTask = sched.after(spec.durationMs!, () => {
            f.offTask = null;
            this.switchOff(f, `off after ${spec.durationMs} ms`);
            if (spec.count !== null && f.activations >= spec.count) this.finish(f, 'done', 'done');
          });
        }));
      });
    }
    begin(() => {
      f.state = 'active';
      this.switchOn(f);
      if (spec.durationMs !== null) {
        f.offTask = sched.after(spec.durationMs, () => { f.offTask = null; this.finish(f, 'done', `off after ${spec.durationMs} ms`); });
      }
    });
  }

  private finish(f: Fault, state: 'done' | 'cleared', note: string | null): void {
    if (f.state === 'done' || f.state === 'cleared') return;
    for (const t of f.tasks) t.cancel();
    f.tasks = [];
    f.offTask?.cancel();
    f.offTask = null;
    if (f.on) this.switchOff(f, null);
    f.state = state;
    f.endedAt = this.now;
    if (note) this.note(f, note);
  }

  private note(f: Fault, detail: string): void {
    const at = this.now;
    f.history.push({ at, detail });
    if (f.history.length > HISTORY) f.history.splice(0, f.history.length - HISTORY);
    // The meeting's event log feeds the API and the inspector (socket "fault").
    f.meeting.log.push({ at, dir: 'info', socket: 'fault', text: `fault #${f.id} ${f.spec.type}: ${detail}` });
    this.engine.log.info(`meeting ${f.meeting.uuid.slice(0, 8)} fault #${f.id} ${f.spec.type}: ${detail}`);
  }

  private view(f: Fault): FaultView {
    const s = f.spec;
    return {
      id: f.id, type: s.type, class: s.cls, state: f.state, options: s.options,
      schedule: { mode: s.mode, every_ms: s.everyMs, probability: s.probability, delay_ms: s.delayMs, duration_ms: s.durationMs, count: s.count },
      created_at: f.createdAt, ended_at: f.endedAt, on: f.on, activations: f.activations, hits: f.hits,
      rtms_stream_id: f.streamId, history: f.history.slice(),
    };
  }

  // --- actions (spec §4.1, §6, §9) ---

  private act(f: Fault): void {
    const meeting = f.meeting;
    const stream = meeting.liveStreams.at(-1);
    if (!stream) { this.note(f, 'skipped: no live RTMS stream'); return; }
    const o = f.spec.options;
    const cause = { faultId: f.id, label: `fault #${f.id} ${f.spec.type}` };
    switch (f.spec.type) {
      case 'drop_signaling': {
        const sig = stream.signaling;
        if (!sig || sig.closed) { this.note(f, 'skipped: the stream has no signaling connection'); return; }
        // Lost before close (as the keep-alive path does): rtms_interrupted, INTERRUPTED, window (spec §4.1).
        this.engine.behaviour.withCause(stream, cause, () => stream.signalingLost(sig));
        sig.close(o.code as number, 'signaling connection dropped (fault)');
        f.activations++;
        this.note(f, `signaling socket #${sig.id} closed (${o.code}); ${Math.round(stream.timing.signalingWindowMs)} ms to redo both handshakes`);
        return;
      }
      case 'drop_media': {
        const m = [...stream.media].find((c) => !c.closed && (o.path === undefined || c.path === o.path));
        if (!m) { this.note(f, `skipped: no ${o.path ? `/${o.path} ` : ''}media connection`); return; }
        this.engine.behaviour.withCause(stream, cause, () => stream.mediaLost(m));
        m.close(o.code as number, 'media connection dropped (fault)');
        f.activations++;
        this.note(f, `media socket /${m.path} #${m.id} closed (${o.code}); ${Math.round(stream.timing.mediaWindowMs)} ms for a new data handshake`);
        return;
      }
      case 'duplicate_started': {
        // Server failover (spec §9): the old server's sockets go away, then rtms_started again for the live
        // stream; the app redoes both handshakes within the signaling window. No rtms_interrupted.
        const sig = stream.signaling;
        let closed = '';
        if (sig && !sig.closed) {
          this.engine.behaviour.withCause(stream, { ...cause, failover: true }, () => stream.signalingLost(sig, StopReason.AWAIT_RECONNECTION_TIMEOUT, false));
          sig.close(1001, 'server failover');
          closed = `old sockets closed (1001); `;
        }
        this.engine.webhook(meeting, 'started', this.engine.startedPayload(meeting, stream));
        f.activations++;
        this.note(f, `${closed}rtms_started sent again for stream ${stream.id}`);
        return;
      }
      case 'host_stop':
      case 'auth_failure': {
        const reason = f.spec.type === 'auth_failure' ? StopReason.AUTHENTICATION_FAILURE : (o.reason as number);
        f.activations++;
        this.note(f, `stream stopped with reason ${reason} ${nameOf(StopReason, reason)}`);
        stream.stop(reason);
        return;
      }
      case 'meeting_end':
        f.activations++;
        this.note(f, `meeting ended (reason ${StopReason.MEETING_ENDED} MEETING_ENDED)`);
        this.engine.endMeeting(meeting, StopReason.MEETING_ENDED);
        return;
      default:
        return;
    }
  }

  // --- mode faults and the connection hooks ---

  private connectionsOf(meeting: Meeting): Connection[] {
    const out: Connection[] = [];
    for (const s of meeting.liveStreams) {
      if (s.signaling && !s.signaling.closed) out.push(s.signaling);
      for (const m of s.media) if (!m.closed) out.push(m);
    }
    return out;
  }

  private switchOn(f: Fault): void {
    f.on = true;
    f.activations++;
    f.burstStart = this.engine.scheduler.now();
    const conns = this.connectionsOf(f.meeting);
    for (const c of conns) c.hooks = this.hooks;
    if (f.spec.type === 'keepalive_ignore' && f.spec.mode !== 'probability') {
      f.targets = new WeakSet(conns.filter((c) => socketsMatch(f.spec.options.sockets, c)));
    }
    this.note(f, f.spec.type === 'keepalive_ignore' && f.targets
      ? `on: ignoring keep-alive answers on ${conns.filter((c) => socketsMatch(f.spec.options.sockets, c)).map((c) => `#${c.id}`).join(', ') || 'no connection'}`
      : 'on');
  }

  private switchOff(f: Fault, note: string | null): void {
    f.on = false;
    f.targets = null;
    if (note) this.note(f, note);
  }

  private activeOn(conn: Connection): Fault[] | null {
    const id = (conn as SignalingConnection | MediaConnection).streamId;
    const stream = id ? this.engine.streams.get(id) : undefined;
    const list = stream ? this.byMeeting.get(stream.meeting) : undefined;
    if (!list) return null;
    let out: Fault[] | null = null;
    for (const f of list) if (f.on) (out ??= []).push(f);
    return out;
  }

  private onStream(stream: RtmsStream, e: StreamEvent): void {
    if (e.kind !== 'signaling_attached' && e.kind !== 'media_attached') return;
    const list = this.byMeeting.get(stream.meeting);
    if (!list?.some((f) => f.spec.cls === 'mode' && (f.state === 'active' || f.state === 'scheduled'))) return;
    e.conn.hooks = this.hooks;
    // keepalive_ignore aimed at connections that are all gone (the app reconnected): it has done its job.
    if (e.kind === 'signaling_attached') {
      const live = this.connectionsOf(stream.meeting);
      for (const f of list) {
        if (f.spec.type !== 'keepalive_ignore' || !f.on || !f.targets || f.spec.mode !== 'once') continue;
        const targets = f.targets;
        if (!live.some((c) => targets.has(c))) this.finish(f, 'done', 'the connections it targeted are gone');
      }
    }
  }

  private frame(conn: Connection, text: string, _type: number): string | Uint8Array {
    const faults = this.activeOn(conn);
    if (!faults) return text;
    let out = text;
    let binary = false;
    for (const f of faults) {
      if (f.spec.type !== 'extra_fields' && f.spec.type !== 'binary_frames') continue;
      if (!socketsMatch(f.spec.options.sockets, conn) || !this.chance(f)) continue;
      f.hits++;
      if (f.spec.type === 'extra_fields') out = withExtraFields(out, f.id);
      else binary = true;
    }
    return binary ? encoder.encode(out) : out;
  }

  private keepAliveReq(conn: Connection): boolean {
    for (const f of this.activeOn(conn) ?? []) {
      if (f.spec.type === 'keepalive_stop' && socketsMatch(f.spec.options.sockets, conn) && this.chance(f)) { f.hits++; return false; }
    }
    return true;
  }

  private keepAliveResp(conn: Connection): boolean {
    for (const f of this.activeOn(conn) ?? []) {
      if (f.spec.type !== 'keepalive_ignore' || !socketsMatch(f.spec.options.sockets, conn)) continue;
      if (f.targets && !f.targets.has(conn)) continue;
      if (this.chance(f)) { f.hits++; return false; }
    }
    return true;
  }

  /** Jitter and bursts: media leaves later, in order, timestamps untouched (spec §8 grid). */
  private media(conn: Connection, text: string, type: number, max: number): boolean {
    const faults = this.activeOn(conn);
    let sh = this.shapers.get(conn);
    const queued = sh !== undefined && sh.head < sh.queue.length;
    if (!faults && !queued) return false;
    const now = this.engine.scheduler.now();
    let at = now;
    for (const f of faults ?? []) {
      if (f.spec.type !== 'media_jitter' && f.spec.type !== 'media_burst') continue;
      if (!this.chance(f)) continue;
      f.hits++;
      if (f.spec.type === 'media_jitter') at = Math.max(at, now + this.random() * (f.spec.options.max_ms as number));
      else {
        const hold = f.spec.options.hold_ms as number;
        at = Math.max(at, f.burstStart + (Math.floor((now - f.burstStart) / hold) + 1) * hold);
      }
    }
    if (sh) at = Math.max(at, sh.lastAt); // never reorder a socket's messages
    if (at <= now && !queued) return false;
    if (!sh) { sh = { queue: [], head: 0, bytes: 0, lastAt: 0, task: null }; this.shapers.set(conn, sh); }
    if (sh.queue.length - sh.head >= MAX_QUEUED || sh.bytes + text.length > max) {
      conn.counters.dropped++;
      conn.counters.droppedBytes += text.length;
      return true;
    }
    sh.queue.push({ text, type, max, at });
    sh.bytes += text.length;
    sh.lastAt = at;
    this.armShaper(conn, sh);
    return true;
  }

  private armShaper(conn: Connection, sh: Shaper): void {
    if (sh.task || sh.head >= sh.queue.length) return;
    sh.task = this.engine.scheduler.at(sh.queue[sh.head]!.at, () => {
      sh.task = null;
      const now = this.engine.scheduler.now() + 0.5;
      while (sh.head < sh.queue.length && (conn.closed || sh.queue[sh.head]!.at <= now)) {
        const m = sh.queue[sh.head++]!;
        sh.bytes -= m.text.length;
        if (!conn.closed) conn.sendMediaNow(m.text, m.type, m.max);
      }
      if (sh.head === sh.queue.length || sh.head > 1024) { sh.queue = sh.queue.slice(sh.head); sh.head = 0; }
      this.armShaper(conn, sh);
    });
  }

  // --- held webhooks (reorder) ---

  private hold(meeting: Meeting, fault: Fault, event: string, fire: () => void): void {
    let list = this.held.get(meeting);
    if (!list) { list = []; this.held.set(meeting, list); }
    const h: Held = { fault, event, fire, released: false, timer: null as unknown as Task };
    h.timer = this.engine.scheduler.after(fault.spec.options.hold_ms as number, () => {
      this.note(fault, `${event} released after ${fault.spec.options.hold_ms} ms (no later webhook)`);
      this.release(meeting, h);
    });
    list.push(h);
  }

  private release(meeting: Meeting, h: Held): void {
    if (h.released) return;
    h.released = true;
    h.timer.cancel();
    const list = this.held.get(meeting);
    if (list) { const i = list.indexOf(h); if (i >= 0) list.splice(i, 1); }
    h.fire();
  }
}

export { FAULT_CLASS };
