// Builds data/speech from data/speech/dialogue.json: synthesises each line with espeak-ng, trims and levels it,
// lays the lines out on a 16 kHz timeline, and pre-encodes what TypeScript cannot easily encode (G.722, Opus)
// with ffmpeg. Run through scripts/generate-speech.sh. Idempotent: skips all work when transcript.json was made
// from the same dialogue.json by the same generator and tools (--force regenerates anyway).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { z } from 'zod';
import { demuxOggOpus, muxOggOpus } from '../src/media/audio/ogg.ts';
import { leBytesToInt16, mixClips, monoToStereo, resample, rotate, int16ToLeBytes } from '../src/media/audio/pcm.ts';
import {
  BASE_FRAME_MS,
  DEFAULT_SPEECH_DIR,
  MASTER_RATE,
  describeZodError,
  transcriptSchema,
  type TranscriptFile,
} from '../src/media/audio/speech-program.ts';
import { encodeWav, parseWav } from '../src/media/audio/wav.ts';

const GENERATOR_VERSION = 1;
const SOURCES = [
  new URL(import.meta.url),
  new URL('../src/media/audio/pcm.ts', import.meta.url),
  new URL('../src/media/audio/ogg.ts', import.meta.url),
  new URL('../src/media/audio/wav.ts', import.meta.url),
];
const LOOP_GRANULE_MS = 1000;
const SIZE_BUDGET = 1_400_000; // bytes for everything in data/speech
const TRIM_THRESHOLD = 330; // about -40 dBFS: below this espeak's lead/tail is silence
const TRIM_MARGIN_MS = 3; // keep a little around the first/last loud sample so attacks are not cut
const PEAK_LEVEL = 0.5 * 32767; // leaves headroom for the crosstalk overlap in the mix
// ffmpeg's G.722 (QMF analysis + synthesis) delays the decoded signal by 22 samples at 16 kHz (measured with an
// impulse). The input is rotated by this much so decoded sample j is the loop's sample j (exact frame indexing).
const G722_DELAY_SAMPLES = 22;
const OPUS_BITRATE_MONO = '16k';
const OPUS_BITRATE_STEREO = '20k';

const dialogueSchema = z
  .object({
    speakers: z
      .array(
        z.object({
          key: z.string().regex(/^[a-z][a-z0-9_-]*$/),
          user_id: z.number().int().positive(),
          user_name: z.string().min(1),
          voice: z.string().regex(/^[a-zA-Z0-9_+-]+$/, { error: 'espeak-ng voice name like en-us+f3' }),
          words_per_minute: z.number().int().min(80).max(400).default(165),
          pitch: z.number().int().min(0).max(99).default(50),
        }),
      )
      .min(1)
      .max(3), // spec §8: up to 3 speakers per 20 ms in multi-stream mode
    lines: z
      .array(
        z.object({
          speaker: z.string(),
          text: z.string().min(1),
          /** Silence after the previous line ends (for the first line: after the loop start). Negative = crosstalk. */
          gap_ms: z.number().int(),
        }),
      )
      .min(1),
    tail_ms: z.number().int().min(1000),
    chat: z.array(z.object({ speaker: z.string(), text: z.string().min(1), at_ms: z.number().int().nonnegative() })),
  })
  .superRefine((d, ctx) => {
    const keys = new Set(d.speakers.map((s) => s.key));
    d.lines.forEach((l, i) => {
      if (!keys.has(l.speaker)) ctx.addIssue({ code: 'custom', path: ['lines', i, 'speaker'], message: `unknown speaker "${l.speaker}"` });
    });
    d.chat.forEach((c, i) => {
      if (!keys.has(c.speaker)) ctx.addIssue({ code: 'custom', path: ['chat', i, 'speaker'], message: `unknown speaker "${c.speaker}"` });
    });
    if ((d.lines[0]?.gap_ms ?? 0) < 0) ctx.addIssue({ code: 'custom', path: ['lines', 0, 'gap_ms'], message: 'the first line cannot overlap' });
  });

function log(msg: string) {
  console.log(`[generate-speech] ${msg}`);
}

