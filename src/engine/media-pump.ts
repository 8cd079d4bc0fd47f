// Paces one media connection's audio, video and share on the shared scheduler (spec §8): every message is due
// at origin + n·interval on the meeting's media grid, so timestamps step exactly and line up with transcripts.
import { Codec, ContentType, DataOption, MediaBit, MsgType, RESOLUTION_SIZE, SAMPLE_RATE_HZ } from '../protocol/enums.ts';
import type { AudioFormat, Speaker, VideoCodec, VideoSubject } from '../media/types.ts';
import { rtpPacket, type MediaPacker } from './media-packer.ts';
import type { MediaConnection } from './connection.ts';
import type { Meeting } from './meeting.ts';

const CODEC_NAME: Record<number, AudioFormat['codec']> = { [Codec.L16]: 'L16', [Codec.G711]: 'G711', [Codec.G722]: 'G722', [Codec.OPUS]: 'OPUS' };
const VIDEO_CODEC: Record<number, VideoCodec> = { [Codec.JPG]: 'JPG', [Codec.PNG]: 'PNG', [Codec.H264]: 'H264' };
/** RTP payload types (RFC 3551; 111 is the usual dynamic type for Opus) and clock steps per 20 ms. */
const RTP: Record<number, { pt: number; step: number }> = {
  [Codec.G711]: { pt: 0, step: 160 }, [Codec.G722]: { pt: 9, step: 160 }, [Codec.OPUS]: { pt: 111, step: 960 },
};

/** The first grid time strictly after `now` for a grid of `interval` starting at `origin`. */
export function nextGrid(origin: number, interval: number, now: number): number {
  const n = Math.floor((now - origin) / interval) + 1;
  return origin + n * interval;
}

export function audioFormatOf(p: { codec: number; sample_rate: number; channel: number }): AudioFormat {
  return {
    codec: CODEC_NAME[p.codec] ?? 'L16',
    sampleRate: SAMPLE_RATE_HZ[p.sample_rate] ?? 16000,
    channels: p.channel === 2 ? 2 : 1,
  };
}

function mod(a: number, n: number): number {
  return ((a % n) + n) % n;
}

