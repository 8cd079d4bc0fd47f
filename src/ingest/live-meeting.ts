// The media side of a meeting fed through /ingest (source "browser" or "file"): its feeders (one per
// participant), the live audio every app gets in its own negotiated format (spec §8), camera and share frames
// forwarded as-is to the apps that negotiated exactly their format, transcripts, the `wants` list the feeders
// encode video for, and the active speaker taken from the audio level (spec §4.3 event 2).
import { Codec, ContentType, DataOption, EventType, MediaBit, MsgType, RESOLUTION_SIZE } from '../protocol/enums.ts';
import type { MediaConnection } from '../engine/connection.ts';
import { rtpPacket, type MediaPacker, type Sender } from '../engine/media-packer.ts';
import { audioFormatOf, nextGrid } from '../engine/media-pump.ts';
import type { Meeting, Participant } from '../engine/meeting.ts';
import type { Scheduler, Task } from '../engine/scheduler.ts';
import type { Logger } from '../log.ts';
import { short } from '../log.ts';
import { JITTER_MS, LiveAudioProducer, ParticipantAudio, SPM, pcmToMono, type LiveAudioKey, type LiveSource, type SharedFrame } from './live-audio.ts';
import { languageId, wantsMessage, type AudioFrame, type IngestKindName, type VideoFrame, type VideoWant, type Wants } from './protocol.ts';

/** What the live side needs from the engine (RtmsEngine provides it). */
export interface IngestEngine {
  readonly scheduler: Scheduler;
  readonly log: Logger;
  readonly packer: MediaPacker;
  readonly options: { maxBufferedBytes: number };
  setPresent(meeting: Meeting, userId: number, present: boolean): boolean;
  setCamera(meeting: Meeting, userId: number, on: boolean): boolean;
  setSharing(meeting: Meeting, userId: number | null): boolean;
  setActiveSpeaker(meeting: Meeting, userId: number): boolean;
  sendChat(meeting: Meeting, userId: number, text: string): number;
}

/** The feeder's socket, as the live side sees it. */
export interface FeederLink {
  readonly connId: number;
  send(text: string): void;
  /** Capture-to-send latency of something just sent. */
  latency(kind: IngestKindName, ms: number): void;
  /** A frame nobody took (format not wanted, camera off, not sharing). */
  dropped(kind: IngestKindName): void;
}

export interface Feeder {
  readonly userId: number;
  readonly userName: string;
  readonly link: FeederLink;
  readonly audio: ParticipantAudio;
  readonly declared: { audio: boolean; camera: boolean; share: boolean };
  readonly joinedAt: number;
  /** Audio level (RMS) of the last active-speaker check. */
  level: number;
  lastKeyRequest: number;
}

/** User ids handed to feeders that bring none: Zoom-like, after the synthetic speakers' 16778240 + k·1024. */
const FIRST_ASSIGNED_ID = 16781312;
/** Active speaker: RMS above this (about -36 dBFS) counts as talking. */
const SPEAKER_RMS = 500;
/** A new speaker must be this much louder than a current one who is still talking (hysteresis)… */
const SPEAKER_MARGIN = 1.5;
/** …for this many checks in a row (100 ms apart). */
const SPEAKER_HOLD = 2;
const SPEAKER_CHECK_MS = 100;
const SPEAKER_WINDOW_MS = 300;
/** Departed participants kept in the meeting view; older ones are forgotten (bounded). */
const DEPARTED_KEPT = 50;
const VIDEO_CODEC_NAME: Record<number, VideoWant['codec']> = { [Codec.JPG]: 'JPG', [Codec.PNG]: 'PNG', [Codec.H264]: 'H264' };
/** RTP payload types and clock steps per 20 ms, as the synthetic path (RFC 3551). */
const RTP: Record<number, { pt: number; step: number }> = { [Codec.G711]: { pt: 0, step: 160 }, [Codec.G722]: { pt: 9, step: 160 } };

interface VisualState {
  /** The participant whose frames this app got last (a new one needs an H.264 key frame first). */
  subject: number | null;
  needKey: boolean;
  lastSentAt: number;
}
interface AppState { camera: VisualState; share: VisualState }

function wantKey(w: VideoWant): string {
  return `${w.codec}|${w.width}|${w.height}|${w.fps}`;
}

