// One meeting's panel: its state, the RTMS and participant controls (enabled only when the server's state makes
// them valid), this page's own participants, and the inspector tabs (transcript, log, connections, webhooks,
// errors). Built once, then updated in place so focus and scroll positions survive live updates.
import { api, ApiError, describeError, type ConnInfo, type DeliveryRecord, type ParticipantInfo, type StreamInfo } from '../api.ts';
import { formatBytes, formatTime, h, setChildren, setDisabled, setText, shortId } from '../dom.ts';
import { BrowserFeed, FileFeed, speechRecognitionCtor, type Feed } from '../ingest/feeds.ts';
import { itemTime, type ConnStat, type LogItem, type MeetingState, type Store } from '../store.ts';
import type { FeedRegistry } from './feeds-registry.ts';
import { decodeFile, startFileFeed } from './feed-actions.ts';
import { describeParams, msgName, PHASE_LABEL, stopReasonName } from './names.ts';

type TabId = 'transcript' | 'log' | 'connections' | 'webhooks' | 'errors';
const TABS: [TabId, string][] = [['transcript', 'Transcript'], ['log', 'Log'], ['connections', 'Connections'], ['webhooks', 'Webhooks'], ['errors', 'Errors']];
const MAX_ROWS = 400;

let panelSeq = 0;

interface ParticipantRow {
  el: HTMLLIElement; name: HTMLElement; badges: HTMLElement;
  speak: HTMLButtonElement; share: HTMLButtonElement; camera: HTMLButtonElement; presence: HTMLButtonElement;
}

interface FeedView {
  el: HTMLElement; status: HTMLElement; meter: HTMLMeterElement | null; media: HTMLElement;
  mute: HTMLButtonElement | null; camera: HTMLButtonElement | null; share: HTMLButtonElement | null;
  transcribe: HTMLButtonElement | null; monitor: HTMLInputElement | null; progress: HTMLProgressElement | null;
}

export class MeetingPanel {
  readonly el: HTMLElement;
  private readonly id = ++panelSeq;
  private renderedVersion = -1;
  private tab: TabId = 'log';
  private readonly badges: HTMLElement;
  private readonly facts: HTMLElement;
  private readonly buttons: Record<'pause' | 'resume' | 'stop' | 'start' | 'end', HTMLButtonElement>;
  private readonly actionStatus: HTMLElement;
  private readonly actionError: HTMLElement;
  private readonly participantList: HTMLUListElement;
  private readonly participantRows = new Map<number, ParticipantRow>();
  private readonly chatSender: HTMLSelectElement;
  private readonly chatText: HTMLInputElement;
  private readonly chatSend: HTMLButtonElement;
  private readonly feedSection: HTMLElement;
  private readonly feedList: HTMLElement;
  private readonly feedViews = new Map<Feed, FeedView>();
  private readonly addSection: HTMLElement;
  private readonly localCol: HTMLElement;
  private readonly tabButtons = new Map<TabId, HTMLButtonElement>();
  private readonly tabPanels = new Map<TabId, HTMLElement>();
  private readonly logFilter: HTMLInputElement;
  private readonly logDir: HTMLSelectElement;
  private readonly logMedia: HTMLInputElement;
  private readonly logFollow: HTMLInputElement;
  private readonly logBody: HTMLTableSectionElement;
  private readonly logCount: HTMLElement;
  private readonly transcriptList: HTMLOListElement;
  private readonly connectionsBox: HTMLElement;
  private readonly webhooksBox: HTMLElement;
  private readonly errorsBody: HTMLTableSectionElement;
  private readonly lineInput: HTMLInputElement;
  private readonly lineSend: HTMLButtonElement;
  private readonly lineKind: HTMLSelectElement;
  private logClearedAt = 0;

