// The live feed behind the web inspector (served as server-sent events by src/control/api.ts): log lines of
// every meeting, each signaling and media message in both directions (media summarised: type and size, never
// the payload), webhook deliveries, and per-connection counters once a second. It costs nothing while nobody
// listens: the media tap is only installed when there is a subscriber.
import type { LogEntry } from './event-log.ts';

export type InspectorEvent =
  | { type: 'log'; meeting_uuid: string; entry: LogEntry }
  | { type: 'media'; meeting_uuid: string; stream_id: string; conn: number; socket: string; dir: 'in' | 'out'; msg_type: number; bytes: number; at: number }
  | { type: 'webhook'; meeting_uuid: string | null; delivery: unknown }
  | { type: 'stats'; at: number; connections: unknown[]; dropped_events: number }
  | { type: 'meetings'; meetings: unknown[] };

export type InspectorListener = (e: InspectorEvent) => void;

export class Inspector {
  private readonly listeners = new Set<InspectorListener>();
  /** Called when the first listener arrives or the last one leaves (to install or remove the media tap). */
  onActiveChange: (active: boolean) => void = () => {};

  get active(): boolean {
    return this.listeners.size > 0;
  }

  /** Listeners now (one per open GET /api/events). */
  get size(): number {
    return this.listeners.size;
  }

  subscribe(fn: InspectorListener): () => void {
    this.listeners.add(fn);
    if (this.listeners.size === 1) this.onActiveChange(true);
    return () => {
      if (this.listeners.delete(fn) && this.listeners.size === 0) this.onActiveChange(false);
    };
  }

  emit(e: InspectorEvent): void {
    for (const fn of this.listeners) {
      try { fn(e); } catch { /* a broken listener must not break the engine */ }
    }
  }
}