/** Fast check for an H.264 IDR (5) or SPS (7) NAL unit near the start of an Annex-B access unit. */
function looksLikeKeyFrame(b: Uint8Array): boolean {
  const end = Math.min(b.length - 3, 1024);
  for (let i = 0; i < end; i++) {
    if (b[i] === 0 && b[i + 1] === 0 && b[i + 2] === 1) {
      const t = b[i + 3]! & 0x1f;
      if (t === 5 || t === 7) return true;
      i += 2;
    }
  }
  return false;
}

export class LiveMeeting {
  readonly feeders = new Map<number, Feeder>();
  private readonly producer = new LiveAudioProducer();
  private readonly apps = new WeakMap<MediaConnection, AppState>();
  private wantsSignature = '';
  private speakerTask: Task | null = null;
  private speakerCandidate: { userId: number; count: number } | null = null;
  private readonly departed: number[] = [];
  private readonly log: Logger;
  private nextAssigned = FIRST_ASSIGNED_ID;
  private opusWarned = new WeakSet<MediaConnection>();

  constructor(readonly meeting: Meeting, private readonly engine: IngestEngine) {
    this.log = engine.log.child(`ingest ${short(meeting.uuid)}`);
    this.producer.onSent = (userId, captures) => {
      const f = this.feeders.get(userId);
      if (!f) return;
      const now = engine.scheduler.now();
      for (const c of captures) f.link.latency('audio', now - c);
    };
  }

  private get now(): number {
    return this.engine.scheduler.now();
  }

  // --- participants ---

  /** Adds a feeder as a participant: PARTICIPANT_JOIN, then video on / sharing start as declared (spec §4.3). */
  join(hello: { user_name: string; user_id?: number | undefined; audio: boolean; camera: boolean; share: boolean }, link: FeederLink): Feeder | string {
    const m = this.meeting;
    let userId = hello.user_id;
    if (userId !== undefined) {
      if (m.participants.get(userId)?.present) return `user_id ${userId} is already in the meeting`;
    } else {
      while (m.participants.has(this.nextAssigned)) this.nextAssigned += 1024;
      userId = this.nextAssigned;
      this.nextAssigned += 1024;
    }
    const p: Participant = { key: `ingest-${userId}`, userId, userName: hello.user_name, present: false, cameraOn: false };
    m.participants.set(userId, p);
    const i = this.departed.indexOf(userId);
    if (i >= 0) this.departed.splice(i, 1);
    const feeder: Feeder = {
      userId, userName: hello.user_name, link, audio: new ParticipantAudio(),
      declared: { audio: hello.audio, camera: hello.camera, share: hello.share }, joinedAt: Math.round(this.now), level: 0, lastKeyRequest: 0,
    };
    this.feeders.set(userId, feeder);
    this.engine.setPresent(m, userId, true);
    if (hello.camera) this.engine.setCamera(m, userId, true);
    if (hello.share) this.engine.setSharing(m, userId);
    this.speakerTask ??= this.engine.scheduler.every(SPEAKER_CHECK_MS, () => this.checkSpeaker());
    this.log.info(`${hello.user_name} (${userId}) joined from socket #${link.connId}`);
    return feeder;
  }

  /** The feeder's socket closed: sharing stops, PARTICIPANT_LEAVE (spec §4.3). */
  leave(feeder: Feeder): void {
    if (this.feeders.get(feeder.userId) !== feeder) return;
    this.feeders.delete(feeder.userId);
    const m = this.meeting;
    if (m.sharer?.userId === feeder.userId) this.engine.setSharing(m, null);
    if (m.activeSpeaker?.userId === feeder.userId) m.activeSpeaker = null;
    const p = m.participants.get(feeder.userId);
    if (p) p.cameraOn = false;
    this.engine.setPresent(m, feeder.userId, false);
    this.departed.push(feeder.userId);
    while (this.departed.length > DEPARTED_KEPT) m.participants.delete(this.departed.shift()!);
    if (this.feeders.size === 0) { this.speakerTask?.cancel(); this.speakerTask = null; }
    this.log.info(`${feeder.userName} (${feeder.userId}) left`);
  }

  // --- audio ---

