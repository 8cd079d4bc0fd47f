// Audio for the ingest socket: an AudioContext at the welcome's sample rate (the browser resamples the source
// into it) with the pcm-capture AudioWorklet, which hands over 20 ms s16le mono frames in real time.

export interface AudioCaptureOptions {
  sampleRate: number;
  onFrame(pcm: Int16Array, rms: number): void;
}

export class AudioCapture {
  readonly ctx: AudioContext;
  private node: AudioWorkletNode | null = null;
  private readonly sink: GainNode;
  /** What feeds the worklet: the microphone, a decoded file, …; muting disconnects it (silence is sent). */
  readonly input: GainNode;
  level = 0;

  private constructor(ctx: AudioContext) {
    this.ctx = ctx;
    this.input = ctx.createGain();
    // The worklet must be pulled by the graph: route it to the speakers through a silent gain.
    this.sink = ctx.createGain();
    this.sink.gain.value = 0;
    this.sink.connect(ctx.destination);
  }

  static async create(opts: AudioCaptureOptions): Promise<AudioCapture> {
    let ctx: AudioContext;
    try {
      ctx = new AudioContext({ sampleRate: opts.sampleRate, latencyHint: 'interactive' });
    } catch (err) {
      throw new Error(`this browser cannot run audio at ${opts.sampleRate} Hz (${(err as Error).message}); try Chrome, Edge or Firefox`);
    }
    const cap = new AudioCapture(ctx);
    try {
      await ctx.audioWorklet.addModule('/pcm-capture.worklet.js');
    } catch (err) {
      await ctx.close();
      throw new Error(`could not load the audio worklet (/pcm-capture.worklet.js): ${(err as Error).message}. Rebuild the page with \`bun run build:web\`.`);
    }
    const node = new AudioWorkletNode(ctx, 'pcm-capture', {
      numberOfInputs: 1, numberOfOutputs: 1, outputChannelCount: [1], channelCount: 2, channelCountMode: 'explicit',
      processorOptions: { frameMs: 20 },
    });
    node.port.onmessage = (ev: MessageEvent<{ pcm: Int16Array; rms: number }>) => {
      cap.level = ev.data.rms;
      opts.onFrame(ev.data.pcm, ev.data.rms);
    };
    cap.input.connect(node);
    node.connect(cap.sink);
    cap.node = node;
    if (ctx.state !== 'running') await ctx.resume().catch(() => undefined);
    return cap;
  }

  /** True when the browser let the context run (autoplay policies may hold it until a click). */
  get running(): boolean {
    return this.ctx.state === 'running';
  }

  async close(): Promise<void> {
    this.node?.port.postMessage({ type: 'stop' });
    this.node?.disconnect();
    await this.ctx.close().catch(() => undefined);
  }
}
