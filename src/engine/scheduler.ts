// One shared scheduler for every timer in the process: media cadence, keep-alives, reconnection windows.
// A binary min-heap of due times drives a single host timer, so thousands of streams cost one setTimeout, and
// periodic tasks are scheduled at start + n·period (no drift; timestamps step exactly, spec §8).

export interface Clock {
  /** Milliseconds since the epoch (may be fractional). */
  now(): number;
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
}

export const realClock: Clock = {
  now: () => performance.timeOrigin + performance.now(),
  setTimer: (fn, ms) => setTimeout(fn, ms),
  clearTimer: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

export interface Task {
  readonly id: number;
  /** Cancels the task; safe to call twice. */
  cancel(): void;
  readonly active: boolean;
}

interface Entry {
  id: number;
  due: number;
  /** For periodic tasks: the n-th run is at `origin + n * period`. */
  origin: number;
  period: number;
  n: number;
  fn: (due: number) => void;
  active: boolean;
  index: number;
}

export interface SchedulerStats {
  tasks: number;
  runs: number;
  /** Lateness (actual − due) in ms, for the benchmark: max and a histogram of 1 ms buckets up to 100. */
  maxLatenessMs: number;
  latenessBuckets: Uint32Array;
  errors: number;
}

export class Scheduler {
  private heap: Entry[] = [];
  private nextId = 1;
  private timer: unknown = null;
  private timerDue = Infinity;
  private running = false;
  readonly stats: SchedulerStats = { tasks: 0, runs: 0, maxLatenessMs: 0, latenessBuckets: new Uint32Array(101), errors: 0 };
  onError: (err: unknown) => void = (err) => console.error('[scheduler] task failed:', err);

  constructor(readonly clock: Clock = realClock) {}

  now(): number {
    return this.clock.now();
  }

  /** Runs `fn` once at `due` (epoch ms). */
  at(due: number, fn: (due: number) => void): Task {
    return this.add(due, 0, fn);
  }

  after(ms: number, fn: (due: number) => void): Task {
    return this.add(this.now() + ms, 0, fn);
  }

  /** Runs `fn` at `first`, `first + period`, … until cancelled. */
  every(period: number, fn: (due: number) => void, first = this.now() + period): Task {
    if (!(period > 0)) throw new Error(`period must be > 0, got ${period}`);
    return this.add(first, period, fn);
  }

  get size(): number {
    return this.heap.length;
  }

  /** Cancels everything (shutdown). */
  clear(): void {
    for (const e of this.heap) e.active = false;
    this.heap = [];
    this.stats.tasks = 0;
    this.disarm();
  }

  private add(due: number, period: number, fn: (due: number) => void): Task {
    const e: Entry = { id: this.nextId++, due, origin: due, period, n: 0, fn, active: true, index: -1 };
    this.push(e);
    this.stats.tasks = this.heap.length;
    this.arm();
    const self = this;
    return {
      id: e.id,
      get active() { return e.active; },
      cancel() {
        if (!e.active) return;
        e.active = false;
        self.remove(e);
        self.stats.tasks = self.heap.length;
      },
    };
  }

  private arm(): void {
    if (this.running) return; // run() re-arms when it finishes
    const top = this.heap[0];
    if (!top) return this.disarm();
    if (top.due >= this.timerDue && this.timer !== null) return;
    this.disarm();
    this.timerDue = top.due;
    this.timer = this.clock.setTimer(() => this.run(), Math.max(0, top.due - this.now()));
  }

  private disarm(): void {
    if (this.timer !== null) this.clock.clearTimer(this.timer);
    this.timer = null;
    this.timerDue = Infinity;
  }

  private run(): void {
    this.timer = null;
    this.timerDue = Infinity;
    this.running = true;
    const now = this.now();
    // Anything due within half a millisecond runs now: host timers fire up to ~1 ms early or late.
    const horizon = now + 0.5;
    try {
      let top = this.heap[0];
      while (top && top.due <= horizon) {
        const due = top.due;
        // Read per task, not once per batch: a task behind hundreds of others in the same batch is that much later.
        const late = this.now() - due;
        if (late > this.stats.maxLatenessMs) this.stats.maxLatenessMs = late;
        const bucket = this.stats.latenessBuckets;
        bucket[Math.min(100, Math.max(0, Math.floor(late)))]!++;
        this.stats.runs++;
        if (top.period > 0) {
          top.n++;
          top.due = top.origin + top.n * top.period;
          this.siftDown(0);
        } else {
          top.active = false;
          this.pop();
        }
        try {
          top.fn(due);
        } catch (err) {
          this.stats.errors++;
          this.onError(err);
        }
        top = this.heap[0];
      }
    } finally {
      this.running = false;
      this.stats.tasks = this.heap.length;
      this.arm();
    }
  }

  // --- binary heap ---
  private push(e: Entry): void {
    e.index = this.heap.length;
    this.heap.push(e);
    this.siftUp(e.index);
  }

  private pop(): void {
    const last = this.heap.pop()!;
    if (this.heap.length > 0 && last !== this.heap[0]) {
      this.heap[0] = last;
      last.index = 0;
      this.siftDown(0);
    }
  }

  private remove(e: Entry): void {
    const i = e.index;
    if (i < 0 || this.heap[i] !== e) return;
    const last = this.heap.pop()!;
    if (i < this.heap.length) {
      this.heap[i] = last;
      last.index = i;
      this.siftDown(i);
      this.siftUp(i);
    }
    e.index = -1;
    if (this.heap.length === 0) this.disarm();
  }

  private siftUp(i: number): void {
    const h = this.heap;
    const e = h[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pe = h[p]!;
      if (pe.due <= e.due) break;
      h[i] = pe; pe.index = i; i = p;
    }
    h[i] = e; e.index = i;
  }

  private siftDown(i: number): void {
    const h = this.heap;
    const n = h.length;
    const e = h[i]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && h[r]!.due < h[l]!.due ? r : l;
      const ce = h[c]!;
      if (ce.due >= e.due) break;
      h[i] = ce; ce.index = i; i = c;
    }
    h[i] = e; e.index = i;
  }
}
