// The participants this page is feeding, by meeting (they end when the page is closed or reloaded).
import type { Feed } from '../ingest/feeds.ts';

export class FeedRegistry {
  private readonly byMeeting = new Map<string, Feed[]>();
  private readonly listeners = new Set<(uuid: string) => void>();

  add(feed: Feed): void {
    const list = this.byMeeting.get(feed.meetingUuid) ?? [];
    list.push(feed);
    this.byMeeting.set(feed.meetingUuid, list);
    this.changed(feed.meetingUuid);
  }

  remove(feed: Feed): void {
    const list = (this.byMeeting.get(feed.meetingUuid) ?? []).filter((f) => f !== feed);
    if (list.length) this.byMeeting.set(feed.meetingUuid, list); else this.byMeeting.delete(feed.meetingUuid);
    this.changed(feed.meetingUuid);
  }

  of(uuid: string): Feed[] {
    return this.byMeeting.get(uuid) ?? [];
  }

  all(): Feed[] {
    return [...this.byMeeting.values()].flat();
  }

  changed(uuid: string): void {
    for (const fn of this.listeners) fn(uuid);
  }

  subscribe(fn: (uuid: string) => void): void {
    this.listeners.add(fn);
  }
}