function run(cmd: string[], stdin?: Uint8Array): Uint8Array {
  const r = Bun.spawnSync(cmd, { stdin: stdin ?? 'ignore', stdout: 'pipe', stderr: 'pipe' });
  if (r.exitCode !== 0) throw new Error(`${cmd.join(' ')} failed (${r.exitCode}): ${r.stderr.toString().trim()}`);
  return new Uint8Array(r.stdout);
}

function toolVersions(): string {
  const espeak = run(['espeak-ng', '--version']);
  const ffmpeg = run(['ffmpeg', '-version']);
  return `${new TextDecoder().decode(espeak).split('\n')[0]}|${new TextDecoder().decode(ffmpeg).split('\n')[0]}`;
}

/** Speech between the first and last sample above the threshold (plus a small margin), padded to whole ms. */
function trim(samples: Int16Array): Int16Array {
  let first = -1;
  let last = -1;
  for (let i = 0; i < samples.length; i++) {
    if (Math.abs(samples[i]!) >= TRIM_THRESHOLD) {
      if (first < 0) first = i;
      last = i;
    }
  }
  if (first < 0) throw new Error('espeak-ng produced silence');
  const margin = (TRIM_MARGIN_MS * MASTER_RATE) / 1000;
  const start = Math.max(0, first - margin);
  const end = Math.min(samples.length, last + 1 + margin);
  // Pad with zeros to a whole number of ms so start_ms/end_ms are exact on the sample timeline.
  const perMs = MASTER_RATE / 1000;
  const out = new Int16Array(Math.ceil((end - start) / perMs) * perMs);
  out.set(samples.subarray(start, end));
  return out;
}

function normalizePeak(samples: Int16Array): Int16Array {
  let peak = 0;
  for (const s of samples) peak = Math.max(peak, Math.abs(s));
  const gain = PEAK_LEVEL / peak;
  return samples.map((s) => Math.round(s * gain));
}

function synthesize(tmp: string, voice: string, wpm: number, pitch: number, text: string): Int16Array {
  const wavFile = join(tmp, 'line.wav');
  run(['espeak-ng', '-v', voice, '-s', String(wpm), '-p', String(pitch), '-w', wavFile, '--', text]);
  const wav = parseWav(new Uint8Array(readFileSync(wavFile)), `espeak-ng output for "${text}"`);
  if (wav.channels !== 1) throw new Error(`espeak-ng gave ${wav.channels} channels`);
  // espeak-ng speaks at 22050 Hz; our windowed-sinc resampler takes it to the 16 kHz master rate.
  return normalizePeak(trim(resample(wav.samples, wav.sampleRate, MASTER_RATE)));
}

/** G.722 of a whole loop, delay-compensated: byte k encodes loop samples 2k, 2k+1. */
function encodeG722Loop(pcm16k: Int16Array): Uint8Array {
  const out = run(
    ['ffmpeg', '-v', 'error', '-f', 's16le', '-ar', '16000', '-ac', '1', '-i', 'pipe:0', '-c:a', 'g722', '-f', 'g722', 'pipe:1'],
    int16ToLeBytes(rotate(pcm16k, G722_DELAY_SAMPLES)),
  );
  if (out.length !== pcm16k.length / 2) throw new Error(`G.722: ${out.length} bytes for ${pcm16k.length} samples`);
  return out;
}

let opusPreSkip = 312; // libopus's usual lookahead at 48 kHz; checked against each encoder output below

/**
 * Opus packets of a whole loop at 48 kHz, delay-compensated: the input is rotated by the encoder's pre-skip, so
 * packet k decodes (with no pre-skip) to exactly the loop's [20k, 20k+20) ms. Exactly durationMs/20 packets.
 */
function encodeOpusLoop(pcm48k: Int16Array, channels: 1 | 2): Uint8Array[] {
  const blocks = pcm48k.length / 960;
  for (;;) {
    const input = channels === 2 ? monoToStereo(rotate(pcm48k, opusPreSkip)) : rotate(pcm48k, opusPreSkip);
    const ogg = run(
      [
        'ffmpeg', '-v', 'error', '-f', 's16le', '-ar', '48000', '-ac', String(channels), '-i', 'pipe:0',
        '-c:a', 'libopus', '-b:a', channels === 2 ? OPUS_BITRATE_STEREO : OPUS_BITRATE_MONO, '-vbr', 'on',
        '-application', 'voip', '-frame_duration', '20', '-fflags', '+bitexact', '-f', 'ogg', 'pipe:1',
      ],
      int16ToLeBytes(input),
    );
    const { head, packets } = demuxOggOpus(ogg, 'ffmpeg libopus output');
    if (head.preSkip !== opusPreSkip) {
      log(`libopus pre-skip is ${head.preSkip}, not ${opusPreSkip}: re-encoding`);
      opusPreSkip = head.preSkip;
      continue;
    }
    // The encoder flushes one extra packet for its lookahead; the loop is exactly `blocks` packets.
    if (packets.length < blocks) throw new Error(`Opus: ${packets.length} packets for ${blocks} blocks`);
    return packets.slice(0, blocks);
  }
}