  constructor(private m: MeetingState, private readonly store: Store, private readonly feeds: FeedRegistry) {
    const uuid = m.uuid;
    const pid = `m${this.id}`;
    const btn = (label: string, onclick: () => void, cls = '') => h('button', { type: 'button', className: cls, onclick: () => onclick() }, label);
    this.buttons = {
      pause: btn('Pause RTMS', () => this.act(this.buttons.pause, 'Pause RTMS', () => api.rtms(uuid, 'pause'))),
      resume: btn('Resume RTMS', () => this.act(this.buttons.resume, 'Resume RTMS', () => api.rtms(uuid, 'resume'))),
      stop: btn('Stop RTMS', () => this.act(this.buttons.stop, 'Stop RTMS', () => api.rtms(uuid, 'stop'))),
      start: btn('Start RTMS', () => this.act(this.buttons.start, 'Start RTMS', () => api.rtms(uuid, 'start'))),
      end: btn('End Meeting', () => this.endMeeting(), 'danger'),
    };
    this.badges = h('p', { className: 'badges' });
    this.facts = h('dl', { className: 'facts' });
    this.actionStatus = h('p', { className: 'action-status', role: 'status', 'aria-live': 'polite' });
    this.actionError = h('p', { className: 'action-error', role: 'alert', hidden: true });

    // Participants and chat
    this.participantList = h('ul', { className: 'participants', 'aria-label': 'Participants' });
    this.chatSender = h('select', { id: `${pid}-chat-from` });
    this.chatText = h('input', { id: `${pid}-chat-text`, type: 'text', maxlength: 4096, autocomplete: 'off', placeholder: 'Hello from the mock' });
    this.chatSend = btn('Send chat', () => this.sendChat());
    const chatForm = h('form', { className: 'inline-form', onsubmit: (e: Event) => { e.preventDefault(); this.sendChat(); } },
      h('label', { for: `${pid}-chat-from` }, 'From'), this.chatSender,
      h('label', { for: `${pid}-chat-text` }, 'Chat message'), this.chatText, this.chatSend);

    // This page's participants
    this.feedList = h('div', { className: 'feeds' });
    this.lineKind = h('select', { id: `${pid}-line-kind` }, h('option', { value: 'transcript' }, 'Transcript line'), h('option', { value: 'chat' }, 'Chat message'));
    this.lineInput = h('input', { id: `${pid}-line`, type: 'text', autocomplete: 'off', placeholder: 'Type what was said, then Enter' });
    this.lineSend = btn('Send line', () => this.sendLine());
    const lineForm = h('form', { className: 'inline-form', onsubmit: (e: Event) => { e.preventDefault(); this.sendLine(); } },
      h('label', { for: `${pid}-line-kind` }, 'Send as'), this.lineKind,
      h('label', { for: `${pid}-line`, className: 'visually-hidden' }, 'Line to send'), this.lineInput, this.lineSend);
    this.feedSection = h('section', { className: 'feed-section', 'aria-labelledby': `${pid}-feeds-h` },
      h('h4', { id: `${pid}-feeds-h` }, 'From this page'), this.feedList, lineForm);
    this.addSection = this.buildAddSection(pid);

    // Inspector tabs
    const tablist = h('div', { role: 'tablist', 'aria-label': 'Meeting details', className: 'tablist' });
    const panels = h('div', { className: 'tabpanels' });
    for (const [id, label] of TABS) {
      const b = h('button', {
        type: 'button', role: 'tab', id: `${pid}-tab-${id}`, 'aria-controls': `${pid}-panel-${id}`, 'aria-selected': 'false', tabindex: -1,
        onclick: () => this.selectTab(id, false),
      }, label);
      b.addEventListener('keydown', (e) => this.tabKey(e, id));
      tablist.append(b);
      this.tabButtons.set(id, b);
      const p = h('div', { role: 'tabpanel', id: `${pid}-panel-${id}`, 'aria-labelledby': `${pid}-tab-${id}`, tabindex: 0, hidden: true, className: 'tabpanel' });
      panels.append(p);
      this.tabPanels.set(id, p);
    }
    this.transcriptList = h('ol', { className: 'transcript', 'aria-live': 'off' });
    this.tabPanels.get('transcript')!.append(h('div', { className: 'scroll' }, this.transcriptList));

    this.logFilter = h('input', { id: `${pid}-log-filter`, type: 'search', placeholder: 'text, socket, message type…', oninput: () => this.renderTab(true) });
    this.logDir = h('select', { id: `${pid}-log-dir`, onchange: () => this.renderTab(true) },
      h('option', { value: '' }, 'all'), h('option', { value: 'in' }, 'app → mock'), h('option', { value: 'out' }, 'mock → app'),
      h('option', { value: 'info' }, 'notes'), h('option', { value: 'error' }, 'errors'));
    this.logMedia = h('input', { id: `${pid}-log-media`, type: 'checkbox', checked: true, onchange: () => this.renderTab(true) });
    this.logFollow = h('input', { id: `${pid}-log-follow`, type: 'checkbox', checked: true });
    this.logCount = h('span', { className: 'muted' });
    this.logBody = h('tbody');
    this.tabPanels.get('log')!.append(
      h('div', { className: 'log-tools' },
        h('label', { for: `${pid}-log-filter` }, 'Filter log'), this.logFilter,
        h('label', { for: `${pid}-log-dir` }, 'Direction'), this.logDir,
        h('span', { className: 'check' }, this.logMedia, h('label', { for: `${pid}-log-media` }, 'Media messages')),
        h('span', { className: 'check' }, this.logFollow, h('label', { for: `${pid}-log-follow` }, 'Follow')),
        h('button', { type: 'button', onclick: () => { this.logClearedAt = Date.now(); this.renderTab(true); } }, 'Clear view'),
        this.logCount),
      h('div', { className: 'scroll' }, h('table', { className: 'log' },
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Time'), h('th', { scope: 'col' }, 'Dir'), h('th', { scope: 'col' }, 'Socket'),
          h('th', { scope: 'col' }, 'Message'), h('th', { scope: 'col' }, 'Details'))),
        this.logBody)));
    this.connectionsBox = h('div', { className: 'connections' });
    this.tabPanels.get('connections')!.append(this.connectionsBox);
    this.webhooksBox = h('div', { className: 'webhooks scroll' });
    this.tabPanels.get('webhooks')!.append(this.webhooksBox);
    this.errorsBody = h('tbody');
    this.tabPanels.get('errors')!.append(h('div', { className: 'scroll' }, h('table', { className: 'log' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Time'), h('th', { scope: 'col' }, 'Where'), h('th', { scope: 'col' }, 'Status'), h('th', { scope: 'col' }, 'What'))),
      this.errorsBody)));

    this.el = h('article', { className: 'meeting', 'aria-label': `Meeting ${uuid}`, 'data-uuid': uuid },
      h('header', { className: 'meeting-head' },
        h('h3', {}, 'Meeting ', h('code', { className: 'uuid' }, uuid),
          h('button', { type: 'button', className: 'ghost small', 'aria-label': `Copy meeting uuid ${uuid}`, onclick: () => void navigator.clipboard?.writeText(uuid) }, 'Copy')),
        this.badges),
      this.facts,
      h('div', { role: 'group', 'aria-label': 'RTMS controls', className: 'controls' },
        this.buttons.pause, this.buttons.resume, this.buttons.stop, this.buttons.start, this.buttons.end),
      this.actionStatus, this.actionError,
      h('div', { className: 'meeting-grid' },
        h('section', { 'aria-labelledby': `${pid}-parts-h` }, h('h4', { id: `${pid}-parts-h` }, 'Participants'), this.participantList, chatForm),
        this.localCol = h('div', { className: 'local-col' }, this.feedSection, this.addSection)),
      tablist, panels);
    this.selectTab('log', false);
  }

  private buildAddSection(pid: string): HTMLElement {
    const file = h('input', { id: `${pid}-add-file`, type: 'file', accept: 'audio/*,video/*,.mp4,.webm,.mp3,.wav,.m4a,.ogg,.mov,.mkv' });
    const progress = h('progress', { id: `${pid}-add-progress`, max: 1, value: 0, hidden: true });
    const status = h('p', { className: 'muted', role: 'status' });
    const add = h('button', { type: 'button' }, 'Add file participant');
    add.addEventListener('click', async () => {
      const f = file.files?.[0];
      if (!f) { setText(status, 'Pick an audio or video file first.'); file.focus(); return; }
      add.disabled = true;
      progress.hidden = false;
      try {
        const media = await decodeFile(f, (p, label) => { progress.value = p; setText(status, `${label} (${Math.round(p * 100)} %)`); });
        await startFileFeed(this.store, this.feeds, this.m.uuid, media, { name: f.name.replace(/\.[^.]+$/, '').slice(0, 60) || 'Media file', loop: true, monitor: false },
          (msg) => this.showError(msg));
        setText(status, '');
        file.value = '';
      } catch (err) {
        setText(status, '');
        this.showError(`Could not add ${f.name}: ${describeError(err)}`);
      } finally {
        add.disabled = false;
        progress.hidden = true;
      }
    });
    return h('section', { className: 'add-section', 'aria-labelledby': `${pid}-add-h` },
      h('h4', { id: `${pid}-add-h` }, 'Add a participant'),
      h('div', { className: 'inline-form' }, h('label', { for: `${pid}-add-file` }, 'Media file to add'), file, add),
      h('label', { for: `${pid}-add-progress`, className: 'visually-hidden' }, 'Decoding progress'), progress, status);
  }

  // --- actions ---

  private async act(button: HTMLButtonElement | null, label: string, fn: () => Promise<unknown>): Promise<boolean> {
    if (button) button.disabled = true;
    this.el.setAttribute('aria-busy', 'true');
    try {
      await fn();
      setText(this.actionStatus, `${label}: done`);
      this.actionError.hidden = true;
      return true;
    } catch (err) {
      this.showError(`${label} failed — ${describeError(err)}`, err instanceof ApiError && err.status ? err.status : undefined);
      return false;
    } finally {
      this.el.removeAttribute('aria-busy');
      await this.store.refresh(this.m.uuid);
      this.renderedVersion = -1;
      this.update();
    }
  }

  private showError(message: string, status?: number): void {
    setText(this.actionStatus, '');
    setText(this.actionError, message);
    this.actionError.hidden = false;
    this.store.note(this.m.uuid, 'error', 'page', message, status);
  }

  private async endMeeting(): Promise<void> {
    const ok = await this.act(this.buttons.end, 'End Meeting', () => api.end(this.m.uuid));
    if (ok) for (const f of this.feeds.of(this.m.uuid)) void f.stop('the meeting ended');
  }

  private sendChat(): void {
    const text = this.chatText.value.trim();
    if (!text) { this.showError('Type a chat message first.'); this.chatText.focus(); return; }
    const from = Number(this.chatSender.value);
    void this.act(this.chatSend, 'Send chat', async () => {
      const r = await api.chat(this.m.uuid, text, Number.isFinite(from) && this.chatSender.value ? from : undefined);
      this.chatText.value = '';
      return r;
    });
  }

  private sendLine(): void {
    const feed = this.feeds.of(this.m.uuid)[0];
    const text = this.lineInput.value.trim();
    if (!feed) { this.showError('No participant from this page is in the meeting.'); return; }
    if (!text) { this.showError('Type a line to send first.'); this.lineInput.focus(); return; }
    if (feed.sendLine(this.lineKind.value === 'chat' ? 'chat' : 'transcript', text)) this.lineInput.value = '';
    else this.showError('The ingest socket is closed: the line was not sent.');
  }

  // --- tabs ---

  private selectTab(id: TabId, focus: boolean): void {
    this.tab = id;
    for (const [t, b] of this.tabButtons) {
      const on = t === id;
      b.setAttribute('aria-selected', String(on));
      b.tabIndex = on ? 0 : -1;
      this.tabPanels.get(t)!.hidden = !on;
      if (on && focus) b.focus();
    }
    this.renderTab(true);
  }

  private tabKey(e: KeyboardEvent, id: TabId): void {
    const i = TABS.findIndex(([t]) => t === id);
    let next = -1;
    if (e.key === 'ArrowRight') next = (i + 1) % TABS.length;
    else if (e.key === 'ArrowLeft') next = (i - 1 + TABS.length) % TABS.length;
    else if (e.key === 'Home') next = 0;
    else if (e.key === 'End') next = TABS.length - 1;
    if (next >= 0) { e.preventDefault(); this.selectTab(TABS[next]![0], true); }
  }

  // --- rendering ---

  setState(m: MeetingState): void {
    this.m = m;
  }

  /** True while the panel is on screen (off-screen panels skip their inspector tab until they scroll in). */
  visible = true;
  private renderedSummary = -1;
  private lastTabRender = 0;
  private tabTimer: ReturnType<typeof setTimeout> | null = null;

  /** Brings the panel up to date (cheap when nothing changed; the busy inspector tab at most 3 times a second). */
  update(force = false): void {
    if (!force && this.renderedVersion === this.m.version) return;
    this.renderedVersion = this.m.version;
    if (force || this.renderedSummary !== this.m.summaryVersion) {
      this.renderedSummary = this.m.summaryVersion;
      this.renderHead();
      this.renderParticipants();
    }
    this.renderFeeds();
    if (force) { this.renderTab(false); return; }
    if (!this.visible || this.tabTimer) return;
    const wait = Math.max(0, 330 - (performance.now() - this.lastTabRender));
    this.tabTimer = setTimeout(() => { this.tabTimer = null; this.renderTab(false); }, wait);
  }

  private currentStream(): StreamInfo | null {
    const s = this.m.summary.streams;
    return s[s.length - 1] ?? null;
  }

  private renderHead(): void {
    const s = this.m.summary;
    const live = s.state === 'live';
    const cur = this.currentStream();
    const running = cur && cur.phase !== 'stopped' ? cur : null;
    const phase = running?.phase ?? null;
    const badge = (text: string, cls: string) => h('span', { className: `badge ${cls}` }, text);
    setChildren(this.badges,
      badge(live ? 'live' : 'ended', live ? 'ok' : 'muted'),
      badge(s.product, 'plain'),
      badge(s.source === 'browser' ? 'this browser' : s.source === 'file' ? 'media file' : s.source ?? 'synthetic', 'plain'),
      live ? badge(`RTMS ${running ? PHASE_LABEL[running.phase] ?? running.phase : 'stopped'}`, running?.phase === 'active' ? 'ok' : running?.phase === 'paused' || running?.phase === 'interrupted' ? 'warn' : 'muted') : null);
    const facts: [string, string][] = [
      ['Stream', cur ? `${cur.rtms_stream_id}` : 'none'],
      ['State', cur ? `${cur.stream_state_name} / session ${cur.session_state_name}${cur.stop_reason !== null ? `, stop reason ${stopReasonName(cur.stop_reason)}` : ''}` : '—'],
      ['Webhook', s.webhook_url ?? 'none (no app is told about this meeting)'],
      ['Started', formatTime(s.created_at)],
    ];
    setChildren(this.facts, facts.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
    const why = live ? '' : 'the meeting has ended';
    setDisabled(this.buttons.pause, !live || !(phase === 'active' || phase === 'connected'), why || (phase === 'paused' ? 'already paused' : 'pause needs an app connected to a running stream'));
    setDisabled(this.buttons.resume, !live || phase !== 'paused', why || 'resume needs a paused stream');
    setDisabled(this.buttons.stop, !live || running === null, why || 'RTMS is not running');
    setDisabled(this.buttons.start, !live || running !== null, why || 'RTMS is already running: stop it first');
    setDisabled(this.buttons.end, !live, why);
  }

  private renderParticipants(): void {
    const s = this.m.summary;
    const live = s.state === 'live';
    const synthetic = (s.source ?? 'synthetic') === 'synthetic';
    const seen = new Set<number>();
    for (const p of s.participants) {
      seen.add(p.user_id);
      let row = this.participantRows.get(p.user_id);
      if (!row) {
        row = this.participantRow(p);
        this.participantRows.set(p.user_id, row);
      }
      this.participantList.append(row.el); // keeps server order; moving an element keeps its focus
      const speaking = s.active_speaker?.user_id === p.user_id;
      const sharing = s.sharing?.user_id === p.user_id;
      setText(row.name, `${p.user_name} (${p.user_id})`);
      setChildren(row.badges,
        !p.present ? h('span', { className: 'badge muted' }, 'left') : null,
        speaking ? h('span', { className: 'badge ok' }, 'speaking') : null,
        sharing ? h('span', { className: 'badge info' }, 'sharing') : null,
        p.present && !p.camera_on ? h('span', { className: 'badge muted' }, 'camera off') : null);
      const gone = !live || !p.present;
      setDisabled(row.speak, gone || speaking, gone ? 'not in the meeting' : 'already the active speaker');
      setText(row.share, sharing ? 'Stop share' : 'Start share');
      setDisabled(row.share, gone);
      row.share.dataset.action = sharing ? 'share-stop' : 'share-start';
      setText(row.camera, p.camera_on ? 'Camera off' : 'Camera on');
      row.camera.dataset.action = p.camera_on ? 'camera-off' : 'camera-on';
      setDisabled(row.camera, gone);
      row.camera.hidden = !synthetic;
      setText(row.presence, p.present ? 'Leave' : 'Join');
      row.presence.dataset.action = p.present ? 'leave' : 'join';
      setDisabled(row.presence, !live);
      row.presence.hidden = !synthetic;
    }
    for (const [id, row] of this.participantRows) if (!seen.has(id)) { row.el.remove(); this.participantRows.delete(id); }
    if (s.participants.length === 0 && !this.participantList.querySelector('.empty')) {
      this.participantList.append(h('li', { className: 'empty muted' }, synthetic ? 'No participants.' : 'Nobody yet: participants join through the ingest socket (this browser, a media file).'));
    } else if (s.participants.length > 0) this.participantList.querySelector('.empty')?.remove();

    // Chat senders: present participants.
    const present = s.participants.filter((p) => p.present);
    const keep = this.chatSender.value;
    const opts = present.map((p) => `${p.user_id}`).join(',');
    if (this.chatSender.dataset.opts !== opts) {
      this.chatSender.dataset.opts = opts;
      setChildren(this.chatSender, present.map((p) => h('option', { value: p.user_id }, p.user_name)));
      if (present.some((p) => String(p.user_id) === keep)) this.chatSender.value = keep;
    }
    setDisabled(this.chatSend, !live || present.length === 0, !live ? 'the meeting has ended' : 'nobody is in the meeting');
    setDisabled(this.chatText, !live);
  }

  private participantRow(p: ParticipantInfo): ParticipantRow {
    const uuid = this.m.uuid;
    const name = h('span', { className: 'pname' });
    const badges = h('span', { className: 'pbadges' });
    const mk = (label: string) => h('button', { type: 'button', className: 'small' }, label);
    const speak = mk('Speak');
    const share = mk('Start share');
    const camera = mk('Camera off');
    const presence = mk('Leave');
    const run = (b: HTMLButtonElement, what: () => string) => b.addEventListener('click', () => {
      const action = what();
      void this.act(b, `${b.textContent} (${p.user_name})`, () => api.participant(uuid, p.user_id, action));
    });
    run(speak, () => 'speak');
    run(share, () => share.dataset.action ?? 'share-start');
    run(camera, () => camera.dataset.action ?? 'camera-off');
    run(presence, () => presence.dataset.action ?? 'leave');
    const el = h('li', { role: 'group', 'aria-label': `${p.user_name} (${p.user_id})` },
      h('span', { className: 'pinfo' }, name, badges), h('span', { className: 'pactions' }, speak, share, camera, presence));
    return { el, name, badges, speak, share, camera, presence };
  }

  private renderFeeds(): void {
    const live = this.m.summary.state === 'live';
    const source = this.m.summary.source ?? 'synthetic';
    const feeds = this.feeds.of(this.m.uuid);
    this.feedSection.hidden = feeds.length === 0;
    this.addSection.hidden = !live || source === 'synthetic';
    this.localCol.hidden = this.feedSection.hidden && this.addSection.hidden;
    setDisabled(this.lineSend, feeds.length === 0);
    for (const [f, v] of this.feedViews) if (!feeds.includes(f)) { v.el.remove(); this.feedViews.delete(f); }
    for (const f of feeds) {
      let v = this.feedViews.get(f);
      if (!v) { v = this.feedView(f); this.feedViews.set(f, v); this.feedList.append(v.el); }
      this.updateFeedView(f, v);
    }
  }

  private feedView(f: Feed): FeedView {
    const status = h('p', { className: 'feed-info muted' });
    const media = h('div', { className: 'feed-media' });
    const mk = (label: string, onclick: () => void) => h('button', { type: 'button', className: 'small', onclick }, label);
    let mute: HTMLButtonElement | null = null;
    let camera: HTMLButtonElement | null = null;
    let share: HTMLButtonElement | null = null;
    let transcribe: HTMLButtonElement | null = null;
    let monitor: HTMLInputElement | null = null;
    let progress: HTMLProgressElement | null = null;
    let meter: HTMLMeterElement | null = null;
    const controls = h('div', { className: 'pactions' });
    const fid = `f${this.id}-${Math.random().toString(36).slice(2, 8)}`;
    if (f instanceof BrowserFeed) {
      if (f.media.mic) {
        meter = h('meter', { id: `${fid}-level`, min: 0, max: 1, low: 0.02, high: 0.5, optimum: 0.1, value: 0 });
        mute = mk('Mute microphone', () => f.setMicMuted(!f.micMuted));
        controls.append(mute);
      }
      if (f.camera) { camera = mk('Turn camera off', () => f.setCamera(!f.cameraOn)); controls.append(camera); }
      share = mk('Share screen', () => void (f.sharing ? f.stopShare() : f.startShare()));
      controls.append(share);
      if (speechRecognitionCtor()) {
        transcribe = mk('Transcribe speech', () => (f.recognition ? f.stopRecognition() : f.startRecognition()));
        controls.append(transcribe);
      }
    } else if (f instanceof FileFeed) {
      progress = h('progress', { id: `${fid}-pos`, max: 1, value: 0 });
      monitor = h('input', { id: `${fid}-monitor`, type: 'checkbox', checked: f.monitor, onchange: () => f.setMonitor(monitor!.checked) });
      controls.append(h('span', { className: 'check' }, monitor, h('label', { for: `${fid}-monitor` }, 'Play through speakers')));
    }
    controls.append(mk('Leave', () => void f.stop('left')));
    const el = h('div', { className: 'feed', role: 'group', 'aria-label': `${f.userName} (from this page)` },
      h('p', { className: 'feed-name' }, h('strong', {}, f.userName), ' ', h('span', { className: 'muted' }, f.kind === 'browser' ? 'this browser' : 'media file')),
      media,
      meter ? h('p', { className: 'meter-row' }, h('label', { for: meter.id }, 'Microphone level'), meter) : null,
      progress ? h('p', { className: 'meter-row' }, h('label', { for: progress.id }, 'Playback'), progress) : null,
      controls, status);
    return { el, status, meter, media, mute, camera, share, transcribe, monitor, progress };
  }

  private updateFeedView(f: Feed, v: FeedView): void {
    const st = f.client?.stats;
    const w = f.client?.wants;
    const fmt = (list: { codec: string; width: number; height: number; fps: number }[] | undefined) =>
      list && list.length ? list.map((x) => `${x.codec} ${x.width}×${x.height} ${x.fps} fps`).join(', ') : 'none';
    const parts = [
      f.welcome ? `user ${f.welcome.user_id}, audio ${f.welcome.audio.sample_rate / 1000} kHz` : 'connecting…',
      st ? `sent ${st.audioFrames} audio / ${st.videoFrames} video frames (${formatBytes(st.bytes)})${st.droppedVideo ? `, ${st.droppedVideo} dropped` : ''}` : '',
      `apps want camera: ${fmt(w?.camera)}; share: ${fmt(w?.share)}`,
      f.camera?.stats.h264 ? `H.264 via ${f.camera.stats.h264 === 'webcodecs' ? 'WebCodecs' : 'ffmpeg.wasm'}` : '',
    ];
    if (f instanceof BrowserFeed && f.recognitionNote) parts.push(f.recognitionNote);
    setText(v.status, parts.filter(Boolean).join(' · '));
    // Previews: the live elements themselves.
    const wantedMedia: Element[] = [];
    if (f instanceof BrowserFeed) {
      if (f.cameraVideo) wantedMedia.push(f.cameraVideo);
      if (f.shareVideo) wantedMedia.push(f.shareVideo);
      if (v.mute) setText(v.mute, f.micMuted ? 'Unmute microphone' : 'Mute microphone');
      if (v.camera) setText(v.camera, f.cameraOn ? 'Turn camera off' : 'Turn camera on');
      if (v.share) setText(v.share, f.sharing ? 'Stop sharing' : 'Share screen');
      if (v.transcribe) setText(v.transcribe, f.recognition ? 'Stop transcribing' : 'Transcribe speech');
    } else if (f instanceof FileFeed) {
      if (f.preview) wantedMedia.push(f.preview);
      if (v.progress && f.durationS > 0) v.progress.value = Math.min(1, (Math.max(0, f.position()) % f.durationS) / f.durationS);
    }
    if (v.media.children.length !== wantedMedia.length || wantedMedia.some((e, i) => v.media.children[i] !== e)) setChildren(v.media, wantedMedia);
    if (v.meter && f.audio) v.meter.value = Math.min(1, f.audio.level * 3);
  }

  /** Called a few times a second while this page feeds the meeting (meters, counters). */
  tickFeeds(): void {
    if (this.feeds.of(this.m.uuid).length) this.renderFeeds();
  }

  renderTab(force: boolean): void {
    if (!force && this.el.closest('details:not([open])')) return;
    this.lastTabRender = performance.now();
    switch (this.tab) {
      case 'transcript': return this.renderTranscript();
      case 'log': return this.renderLog();
      case 'connections': return this.renderConnections();
      case 'webhooks': return this.renderWebhooks();
      case 'errors': return this.renderErrors();
    }
  }

  private renderTranscript(): void {
    const lines = this.m.transcript;
    const scroller = this.transcriptList.parentElement!;
    const atBottom = nearBottom(scroller);
    if (lines.length === 0) {
      setChildren(this.transcriptList, h('li', { className: 'muted' }, 'No transcript or chat lines yet.'));
      return;
    }
    setChildren(this.transcriptList, lines.slice(-MAX_ROWS).map((l) => h('li', { className: `line-${l.kind}` },
      h('time', {}, formatTime(l.at)), ' ', h('strong', {}, l.user_name || '—'), l.kind === 'chat' ? h('span', { className: 'badge plain' }, 'chat') : null,
      ' ', l.text)));
    if (atBottom) scrollToBottom(scroller);
  }

  private renderLog(): void {
    const q = this.logFilter.value.trim().toLowerCase();
    const dir = this.logDir.value;
    const media = this.logMedia.checked;
    const rows: HTMLTableRowElement[] = [];
    let matched = 0;
    const items = this.m.log;
    for (let i = items.length - 1; i >= 0 && rows.length < MAX_ROWS; i--) {
      const it = items[i]!;
      if (itemTime(it) < this.logClearedAt) break;
      if (it.kind === 'media' && !media) continue;
      const r = logRow(it);
      if (dir && r.dir !== dir) continue;
      if (q && !r.search.includes(q)) continue;
      matched++;
      rows.push(r.row);
    }
    rows.reverse();
    setText(this.logCount, `${matched}${matched >= MAX_ROWS ? '+' : ''} shown of ${items.length}`);
    const scroller = this.logBody.closest('.scroll');
    setChildren(this.logBody, rows.length ? rows : [h('tr', {}, h('td', { colspan: 5, className: 'muted' }, items.length ? 'Nothing matches the filter.' : 'Nothing logged yet.'))]);
    if (this.logFollow.checked) scrollToBottom(scroller);
  }

  private renderConnections(): void {
    const s = this.m.summary;
    const stats = this.m.conns;
    const blocks: HTMLElement[] = [];
    const streams = [...s.streams].reverse();
    if (streams.length === 0) blocks.push(h('p', { className: 'muted' }, 'No RTMS stream: press Start RTMS.'));
    for (const st of streams) {
      const conns = [st.signaling, ...st.media].filter((c): c is ConnInfo => c !== null);
      const statRows = conns.map((c) => connRow(c, stats.get(c.id)));
      // Connections the stats know that the last summary did not (just opened).
      for (const cs of stats.values()) if (cs.stream_id === st.rtms_stream_id && !conns.some((c) => c.id === cs.conn)) statRows.push(connRow(null, cs));
      blocks.push(h('section', { className: 'stream-block' },
        h('h5', {}, 'Stream ', h('code', {}, shortId(st.rtms_stream_id)), ` — ${PHASE_LABEL[st.phase] ?? st.phase}`,
          h('span', { className: 'muted' }, ` (${st.stream_state_name}, session ${st.session_state_name}${st.stop_reason !== null ? `, stop reason ${stopReasonName(st.stop_reason)}` : ''}${st.reconnection_window ? `, ${st.reconnection_window} reconnection window open` : ''})`)),
        h('p', { className: 'muted small' }, `handshakes: ${st.history.signalingHandshakes ?? 0} signaling, ${st.history.dataHandshakes ?? 0} data · ready acks ${st.history.readyAcks ?? 0} · interruptions ${st.history.interruptions ?? 0} · reconnections ${st.history.reconnections ?? 0}`),
        statRows.length ? h('div', { className: 'scroll' }, h('table', { className: 'conns' },
          h('thead', {}, h('tr', {}, ...['Socket', 'Conn', 'State', 'Negotiated', 'Out', 'In', 'Rate', 'Dropped', 'Buffered', 'Keep-alive'].map((t) => h('th', { scope: 'col' }, t)))),
          h('tbody', {}, statRows))) : h('p', { className: 'muted' }, 'No app connected yet.')));
    }
    setChildren(this.connectionsBox, blocks);
  }

  private renderWebhooks(): void {
    const list = [...this.m.deliveries.values()].sort((a, b) => b.createdAt - a.createdAt);
    if (list.length === 0) {
      setChildren(this.webhooksBox, h('p', { className: 'muted' }, this.m.summary.webhook_url ? 'No webhook sent yet.' : 'This meeting has no webhook URL.'));
      return;
    }
    // Keep open <details> open across renders.
    const open = new Set([...this.webhooksBox.querySelectorAll('details[open]')].map((d) => (d as HTMLElement).dataset.id));
    setChildren(this.webhooksBox, list.map((r) => deliveryView(r, open.has(r.id))));
  }

  private renderErrors(): void {
    const rows: HTMLTableRowElement[] = [];
    for (const it of this.m.log) {
      // Webhook failures are listed from the deliveries below (with their status and detail).
      if (it.kind === 'log' && it.entry.dir === 'error' && it.entry.socket !== 'webhook') {
        rows.push(h('tr', {}, h('td', {}, formatTime(it.entry.at)), h('td', {}, it.entry.socket ?? ''), h('td', {}, it.entry.status_code ?? ''), h('td', {}, it.entry.text)));
      } else if (it.kind === 'note' && it.dir === 'error') {
        rows.push(h('tr', {}, h('td', {}, formatTime(it.at)), h('td', {}, it.socket), h('td', {}, it.status_code ?? ''), h('td', {}, it.text)));
      }
    }
    for (const r of this.m.deliveries.values()) {
      for (const a of r.attempts) {
        if (a.status !== undefined && a.status >= 200 && a.status < 300) continue;
        rows.push(h('tr', {}, h('td', {}, formatTime(a.sentAt)), h('td', {}, `webhook ${r.event}`), h('td', {}, a.status ?? a.error ?? ''), h('td', {}, `attempt ${a.attempt}: ${a.detail ?? a.error ?? ''}`)));
      }
    }
    setChildren(this.errorsBody, rows.length ? rows.slice(-MAX_ROWS) : [h('tr', {}, h('td', { colspan: 4, className: 'muted' }, 'No errors.'))]);
  }
}

