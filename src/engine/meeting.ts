// A meeting (or webinar, Video SDK session, Contact Center engagement): its participants, its synthetic media
// clock and the happenings of its timeline, and the RTMS streams opened for it.
import { randomBytes } from 'node:crypto';
import type { SyntheticTimeline, TimelineItem } from '../media/synthetic-timeline.ts';
import type { SpeechProgram, Speaker, VideoLibrary } from '../media/types.ts';
import { EventLog } from './event-log.ts';
import type { Product } from './products.ts';
import type { Scheduler, Task } from './scheduler.ts';
import type { RtmsStream } from './stream.ts';
import type { MediaConnection } from './connection.ts';
import { dialogueProgram, type MediaProgram } from './media-program.ts';

/** Where a meeting's media comes from: the built-in dialogue, or feeders on /ingest (docs/ingest.md). */
export type MeetingSource = 'synthetic' | 'browser' | 'file';
export const MEETING_SOURCES: readonly MeetingSource[] = ['synthetic', 'browser', 'file'];

/** The live side of a browser/file meeting (src/ingest/live-meeting.ts): it paces each app's media itself. */
export interface LiveMediaPump {
  startPump(conn: MediaConnection): void;
}

/** Zoom-like ids: 22 characters of base64 (uuids may contain / + =, spec §3.2). */
export function newMeetingUuid(): string {
  return randomBytes(16).toString('base64').slice(0, 22);
}
export function newStreamId(): string {
  return randomBytes(16).toString('hex');
}

export interface Participant extends Speaker {
  present: boolean;
  cameraOn: boolean;
}

export interface MeetingInit {
  uuid: string;
  product: Product;
  webhookUrl: string | null;
  operatorId: string;
  sessionKey?: string;
  program: SpeechProgram;
  timeline: SyntheticTimeline;
  video: VideoLibrary;
  scheduler: Scheduler;
  /** `changed` is false when the item repeats the current state (after a control-API override). */
  onTimeline: (meeting: Meeting, item: TimelineItem, loopStart: number, changed: boolean) => void;
  /** Default synthetic; live meetings have no built-in participants and no timeline. */
  source?: MeetingSource;
  /** What a synthetic meeting plays: default the looping dialogue; a scripted one (a scenario) drives the meeting. */
  media?: MediaProgram;
}

export class Meeting {
  readonly uuid: string;
  readonly product: Product;
  webhookUrl: string | null;
  readonly operatorId: string;
  readonly sessionKey: string | undefined;
  readonly program: SpeechProgram;
  readonly timeline: SyntheticTimeline;
  /** The audio program the media pump plays (src/engine/media-program.ts). */
  readonly media: MediaProgram;
  readonly video: VideoLibrary;
  readonly scheduler: Scheduler;
  readonly createdAt: number;
  /** Origin of the media grid and of the dialogue loop (integer epoch ms). */
  readonly mediaOrigin: number;
  readonly participants = new Map<number, Participant>();
  readonly streams: RtmsStream[] = [];
  readonly log = new EventLog();
  ended = false;
  /** Protocol-time factor: keep-alive interval, windows and webhook backoff are divided by it (timing.ts). */
  speed = 1;
  activeSpeaker: Speaker | null = null;
  sharer: Speaker | null = null;
  readonly source: MeetingSource;
  /** Set for live sources by the ingest hub; the media pump hands such meetings' apps to it. */
  live: LiveMediaPump | null = null;
  /** The control API chose the active speaker / the sharer: it holds until the dialogue's next change of it. */
  private speakerOverridden = false;
  private shareOverridden = false;
  private timelineTask: Task | null = null;
  private nextItem = 0;
  private loopStart: number;
  private readonly onTimeline: MeetingInit['onTimeline'];

  constructor(init: MeetingInit) {
    this.uuid = init.uuid;
    this.product = init.product;
    this.webhookUrl = init.webhookUrl;
    this.operatorId = init.operatorId;
    this.sessionKey = init.sessionKey;
    this.program = init.program;
    this.timeline = init.timeline;
    this.media = init.media ?? dialogueProgram(init.program);
    this.video = init.video;
    this.scheduler = init.scheduler;
    this.onTimeline = init.onTimeline;
    this.createdAt = Math.round(init.scheduler.now());
    this.mediaOrigin = this.createdAt;
    this.loopStart = this.mediaOrigin;
    this.source = init.source ?? 'synthetic';
    if (this.source !== 'synthetic') return; // live: participants are the feeders, media comes from them
    if (this.media.scripted) return; // a scenario adds its participants and drives the meeting (src/scenario)
    for (const s of this.program.speakers) this.participants.set(s.userId, { ...s, present: true, cameraOn: true });
    this.activeSpeaker = this.timeline.speakerAt(0);
    this.scheduleTimeline();
  }

