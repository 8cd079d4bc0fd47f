// "Start a meeting": the webhook URL (validated on demand, remembered in localStorage), the media source per
// meeting (synthetic participants, this browser's devices, or a media file decoded in the page) and Start.
import { api, ApiError, describeError, type ValidationResult } from '../api.ts';
import { byId, setText } from '../dom.ts';
import { speechRecognitionCtor } from '../ingest/feeds.ts';
import type { Store } from '../store.ts';
import { acquireBrowserMedia, checkBrowserOptions, decodeFile, startBrowserFeed, startFileFeed } from './feed-actions.ts';
import type { FeedRegistry } from './feeds-registry.ts';

const KEY = { url: 'rtms-mock:webhook-url', source: 'rtms-mock:media-source', product: 'rtms-mock:product', name: 'rtms-mock:display-name' };

function stored(key: string): string {
  try { return localStorage.getItem(key) ?? ''; } catch { return ''; }
}
function store(key: string, value: string): void {
  try { localStorage.setItem(key, value); } catch { /* private mode: not remembered */ }
}

/** What to do about a failed validation, after the server's reason. */
function validationHint(r: ValidationResult): string {
  const reason = r.reason.toLowerCase();
  if (reason.startsWith('unreachable')) return 'Is the app running and listening at that address and port?';
  if (reason.startsWith('timeout')) return 'The app must answer the validation request quickly (within a few seconds).';
  if (reason.startsWith('non-2xx')) return 'The app must answer 200 with JSON {"plainToken", "encryptedToken"}; check its logs and the path of the URL.';
  if (reason.includes('encryptedtoken')) return "encryptedToken must be HMAC-SHA256(secret token, plainToken) in hex: set the app's webhook secret token (ZOOM_SECRET_TOKEN) to the mock's (data/rtms_credentials.json, see the README).";
  if (reason.includes('plaintoken') || reason.includes('json')) return 'The app must echo plainToken and add encryptedToken, as JSON.';
  return '';
}

