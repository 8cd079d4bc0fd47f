// Plays a scenario in a meeting: the runner owns the meeting's participants and walks the laid-out timeline on
// the engine's scheduler, one task for the next happening, acting through the engine's own entry points (join,
// leave, camera, share, chat, active speaker: spec §4.3; pause, resume, stop: §6; faults: fault-injector.ts),
// sending each utterance's transcript (spec §7) when its audio ends. The audio itself is the meeting's
// MediaProgram (audio-program.ts), so the pump, transcripts and events share one clock: the scenario's origin,
// on the meeting's 20 ms media grid.
import { FaultSpecError, FaultStateError } from '../engine/fault-injector.ts';
import { nextGrid } from '../engine/media-pump.ts';
import type { Meeting } from '../engine/meeting.ts';
import type { RtmsEngine } from '../engine/rtms-engine.ts';
import type { Task } from '../engine/scheduler.ts';
import type { StreamObserver } from '../engine/observer.ts';
import type { MediaConnection } from '../engine/connection.ts';
import { Codec, MediaBit, MsgType, RESOLUTION_SIZE, StopReason, nameOf } from '../protocol/enums.ts';
import type { SpeechProgram, VideoCodec, VideoLibrary } from '../media/types.ts';
import { ScenarioAudio } from './audio-program.ts';
import type { Plan, PlanParticipant } from './compile.ts';
import { BASE_MS } from './dialogue.ts';
import { layoutPlan, type Layout, type PlacedUtterance, type WallEvent } from './layout.ts';

const VIDEO_CODEC: Record<number, VideoCodec> = { [Codec.JPG]: 'JPG', [Codec.PNG]: 'PNG', [Codec.H264]: 'H264' };
/** Notes kept for the status (skipped steps and the like). */
const MAX_NOTES = 50;

export type RunState = 'waiting' | 'running' | 'finished';

export interface ScenarioStatus {
  name: string;
  state: RunState;
  speed: number;
  seed: number;
  /** Timeline origin (ms epoch), null while waiting for the app's stream to become active. */
  origin: number | null;
  /** Scenario time reached (ms, speed 1). */
  scenario_ms: number;
  duration_ms: number;
  events_done: number;
  events_total: number;
  next: string | null;
  notes: string[];
}

const byMeeting = new WeakMap<Meeting, ScenarioRun>();

/** The run playing in a meeting, if any (for the API's meeting view). */
export function scenarioOf(meeting: Meeting): ScenarioRun | null {
  return byMeeting.get(meeting) ?? null;
}

export class ScenarioRun {
  readonly layout: Layout;
  readonly audio: ScenarioAudio;
  meeting: Meeting | null = null;
  state: RunState = 'waiting';
  private origin: number | null = null;
  private cursor = 0;
  private task: Task | null = null;
  private readonly notes: string[] = [];
  private observer: StreamObserver | null = null;
  private finishedResolve!: () => void;
  /** Resolves when the run is over (the meeting ended, by the scenario or otherwise). */
  readonly finished: Promise<void>;
  /** Counts of what the run did, for the summary. */
  readonly counts = { actions: 0, speaker_changes: 0, transcripts: 0, skipped: 0 };

  constructor(private readonly engine: RtmsEngine, readonly plan: Plan, readonly speed: number, speech: SpeechProgram) {
    this.layout = layoutPlan(plan, speed);
    this.audio = new ScenarioAudio(this.layout, speech);
    this.finished = new Promise((resolve) => { this.finishedResolve = resolve; });
  }

