// Reads back what the fake camera and microphone deliver in the page, to check the fake-media fixtures end to
// end (getUserMedia → decoded frame colours, dominant audio frequency). Runs inside the page via evaluate.
import type { Page } from 'playwright-core';
import type { Rgb } from './fake-media.ts';

export interface FakeMediaProbe {
  width: number;
  height: number;
  /** Colours at the centre of each quadrant of a decoded frame. */
  quadrants: { topLeft: Rgb; topRight: Rgb; bottomLeft: Rgb; bottomRight: Rgb };
  /** Frequency of the strongest FFT bin of the microphone signal, Hz. */
  dominantHz: number;
  /** Peak absolute sample value seen, as a fraction of full scale. */
  peak: number;
}

export async function probeFakeMedia(page: Page): Promise<FakeMediaProbe> {
  return page.evaluate(async () => {
    const stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 360 }, audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false } });
    try {
      const video = document.createElement('video');
      video.muted = true;
      video.playsInline = true;
      video.srcObject = stream;
      await video.play();
      // Drawing on loadeddata gives a black frame in headless Chromium: wait for a presented frame.
      await new Promise<void>((resolve) => video.requestVideoFrameCallback(() => resolve()));
      const w = video.videoWidth;
      const h = video.videoHeight;
      const canvas = document.createElement('canvas');
      canvas.width = w;
      canvas.height = h;
      const g = canvas.getContext('2d', { willReadFrequently: true })!;
      g.drawImage(video, 0, 0);
      const at = (x: number, y: number): [number, number, number] => {
        const d = g.getImageData(Math.floor(x), Math.floor(y), 1, 1).data;
        return [d[0]!, d[1]!, d[2]!];
      };
      const quadrants = {
        topLeft: at(w / 4, h / 4),
        topRight: at((3 * w) / 4, h / 4),
        bottomLeft: at(w / 4, (3 * h) / 4),
        bottomRight: at((3 * w) / 4, (3 * h) / 4),
      };

      const ctx = new AudioContext({ sampleRate: 48000 });
      await ctx.resume();
      const analyser = ctx.createAnalyser();
      analyser.fftSize = 16384;
      analyser.smoothingTimeConstant = 0;
      ctx.createMediaStreamSource(stream).connect(analyser);
      await new Promise((r) => setTimeout(r, 600));
      const spectrum = new Float32Array(analyser.frequencyBinCount);
      analyser.getFloatFrequencyData(spectrum);
      let best = 0;
      for (let i = 1; i < spectrum.length; i++) if (spectrum[i]! > spectrum[best]!) best = i;
      const samples = new Float32Array(analyser.fftSize);
      analyser.getFloatTimeDomainData(samples);
      let peak = 0;
      for (const s of samples) peak = Math.max(peak, Math.abs(s));
      const dominantHz = (best * ctx.sampleRate) / analyser.fftSize;
      await ctx.close();
      return { width: w, height: h, quadrants, dominantHz, peak };
    } finally {
      for (const t of stream.getTracks()) t.stop();
    }
  });
}