  audioIn(feeder: Feeder, frame: AudioFrame): void {
    const nowIdx = Math.round((this.now - this.meeting.mediaOrigin) * SPM);
    feeder.audio.write(pcmToMono(frame.payload, frame.channels), nowIdx, frame.captureMs);
  }

  private sources(): LiveSource[] {
    const out: LiveSource[] = [];
    for (const f of this.feeders.values()) out.push(f);
    return out;
  }

  /** Loudest participant above the threshold, with hysteresis, becomes the active speaker (event 2). */
  private checkSpeaker(): void {
    const to = Math.round((this.now - this.meeting.mediaOrigin - JITTER_MS) * SPM);
    const from = to - SPEAKER_WINDOW_MS * SPM;
    let loudest: Feeder | null = null;
    for (const f of this.feeders.values()) {
      f.level = f.audio.level(from, to);
      if (f.level >= SPEAKER_RMS && (!loudest || f.level > loudest.level)) loudest = f;
    }
    const current = this.meeting.activeSpeaker ? this.feeders.get(this.meeting.activeSpeaker.userId) : undefined;
    if (!loudest || loudest === current || (current && current.level >= SPEAKER_RMS && loudest.level < current.level * SPEAKER_MARGIN)) {
      this.speakerCandidate = null; // silence keeps the last speaker, as Zoom does
      return;
    }
    const c = this.speakerCandidate;
    this.speakerCandidate = c && c.userId === loudest.userId ? { userId: c.userId, count: c.count + 1 } : { userId: loudest.userId, count: 1 };
    if (this.speakerCandidate.count >= SPEAKER_HOLD) {
      this.speakerCandidate = null;
      this.engine.setActiveSpeaker(this.meeting, loudest.userId);
    }
  }

  // --- the per-app pump (called where the synthetic pump would start: activation, resume, new data socket) ---

  startPump(conn: MediaConnection): void {
    const meeting = this.meeting;
    const { scheduler, packer } = this.engine;
    const maxBuffered = this.engine.options.maxBufferedBytes;
    // After (re)activation H.264 must start at a key frame.
    this.apps.set(conn, {
      camera: { subject: null, needKey: true, lastSentAt: -Infinity },
      share: { subject: null, needKey: true, lastSentAt: -Infinity },
    });
    const audio = conn.params.audio;
    if (!audio || !(conn.mask & MediaBit.AUDIO)) return;
    if (audio.codec === Codec.OPUS) {
      // No Opus encoder in the mock: a live source cannot be sent as Opus (documented in docs/ingest.md).
      if (!this.opusWarned.has(conn)) {
        this.opusWarned.add(conn);
        this.log.warn(`socket #${conn.id} negotiated OPUS: not available for live sources, no audio is sent to it`);
        meeting.log.push({ at: Math.round(this.now), dir: 'error', socket: conn.path, conn: conn.id,
          text: 'audio OPUS is not available for live (ingest) sources: no audio is sent on this socket; negotiate L16, G711 or G722' });
      }
      return;
    }
    const rate = audio.send_rate;
    const key: LiveAudioKey = { format: audioFormatOf(audio), sendRate: rate, multi: audio.data_opt === DataOption.AUDIO_MULTI_STREAMS };
    const rtp = audio.content_type === ContentType.RTP ? RTP[audio.codec] : undefined;
    let seq = Math.floor(Math.random() * 0xffff);
    let rtpTs = Math.floor(Math.random() * 0xffffffff);
    const ssrc = Math.floor(Math.random() * 0xffffffff);
    const channelId = meeting.product === 'contact_center' ? 1 : undefined;
    const t0 = meeting.mediaOrigin;
    const send = (frame: SharedFrame, sender: Sender, ts: number) => {
      const text = rtp
        ? packer.binaryOnce(rtpPacket(frame[0], rtp.pt, seq, rtpTs, ssrc), conn.dialect, MsgType.MEDIA_DATA_AUDIO, sender, ts)
        : packer.binary(frame, 0, conn.dialect, MsgType.MEDIA_DATA_AUDIO, sender, ts);
      if (text !== null && conn.sendMedia(text, MsgType.MEDIA_DATA_AUDIO, maxBuffered)) conn.sent.audio++;
    };
    conn.tasks.push(scheduler.every(rate, (due) => {
      const ts = Math.round(due);
      // Produced once per (format, send_rate, mode) and tick; every app with that key shares the bytes.
      const out = this.producer.produce(key, ts - t0, this.sources());
      if (out.mixed) send(out.mixed, { userId: 0, channelId }, ts);
      for (const [userId, frame] of out.perUser) {
        const f = this.feeders.get(userId);
        if (f) send(frame, { userId, userName: f.userName, channelId }, ts);
      }
      if (rtp) { seq = (seq + 1) & 0xffff; rtpTs = (rtpTs + rtp.step) >>> 0; }
    }, nextGrid(t0, rate, scheduler.now())));
  }