  /** Takes over a freshly created (scripted) meeting: adds the participants, waits for its start. */
  attach(meeting: Meeting): void {
    if (meeting.media !== this.audio) throw new Error('internal: the meeting must be created with this run\'s audio program');
    this.meeting = meeting;
    byMeeting.set(meeting, this);
    for (const p of this.plan.participants) {
      meeting.participants.set(p.userId, { key: p.id, userId: p.userId, userName: p.userName, present: p.joined, cameraOn: p.camera });
    }
    this.observer = (stream, e) => {
      if (stream.meeting !== meeting) return;
      if (e.kind === 'media_attached') this.prerenderFor(e.conn);
      // The meeting ended from outside (the API, a fault): the run is over once endMeeting has finished.
      if (e.kind === 'stopped') queueMicrotask(() => { if (meeting.ended) this.finish('the meeting ended'); });
      // spec §3.4: the timeline starts with the stream's FIRST_PACKET_TIMESTAMP, on the same 20 ms grid.
      if (e.kind === 'activated' && this.state === 'waiting' && this.plan.start === 'ready') {
        this.begin(e.firstPacketAt ?? nextGrid(meeting.mediaOrigin, BASE_MS, meeting.scheduler.now()));
      }
    };
    this.engine.observers.add(this.observer);
    this.note(`scenario ${this.plan.name}: ${this.plan.participants.length} participants, ${this.layout.events.length} happenings over ${Math.round(this.layout.endAt)} ms at speed ${this.speed}${this.plan.start === 'ready' ? '; starts when the app\'s stream is active' : ''}`, false);
    if (this.plan.start === 'created') this.begin(nextGrid(meeting.mediaOrigin, BASE_MS, meeting.scheduler.now()));
    // While waiting for the app, notice a meeting ended without ever having a stream (no observer event then).
    else this.task = meeting.scheduler.every(1000, () => { if (meeting.ended) this.finish('the meeting ended before the timeline started'); });
  }

  /**
   * Starts drawing the camera and share frames the scenario will need at one video format ahead of time (a
   * JPG/PNG loop takes a while to draw; the video library draws it in the background, frame by frame).
   */
  prerender(video: VideoLibrary, codec: VideoCodec, width: number, height: number, share?: { codec: VideoCodec; width: number; height: number }): void {
    for (const p of this.cameraUsers()) video.frames({ kind: 'camera', userName: p.userName, userId: p.userId }, codec, width, height);
    if (share) for (const p of this.sharers()) video.frames({ kind: 'share', userName: p.userName, userId: p.userId }, share.codec, share.width, share.height);
  }

  status(): ScenarioStatus {
    const now = this.meeting ? this.meeting.scheduler.now() : 0;
    const next = this.state === 'finished' ? null : this.layout.events[this.cursor];
    return {
      name: this.plan.name,
      state: this.state,
      speed: this.speed,
      seed: this.plan.seed,
      origin: this.origin,
      scenario_ms: this.origin === null ? 0 : Math.max(0, Math.round((Math.min(now, this.origin + this.layout.endAt) - this.origin) * this.speed)),
      duration_ms: this.plan.endMs,
      events_done: this.cursor,
      events_total: this.layout.events.length,
      next: next ? describe(next) : null,
      notes: this.notes.slice(),
    };
  }

  /** Stops the run (the meeting is left as it is). */
  cancel(): void {
    this.finish('cancelled');
  }

  // ---- the timeline ----

  private begin(origin: number): void {
    if (this.state !== 'waiting' || !this.meeting) return;
    this.state = 'running';
    this.task?.cancel();
    this.task = null;
    this.origin = origin;
    this.audio.origin = origin;
    this.note(`timeline started`, false);
    this.schedule();
  }

  private schedule(): void {
    const m = this.meeting!;
    if (m.ended) return this.finish('the meeting ended');
    const origin = this.origin!;
    // Overdue happenings (a stalled event loop) run now, late but in order.
    while (this.cursor < this.layout.events.length && origin + this.layout.events[this.cursor]!.at <= m.scheduler.now()) {
      this.execute(this.layout.events[this.cursor++]!);
      if (m.ended) return this.finish('the meeting ended');
    }
    if (this.cursor >= this.layout.events.length) {
      if (m.ended) this.finish('the meeting ended');
      return; // an `end` step, a fault or the API ends the meeting; finish() is called from the last event
    }
    const ev = this.layout.events[this.cursor]!;
    this.task = m.scheduler.at(origin + ev.at, () => {
      this.task = null;
      this.schedule();
    });
  }

