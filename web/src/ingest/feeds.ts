// Participants this page feeds into a meeting through the ingest socket: the browser's own microphone, camera
// and screen, or a decoded media file played in real time. Each is one ingest connection (one participant).
import { AudioCapture } from './audio-capture.ts';
import type { DecodedMedia } from './file-decode.ts';
import { IngestClient, type Welcome } from './ingest-client.ts';
import { drawContained, videoElementSource, VideoSender, type FrameSource } from './video-sender.ts';

export interface FeedCallbacks {
  /** Something went wrong that the user should see (the feed may keep going). */
  onProblem(message: string): void;
  /** State changed (counters, toggles): re-render. */
  onChange(): void;
  /** The feed ended (left, socket closed, file finished). */
  onEnded(reason: string): void;
  /** A transcript or chat line this feed sent. */
  onSent(kind: 'transcript' | 'chat', text: string): void;
}

export abstract class Feed {
  client!: IngestClient;
  welcome: Welcome | null = null;
  audio: AudioCapture | null = null;
  camera: VideoSender | null = null;
  share: VideoSender | null = null;
  ended = false;
  abstract readonly kind: 'browser' | 'file';

  constructor(readonly meetingUuid: string, readonly userName: string, protected readonly cb: FeedCallbacks) {}

  protected async connect(hello: { audio: boolean; camera: boolean; share: boolean }): Promise<Welcome> {
    this.client = new IngestClient(this.meetingUuid, { user_name: this.userName, ...hello }, {
      onWants: (w) => { this.camera?.setWants(w.camera); this.share?.setWants(w.share); this.cb.onChange(); },
      onClose: (code, reason, expected) => {
        if (!expected && !this.ended) this.cb.onProblem(`${this.userName}: the ingest socket closed (${code}): ${reason}`);
        void this.stop(expected ? 'left' : `socket closed (${code})`);
      },
      onServerError: (code, message) => this.cb.onProblem(`${this.userName}: the mock rejected media (${code}): ${message}`),
    });
    this.welcome = await this.client.connect();
    return this.welcome;
  }

  sendLine(kind: 'transcript' | 'chat', text: string): boolean {
    const t = text.trim();
    if (!t) return false;
    const now = Date.now();
    const ok = kind === 'transcript'
      ? this.client.sendText({ type: 'transcript', text: t, start_time: now - Math.min(4000, t.length * 60), end_time: now, language: navigator.language || 'en-US' })
      : this.client.sendText({ type: 'chat', text: t });
    if (ok) this.cb.onSent(kind, t);
    return ok;
  }

  protected problem = (m: string) => this.cb.onProblem(`${this.userName}: ${m}`);

  async stop(reason = 'left'): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    this.camera?.stop();
    this.share?.stop();
    this.client?.close();
    await this.audio?.close();
    this.release();
    this.cb.onEnded(reason);
  }

  protected abstract release(): void;
}

// --- This browser ---

export interface BrowserMedia { mic: MediaStream | null; camera: MediaStream | null; screen: MediaStream | null }

/** Asks for the devices first, so a refusal is reported before any meeting is created. */
export async function acquireBrowserMedia(want: { mic: boolean; camera: boolean; screen: boolean }): Promise<BrowserMedia> {
  if (!navigator.mediaDevices?.getUserMedia) {
    throw new Error('this page cannot reach the camera or microphone: browsers allow it only on https:// or http://localhost (open the mock at http://localhost:9092)');
  }
  const out: BrowserMedia = { mic: null, camera: null, screen: null };
  try {
    if (want.mic || want.camera) {
      const s = await navigator.mediaDevices.getUserMedia({
        // What the microphone hears, as is (no noise suppression or gain control: apps see the real signal).
        audio: want.mic ? { echoCancellation: true, noiseSuppression: false, autoGainControl: false, channelCount: 1 } : false,
        video: want.camera ? { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30 } } : false,
      });
      if (want.mic) out.mic = new MediaStream(s.getAudioTracks());
      if (want.camera) out.camera = new MediaStream(s.getVideoTracks());
    }
    if (want.screen) out.screen = await getScreen();
  } catch (err) {
    for (const s of [out.mic, out.camera, out.screen]) s?.getTracks().forEach((t) => t.stop());
    throw new Error(explainMediaError(err, want.screen && !out.screen && (out.mic || out.camera || !(want.mic || want.camera)) ? 'screen' : 'devices'));
  }
  return out;
}

