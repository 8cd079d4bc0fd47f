// The rtms-mock page: start meetings, drive them, and watch everything the mock does. State comes from the
// server (GET /api/meetings + the SSE inspector feed), so a reload shows the same meetings.
import { byId, setText } from './dom.ts';
import { Store } from './store.ts';
import { FeedRegistry } from './ui/feeds-registry.ts';
import { MeetingPanel } from './ui/meeting-panel.ts';
import { initSetup } from './ui/setup.ts';

const ENDED_SHOWN = 20;

function init(): void {
  const store = new Store();
  const feeds = new FeedRegistry();
  const panels = new Map<string, MeetingPanel>();
  const liveList = byId('meeting-list');
  const endedList = byId('ended-list');
  const endedBox = byId<HTMLDetailsElement>('ended');
  const endedCount = byId('ended-count');
  const empty = byId('no-meetings');
  const feedStatus = byId('feed-status');

  const dirty = new Set<string>();
  let listDirty = true;
  let scheduled = false;
  let lastFlush = 0;

  const schedule = () => {
    if (scheduled) return;
    scheduled = true;
    // At most ~6 renders a second, in animation frames (nothing renders in a hidden tab).
    const wait = Math.max(0, 160 - (performance.now() - lastFlush));
    setTimeout(() => requestAnimationFrame(flush), wait);
  };

  const flush = () => {
    scheduled = false;
    lastFlush = performance.now();
    if (listDirty) { listDirty = false; reconcile(); }
    for (const uuid of dirty) panels.get(uuid)?.update();
    dirty.clear();
    setText(feedStatus, store.feedStatus === 'live' ? `live${store.droppedEvents ? ` (${store.droppedEvents} events dropped)` : ''}` : store.feedStatus === 'connecting' ? 'connecting…' : 'reconnecting…');
    feedStatus.className = `feed-status ${store.feedStatus}`;
  };

  // Panels off screen skip their busy inspector tab; they catch up when scrolled into view.
  const visibility = new IntersectionObserver((entries) => {
    for (const e of entries) {
      const p = panels.get((e.target as HTMLElement).dataset.uuid ?? '');
      if (!p) continue;
      p.visible = e.isIntersecting;
      if (p.visible) p.renderTab(true);
    }
  });

  const reconcile = () => {
    const all = [...store.meetings.values()].sort((a, b) => b.summary.created_at - a.summary.created_at);
    const live = all.filter((m) => m.summary.state === 'live');
    const ended = all.filter((m) => m.summary.state !== 'live').slice(0, ENDED_SHOWN);
    const keep = new Set([...live, ...ended].map((m) => m.uuid));
    for (const [uuid, p] of panels) if (!keep.has(uuid)) { visibility.unobserve(p.el); p.el.remove(); panels.delete(uuid); }
    const place = (list: HTMLElement, states: typeof all) => {
      let prev: Element | null = null;
      for (const m of states) {
        let p = panels.get(m.uuid);
        if (!p) { p = new MeetingPanel(m, store, feeds); panels.set(m.uuid, p); p.update(true); visibility.observe(p.el); }
        else p.setState(m);
        const want: Element | null = prev ? prev.nextElementSibling : list.firstElementChild;
        if (p.el.parentElement !== list || want !== p.el) {
          if (prev) prev.after(p.el); else list.prepend(p.el);
        }
        prev = p.el;
      }
    };
    place(liveList, live);
    place(endedList, ended);
    empty.hidden = live.length > 0;
    const endedTotal = all.length - live.length;
    setText(endedCount, String(endedTotal));
    endedBox.hidden = endedTotal === 0;
  };

  store.subscribe((uuid) => {
    if (uuid === null) listDirty = true;
    else {
      dirty.add(uuid);
      const p = panels.get(uuid);
      const m = store.meetings.get(uuid);
      // A meeting appearing or ending moves between lists.
      if (!p || !m || (p.el.parentElement === liveList) !== (m.summary.state === 'live')) listDirty = true;
    }
    schedule();
  });
  feeds.subscribe((uuid) => { dirty.add(uuid); panels.get(uuid)?.update(true); schedule(); });
  setInterval(() => { for (const p of panels.values()) p.tickFeeds(); }, 250);

  // Ended meetings load their log when opened.
  endedBox.addEventListener('toggle', () => {
    if (!endedBox.open) return;
    for (const m of store.meetings.values()) if (m.summary.state !== 'live' && !m.detailLoaded) void store.loadDetail(m.uuid);
  });

  // Browsers may hold audio until the user interacts: any click resumes every running feed's audio.
  document.addEventListener('click', () => {
    for (const f of feeds.all()) if (f.audio && !f.audio.running) void f.audio.ctx.resume();
  });
  window.addEventListener('beforeunload', () => {
    for (const f of feeds.all()) f.client?.close();
  });

  initSetup(store, feeds);
  void store.start();
  schedule();
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
else init();