  private execute(ev: WallEvent): void {
    const m = this.meeting!;
    const e = this.engine;
    switch (ev.kind) {
      case 'speaker':
        if (e.setActiveSpeaker(m, ev.who.userId)) this.counts.speaker_changes++;
        return;
      case 'transcript':
        this.sendTranscript(ev.utterance);
        return;
      case 'end':
        this.note(`end of the scenario: meeting ends (reason ${StopReason.MEETING_ENDED} MEETING_ENDED)`);
        e.endMeeting(m, StopReason.MEETING_ENDED);
        return;
      case 'action':
        break;
    }
    const a = ev.event.action;
    const label = `step ${ev.event.step}${ev.event.occurrence ? `#${ev.event.occurrence + 1}` : ''}: ${ev.event.label}`;
    const user = (id: string): PlanParticipant => this.plan.participants.find((p) => p.id === id)!;
    const live = m.liveStreams.at(-1);
    this.counts.actions++;
    switch (a.kind) {
      case 'join': for (const w of a.who) e.setPresent(m, user(w).userId, true); break;
      case 'leave':
        for (const w of a.who) {
          const p = user(w);
          if (m.sharer?.userId === p.userId) e.setSharing(m, null); // a sharer who leaves stops sharing
          e.setPresent(m, p.userId, false);
        }
        break;
      case 'camera_on': case 'camera_off': for (const w of a.who) e.setCamera(m, user(w).userId, a.kind === 'camera_on'); break;
      case 'share_start': e.setSharing(m, user(a.who).userId); break;
      case 'share_stop': e.setSharing(m, null); break;
      case 'speak': break; // the audio plays from the meeting's program; speaker and transcript have their own events
      case 'chat': e.sendChat(m, user(a.from).userId, a.text); break;
      // The host's pause, resume and stop reach every app of the meeting (each has its own stream).
      case 'pause': if (!m.liveStreams.map((x) => x.pause()).includes(true)) return this.skip(label, `the stream is ${live?.phase ?? 'not running'}`); break;
      case 'resume': if (!m.liveStreams.map((x) => x.resume()).includes(true)) return this.skip(label, `the stream is ${live?.phase ?? 'not running'}`); break;
      case 'stop': if (!m.liveStreams.map((x) => x.stop(a.reason)).includes(true)) return this.skip(label, 'no live stream'); break;
      case 'start_rtms':
        if (live) return this.skip(label, 'a stream is already running');
        e.startStream(m);
        break;
      case 'end': this.note(label); e.endMeeting(m, a.reason); return;
      case 'fault':
        try {
          const f = e.faults.inject(m, a.body);
          this.note(`${label} → fault #${f.id}`);
        } catch (err) {
          if (err instanceof FaultSpecError || err instanceof FaultStateError) return this.skip(label, err.message);
          throw err;
        }
        return;
    }
    if (a.kind !== 'speak') this.note(label);
  }

  /** MEDIA_DATA_TRANSCRIPT at the end of the utterance's audio, with its start and end (spec §7). */
  private sendTranscript(u: PlacedUtterance): void {
    const m = this.meeting!;
    if (!m.isPresent(u.who.userId)) return;
    const origin = this.origin!;
    const sender = { userId: u.who.userId, userName: u.who.userName, channelId: m.product === 'contact_center' ? (u.who.channelId ?? 1) : undefined };
    const max = this.engine.options.maxBufferedBytes;
    let sent = false;
    for (const stream of m.liveStreams) {
      for (const c of stream.carriers(MediaBit.TRANSCRIPT)) {
        const text = this.engine.packer.transcript(c.dialect, sender, u.speech.text, origin + u.startMs, origin + u.endMs, u.speech.language);
        if (c.sendMedia(text, MsgType.MEDIA_DATA_TRANSCRIPT, max)) { c.sent.transcript++; sent = true; }
      }
    }
    if (sent) this.counts.transcripts++;
  }

