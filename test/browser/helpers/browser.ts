// Headless Debian Chromium for the browser tests, driven by playwright-core (which never downloads a browser:
// it is given /usr/bin/chromium, installed by scripts/install-debian-packages.sh chromium).
//
// Every launch gets a fresh profile in a temp dir, fake camera/microphone devices (optionally fed from files,
// see fake-media.ts), and a network guard: any request to a host other than loopback is aborted and recorded
// in `external`, so a test can assert that the page never reaches outside the machine.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';

export interface LaunchOptions {
  /** A .y4m file the fake camera plays (in a loop). */
  fakeVideo?: string;
  /** A .wav file the fake microphone plays (in a loop). */
  fakeAudio?: string;
  /** Viewport of new pages; default 1280×800. */
  viewport?: { width: number; height: number };
}

export interface BlockedRequest {
  url: string;
  /** 'http' for fetches, documents, subresources; 'websocket' for WebSocket connections. */
  kind: 'http' | 'websocket';
}

export interface TestBrowser {
  readonly context: BrowserContext;
  /** Requests to non-loopback hosts, all of them aborted. Must stay empty. */
  readonly external: BlockedRequest[];
  /** Uncaught page errors and console errors, for assertion messages. */
  readonly pageErrors: string[];
  newPage(): Promise<Page>;
  /** Closes the browser and removes its profile directory. Safe to call twice. */
  close(): Promise<void>;
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

/** True for URLs that stay on this machine (and for non-network schemes such as data:, blob:, about:). */
export function isLocalUrl(raw: string): boolean {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return false;
  }
  if (!['http:', 'https:', 'ws:', 'wss:'].includes(url.protocol)) return true;
  const host = url.hostname.toLowerCase();
  return LOOPBACK_HOSTS.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host) || host.endsWith('.localhost');
}

export async function launchBrowser(options: LaunchOptions = {}): Promise<TestBrowser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`${CHROMIUM_PATH} is missing: run scripts/install-debian-packages.sh chromium (npm test does it for you)`);
  }
  const profile = mkdtempSync(join(tmpdir(), 'rtms-mock-chromium-'));
  const args = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--use-fake-device-for-media-stream',
    '--use-fake-ui-for-media-stream',
  ];
  if (options.fakeVideo) args.push(`--use-file-for-fake-video-capture=${options.fakeVideo}`);
  if (options.fakeAudio) args.push(`--use-file-for-fake-audio-capture=${options.fakeAudio}`);

  let context: BrowserContext;
  try {
    // A persistent context is how playwright takes an explicit --user-data-dir: a fresh one per launch.
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args,
      viewport: options.viewport ?? { width: 1280, height: 800 },
      timeout: 20_000,
      permissions: ['camera', 'microphone'],
    });
  } catch (e) {
    rmSync(profile, { recursive: true, force: true });
    throw e;
  }

  const external: BlockedRequest[] = [];
  const pageErrors: string[] = [];
  await context.route((url) => !isLocalUrl(url.href), async (route) => {
    external.push({ url: route.request().url(), kind: 'http' });
    await route.abort('blockedbyclient').catch(() => {});
  });
  await context.routeWebSocket((url) => !isLocalUrl(url.href), async (ws) => {
    external.push({ url: ws.url(), kind: 'websocket' });
    await ws.close({ code: 1008, reason: 'blocked by the test: not loopback' }).catch(() => {});
  });
  const watch = (page: Page) => {
    page.on('pageerror', (err) => pageErrors.push(`pageerror: ${err.message}`));
    page.on('console', (msg) => {
      if (msg.type() === 'error') pageErrors.push(`console.error: ${msg.text()}`);
    });
  };
  context.pages().forEach(watch);
  context.on('page', watch);

  let closed = false;
  let initialUsed = false;
  return {
    context,
    external,
    pageErrors,
    async newPage() {
      // The persistent context opens with one blank tab: hand it out first.
      const initial = context.pages()[0];
      if (!initialUsed && initial) {
        initialUsed = true;
        return initial;
      }
      return context.newPage();
    },
    async close() {
      if (closed) return;
      closed = true;
      await context.close().catch(() => {});
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
