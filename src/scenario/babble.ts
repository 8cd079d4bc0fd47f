// The "babble" voice: free text of a scenario is spoken by a deterministic speech-like signal, because the mock
// has no text-to-speech at run time (the executable carries no espeak). It is deliberately UNINTELLIGIBLE: voiced
// syllables (a harmonic source shaped by three vowel formants, with a syllable envelope, a consonant-like noise
// onset and falling intonation), one per vowel group of the text, with pauses at word gaps and punctuation.
// Duration follows the text, pitch follows the voice, and the transcript (spec §7) carries the real text aligned
// with this audio. Rendered once per utterance to 16 kHz PCM; encoded once per format by audio-program.ts.
import { hash32, Prng } from './prng.ts';

export const BABBLE_RATE = 16000;
/** Audio is placed on the 20 ms media grid (spec §8): utterance lengths are whole 20 ms frames. */
const FRAME_MS = 20;

export interface BabbleVoice {
  /** Mean fundamental frequency in Hz. */
  pitchHz: number;
  /** Formant frequencies are multiplied by this (shorter vocal tract → higher formants). */
  formantScale: number;
}

/** Voices of the built-in speakers and the plain babble voice; unknown keys get a pitch from their name. */
const VOICES: Record<string, BabbleVoice> = {
  alice: { pitchHz: 210, formantScale: 1.12 },
  bob: { pitchHz: 115, formantScale: 1.0 },
  carol: { pitchHz: 230, formantScale: 1.15 },
  babble: { pitchHz: 165, formantScale: 1.06 },
};

export function babbleVoice(voice: string, pitchHz?: number): BabbleVoice {
  const base = VOICES[voice] ?? { pitchHz: 110 + (hash32(voice) % 130), formantScale: 1.05 };
  if (pitchHz === undefined) return base;
  return { pitchHz, formantScale: pitchHz >= 165 ? Math.max(base.formantScale, 1.1) : Math.min(base.formantScale, 1.03) };
}

interface Syllable {
  startMs: number;
  lenMs: number;
  vowel: number;
  onset: boolean;
}

export interface BabblePlan {
  syllables: Syllable[];
  /** Whole 20 ms frames. */
  durationMs: number;
}

/** F1, F2, F3 (Hz) of a few vowels (a, e, i, o, u, æ, ə). */
const VOWELS: readonly [number, number, number][] = [
  [730, 1090, 2440], [530, 1840, 2480], [300, 2250, 2950], [570, 840, 2410], [320, 900, 2250], [660, 1720, 2410], [500, 1500, 2500],
];

const VOWEL_GROUP = /[aeiouyàáâãäåèéêëìíîïòóôõöùúûüæœ]+/giu;

