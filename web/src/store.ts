// What the page knows about every meeting, all of it from the server: GET /api/meetings on load, then the
// inspector's server-sent events (GET /api/events) for logs, media summaries, webhook deliveries and per-
// connection counters, with a fresh GET /api/meetings/{uuid} whenever a meeting's log says something changed.
// A reload rebuilds the same view.
import { api, type DeliveryRecord, type LogEntry, type MeetingSummary } from './api.ts';

/** Per-connection figures from the once-a-second `stats` event. */
export interface ConnStat {
  conn: number;
  kind: string;
  socket: string;
  stream_id: string | null;
  msgs_out: number;
  msgs_in: number;
  bytes_out: number;
  rate_out: number;
  bytes_rate_out: number;
  dropped: number;
  buffered: number;
  media_params?: Record<string, Record<string, number> | undefined>;
  at: number;
}

export type LogItem =
  | { seq: number; kind: 'log'; entry: LogEntry }
  /** Media messages of one connection, direction and type within one second, summed. */
  | { seq: number; kind: 'media'; at: number; socket: string; conn: number; dir: 'in' | 'out'; msg_type: number; count: number; bytes: number; stream_id: string }
  /** A webhook attempt, as it appears in the log. */
  | { seq: number; kind: 'note'; at: number; dir: 'in' | 'out' | 'info' | 'error'; socket: string; text: string; status_code?: number };

export interface TranscriptLine { at: number; kind: 'transcript' | 'chat'; user_name: string; text: string }

export interface MeetingState {
  uuid: string;
  summary: MeetingSummary;
  detailLoaded: boolean;
  log: LogItem[];
  deliveries: Map<string, DeliveryRecord>;
  transcript: TranscriptLine[];
  conns: Map<number, ConnStat>;
  /** Bumped on every change; views compare it to skip needless renders. */
  version: number;
  /** Bumped when the summary (state, participants, streams) changed. */
  summaryVersion: number;
}

const LOG_LIMIT = 3000;
const TRANSCRIPT_LIMIT = 1000;

type Listener = (uuid: string | null) => void;
export type FeedStatus = 'connecting' | 'live' | 'reconnecting';

export class Store {
  readonly meetings = new Map<string, MeetingState>();
  feedStatus: FeedStatus = 'connecting';
  droppedEvents = 0;
  private seq = 0;
  private readonly listeners = new Set<Listener>();
  private readonly refreshTimers = new Map<string, ReturnType<typeof setTimeout>>();
  private readonly inFlight = new Set<string>();
  /** Log entries of meetings not known yet (a new meeting's first events arrive before its summary). */
  private readonly pending = new Map<string, LogEntry[]>();
  private readonly openAggregates = new Map<string, Extract<LogItem, { kind: 'media' }>>();
  private source: EventSource | null = null;