  /** The stream that is not stopped, if any (one app per meeting through the API; more through the file list). */
  get liveStreams(): RtmsStream[] {
    return this.streams.filter((s) => s.phase !== 'stopped');
  }

  isPresent(userId: number): boolean {
    return this.participants.get(userId)?.present === true;
  }
  isCameraOn(userId: number): boolean {
    const p = this.participants.get(userId);
    return p !== undefined && p.present && p.cameraOn;
  }
  participant(userId: number): Participant | null {
    const p = this.participants.get(userId);
    return p && p.present ? p : null;
  }
  cameraOn(): Participant[] {
    return [...this.participants.values()].filter((p) => p.present && p.cameraOn);
  }
  /** Active speaker at a loop offset, as long as they are present (an API override wins until the next change). */
  speakerAt(offset: number): Speaker | null {
    if (this.speakerOverridden || this.media.scripted) return this.activeSpeaker && this.isPresent(this.activeSpeaker.userId) ? this.activeSpeaker : null;
    const s = this.timeline.speakerAt(offset);
    return s && this.isPresent(s.userId) ? s : null;
  }
  sharerAt(offset: number): Speaker | null {
    if (this.shareOverridden || this.media.scripted) return this.sharer && this.isPresent(this.sharer.userId) ? this.sharer : null;
    const s = this.timeline.sharerAt(offset);
    return s && this.isPresent(s.userId) ? s : null;
  }

  /** Walks the dialogue loop: one scheduler task at a time, for the next happening. */
  private scheduleTimeline(): void {
    const items = this.timeline.items;
    if (items.length === 0 || this.ended) return;
    const D = this.timeline.durationMs;
    const now = this.scheduler.now();
    // After a stall (blocked event loop, suspended process, moved clock) happenings that are overdue by less
    // than one loop are still played, late and in order, as the media pump catches up the audio they belong
    // to (spec §8: a transcript for every utterance). Older ones are skipped, but their state (active speaker,
    // sharer) is applied so roster events and video stay right.
    while (true) {
      if (this.nextItem >= items.length) { this.nextItem = 0; this.loopStart += D; }
      const due = this.loopStart + items[this.nextItem]!.at;
      if (due > now - D) break;
      this.apply(items[this.nextItem]!);
      this.nextItem++;
    }
    const item = items[this.nextItem]!;
    const loopStart = this.loopStart;
    this.timelineTask = this.scheduler.at(loopStart + item.at, () => {
      this.nextItem++;
      const changed = this.apply(item);
      this.onTimeline(this, item, loopStart, changed);
      this.scheduleTimeline();
    });
  }

  /** Applies a happening of the dialogue; false if it repeats the current state. Ends an API override. */
  private apply(item: TimelineItem): boolean {
    let before: Speaker | null;
    let after: Speaker | null;
    if (item.kind === 'speaker') {
      before = this.activeSpeaker; after = item.speaker;
      this.speakerOverridden = false;
      this.activeSpeaker = after;
    } else if (item.kind === 'share_start' || item.kind === 'share_stop') {
      before = this.sharer; after = item.kind === 'share_start' ? item.speaker : null;
      this.shareOverridden = false;
      this.sharer = after;
    } else return true;
    return before?.userId !== after?.userId;
  }

  /** The control API (or the live audio level) makes someone the active speaker (spec §4.3 event 2). */
  overrideSpeaker(s: Speaker): void {
    this.activeSpeaker = s;
    this.speakerOverridden = true;
  }

  /** The control API (or a feeder) starts (or, with null, stops) a share (spec §4.3 events 5/6). */
  overrideShare(s: Speaker | null): void {
    this.sharer = s;
    this.shareOverridden = true;
  }

  end(): void {
    this.ended = true;
    this.timelineTask?.cancel();
    this.timelineTask = null;
  }
}