function nearBottom(el: Element): boolean {
  return el.scrollHeight - el.scrollTop - el.clientHeight < 40;
}
function scrollToBottom(el: Element | null): void {
  if (el) el.scrollTop = el.scrollHeight;
}

const DIR_LABEL: Record<string, string> = { in: '→ mock', out: '→ app', info: 'note', error: 'error' };

function logRow(it: LogItem): { row: HTMLTableRowElement; dir: string; search: string } {
  let time: number, dir: string, socket: string, msg: string, text: string;
  if (it.kind === 'log') {
    const e = it.entry;
    time = e.at; dir = e.dir; socket = e.socket ?? ''; msg = msgName(e.msg_type);
    text = e.status_code !== undefined && e.dir === 'error' ? `status ${e.status_code}: ${e.text}` : e.text;
  } else if (it.kind === 'media') {
    time = it.at; dir = it.dir; socket = it.socket.startsWith('signaling') ? it.socket : `/${it.socket}`; msg = msgName(it.msg_type);
    text = `${it.count} message${it.count === 1 ? '' : 's'}, ${formatBytes(it.bytes)} (conn ${it.conn})`;
  } else {
    time = it.at; dir = it.dir; socket = it.socket; msg = ''; text = it.status_code ? `status ${it.status_code}: ${it.text}` : it.text;
  }
  const row = h('tr', { className: `dir-${dir}${it.kind === 'media' ? ' media' : ''}` },
    h('td', { className: 'nowrap' }, formatTime(time)), h('td', { className: 'nowrap' }, DIR_LABEL[dir] ?? dir), h('td', {}, socket),
    h('td', { className: 'mono' }, msg), h('td', {}, text));
  return { row, dir, search: `${socket} ${msg} ${text}`.toLowerCase() };
}