/** Lag (in samples) that best aligns `decoded` with `reference`, searched within ±maxLag. */
function bestLag(reference: Int16Array, decoded: Int16Array, maxLag: number): number {
  let best = 0;
  let bestScore = -Infinity;
  const n = Math.min(reference.length, decoded.length);
  for (let lag = -maxLag; lag <= maxLag; lag++) {
    let acc = 0;
    for (let i = maxLag; i < n - maxLag; i++) acc += reference[i]! * decoded[i + lag]!;
    if (acc > bestScore) {
      bestScore = acc;
      best = lag;
    }
  }
  return best;
}

/** Decode with ffmpeg and check that the encoded track lines up with the master sample-exactly (±1 sample). */
function verifyAlignment(label: string, file: string, inputFormat: string[], reference: Int16Array, rate: number) {
  const decoded = leBytesToInt16(
    run(['ffmpeg', '-v', 'error', ...inputFormat, '-i', file, '-f', 's16le', '-ac', '1', '-ar', String(rate), 'pipe:1']),
  );
  const lag = bestLag(reference, decoded, Math.round(rate / 500));
  log(`  alignment check ${label}: decoded lag ${lag} samples (${((lag / rate) * 1000).toFixed(2)} ms)`);
  if (Math.abs(lag) > 1) throw new Error(`${label}: decoded audio is ${lag} samples off the transcript timeline`);
}

function listFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...listFiles(p));
    else out.push(p);
  }
  return out;
}

function reportSizes(dir: string): number {
  let total = 0;
  for (const f of listFiles(dir)) {
    const size = statSync(f).size;
    total += size;
    log(`  ${String(size).padStart(8)}  ${relative(dir, f)}`);
  }
  log(`total ${total} bytes (${(total / 1e6).toFixed(3)} MB; budget ${(SIZE_BUDGET / 1e6).toFixed(1)} MB)`);
  return total;
}

