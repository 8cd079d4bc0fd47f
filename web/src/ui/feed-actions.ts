// Starting the page's own participants (used by the "Start a meeting" form and by a meeting's "Add" controls).
import { acquireBrowserMedia, BrowserFeed, FileFeed, type Feed, type FeedCallbacks } from '../ingest/feeds.ts';
import { decodeMediaFile, type DecodedMedia } from '../ingest/file-decode.ts';
import type { Progress } from '../ffmpeg-loader.ts';
import type { Store } from '../store.ts';
import type { FeedRegistry } from './feeds-registry.ts';

export interface BrowserOptions { mic: boolean; camera: boolean; screen: boolean; name: string; transcribe: boolean }
export interface FileOptions { name: string; loop: boolean; monitor: boolean }

function callbacks(store: Store, feeds: FeedRegistry, uuid: string, feedRef: () => Feed | null, onProblem: (m: string) => void): FeedCallbacks {
  return {
    onProblem: (m) => { store.note(uuid, 'error', 'ingest', m); onProblem(m); },
    onChange: () => feeds.changed(uuid),
    onEnded: (reason) => {
      const f = feedRef();
      if (f) { store.note(uuid, 'info', 'ingest', `${f.userName} left (${reason})`); feeds.remove(f); }
    },
    // The mock logs every line it got ("transcript from …"), which is what the Transcript tab shows.
    onSent: () => {},
  };
}

/** Asks for devices (before anything else, so a refusal costs nothing). */
export function checkBrowserOptions(o: BrowserOptions): void {
  if (!o.mic && !o.camera && !o.screen) throw new Error('pick at least one of microphone, camera or screen share');
}

export { acquireBrowserMedia };

export async function startBrowserFeed(store: Store, feeds: FeedRegistry, uuid: string, media: Awaited<ReturnType<typeof acquireBrowserMedia>>,
  o: BrowserOptions, onProblem: (m: string) => void): Promise<BrowserFeed> {
  let feed: BrowserFeed | null = null;
  feed = new BrowserFeed(uuid, o.name, media, callbacks(store, feeds, uuid, () => feed, onProblem));
  feeds.add(feed);
  try {
    await feed.start({ transcribe: o.transcribe });
  } catch (err) {
    await feed.stop('could not start');
    throw err;
  }
  store.note(uuid, 'info', 'ingest', `${o.name} joined from this browser (${[media.mic && 'microphone', media.camera && 'camera', media.screen && 'screen'].filter(Boolean).join(', ')})`);
  return feed;
}

export function decodeFile(file: File, progress: Progress): Promise<DecodedMedia> {
  return decodeMediaFile(file, progress);
}

export async function startFileFeed(store: Store, feeds: FeedRegistry, uuid: string, media: DecodedMedia, o: FileOptions,
  onProblem: (m: string) => void): Promise<FileFeed> {
  let feed: FileFeed | null = null;
  feed = new FileFeed(uuid, o.name, media, o.loop, o.monitor, callbacks(store, feeds, uuid, () => feed, onProblem));
  feeds.add(feed);
  try {
    await feed.start();
  } catch (err) {
    await feed.stop('could not start');
    throw err;
  }
  store.note(uuid, 'info', 'ingest', `${o.name} joined playing ${media.name} (${(media.durationMs / 1000).toFixed(1)} s${media.audio ? ', audio' : ''}${media.video ? `, video ${media.video.width}×${media.video.height}` : ''})`);
  return feed;
}