/** `from`: the time media starts from (default now); activation passes the time of its FIRST_PACKET_TIMESTAMP. */
export function startMediaPump(meeting: Meeting, conn: MediaConnection, packer: MediaPacker, maxBuffered: number, from?: number): void {
  conn.cancelTasks();
  // Live sources (docs/ingest.md): audio from the feeders' buffers, video forwarded as it arrives.
  if (meeting.live) return meeting.live.startPump(conn);
  const { scheduler } = meeting;
  const program = meeting.program;
  const D = program.durationMs;
  const t0 = meeting.mediaOrigin;
  const dialect = conn.dialect;
  const now = from ?? scheduler.now();

  const audio = conn.params.audio;
  if (audio && conn.mask & MediaBit.AUDIO) {
    const rate = audio.send_rate;
    const format = audioFormatOf(audio);
    const rtp = audio.content_type === ContentType.RTP ? RTP[audio.codec] : undefined;
    // One RTP stream per sender (RFC 3550): multi-stream speakers each get their own SSRC and sequence, which
    // advances per packet sent; the RTP timestamp follows elapsed time, silences included.
    let rtpTs = Math.floor(Math.random() * 0xffffffff);
    const rtpStreams = new Map<number, { seq: number; ssrc: number }>();
    const multi = audio.data_opt === DataOption.AUDIO_MULTI_STREAMS;
    // The meeting's program (the looping dialogue, or a scenario) says which encoded frame goes out per tick.
    const track = meeting.media.audio(meeting, format, rate, multi);
    const send = (frames: readonly (Uint8Array | null)[], idx: number, sender: { userId: number; userName?: string; channelId?: number }, ts: number) => {
      let text: string | null;
      if (rtp) {
        const f = frames[idx];
        if (!f) return;
        let st = rtpStreams.get(sender.userId);
        if (!st) rtpStreams.set(sender.userId, st = { seq: Math.floor(Math.random() * 0xffff), ssrc: Math.floor(Math.random() * 0xffffffff) });
        text = packer.binaryOnce(rtpPacket(f, rtp.pt, st.seq, rtpTs, st.ssrc), dialect, MsgType.MEDIA_DATA_AUDIO, sender, ts);
        st.seq = (st.seq + 1) & 0xffff;
      } else {
        text = packer.binary(frames, idx, dialect, MsgType.MEDIA_DATA_AUDIO, sender, ts);
      }
      if (text !== null && conn.sendMedia(text, MsgType.MEDIA_DATA_AUDIO, maxBuffered)) conn.sent.audio++;
    };
    conn.tasks.push(scheduler.every(rate, (due) => {
      const ts = Math.round(due);
      track.frame(ts, (frames, idx, sender) => send(frames, idx, sender, ts));
      if (rtp) rtpTs = (rtpTs + rtp.step) >>> 0;
    }, nextGrid(t0, rate, now)));
  }

  const video = conn.params.video;
  if (video && conn.mask & MediaBit.VIDEO) {
    const { width, height } = RESOLUTION_SIZE[video.resolution]!;
    const codec = VIDEO_CODEC[video.codec] ?? 'JPG';
    const interval = 1000 / video.fps;
    // Render (or load) every subject's loop now, at handshake time, not inside a paced tick.
    if (video.data_opt === DataOption.VIDEO_MIXED_GALLERY_VIEW) {
      meeting.video.frames({ kind: 'gallery', userNames: meeting.cameraOn().map((s) => s.userName) }, codec, width, height);
    } else {
      for (const p of meeting.cameraOn()) meeting.video.frames({ kind: 'camera', userName: p.userName, userId: p.userId }, codec, width, height);
    }
    let subjectKey = '';
    let n = 0;
    conn.tasks.push(scheduler.every(interval, (due) => {
      const ts = Math.round(due);
      const off = mod(ts - t0, D);
      let subject: VideoSubject;
      let sender: { userId: number; userName?: string };
      if (video.data_opt === DataOption.VIDEO_MIXED_GALLERY_VIEW) {
        const names = meeting.cameraOn().map((s) => s.userName);
        if (names.length === 0) return;
        subject = { kind: 'gallery', userNames: names };
        sender = { userId: 0 };
      } else {
        let who: Speaker | null;
        if (video.data_opt === DataOption.VIDEO_SINGLE_INDIVIDUAL_STREAM) {
          who = conn.videoSubscription === null ? null : meeting.participant(conn.videoSubscription);
        } else {
          who = meeting.speakerAt(off);
        }
        // Nothing is sent while no camera is on (spec §8).
        if (!who || !meeting.isCameraOn(who.userId)) return;
        subject = { kind: 'camera', userName: who.userName, userId: who.userId };
        sender = { userId: who.userId, userName: who.userName };
      }
      const key = subject.kind === 'gallery' ? `g:${subject.userNames.join(',')}` : `c:${subject.userId}`;
      // A new subject starts its own loop at frame 0 so H264 begins with a key frame.
      if (key !== subjectKey) { subjectKey = key; n = 0; }
      const frames = meeting.video.frames(subject, codec, width, height);
      const text = packer.binary(frames, n % frames.length, dialect, MsgType.MEDIA_DATA_VIDEO, sender, ts);
      n++;
      if (text !== null && conn.sendMedia(text, MsgType.MEDIA_DATA_VIDEO, maxBuffered)) conn.sent.video++;
    }, nextGrid(t0, interval, now)));
  }

  const share = conn.params.deskshare;
  if (share && conn.mask & MediaBit.DESKSHARE) {
    const { width, height } = RESOLUTION_SIZE[share.resolution]!;
    const codec = VIDEO_CODEC[share.codec] ?? 'JPG';
    const interval = 1000 / share.fps;
    // A scripted meeting (a scenario) pre-renders the current sharer; later ones at share start (engine.setSharing).
    const sharer = meeting.media.scripted ? meeting.sharer : meeting.timeline.shareWindow?.speaker;
    if (sharer) meeting.video.frames({ kind: 'share', userName: sharer.userName, userId: sharer.userId }, codec, width, height);
    let n = 0;
    let sharerId = -1;
    conn.tasks.push(scheduler.every(interval, (due) => {
      const ts = Math.round(due);
      const who = meeting.sharerAt(mod(ts - t0, D));
      if (!who) { sharerId = -1; return; }
      if (who.userId !== sharerId) { sharerId = who.userId; n = 0; }
      const frames = meeting.video.frames({ kind: 'share', userName: who.userName, userId: who.userId }, codec, width, height);
      const text = packer.binary(frames, n % frames.length, dialect, MsgType.MEDIA_DATA_SHARE, { userId: who.userId, userName: who.userName }, ts);
      n++;
      if (text !== null && conn.sendMedia(text, MsgType.MEDIA_DATA_SHARE, maxBuffered)) conn.sent.deskshare++;
    }, nextGrid(t0, interval, now)));
  }
}