function connRow(c: ConnInfo | null, s: ConnStat | undefined): HTMLTableRowElement {
  const socket = c ? (c.kind === 'signaling' ? 'signaling' : `/${c.path}`) : s!.socket === 'signaling' ? 'signaling' : `/${s!.socket}`;
  const id = c?.id ?? s!.conn;
  const state = c ? (c.closed ? `closed ${c.close_code ?? ''}` : 'open') : 'open';
  const params = describeParams(c?.media_params ?? s?.media_params) || (c?.kind === 'signaling' || s?.kind === 'signaling' ? `${c?.dialect ?? ''} dialect` : '');
  const out = s ? s.msgs_out : c!.counters.msgsOut;
  const inn = s ? s.msgs_in : c!.counters.msgsIn;
  const bytes = s ? s.bytes_out : c!.counters.bytesOut;
  return h('tr', {},
    h('td', { className: 'mono' }, socket), h('td', {}, id), h('td', {}, state), h('td', { className: 'params' }, params),
    h('td', {}, `${out} (${formatBytes(bytes)})`), h('td', {}, inn),
    h('td', { className: 'nowrap' }, s ? `${s.rate_out}/s · ${formatBytes(Math.round(s.bytes_rate_out))}/s` : '—'),
    h('td', {}, s?.dropped ?? c?.counters.dropped ?? 0), h('td', {}, formatBytes(s?.buffered ?? c?.buffered_bytes ?? 0)),
    h('td', {}, c ? `${c.unanswered_keep_alives} unanswered` : '—'));
}

