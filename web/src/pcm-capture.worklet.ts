// AudioWorklet processor: takes whatever is connected to it (microphone, or a decoded file playing), mixes it
// to mono, converts it to s16le and posts one 20 ms frame at a time (at the AudioContext's rate, which the page
// sets to the ingest welcome's rate) with its RMS level. Built to web/dist/pcm-capture.worklet.js.

// The AudioWorkletGlobalScope is not in TypeScript's DOM library: declare the little this file uses.
declare const sampleRate: number;
declare const currentTime: number;
declare class AudioWorkletProcessor {
  readonly port: MessagePort;
  constructor(options?: { processorOptions?: unknown });
}
declare function registerProcessor(name: string, ctor: new (options: { processorOptions?: unknown }) => AudioWorkletProcessor): void;

interface Options { frameMs?: number }

class PcmCapture extends AudioWorkletProcessor {
  private readonly frameSamples: number;
  private buf: Int16Array;
  private fill = 0;
  private sumSquares = 0;
  private running = true;

  constructor(options: { processorOptions?: unknown }) {
    super(options);
    const o = (options.processorOptions ?? {}) as Options;
    this.frameSamples = Math.round((sampleRate * (o.frameMs ?? 20)) / 1000);
    this.buf = new Int16Array(this.frameSamples);
    this.port.onmessage = (ev: MessageEvent<{ type: string }>) => {
      if (ev.data.type === 'stop') this.running = false;
    };
  }

  process(inputs: Float32Array[][]): boolean {
    if (!this.running) return false;
    const input = inputs[0];
    const channels = input?.length ?? 0;
    // Nothing connected (or a muted track): silence, so the meeting keeps a steady stream.
    const n = channels > 0 ? input![0]!.length : 128;
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let c = 0; c < channels; c++) s += input![c]![i]!;
      if (channels > 1) s /= channels;
      s = s > 1 ? 1 : s < -1 ? -1 : s;
      this.sumSquares += s * s;
      this.buf[this.fill++] = s < 0 ? Math.round(s * 0x8000) : Math.round(s * 0x7fff);
      if (this.fill === this.frameSamples) {
        const rms = Math.sqrt(this.sumSquares / this.frameSamples);
        this.port.postMessage({ pcm: this.buf, rms, time: currentTime }, [this.buf.buffer]);
        this.buf = new Int16Array(this.frameSamples);
        this.fill = 0;
        this.sumSquares = 0;
      }
    }
    return true;
  }
}

registerProcessor('pcm-capture', PcmCapture);