function main() {
  const force = process.argv.includes('--force');
  const dir = process.argv.find((a, i) => i >= 2 && !a.startsWith('--')) ?? DEFAULT_SPEECH_DIR;
  const dialogueFile = join(dir, 'dialogue.json');
  const transcriptFile = join(dir, 'transcript.json');
  const dialogueText = readFileSync(dialogueFile, 'utf8');
  let dialogueJson: unknown;
  try {
    dialogueJson = JSON.parse(dialogueText);
  } catch (err) {
    throw new Error(`${dialogueFile}: invalid JSON: ${(err as Error).message}`);
  }
  const parsed = dialogueSchema.safeParse(dialogueJson);
  if (!parsed.success) throw new Error(describeZodError(dialogueFile, parsed.error));
  const dialogue = parsed.data;

  const sourceHash = createHash('sha256')
    .update(`${GENERATOR_VERSION}\n${toolVersions()}\n${dialogueText}`)
    // The code that shapes the bytes is part of the source: a changed resampler or mixer means new outputs.
    .update(SOURCES.map((u) => readFileSync(u, 'utf8')).join('\n'))
    .digest('hex');
  if (!force && existsSync(transcriptFile)) {
    const old = transcriptSchema.safeParse(JSON.parse(readFileSync(transcriptFile, 'utf8')));
    const files = old.success
      ? [old.data.mixed.g722, old.data.mixed.opus_mono, old.data.mixed.opus_stereo, ...old.data.utterances.flatMap((u) => [u.clip, u.g722, u.opus_mono, u.opus_stereo])]
      : [];
    if (old.success && old.data.source_sha256 === sourceHash && files.every((f) => existsSync(join(dir, f)))) {
      log(`${relative(process.cwd(), transcriptFile)} is up to date (same dialogue, generator and tools); --force to rebuild`);
      reportSizes(dir);
      return;
    }
  }

  const tmp = mkdtempSync(join(tmpdir(), 'rtms-speech-'));
  try {
    const perMs = MASTER_RATE / 1000;
    const speakerOf = new Map(dialogue.speakers.map((s) => [s.key, s]));

    // 1. Synthesise and lay out. Times are whole ms, so start_ms/end_ms are exact sample positions.
    log(`synthesising ${dialogue.lines.length} lines with espeak-ng`);
    const placed: { speaker: string; text: string; startMs: number; endMs: number; samples: Int16Array }[] = [];
    let prevEnd = 0;
    for (const [i, line] of dialogue.lines.entries()) {
      const s = speakerOf.get(line.speaker)!;
      const samples = synthesize(tmp, s.voice, s.words_per_minute, s.pitch, line.text);
      const startMs = prevEnd + line.gap_ms;
      const endMs = startMs + samples.length / perMs;
      const prev = placed[placed.length - 1];
      if (prev && startMs < prev.startMs) throw new Error(`${dialogueFile}: lines.${i}.gap_ms: line would start before the previous one`);
      // At most two voices at once, and never a speaker over themself.
      for (const p of placed) {
        if (p.endMs > startMs && p.speaker === line.speaker) throw new Error(`${dialogueFile}: lines.${i}: ${line.speaker} would overlap themself`);
      }
      const concurrent = placed.filter((p) => p.endMs > startMs).length;
      if (concurrent > 1) throw new Error(`${dialogueFile}: lines.${i}.gap_ms: more than two speakers at once`);
      placed.push({ speaker: line.speaker, text: line.text, startMs, endMs, samples });
      log(`  ${String(i + 1).padStart(2)} ${line.speaker.padEnd(6)} ${startMs}-${endMs} ms${line.gap_ms < 0 ? ' (crosstalk)' : ''}  ${line.text}`);
      prevEnd = endMs;
    }
    const lastEnd = Math.max(...placed.map((p) => p.endMs));
    // A whole number of seconds: every send_rate dividing it (20, 40, 60, 100, 200, 500, 1000 ms...) tiles the
    // loop exactly; for the others the loader drops a remainder that lies inside the >= 1 s silent tail.
    const durationMs = Math.ceil((lastEnd + dialogue.tail_ms) / LOOP_GRANULE_MS) * LOOP_GRANULE_MS;
    const speechMs = placed.reduce((a, p) => a + p.endMs - p.startMs, 0);
    log(`speech ${speechMs} ms in a ${durationMs} ms loop`);
    for (const [i, c] of dialogue.chat.entries()) {
      if (c.at_ms >= durationMs) throw new Error(`${dialogueFile}: chat.${i}.at_ms: ${c.at_ms} is beyond the loop (${durationMs} ms)`);
    }

    // 2. Tracks: the mix (as the loader will rebuild it) and each speaker alone.
    const length = durationMs * perMs;
    const mixed = mixClips(length, placed.map((p) => ({ samples: p.samples, offset: p.startMs * perMs })));
    const speakerTrack = new Map(
      dialogue.speakers.map((s) => [
        s.key,
        mixClips(length, placed.filter((p) => p.speaker === s.key).map((p) => ({ samples: p.samples, offset: p.startMs * perMs }))),
      ]),
    );

    // 3. Clean our outputs (never dialogue.json), then write.
    for (const sub of ['clips', 'g722', 'opus']) rmSync(join(dir, sub), { recursive: true, force: true });
    for (const f of ['mixed.g722', 'mixed.mono.opus', 'mixed.stereo.opus', 'transcript.json']) rmSync(join(dir, f), { force: true });
    for (const sub of ['clips', 'g722', 'opus']) mkdirSync(join(dir, sub), { recursive: true });

    log('encoding the mixed loop: G.722, Opus mono, Opus stereo');
    const mixedG722 = encodeG722Loop(mixed);
    writeFileSync(join(dir, 'mixed.g722'), mixedG722);
    const mixed48 = resample(mixed, MASTER_RATE, 48000, { circular: true });
    const inputRate = MASTER_RATE;
    writeFileSync(join(dir, 'mixed.mono.opus'), muxOggOpus(encodeOpusLoop(mixed48, 1), { channels: 1, inputSampleRate: inputRate }));
    writeFileSync(join(dir, 'mixed.stereo.opus'), muxOggOpus(encodeOpusLoop(mixed48, 2), { channels: 2, inputSampleRate: inputRate }));
    verifyAlignment('mixed G.722', join(dir, 'mixed.g722'), ['-f', 'g722'], mixed, 16000);
    verifyAlignment('mixed Opus', join(dir, 'mixed.mono.opus'), [], mixed48, 48000);

    // Per speaker: encode the speaker's whole loop (so codec state is continuous), keep only the 20 ms blocks
    // that overlap that speaker's utterances: one small file per utterance and codec.
    const encoded = new Map<string, { g722: Uint8Array; opus1: Uint8Array[]; opus2: Uint8Array[] }>();
    for (const s of dialogue.speakers) {
      log(`encoding ${s.key} alone`);
      const pcm = speakerTrack.get(s.key)!;
      const pcm48 = resample(pcm, MASTER_RATE, 48000, { circular: true });
      encoded.set(s.key, { g722: encodeG722Loop(pcm), opus1: encodeOpusLoop(pcm48, 1), opus2: encodeOpusLoop(pcm48, 2) });
    }

    const utterances: TranscriptFile['utterances'] = placed.map((p, i) => {
      const base = `${String(i + 1).padStart(2, '0')}-${p.speaker}`;
      const spanStart = Math.floor(p.startMs / BASE_FRAME_MS) * BASE_FRAME_MS;
      const spanEnd = Math.ceil(p.endMs / BASE_FRAME_MS) * BASE_FRAME_MS;
      const enc = encoded.get(p.speaker)!;
      const clip = `clips/${base}.wav`;
      const g722 = `g722/${base}.g722`;
      const opusMono = `opus/${base}.mono.opus`;
      const opusStereo = `opus/${base}.stereo.opus`;
      writeFileSync(join(dir, clip), encodeWav(p.samples, MASTER_RATE, 1));
      writeFileSync(join(dir, g722), enc.g722.subarray(spanStart * 8, spanEnd * 8));
      const from = spanStart / BASE_FRAME_MS;
      const to = spanEnd / BASE_FRAME_MS;
      writeFileSync(join(dir, opusMono), muxOggOpus(enc.opus1.slice(from, to), { channels: 1, inputSampleRate: inputRate }));
      writeFileSync(join(dir, opusStereo), muxOggOpus(enc.opus2.slice(from, to), { channels: 2, inputSampleRate: inputRate }));
      return {
        speaker: p.speaker,
        text: p.text,
        start_ms: p.startMs,
        end_ms: p.endMs,
        clip,
        span_start_ms: spanStart,
        span_end_ms: spanEnd,
        g722,
        opus_mono: opusMono,
        opus_stereo: opusStereo,
      };
    });

    const transcript: TranscriptFile = {
      format: 'rtms-mock-speech/1',
      source_sha256: sourceHash,
      sample_rate: MASTER_RATE,
      duration_ms: durationMs,
      speakers: dialogue.speakers.map((s) => ({ key: s.key, user_id: s.user_id, user_name: s.user_name, voice: s.voice })),
      utterances,
      chat: [...dialogue.chat].sort((a, b) => a.at_ms - b.at_ms),
      mixed: { g722: 'mixed.g722', opus_mono: 'mixed.mono.opus', opus_stereo: 'mixed.stereo.opus' },
      codec_delay: { g722_samples: G722_DELAY_SAMPLES, opus_pre_skip: opusPreSkip },
    };
    const check = transcriptSchema.safeParse(transcript);
    if (!check.success) throw new Error(describeZodError('generated transcript.json', check.error));
    writeFileSync(transcriptFile, `${JSON.stringify(transcript, null, 2)}\n`);
    log(`wrote ${relative(process.cwd(), transcriptFile)}`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }

  const total = reportSizes(dir);
  if (total > SIZE_BUDGET) throw new Error(`data/speech is ${total} bytes, over the ${SIZE_BUDGET}-byte budget`);
}

try {
  main();
} catch (err) {
  console.error(`[generate-speech] error: ${(err as Error).message}`);
  process.exit(1);
}