  // --- video and share: forwarded as they arrive, never re-encoded ---

  /** Whose camera an active-speaker (3) or gallery (5) app sees: the active speaker, else the first camera on. */
  private videoSubject(): number | null {
    const m = this.meeting;
    const s = m.activeSpeaker;
    if (s && m.isCameraOn(s.userId) && this.feeders.has(s.userId)) return s.userId;
    let first: Feeder | null = null;
    for (const f of this.feeders.values()) if (m.isCameraOn(f.userId) && (!first || f.joinedAt < first.joinedAt)) first = f;
    return first?.userId ?? null;
  }

  videoIn(feeder: Feeder, frame: VideoFrame): number {
    const m = this.meeting;
    const camera = frame.kind === 'camera';
    if (camera ? !m.isCameraOn(feeder.userId) : m.sharer?.userId !== feeder.userId) {
      feeder.link.dropped(frame.kind);
      return 0;
    }
    const codecName = VIDEO_CODEC_NAME[frame.codec]!;
    const bit = camera ? MediaBit.VIDEO : MediaBit.DESKSHARE;
    const msgType = camera ? MsgType.MEDIA_DATA_VIDEO : MsgType.MEDIA_DATA_SHARE;
    const isKey = frame.codec === Codec.H264 && (frame.keyFrame || looksLikeKeyFrame(frame.payload));
    const sender: Sender = { userId: feeder.userId, userName: feeder.userName };
    const now = this.now;
    const ts = Math.round(now);
    const subject = camera ? this.videoSubject() : feeder.userId;
    let wanted = false;
    let delivered = 0;
    let production: string | undefined;
    let seed: string | undefined;
    for (const stream of m.streams) { // carriers() yields nothing for a stream that is not active
      for (const conn of stream.carriers(bit)) {
        const p = camera ? conn.params.video : conn.params.deskshare;
        if (!p || p.codec !== frame.codec) continue;
        const size = RESOLUTION_SIZE[p.resolution];
        if (!size || size.width !== frame.width || size.height !== frame.height) continue;
        if (frame.fps !== 0 && frame.fps !== p.fps) continue;
        wanted = true;
        if (camera) {
          const dataOpt = conn.params.video?.data_opt;
          const who = dataOpt === DataOption.VIDEO_SINGLE_INDIVIDUAL_STREAM ? conn.videoSubscription : subject;
          if (who !== feeder.userId) continue;
        }
        const app = this.apps.get(conn);
        if (!app) continue;
        const st = camera ? app.camera : app.share;
        if (frame.codec === Codec.H264) {
          // A decoder can only start (or switch participant) at a key frame: hold the app until one comes.
          if (st.needKey || st.subject !== feeder.userId) {
            st.subject = feeder.userId;
            if (!isKey) { st.needKey = true; this.requestKeyFrame(feeder); continue; }
            st.needKey = false;
          }
        } else if (frame.fps === 0 && now - st.lastSentAt < 800 / p.fps) {
          continue; // JPG/PNG frames are independent: thin an untagged feed to the app's fps (spec §8 cadence)
        }
        st.subject = feeder.userId;
        // One text per dialect for this frame, shared by every app (a live frame is never seen again: no cache).
        const text = conn.dialect === 'production'
          ? (production ??= this.engine.packer.binaryOnce(frame.payload, 'production', msgType, sender, ts))
          : (seed ??= this.engine.packer.binaryOnce(frame.payload, 'seed', msgType, sender, ts));
        if (conn.sendMedia(text, msgType, this.engine.options.maxBufferedBytes)) {
          if (camera) conn.sent.video++; else conn.sent.deskshare++;
          st.lastSentAt = now;
          delivered++;
        }
      }
    }
    if (!wanted) feeder.link.dropped(frame.kind);
    else if (delivered > 0) feeder.link.latency(frame.kind, now - frame.captureMs);
    return delivered;
  }