async function getScreen(): Promise<MediaStream> {
  if (!navigator.mediaDevices.getDisplayMedia) throw Object.assign(new Error('this browser cannot share the screen'), { name: 'NotSupportedError' });
  return navigator.mediaDevices.getDisplayMedia({ video: { frameRate: { ideal: 15 } }, audio: false });
}

export function explainMediaError(err: unknown, what: 'devices' | 'screen'): string {
  const e = err as DOMException;
  const thing = what === 'screen' ? 'screen sharing' : 'the camera/microphone';
  switch (e?.name) {
    case 'NotAllowedError':
    case 'SecurityError':
      return `${thing} was refused. Allow it for this site (the icon at the left of the address bar) and try again, or uncheck it.`;
    case 'NotFoundError':
    case 'OverconstrainedError':
      return `no ${what === 'screen' ? 'screen' : 'camera or microphone'} was found. Connect one, or uncheck it.`;
    case 'NotReadableError':
    case 'AbortError':
      return `${thing} could not be started: another application may be using it. Close it and try again.`;
    case 'NotSupportedError':
      return `this browser does not support ${thing}.`;
    default:
      return `${thing} failed: ${e?.message ?? String(err)}`;
  }
}

/** The SpeechRecognition constructor, where the browser has one. */
type Recognition = {
  continuous: boolean; interimResults: boolean; lang: string;
  onresult: ((ev: { resultIndex: number; results: ArrayLike<{ isFinal: boolean; 0: { transcript: string } }> }) => void) | null;
  onerror: ((ev: { error: string }) => void) | null;
  onend: (() => void) | null;
  start(): void; stop(): void;
};
export function speechRecognitionCtor(): (new () => Recognition) | null {
  const w = window as unknown as { SpeechRecognition?: new () => Recognition; webkitSpeechRecognition?: new () => Recognition };
  return w.SpeechRecognition ?? w.webkitSpeechRecognition ?? null;
}

export class BrowserFeed extends Feed {
  readonly kind = 'browser' as const;
  readonly cameraVideo: HTMLVideoElement | null;
  shareVideo: HTMLVideoElement | null = null;
  micMuted = false;
  cameraOn: boolean;
  recognition: Recognition | null = null;
  recognitionNote = '';
  private micNode: MediaStreamAudioSourceNode | null = null;

  constructor(meetingUuid: string, userName: string, readonly media: BrowserMedia, cb: FeedCallbacks) {
    super(meetingUuid, userName, cb);
    this.cameraVideo = media.camera ? previewVideo(media.camera, 'Your camera') : null;
    this.cameraOn = media.camera !== null;
  }

  async start(opts: { transcribe: boolean }): Promise<void> {
    const welcome = await this.connect({ audio: this.media.mic !== null, camera: this.media.camera !== null, share: this.media.screen !== null });
    if (this.media.mic) {
      this.audio = await AudioCapture.create({
        sampleRate: welcome.audio.sample_rate,
        onFrame: (pcm) => { this.client.sendAudio(pcm, 1, Date.now()); },
      });
      this.micNode = this.audio.ctx.createMediaStreamSource(this.media.mic);
      this.micNode.connect(this.audio.input);
      if (!this.audio.running) this.problem('the browser is holding audio until you interact with the page: click anywhere to start the microphone');
    }
    if (this.cameraVideo) {
      const src = videoElementSource(this.cameraVideo);
      this.camera = new VideoSender('camera', src, this.client, this.problem);
      this.camera.setWants(this.client.wants.camera);
    }
    if (this.media.screen) this.attachScreen(this.media.screen);
    if (opts.transcribe) this.startRecognition();
    this.cb.onChange();
  }

  private attachScreen(stream: MediaStream): void {
    this.media.screen = stream;
    this.shareVideo = previewVideo(stream, 'Your screen share');
    const src = videoElementSource(this.shareVideo);
    if (this.share) this.share.source = src;
    else this.share = new VideoSender('share', src, this.client, this.problem);
    this.share.enabled = true;
    this.share.setWants(this.client.wants.share);
    stream.getVideoTracks()[0]?.addEventListener('ended', () => void this.stopShare());
    this.client.sendText({ type: 'share', on: true });
  }