export function initSetup(storeRef: Store, feeds: FeedRegistry): void {
  const form = byId<HTMLFormElement>('setup-form');
  const url = byId<HTMLInputElement>('webhook-url');
  const validate = byId<HTMLButtonElement>('validate-btn');
  const result = byId('webhook-result');
  const source = byId<HTMLSelectElement>('media-source');
  const product = byId<HTMLSelectElement>('product');
  const browserBox = byId<HTMLFieldSetElement>('browser-options');
  const fileBox = byId<HTMLFieldSetElement>('file-options');
  const start = byId<HTMLButtonElement>('start-btn');
  const progressBox = byId('setup-progress');
  const progressBar = byId<HTMLProgressElement>('setup-progress-bar');
  const progressLabel = byId('setup-progress-label');
  const error = byId('setup-error');
  const status = byId('setup-status');
  const name = byId<HTMLInputElement>('display-name');
  const fileInput = byId<HTMLInputElement>('media-file');
  const transcribe = byId<HTMLInputElement>('opt-transcribe');

  url.value = stored(KEY.url);
  if (stored(KEY.source)) source.value = stored(KEY.source);
  if (!source.value) source.value = 'synthetic';
  if (stored(KEY.product)) product.value = stored(KEY.product);
  if (!product.value) product.value = 'meeting';
  name.value = stored(KEY.name) || 'You (browser)';
  if (!speechRecognitionCtor()) {
    transcribe.disabled = true;
    setText(byId('opt-transcribe-help'), 'This browser has no speech recognition: type transcript lines in the meeting panel instead.');
  }

  const showSource = () => {
    browserBox.hidden = source.value !== 'browser';
    fileBox.hidden = source.value !== 'file';
    store(KEY.source, source.value);
  };
  source.addEventListener('change', showSource);
  showSource();
  product.addEventListener('change', () => store(KEY.product, product.value));
  url.addEventListener('input', () => { store(KEY.url, url.value.trim()); setText(result, ''); result.className = ''; });
  name.addEventListener('change', () => store(KEY.name, name.value.trim()));

  const fail = (message: string) => {
    setText(error, message);
    error.hidden = false;
  };
  const clearError = () => { setText(error, ''); error.hidden = true; };

  validate.addEventListener('click', async () => {
    const u = url.value.trim();
    clearError();
    if (!u) {
      result.className = 'bad';
      setText(result, 'Enter the webhook URL of your app first, for example http://localhost:8000/webhook.');
      url.focus();
      return;
    }
    validate.disabled = true;
    result.className = 'pending';
    setText(result, `Validating ${u}…`);
    try {
      const r = await api.validate(u);
      store(KEY.url, u);
      if (r.ok) {
        result.className = 'ok';
        setText(result, `✓ Validation passed: the app answered HTTP ${r.status ?? 200} with the right encryptedToken in ${Math.round(r.latencyMs)} ms.`);
      } else {
        result.className = 'bad';
        const hint = validationHint(r);
        setText(result, `✗ Validation failed: ${r.reason}${r.status !== undefined && !r.reason.includes(String(r.status)) ? ` (HTTP ${r.status})` : ''}${r.latencyMs ? `, after ${Math.round(r.latencyMs)} ms` : ''}.${hint ? ` ${hint}` : ''}`);
      }
    } catch (err) {
      result.className = 'bad';
      setText(result, `✗ ${err instanceof ApiError && err.status === 400 ? `The URL was refused: ${err.message}` : describeError(err)}`);
    } finally {
      validate.disabled = false;
    }
  });

  const progress = (p: number, label: string) => {
    progressBox.hidden = false;
    progressBar.value = p;
    setText(progressLabel, `${label} — ${Math.round(p * 100)} %`);
  };

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearError();
    const webhook = url.value.trim();
    if (webhook) store(KEY.url, webhook);
    const kind = source.value;
    const body: Record<string, unknown> = { product: product.value };
    if (webhook) body.webhook_url = webhook;
    if (kind !== 'synthetic') body.source = kind;
    const displayName = name.value.trim() || 'You (browser)';
    start.disabled = true;
    form.setAttribute('aria-busy', 'true');
    let created: string | null = null;
    try {
      if (kind === 'browser') {
        const opts = {
          mic: byId<HTMLInputElement>('opt-mic').checked, camera: byId<HTMLInputElement>('opt-camera').checked,
          screen: byId<HTMLInputElement>('opt-screen').checked, name: displayName, transcribe: transcribe.checked && !transcribe.disabled,
        };
        checkBrowserOptions(opts);
        setText(status, 'Asking for the camera, microphone and screen…');
        const media = await acquireBrowserMedia(opts);
        setText(status, 'Creating the meeting…');
        const m = await api.create(body);
        created = m.meeting_uuid;
        await storeRef.refresh(m.meeting_uuid, true);
        setText(status, 'Connecting this browser to the meeting…');
        await startBrowserFeed(storeRef, feeds, m.meeting_uuid, media, opts, () => {});
      } else if (kind === 'file') {
        const file = fileInput.files?.[0];
        if (!file) throw new Error('pick an audio or video file (mp4, webm, mp3, wav) first');
        const media = await decodeFile(file, progress);
        setText(status, 'Creating the meeting…');
        const m = await api.create(body);
        created = m.meeting_uuid;
        await storeRef.refresh(m.meeting_uuid, true);
        setText(status, `Streaming ${file.name}…`);
        const loop = byId<HTMLInputElement>('opt-loop').checked;
        const monitor = byId<HTMLInputElement>('opt-monitor').checked;
        await startFileFeed(storeRef, feeds, m.meeting_uuid, media, { name: file.name.replace(/\.[^.]+$/, '').slice(0, 60) || 'Media file', loop, monitor }, () => {});
      } else {
        setText(status, 'Creating the meeting…');
        const m = await api.create(body);
        created = m.meeting_uuid;
        await storeRef.refresh(m.meeting_uuid, true);
      }
      setText(status, webhook ? `Meeting started; rtms_started sent to ${webhook}.` : 'Meeting started (no webhook URL: no app was told about it).');
      document.querySelector(`article[data-uuid="${CSS.escape(created)}"]`)?.scrollIntoView({ behavior: 'smooth', block: 'nearest' });
    } catch (err) {
      setText(status, '');
      let msg = describeError(err);
      if (err instanceof ApiError && err.status === 400 && /source/.test(err.message)) {
        msg += ' — this server does not accept live media sources: update rtms-mock.';
      }
      fail(`Could not start the meeting: ${msg}`);
      // A meeting whose live source could not connect is of no use: end it rather than leave it empty.
      if (created) await api.end(created).catch(() => undefined);
    } finally {
      start.disabled = false;
      form.removeAttribute('aria-busy');
      progressBox.hidden = true;
    }
  });
}
