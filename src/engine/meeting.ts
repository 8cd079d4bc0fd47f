// A meeting (or webinar, Video SDK session, Contact Center engagement): its participants, its synthetic media
// clock and the happenings of its timeline, and the RTMS streams opened for it.
import { randomBytes } from 'node:crypto';
import type { SyntheticTimeline, TimelineItem } from '../media/synthetic-timeline.ts';
import type { SpeechProgram, Speaker, VideoLibrary } from '../media/types.ts';
import { EventLog } from './event-log.ts';
import type { Product } from './products.ts';
import type { Scheduler, Task } from './scheduler.ts';
import type { RtmsStream } from './stream.ts';

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
  onTimeline: (meeting: Meeting, item: TimelineItem, loopStart: number) => void;
}

export class Meeting {
  readonly uuid: string;
  readonly product: Product;
  webhookUrl: string | null;
  readonly operatorId: string;
  readonly sessionKey: string | undefined;
  readonly program: SpeechProgram;
  readonly timeline: SyntheticTimeline;
  readonly video: VideoLibrary;
  readonly scheduler: Scheduler;
  readonly createdAt: number;
  /** Origin of the media grid and of the dialogue loop (integer epoch ms). */
  readonly mediaOrigin: number;
  readonly participants = new Map<number, Participant>();
  readonly streams: RtmsStream[] = [];
  readonly log = new EventLog();
  ended = false;
  activeSpeaker: Speaker | null = null;
  sharer: Speaker | null = null;
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
    this.video = init.video;
    this.scheduler = init.scheduler;
    this.onTimeline = init.onTimeline;
    this.createdAt = Math.round(init.scheduler.now());
    this.mediaOrigin = this.createdAt;
    this.loopStart = this.mediaOrigin;
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
  /** Active speaker at a loop offset, as long as they are present. */
  speakerAt(offset: number): Speaker | null {
    const s = this.timeline.speakerAt(offset);
    return s && this.isPresent(s.userId) ? s : null;
  }
  sharerAt(offset: number): Speaker | null {
    const s = this.timeline.sharerAt(offset);
    return s && this.isPresent(s.userId) ? s : null;
  }

  /** Walks the dialogue loop: one scheduler task at a time, for the next happening. */
  private scheduleTimeline(): void {
    const items = this.timeline.items;
    if (items.length === 0 || this.ended) return;
    const D = this.timeline.durationMs;
    const now = this.scheduler.now();
    while (true) {
      if (this.nextItem >= items.length) { this.nextItem = 0; this.loopStart += D; }
      const due = this.loopStart + items[this.nextItem]!.at;
      if (due > now - 1) break;
      this.nextItem++;
    }
    const item = items[this.nextItem]!;
    const loopStart = this.loopStart;
    this.timelineTask = this.scheduler.at(loopStart + item.at, () => {
      this.nextItem++;
      this.apply(item);
      this.onTimeline(this, item, loopStart);
      this.scheduleTimeline();
    });
  }

  private apply(item: TimelineItem): void {
    if (item.kind === 'speaker') this.activeSpeaker = item.speaker;
    else if (item.kind === 'share_start') this.sharer = item.speaker;
    else if (item.kind === 'share_stop') this.sharer = null;
  }

  end(): void {
    this.ended = true;
    this.timelineTask?.cancel();
    this.timelineTask = null;
  }
}