  get sharing(): boolean {
    return this.media.screen !== null;
  }

  async startShare(): Promise<void> {
    if (this.sharing) return;
    try {
      this.attachScreen(await getScreen());
    } catch (err) {
      this.problem(explainMediaError(err, 'screen'));
    }
    this.cb.onChange();
  }

  async stopShare(): Promise<void> {
    if (!this.media.screen) return;
    this.media.screen.getTracks().forEach((t) => t.stop());
    this.media.screen = null;
    this.shareVideo = null;
    if (this.share) { this.share.enabled = false; this.share.stop(); }
    this.client.sendText({ type: 'share', on: false });
    this.cb.onChange();
  }

  setMicMuted(muted: boolean): void {
    this.micMuted = muted;
    this.media.mic?.getAudioTracks().forEach((t) => { t.enabled = !muted; });
    this.cb.onChange();
  }

  setCamera(on: boolean): void {
    if (!this.camera) return;
    this.cameraOn = on;
    this.camera.enabled = on;
    this.media.camera?.getVideoTracks().forEach((t) => { t.enabled = on; });
    this.client.sendText({ type: 'camera', on });
    this.cb.onChange();
  }

  startRecognition(): void {
    const Ctor = speechRecognitionCtor();
    if (!Ctor || this.recognition) return;
    const r = new Ctor();
    r.continuous = true;
    r.interimResults = false;
    r.lang = navigator.language || 'en-US';
    r.onresult = (ev) => {
      for (let i = ev.resultIndex; i < ev.results.length; i++) {
        const res = ev.results[i]!;
        if (res.isFinal) this.sendLine('transcript', res[0].transcript);
      }
    };
    r.onerror = (ev) => {
      this.recognitionNote = ev.error === 'not-allowed' ? 'speech recognition was refused' : ev.error === 'network'
        ? 'speech recognition needs the browser vendor\'s online service, which is unreachable: type transcript lines instead'
        : `speech recognition stopped (${ev.error})`;
      if (ev.error !== 'no-speech') { this.recognition = null; this.cb.onChange(); }
    };
    r.onend = () => { if (this.recognition === r && !this.ended) { try { r.start(); } catch { this.recognition = null; } } };
    try {
      r.start();
      this.recognition = r;
      this.recognitionNote = 'transcribing your speech';
    } catch (err) {
      this.recognitionNote = `speech recognition could not start: ${(err as Error).message}`;
    }
    this.cb.onChange();
  }

  stopRecognition(): void {
    const r = this.recognition;
    this.recognition = null;
    r?.stop();
    this.recognitionNote = '';
    this.cb.onChange();
  }

  protected release(): void {
    this.recognition?.stop();
    this.recognition = null;
    this.micNode?.disconnect();
    for (const s of [this.media.mic, this.media.camera, this.media.screen]) s?.getTracks().forEach((t) => t.stop());
  }
}

function previewVideo(stream: MediaStream, label: string): HTMLVideoElement {
  const v = document.createElement('video');
  v.muted = true;
  v.playsInline = true;
  v.autoplay = true;
  v.srcObject = stream;
  v.setAttribute('aria-label', label);
  void v.play().catch(() => undefined);
  return v;
}

// --- Media file ---

export class FileFeed extends Feed {
  readonly kind = 'file' as const;
  private source: AudioBufferSourceNode | null = null;
  private monitorGain: GainNode | null = null;
  private clockStart = 0;
  private clockFromAudio = false;
  private frameTimer: ReturnType<typeof setInterval> | null = null;
  private endTimer: ReturnType<typeof setTimeout> | null = null;
  private bitmap: ImageBitmap | null = null;
  private bitmapIndex = -1;
  private decodingFrame = false;
  readonly preview: HTMLCanvasElement | null;
  monitor: boolean;

