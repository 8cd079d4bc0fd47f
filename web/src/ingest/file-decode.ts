// Decodes a media file in the page with ffmpeg.wasm: mono 48 kHz float PCM for the audio, JPEG frames at a
// fixed rate for the video (redrawn later at whatever size and codec the apps want). Reports progress.
import type { FFmpeg } from '@ffmpeg/ffmpeg';
import { loadFfmpeg, type Progress } from '../ffmpeg-loader.ts';

export const DECODE_RATE = 48000;

export interface DecodedVideo { frames: Blob[]; fps: number; width: number; height: number }
export interface DecodedMedia {
  name: string;
  durationMs: number;
  audio: Float32Array | null;
  sampleRate: number;
  video: DecodedVideo | null;
}

interface Probe { durationMs: number; hasAudio: boolean; video: { width: number; height: number } | null }

function parseProbe(log: string): Probe {
  const d = /Duration: (\d+):(\d+):(\d+(?:\.\d+)?)/.exec(log);
  const durationMs = d ? Math.round(((Number(d[1]) * 60 + Number(d[2])) * 60 + Number(d[3])) * 1000) : 0;
  const hasAudio = /Stream #\d+:\d+[^\n]*: Audio:/.test(log);
  const v = /Stream #\d+:\d+[^\n]*: Video:[^\n]*?(\d{2,5})x(\d{2,5})/.exec(log);
  const attachedPic = /Video:[^\n]*\(attached pic\)/.test(log);
  return { durationMs, hasAudio, video: v && !attachedPic ? { width: Number(v[1]), height: Number(v[2]) } : null };
}

/** Fits w×h inside 1280×720, even sides. */
function targetSize(w: number, h: number): { width: number; height: number } {
  const s = Math.min(1, 1280 / w, 720 / h);
  const even = (x: number) => Math.max(2, Math.round((x * s) / 2) * 2);
  return { width: even(w), height: even(h) };
}

export async function decodeMediaFile(file: File, onProgress: Progress): Promise<DecodedMedia> {
  if (file.size === 0) throw new Error(`${file.name} is empty`);
  if (file.size > 512 * 1024 * 1024) throw new Error(`${file.name} is ${(file.size / 1048576).toFixed(0)} MB: pick a file under 512 MB (it is decoded in the page's memory)`);
  // Stages share the bar: loading 0-35 %, probing, audio 40-60 %, video 60-95 %, reading frames 95-100 %.
  const stage = (from: number, to: number, label: string) => (f: number, l?: string) => onProgress(from + (to - from) * Math.max(0, Math.min(1, f)), l ?? label);
  const ff: FFmpeg = await loadFfmpeg(stage(0, 0.35, 'Loading ffmpeg.wasm'));
  let logs: string[] = [];
  ff.on('log', ({ message }) => { logs.push(message); if (logs.length > 4000) logs = logs.slice(-2000); });
  let current: ((f: number) => void) | null = null;
  ff.on('progress', ({ progress }) => { if (current && Number.isFinite(progress)) current(progress); });
  const ext = (/\.[a-z0-9]{1,5}$/i.exec(file.name)?.[0] ?? '.bin').toLowerCase();
  const input = `input${ext}`;
  try {
    onProgress(0.36, `Reading ${file.name}`);
    await ff.writeFile(input, new Uint8Array(await file.arrayBuffer()));
    logs = [];
    await ff.exec(['-hide_banner', '-i', input]);
    const probe = parseProbe(logs.join('\n'));
    if (!probe.hasAudio && !probe.video) {
      throw new Error(`${file.name}: ffmpeg found no audio or video stream in it (${logs.filter((l) => /Invalid|error/i.test(l)).slice(-1)[0]?.trim() ?? 'unknown format'}); use mp4, webm, mp3 or wav`);
    }
    const durationS = probe.durationMs / 1000;
    let audio: Float32Array | null = null;
    if (probe.hasAudio) {
      const label = 'Decoding audio';
      current = stage(0.4, 0.6, label);
      current(0);
      const code = await ff.exec(['-hide_banner', '-i', input, '-vn', '-ac', '1', '-ar', String(DECODE_RATE), '-f', 'f32le', 'audio.f32']);
      if (code !== 0) throw new Error(`${file.name}: could not decode its audio (ffmpeg exit ${code}): ${logs.slice(-1)[0] ?? ''}`);
      const bytes = (await ff.readFile('audio.f32')) as Uint8Array;
      audio = new Float32Array(bytes.buffer, bytes.byteOffset, Math.floor(bytes.byteLength / 4));
      await ff.deleteFile('audio.f32').catch(() => undefined);
    }
    let video: DecodedVideo | null = null;
    if (probe.video) {
      const fps = durationS <= 60 ? 30 : durationS <= 300 ? 15 : 5;
      const { width, height } = targetSize(probe.video.width, probe.video.height);
      current = stage(0.6, 0.95, 'Decoding video');
      current(0);
      await ff.createDir('frames');
      const code = await ff.exec(['-hide_banner', '-i', input, '-an', '-vf', `fps=${fps},scale=${width}:${height}`, '-q:v', '3', '-f', 'image2', 'frames/f%06d.jpg']);
      current = null;
      if (code !== 0) throw new Error(`${file.name}: could not decode its video (ffmpeg exit ${code}): ${logs.slice(-1)[0] ?? ''}`);
      const names = (await ff.listDir('frames')).filter((n) => !n.isDir && n.name.endsWith('.jpg')).map((n) => n.name).sort();
      const frames: Blob[] = [];
      for (let i = 0; i < names.length; i++) {
        const data = (await ff.readFile(`frames/${names[i]}`)) as Uint8Array;
        frames.push(new Blob([data as BlobPart], { type: 'image/jpeg' }));
        await ff.deleteFile(`frames/${names[i]}`).catch(() => undefined);
        if (i % 10 === 0) onProgress(0.95 + 0.05 * (i / names.length), `Reading video frames (${i + 1} of ${names.length})`);
      }
      if (frames.length > 0) video = { frames, fps, width, height };
    }
    current = null;
    const durationMs = audio ? Math.round((audio.length / DECODE_RATE) * 1000) : video ? Math.round((video.frames.length / video.fps) * 1000) : probe.durationMs;
    onProgress(1, 'Decoded');
    return { name: file.name, durationMs, audio, sampleRate: DECODE_RATE, video };
  } finally {
    ff.terminate();
  }
}