  subscribe(fn: Listener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private changed(uuid: string | null): void {
    if (uuid) { const m = this.meetings.get(uuid); if (m) m.version++; }
    for (const fn of this.listeners) fn(uuid);
  }

  async start(): Promise<void> {
    try {
      for (const s of await api.meetings()) this.upsert(s);
      this.changed(null);
    } catch { /* the feed's snapshot will fill in */ }
    // Live meetings get their full log and deliveries now; ended ones when opened.
    for (const m of this.meetings.values()) if (m.summary.state === 'live') void this.loadDetail(m.uuid);
    this.connectFeed();
    // Safety net for changes that write nothing to a log (the feed covers everything else).
    setInterval(() => void this.poll(), 5000);
  }

  private async poll(): Promise<void> {
    try {
      const list = await api.meetings();
      const seen = new Set<string>();
      for (const s of list) {
        seen.add(s.meeting_uuid);
        const known = this.meetings.get(s.meeting_uuid);
        if (!known || JSON.stringify(known.summary) !== JSON.stringify(s)) { this.upsert(s); this.changed(s.meeting_uuid); }
      }
      for (const uuid of [...this.meetings.keys()]) if (!seen.has(uuid)) { this.meetings.delete(uuid); this.changed(null); }
    } catch { /* server away: the feed status says so */ }
  }

  private connectFeed(): void {
    const es = new EventSource('/api/events');
    this.source = es;
    const on = (type: string, fn: (data: Record<string, unknown>) => void) =>
      es.addEventListener(type, (ev) => {
        try { fn(JSON.parse((ev as MessageEvent<string>).data) as Record<string, unknown>); } catch (err) { console.warn(`bad ${type} event`, err); }
      });
    es.onopen = () => { this.feedStatus = 'live'; this.changed(null); };
    // EventSource reconnects by itself; the next `meetings` snapshot resynchronises.
    es.onerror = () => { this.feedStatus = 'reconnecting'; this.changed(null); };
    on('meetings', (d) => {
      this.feedStatus = 'live';
      const list = (d.meetings ?? []) as MeetingSummary[];
      for (const s of list) {
        const fresh = !this.meetings.has(s.meeting_uuid);
        this.upsert(s);
        // After a reconnect the log may have gaps: reload it from the server.
        if (s.state === 'live' && (fresh || this.reconnected)) void this.loadDetail(s.meeting_uuid);
      }
      this.reconnected = true;
      this.changed(null);
    });
    on('log', (d) => {
      const uuid = d.meeting_uuid as string;
      const entry = d.entry as LogEntry;
      const m = this.ensure(uuid);
      if (m) {
        this.pushLog(m, { seq: ++this.seq, kind: 'log', entry });
        const line = transcriptLine(entry);
        if (line) this.addTranscript(uuid, line);
      } else {
        // Kept until the meeting's detail arrives and merged with it (by seq): dropping them lost the lines
        // between the fetch and its answer (a new meeting's data handshake, on a busy machine).
        const list = this.pending.get(uuid) ?? [];
        if (list.length < LOG_LIMIT) list.push(entry);
        this.pending.set(uuid, list);
      }
      this.scheduleRefresh(uuid);
    });
    on('media', (d) => this.media(d));
    on('webhook', (d) => {
      const rec = d.delivery as DeliveryRecord;
      const uuid = (d.meeting_uuid as string | null) ?? rec.meetingKey ?? null;
      if (!uuid) return;
      const m = this.ensure(uuid);
      if (!m) return;
      m.deliveries.set(rec.id, rec);
      this.changed(uuid);
    });
    on('stats', (d) => this.stats(d));
    on('dropped', (d) => { this.droppedEvents += Number(d.dropped) || 0; this.changed(null); });
  }
  private reconnected = false;

  stop(): void {
    this.source?.close();
  }

  private ensure(uuid: string): MeetingState | null {
    const m = this.meetings.get(uuid);
    if (m) return m;
    // A meeting created elsewhere (curl, another tab): fetch it.
    this.scheduleRefresh(uuid, true);
    return null;
  }

  private upsert(s: MeetingSummary): MeetingState {
    let m = this.meetings.get(s.meeting_uuid);
    if (!m) {
      m = { uuid: s.meeting_uuid, summary: s, detailLoaded: false, log: [], deliveries: new Map(), transcript: [], conns: new Map(), version: 0, summaryVersion: 0 };
      this.meetings.set(s.meeting_uuid, m);
    } else {
      const next = { ...m.summary, ...s };
      if (JSON.stringify(next) !== JSON.stringify(m.summary)) m.summaryVersion++;
      m.summary = next;
    }
    return m;
  }

  /** Refreshes one meeting's summary soon (coalesced: a burst of log lines costs one request). */
  scheduleRefresh(uuid: string, detail = false): void {
    if (this.refreshTimers.has(uuid)) return;
    this.refreshTimers.set(uuid, setTimeout(() => {
      this.refreshTimers.delete(uuid);
      void this.refresh(uuid, detail || !this.meetings.get(uuid)?.detailLoaded);
    }, 120));
  }

  async refresh(uuid: string, detail = false): Promise<void> {
    if (this.inFlight.has(uuid)) { this.scheduleRefresh(uuid, detail); return; }
    this.inFlight.add(uuid);
    try {
      if (detail) await this.loadDetail(uuid);
      else {
        const d = await api.meeting(uuid);
        const { log: _log, webhook_deliveries: _w, ...summary } = d;
        this.upsert(summary);
        this.changed(uuid);
      }
    } catch { /* gone or server away */ } finally {
      this.inFlight.delete(uuid);
    }
  }

  async loadDetail(uuid: string): Promise<void> {
    const d = await api.meeting(uuid).catch(() => null);
    if (!d) return;
    const { log, webhook_deliveries, ...summary } = d;
    const m = this.upsert(summary);
    // The fetched log, plus log lines that arrived live before or after it was read (held while the meeting was
    // unknown, or already shown), each once by its seq; media summaries and notes as they are; in time order.
    const held = this.pending.get(uuid) ?? [];
    this.pending.delete(uuid);
    const entries = mergeLogEntries(log, held, m.log.flatMap((i) => (i.kind === 'log' ? [i.entry] : [])));
    const items: LogItem[] = entries.map((entry) => ({ seq: ++this.seq, kind: 'log' as const, entry }));
    const live = m.log.filter((i) => i.kind !== 'log');
    m.log = [...items, ...live].sort((a, b) => itemTime(a) - itemTime(b) || a.seq - b.seq).slice(-LOG_LIMIT);
    for (const r of webhook_deliveries) m.deliveries.set(r.id, r);
    // Transcript and chat lines are in the log: merge them with what is already shown.
    const seen = new Set(m.transcript.map((l) => `${l.at}|${l.text}`));
    for (const e of entries) {
      const line = transcriptLine(e);
      if (line && !seen.has(`${line.at}|${line.text}`)) m.transcript.push(line);
    }
    m.transcript.sort((a, b) => a.at - b.at);
    m.detailLoaded = true;
    this.changed(uuid);
  }

  private pushLog(m: MeetingState, item: LogItem): void {
    m.log.push(item);
    if (m.log.length > LOG_LIMIT) m.log.splice(0, m.log.length - LOG_LIMIT);
    this.changed(m.uuid);
  }

  private media(d: Record<string, unknown>): void {
    const uuid = d.meeting_uuid as string;
    const m = this.meetings.get(uuid);
    if (!m) return;
    const at = Number(d.at);
    const key = `${uuid}|${d.conn}|${d.dir}|${d.msg_type}`;
    const open = this.openAggregates.get(key);
    // One row per connection, direction and type per second: the row stays where that second's first message was.
    if (open && Math.floor(open.at / 1000) === Math.floor(at / 1000)) {
      open.count++;
      open.bytes += Number(d.bytes);
      m.version++;
      for (const fn of this.listeners) fn(uuid);
      return;
    }
    const item = {
      seq: ++this.seq, kind: 'media' as const, at, socket: String(d.socket), conn: Number(d.conn), dir: d.dir as 'in' | 'out',
      msg_type: Number(d.msg_type), count: 1, bytes: Number(d.bytes), stream_id: String(d.stream_id),
    };
    this.openAggregates.set(key, item);
    if (this.openAggregates.size > 2000) this.openAggregates.clear();
    this.pushLog(m, item);
  }

  private stats(d: Record<string, unknown>): void {
    const at = Number(d.at);
    const touched = new Set<string>();
    const byMeeting = new Map<string, Map<number, ConnStat>>();
    for (const raw of (d.connections ?? []) as Record<string, unknown>[]) {
      const uuid = raw.meeting_uuid as string | null;
      if (!uuid) continue;
      const m = this.meetings.get(uuid);
      if (!m) continue;
      const conn = Number(raw.conn);
      const prev = m.conns.get(conn);
      const bytesOut = Number(raw.bytes_out);
      const stat: ConnStat = {
        conn, kind: String(raw.kind), socket: String(raw.socket), stream_id: (raw.stream_id as string | null) ?? null,
        msgs_out: Number(raw.msgs_out), msgs_in: Number(raw.msgs_in), bytes_out: bytesOut, rate_out: Number(raw.rate_out),
        bytes_rate_out: prev ? Math.max(0, (bytesOut - prev.bytes_out) / Math.max(0.001, (at - prev.at) / 1000)) : 0,
        dropped: Number(raw.dropped), buffered: Number(raw.buffered),
        media_params: raw.media_params as ConnStat['media_params'], at,
      };
      let map = byMeeting.get(uuid);
      if (!map) { map = new Map(); byMeeting.set(uuid, map); }
      map.set(conn, stat);
      touched.add(uuid);
    }
    for (const m of this.meetings.values()) {
      const next = byMeeting.get(m.uuid) ?? new Map<number, ConnStat>();
      if (next.size === 0 && m.conns.size === 0) continue;
      m.conns = next;
      touched.add(m.uuid);
    }
    for (const uuid of touched) this.changed(uuid);
  }

  addTranscript(uuid: string, line: TranscriptLine): void {
    const m = this.meetings.get(uuid);
    if (!m) return;
    m.transcript.push(line);
    if (m.transcript.length > TRANSCRIPT_LIMIT) m.transcript.splice(0, m.transcript.length - TRANSCRIPT_LIMIT);
    this.changed(uuid);
  }

  /** A note from the page itself (an action that failed, a feed event) in a meeting's log. */
  note(uuid: string, dir: 'in' | 'out' | 'info' | 'error', socket: string, text: string, status_code?: number): void {
    const m = this.meetings.get(uuid);
    if (!m) return;
    this.pushLog(m, { seq: ++this.seq, kind: 'note', at: Date.now(), dir, socket, text, status_code });
  }
}

/** The server logs what was said and written as "transcript from NAME: TEXT" / "chat from NAME: TEXT". */
export function transcriptLine(e: LogEntry): TranscriptLine | null {
  if (e.dir !== 'info') return null;
  const r = /^(transcript|chat) from (.+?): ([\s\S]*)$/.exec(e.text);
  return r ? { at: e.at, kind: r[1] as 'transcript' | 'chat', user_name: r[2]!, text: r[3]! } : null;
}

/**
 * A meeting's log from what the page holds: the fetched log, lines held while the meeting was unknown, and
 * lines already shown. Each line once (by its seq), in the server's order.
 */
export function mergeLogEntries(...sources: LogEntry[][]): LogEntry[] {
  const bySeq = new Map<number, LogEntry>();
  for (const list of sources) for (const e of list) if (!bySeq.has(e.seq)) bySeq.set(e.seq, e);
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
}

export function itemTime(i: LogItem): number {
  return i.kind === 'log' ? i.entry.at : i.at;
}