  constructor(meetingUuid: string, userName: string, readonly media: DecodedMedia, readonly loop: boolean, monitor: boolean, cb: FeedCallbacks) {
    super(meetingUuid, userName, cb);
    this.monitor = monitor;
    this.preview = media.video ? document.createElement('canvas') : null;
    if (this.preview && media.video) {
      const s = Math.min(1, 320 / media.video.width);
      this.preview.width = Math.round(media.video.width * s);
      this.preview.height = Math.round(media.video.height * s);
      this.preview.setAttribute('role', 'img');
      this.preview.setAttribute('aria-label', `Video of ${media.name}`);
    }
  }

  /** Seconds since playback started (the audio clock when there is audio). */
  position(): number {
    return this.clockFromAudio && this.audio ? this.audio.ctx.currentTime - this.clockStart : (performance.now() - this.clockStart) / 1000;
  }

  get durationS(): number {
    return this.media.durationMs / 1000;
  }

  async start(): Promise<void> {
    const m = this.media;
    const welcome = await this.connect({ audio: m.audio !== null, camera: m.video !== null, share: false });
    if (m.audio) {
      const cap = await AudioCapture.create({ sampleRate: welcome.audio.sample_rate, onFrame: (pcm) => this.client.sendAudio(pcm, 1, Date.now()) });
      this.audio = cap;
      // The buffer keeps the decode rate; the context (at the welcome's rate) resamples while playing.
      const buffer = cap.ctx.createBuffer(1, m.audio.length, m.sampleRate);
      buffer.copyToChannel(m.audio as Float32Array<ArrayBuffer>, 0);
      const src = cap.ctx.createBufferSource();
      src.buffer = buffer;
      src.loop = this.loop;
      src.connect(cap.input);
      this.monitorGain = cap.ctx.createGain();
      this.monitorGain.gain.value = this.monitor ? 1 : 0;
      src.connect(this.monitorGain).connect(cap.ctx.destination);
      src.onended = () => { if (!this.loop) this.finish(); };
      this.clockStart = cap.ctx.currentTime + 0.05;
      src.start(this.clockStart);
      this.clockFromAudio = true;
      this.source = src;
      if (!cap.running) this.problem('the browser is holding audio until you interact with the page: click anywhere to start playback');
    } else {
      this.clockStart = performance.now();
      if (!this.loop) this.endTimer = setTimeout(() => this.finish(), m.durationMs);
    }
    if (m.video) {
      const v = m.video;
      const source: FrameSource = {
        draw: (ctx, w, h) => {
          if (!this.bitmap) return false;
          drawContained(ctx, this.bitmap, this.bitmap.width, this.bitmap.height, w, h);
          return true;
        },
      };
      this.camera = new VideoSender('camera', source, this.client, this.problem);
      this.camera.setWants(this.client.wants.camera);
      const pctx = this.preview?.getContext('2d') ?? null;
      let lastPreview = 0;
      this.frameTimer = setInterval(() => {
        const pos = Math.max(0, this.position());
        let idx = Math.floor(pos * v.fps);
        idx = this.loop ? idx % v.frames.length : Math.min(idx, v.frames.length - 1);
        if (idx !== this.bitmapIndex && !this.decodingFrame) {
          this.decodingFrame = true;
          createImageBitmap(v.frames[idx]!).then((bmp) => {
            this.bitmap?.close();
            this.bitmap = bmp;
            this.bitmapIndex = idx;
          }).catch(() => undefined).finally(() => { this.decodingFrame = false; });
        }
        const now = performance.now();
        if (pctx && this.bitmap && this.preview && now - lastPreview > 100) {
          lastPreview = now;
          pctx.drawImage(this.bitmap, 0, 0, this.preview.width, this.preview.height);
        }
      }, Math.max(10, Math.floor(1000 / v.fps / 2)));
    }
    this.cb.onChange();
  }

  setMonitor(on: boolean): void {
    this.monitor = on;
    if (this.monitorGain) this.monitorGain.gain.value = on ? 1 : 0;
    this.cb.onChange();
  }

  private finish(): void {
    // Let the last frames leave, then the participant leaves.
    setTimeout(() => void this.stop('the file finished playing'), 300);
  }

  protected release(): void {
    if (this.frameTimer) clearInterval(this.frameTimer);
    if (this.endTimer) clearTimeout(this.endTimer);
    try { this.source?.stop(); } catch { /* not started */ }
    this.bitmap?.close();
    this.bitmap = null;
  }
}
