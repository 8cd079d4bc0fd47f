// The fixture of the page tests: a real mock in-process (test/helpers/mock.ts, ephemeral loopback ports) and a
// headless Chromium on its page. Everything else a test starts (reference apps, receivers) is registered with
// `defer` so one `close()` in afterAll/afterEach stops it all, newest first, even after a failure.
import { expect } from 'bun:test';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Locator, Page } from 'playwright-core';
import type { CreateMockOptions } from '../../../src/app.ts';
import { startMock, type TestMock } from '../../helpers/mock.ts';
import { launchBrowser, type LaunchOptions, type TestBrowser } from './browser.ts';

export const SCREENSHOT_DIR = fileURLToPath(new URL('../../../test-output/screenshots', import.meta.url));

export interface MockPage {
  mock: TestMock;
  browser: TestBrowser;
  page: Page;
  /** The page's address, e.g. http://127.0.0.1:41234/ */
  url: string;
  /** Registers a cleanup to run at close() (newest first). */
  defer(fn: () => unknown): void;
  /** Stops everything: deferred cleanups, browser, mock. Never throws. */
  close(): Promise<void>;
}

export interface OpenMockPageOptions {
  mock?: CreateMockOptions;
  browser?: LaunchOptions;
  /** Path on the mock to open (default "/"). */
  path?: string;
}

export async function openMockPage(options: OpenMockPageOptions = {}): Promise<MockPage> {
  const cleanups: Array<() => unknown> = [];
  const closeAll = async () => {
    for (const fn of cleanups.splice(0).reverse()) {
      try {
        await fn();
      } catch {
        /* keep cleaning up */
      }
    }
  };
  try {
    const mock = await startMock(options.mock);
    cleanups.push(() => mock.stop());
    const browser = await launchBrowser(options.browser);
    cleanups.push(() => browser.close());
    const page = await browser.newPage();
    page.setDefaultTimeout(8_000);
    const url = `${mock.baseUrl}${options.path ?? '/'}`;
    await page.goto(url, { waitUntil: 'load' });
    return {
      mock,
      browser,
      page,
      url,
      defer: (fn) => cleanups.push(fn),
      close: closeAll,
    };
  } catch (e) {
    await closeAll();
    throw e;
  }
}

/**
 * The panel of one meeting: a region or article whose accessible name contains the meeting uuid.
 * Per-meeting buttons are looked up inside it.
 */
export function meetingPanel(page: Page, meetingUuid: string): Locator {
  return page.getByRole('region', { name: meetingUuid }).or(page.getByRole('article', { name: meetingUuid }));
}

/** Polls the control API until `fn` returns a value (not undefined/null/false). */
export async function until<T>(fn: () => Promise<T | undefined | null | false> | T | undefined | null | false, what: string, timeoutMs = 8_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== null && v !== false) return v as T;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
    await Bun.sleep(50);
  }
}

/** Saves a full-page screenshot to test-output/screenshots/<name>.png and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  const path = `${SCREENSHOT_DIR}/${name}.png`;
  mkdirSync(dirname(path), { recursive: true });
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** Asserts the page made no request outside loopback and threw no uncaught error. */
export function expectCleanPage(mp: MockPage): void {
  expect(mp.browser.external).toEqual([]);
  expect(mp.browser.pageErrors.filter((e) => e.startsWith('pageerror'))).toEqual([]);
}
