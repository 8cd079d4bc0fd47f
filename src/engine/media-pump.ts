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

export function startMediaPump(meeting: Meeting, conn: MediaConnection, packer: MediaPacker, maxBuffered: number): void {
  conn.cancelTasks();
  const { scheduler } = meeting;
  const program = meeting.program;
  const D = program.durationMs;
  const t0 = meeting.mediaOrigin;
  const dialect = conn.dialect;
  const now = scheduler.now();
  const channelId = meeting.product === 'contact_center' ? 1 : undefined;

  const audio = conn.params.audio;
  if (audio && conn.mask & MediaBit.AUDIO) {
    const rate = audio.send_rate;
    const format = audioFormatOf(audio);
    const rtp = audio.content_type === ContentType.RTP ? RTP[audio.codec] : undefined;
    let seq = Math.floor(Math.random() * 0xffff);
    let rtpTs = Math.floor(Math.random() * 0xffffffff);
    const ssrc = Math.floor(Math.random() * 0xffffffff);
    const multi = audio.data_opt === DataOption.AUDIO_MULTI_STREAMS;
    const mixed = multi ? null : program.mixedFrames(format, rate);
    const perSpeaker = multi
      ? program.speakers.map((s) => ({ s, frames: program.speakerFrames(s.key, format, rate) }))
      : [];
    const count = mixed ? mixed.length : (perSpeaker[0]?.frames.length ?? 1);
    const send = (frames: readonly (Uint8Array | null)[], idx: number, sender: { userId: number; userName?: string; channelId?: number }, ts: number) => {
      let text: string | null;
      if (rtp) {
        const f = frames[idx];
        if (!f) return;
        text = packer.binaryOnce(rtpPacket(f, rtp.pt, seq, rtpTs, ssrc), dialect, MsgType.MEDIA_DATA_AUDIO, sender, ts);
      } else {
        text = packer.binary(frames, idx, dialect, MsgType.MEDIA_DATA_AUDIO, sender, ts);
      }
      if (text !== null && conn.sendMedia(text, MsgType.MEDIA_DATA_AUDIO, maxBuffered)) conn.sent.audio++;
    };
    conn.tasks.push(scheduler.every(rate, (due) => {
      const ts = Math.round(due);
      const idx = Math.floor(mod(ts - t0, D) / rate) % count;
      if (mixed) {
        send(mixed, idx, { userId: 0, channelId }, ts);
      } else {
        // Multi-stream: one message per talking participant; silence sends nothing (spec §8).
        for (const { s, frames } of perSpeaker) {
          if (!meeting.isPresent(s.userId)) continue;
          send(frames, idx, { userId: s.userId, userName: s.userName, channelId }, ts);
        }
      }
      if (rtp) { seq = (seq + 1) & 0xffff; rtpTs = (rtpTs + rtp.step) >>> 0; }
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
    const sharer = meeting.timeline.shareWindow?.speaker;
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