function deliveryView(r: DeliveryRecord, open: boolean): HTMLElement {
  const last = r.attempts[r.attempts.length - 1];
  const cls = r.outcome === 'delivered' ? 'ok' : r.outcome === 'failed' ? 'bad' : 'warn';
  const summary = h('summary', {},
    h('span', { className: `badge ${cls}` }, r.outcome), ' ', h('strong', {}, r.event), ' ',
    h('span', { className: 'muted' }, `${formatTime(r.createdAt)} · ${r.attempts.length} attempt${r.attempts.length === 1 ? '' : 's'}${last ? ` · last ${last.status !== undefined ? `HTTP ${last.status}` : last.error ?? ''} in ${Math.round(last.latencyMs)} ms` : ''}`));
  const d = h('details', { className: 'delivery', 'data-id': r.id }, summary,
    h('p', { className: 'small' }, 'To ', h('code', {}, r.url)),
    h('div', { className: 'scroll' }, h('table', { className: 'log' },
      h('thead', {}, h('tr', {}, ...['#', 'Sent', 'Result', 'Latency', 'x-zm-request-timestamp', 'x-zm-signature', 'Response'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, r.attempts.map((a) => h('tr', {},
        h('td', {}, a.attempt), h('td', { className: 'nowrap' }, formatTime(a.sentAt)),
        h('td', {}, a.status !== undefined ? `HTTP ${a.status}` : `${a.error ?? ''} ${a.detail ?? ''}`),
        h('td', {}, `${Math.round(a.latencyMs)} ms`), h('td', { className: 'mono' }, a.timestampHeader),
        h('td', { className: 'mono sig', title: a.signatureHeader }, a.signatureHeader), h('td', { className: 'mono' }, a.responseSnippet)))))),
    h('pre', { className: 'body' }, prettyJson(r.body)));
  d.open = open;
  return d;
}

function prettyJson(s: string): string {
  try { return JSON.stringify(JSON.parse(s), null, 2); } catch { return s; }
}