  private skip(label: string, why: string): void {
    this.counts.skipped++;
    this.note(`${label}: skipped (${why})`);
  }

  private note(text: string, keep = true): void {
    const m = this.meeting;
    if (keep) { this.notes.push(text); if (this.notes.length > MAX_NOTES) this.notes.shift(); }
    m?.log.push({ at: Math.round(m.scheduler.now()), dir: 'info', socket: 'scenario', text });
  }

  private finish(why: string): void {
    if (this.state === 'finished') return;
    this.state = 'finished';
    this.task?.cancel();
    this.task = null;
    if (this.observer) this.engine.observers.delete(this.observer);
    this.observer = null;
    this.note(`scenario ${this.plan.name} finished: ${why}`, false);
    this.finishedResolve();
  }

  // ---- video ahead of time ----

  private cameraUsers(): PlanParticipant[] {
    const ids = new Set(this.plan.participants.filter((p) => p.camera).map((p) => p.id));
    for (const e of this.plan.events) if (e.action.kind === 'camera_on') for (const w of e.action.who) ids.add(w);
    return this.plan.participants.filter((p) => ids.has(p.id));
  }

  private sharers(): PlanParticipant[] {
    const ids = new Set<string>();
    for (const e of this.plan.events) if (e.action.kind === 'share_start') ids.add(e.action.who);
    return this.plan.participants.filter((p) => ids.has(p.id));
  }

  /** At a data handshake: this connection's video and share frames for everyone who will need them. */
  private prerenderFor(conn: MediaConnection): void {
    const m = this.meeting!;
    const v = conn.params.video;
    if (v && conn.mask & MediaBit.VIDEO && v.data_opt !== 5) {
      const size = RESOLUTION_SIZE[v.resolution];
      if (size) for (const p of this.cameraUsers()) m.video.frames({ kind: 'camera', userName: p.userName, userId: p.userId }, VIDEO_CODEC[v.codec] ?? 'JPG', size.width, size.height);
    }
    const d = conn.params.deskshare;
    if (d && conn.mask & MediaBit.DESKSHARE) {
      const size = RESOLUTION_SIZE[d.resolution];
      if (size) for (const p of this.sharers()) m.video.frames({ kind: 'share', userName: p.userName, userId: p.userId }, VIDEO_CODEC[d.codec] ?? 'JPG', size.width, size.height);
    }
  }
}

function describe(ev: WallEvent): string {
  switch (ev.kind) {
    case 'action': return ev.event.label;
    case 'speaker': return `${ev.who.userName} becomes the active speaker`;
    case 'transcript': return `transcript of ${ev.utterance.who.userName}`;
    case 'end': return `the meeting ends (${nameOf(StopReason, StopReason.MEETING_ENDED)})`;
  }
}

export interface StartScenarioInput {
  webhookUrl: string | null;
  /** Overrides the scenario's speed. */
  speed?: number;
  meetingUuid?: string;
  rtmsStreamId?: string;
  operatorId?: string;
  /** Default true: send rtms_started at once. */
  startRtms?: boolean;
}

/** Creates a meeting that plays `plan` (product, participants, timeline) and, by default, starts its stream. */
export function startScenario(engine: RtmsEngine, plan: Plan, input: StartScenarioInput) {
  const speed = input.speed ?? plan.speed;
  const run = new ScenarioRun(engine, plan, speed, engine.speechProgram);
  const { meeting } = engine.createMeeting({
    webhookUrl: input.webhookUrl, product: plan.product, meetingUuid: input.meetingUuid, operatorId: input.operatorId,
    speed, media: run.audio, startRtms: false,
  });
  run.attach(meeting);
  const stream = input.startRtms === false ? null : engine.startStream(meeting, input.rtmsStreamId);
  return { run, meeting, stream };
}