  /** Asks a feeder for an H.264 key frame by repeating `wants` (docs/ingest.md §3), at most every 500 ms. */
  private requestKeyFrame(feeder: Feeder): void {
    const now = this.now;
    if (now - feeder.lastKeyRequest < 500) return;
    feeder.lastKeyRequest = now;
    feeder.link.send(this.wantsText());
  }

  // --- wants ---

  /** Distinct (codec, width, height, fps) of every app connected to a live stream of the meeting (docs/ingest.md §3). */
  wants(): Wants {
    const camera = new Map<string, VideoWant>();
    const share = new Map<string, VideoWant>();
    for (const stream of this.meeting.liveStreams) {
      for (const conn of stream.media) {
        if (conn.closed) continue;
        const v = conn.params.video;
        if (v && conn.mask & MediaBit.VIDEO) {
          const w: VideoWant = { codec: VIDEO_CODEC_NAME[v.codec] ?? 'JPG', ...RESOLUTION_SIZE[v.resolution]!, fps: v.fps };
          camera.set(wantKey(w), w);
        }
        const d = conn.params.deskshare;
        if (d && conn.mask & MediaBit.DESKSHARE) {
          const w: VideoWant = { codec: VIDEO_CODEC_NAME[d.codec] ?? 'JPG', ...RESOLUTION_SIZE[d.resolution]!, fps: d.fps };
          share.set(wantKey(w), w);
        }
      }
    }
    const sorted = (m: Map<string, VideoWant>) => [...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, w]) => w);
    return { camera: sorted(camera), share: sorted(share) };
  }

  wantsText(): string {
    return wantsMessage(this.wants());
  }

  /** Recomputes `wants` and sends it to every feeder if it changed (data handshake, socket close, stream stop). */
  mediaChanged(): void {
    const text = this.wantsText();
    if (text === this.wantsSignature) return;
    this.wantsSignature = text;
    for (const f of this.feeders.values()) f.link.send(text);
    this.log.debug(`wants changed: ${text}`);
  }

  /** The `wants` sent right after `welcome`. */
  initialWants(): string {
    const text = this.wantsText();
    this.wantsSignature = text;
    return text;
  }

  // --- text ---

  transcript(feeder: Feeder, text: string, startTime: number | undefined, endTime: number | undefined, language: number | string | undefined): number {
    const now = Math.round(this.now);
    const start = Math.round(startTime ?? endTime ?? now);
    const end = Math.max(start, Math.round(endTime ?? now));
    const channelId = this.meeting.product === 'contact_center' ? 1 : undefined;
    let sent = 0;
    for (const stream of this.meeting.liveStreams) {
      for (const conn of stream.carriers(MediaBit.TRANSCRIPT)) {
        const negotiated = conn.params.transcript?.src_language ?? 9;
        const lang = languageId(language, negotiated >= 0 ? negotiated : 9);
        const msg = this.engine.packer.transcript(conn.dialect, { userId: feeder.userId, userName: feeder.userName, channelId }, text, start, end, lang);
        if (conn.sendMedia(msg, MsgType.MEDIA_DATA_TRANSCRIPT, this.engine.options.maxBufferedBytes)) { conn.sent.transcript++; sent++; }
      }
    }
    this.meeting.log.push({ at: now, dir: 'info', text: `transcript from ${feeder.userName}: ${text.slice(0, 80)}` });
    return sent;
  }

  // --- views ---

  describeFeeder(userId: number): Record<string, unknown> | null {
    const f = this.feeders.get(userId);
    if (!f) return null;
    return { conn: f.link.connId, declared: f.declared, joined_at: f.joinedAt, level: Math.round(f.level), audio_resyncs: f.audio.resyncs };
  }

  /** Stops everything (meeting ended): no more speaker checks. */
  dispose(): void {
    this.speakerTask?.cancel();
    this.speakerTask = null;
  }
}