/** Syllables and pauses of a text: the duration of its babble (seeded, so the same text gives the same plan). */
export function planBabble(text: string, seed: number): BabblePlan {
  const rng = new Prng(hash32(text, seed));
  const syllables: Syllable[] = [];
  let t = 0;
  let pause = 0;
  const words = text.split(/\s+/).filter(Boolean);
  for (const word of words) {
    const core = word.replace(/[^\p{L}\p{N}]/gu, '');
    if (core) {
      t += pause;
      const digits = (core.match(/\p{N}/gu) ?? []).length;
      const groups = (core.replace(/\p{N}/gu, '').match(VOWEL_GROUP) ?? []).length;
      const n = Math.min(7, Math.max(1, digits + groups));
      for (let i = 0; i < n; i++) {
        const lenMs = 140 + rng.next() * 80;
        syllables.push({ startMs: t, lenMs, vowel: rng.int(VOWELS.length), onset: rng.next() < 0.65 });
        t += lenMs;
      }
      pause = 60;
    }
    if (/[.!?]["')\]]*$/.test(word)) pause = 320;
    else if (/[,;:]["')\]]*$/.test(word)) pause = 180;
  }
  if (syllables.length === 0) {
    syllables.push({ startMs: 0, lenMs: 200, vowel: rng.int(VOWELS.length), onset: false });
    t = 200;
  }
  return { syllables, durationMs: Math.max(FRAME_MS, Math.ceil(t / FRAME_MS) * FRAME_MS) };
}

/** Renders the babble of `text` (16 kHz mono s16): exactly planBabble(text, seed).durationMs long. */
export function synthesizeBabble(text: string, voice: BabbleVoice, seed: number): Int16Array {
  const plan = planBabble(text, seed);
  const rng = new Prng(hash32(`${text}\u0000audio`, seed ^ Math.round(voice.pitchHz * 100)));
  const fs = BABBLE_RATE;
  const total = (plan.durationMs * fs) / 1000;
  const out = new Float64Array(total);
  let phase = 0;
  for (const syl of plan.syllables) {
    const start = Math.round((syl.startMs * fs) / 1000);
    const len = Math.min(total - start, Math.round((syl.lenMs * fs) / 1000));
    if (len <= 0) continue;
    // Falling intonation over the utterance, a little variation per syllable.
    const pos = syl.startMs / plan.durationMs;
    const f0 = voice.pitchHz * (1.08 - 0.16 * pos) * (1 + 0.07 * (rng.next() - 0.5));
    const [f1, f2, f3] = VOWELS[syl.vowel]!.map((f) => f * voice.formantScale) as [number, number, number];
    const harmonics = Math.max(1, Math.floor(3800 / f0));
    // Harmonic amplitudes from three formant resonances (a crude vocal-tract filter).
    const amp = new Float64Array(harmonics + 1);
    let norm = 0;
    for (let k = 1; k <= harmonics; k++) {
      const f = k * f0;
      const a = 1 / (1 + ((f - f1) / 90) ** 2) + 0.6 / (1 + ((f - f2) / 120) ** 2) + 0.25 / (1 + ((f - f3) / 170) ** 2) + 0.02 / k;
      amp[k] = a;
      norm += a * a;
    }
    const scale = 1 / Math.sqrt(norm);
    const onsetLen = syl.onset ? Math.round(0.03 * fs) : 0;
    const attack = Math.round(0.02 * fs) + onsetLen;
    const release = Math.round(0.035 * fs);
    for (let i = 0; i < len; i++) {
      const x = i / len;
      const inst = f0 * (1 + 0.05 * Math.sin(Math.PI * x)); // rise and fall inside the syllable
      phase += (2 * Math.PI * inst) / fs;
      if (phase > 2 * Math.PI) phase -= 2 * Math.PI;
      // sin(kφ) for every harmonic by the Chebyshev recurrence: one sin and one cos per sample.
      const c2 = 2 * Math.cos(phase);
      let sPrev = 0;
      let s = Math.sin(phase);
      let v = 0;
      for (let k = 1; k <= harmonics; k++) {
        v += amp[k]! * s;
        const next = c2 * s - sPrev;
        sPrev = s;
        s = next;
      }
      let env = 1;
      if (i < onsetLen) env = 0;
      else if (i < attack) env = 0.5 - 0.5 * Math.cos((Math.PI * (i - onsetLen)) / (attack - onsetLen));
      if (i > len - release) env *= 0.5 - 0.5 * Math.cos((Math.PI * (len - i)) / release);
      let sample = v * scale * env;
      // A consonant-like burst of noise before the vowel.
      if (i < onsetLen + 40) sample += (rng.next() * 2 - 1) * 0.35 * Math.exp(-i / (0.012 * fs));
      out[start + i] = (out[start + i] ?? 0) + sample;
    }
  }
  let peak = 0;
  for (let i = 0; i < total; i++) peak = Math.max(peak, Math.abs(out[i]!));
  const gain = peak > 0 ? (0.4 * 32767) / peak : 0;
  const pcm = new Int16Array(total);
  for (let i = 0; i < total; i++) pcm[i] = Math.round(out[i]! * gain);
  return pcm;
}
