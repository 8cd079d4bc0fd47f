// A bounded ring of what happened in a meeting (handshakes, state changes, errors, non-media messages), for
// the API and the inspector. Media messages are counted per connection, not logged one by one.
export interface LogEntry {
  at: number;
  /** 'in' = app → mock, 'out' = mock → app, 'info' = engine note, 'error' = rejected input. */
  dir: 'in' | 'out' | 'info' | 'error';
  socket?: string;
  conn?: number;
  msg_type?: number | string;
  status_code?: number;
  text: string;
  /** 1, 2, 3… within the meeting, set by push: the page merges its live feed with a fetched log by it. */
  seq: number;
}

export class EventLog {
  private buf: LogEntry[] = [];
  private start = 0;
  total = 0;
  /** Set by the engine to feed the inspector. */
  listener: ((e: LogEntry) => void) | null = null;
  constructor(private readonly limit = 500) {}

  /** Numbers the entry (in place: no copy) and keeps it. */
  push(line: Omit<LogEntry, 'seq'>): void {
    const e = line as LogEntry;
    e.seq = ++this.total;
    this.listener?.(e);
    if (this.buf.length < this.limit) this.buf.push(e);
    else { this.buf[this.start] = e; this.start = (this.start + 1) % this.limit; }
  }

  entries(): LogEntry[] {
    return this.buf.length < this.limit ? this.buf.slice() : [...this.buf.slice(this.start), ...this.buf.slice(0, this.start)];
  }
}
