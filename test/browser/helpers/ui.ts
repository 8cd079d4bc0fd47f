// Small polling assertions for playwright locators under bun:test (which has no web-first matchers). The page
// is addressed only by roles and accessible names, as a user of assistive technology would find it.
import type { Locator, Page } from 'playwright-core';

const DEFAULT_TIMEOUT = 8_000;

async function poll(check: () => Promise<boolean>, describe: () => Promise<string>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let ok = false;
    try {
      ok = await check();
    } catch {
      ok = false;
    }
    if (ok) return;
    if (Date.now() > deadline) throw new Error(await describe().catch((e) => String(e)));
    await Bun.sleep(50);
  }
}

/** Waits until the (single) element is enabled or disabled. */
export async function expectEnabled(locator: Locator, enabled: boolean, what: string, timeoutMs = DEFAULT_TIMEOUT): Promise<void> {
  await poll(
    async () => (await locator.count()) === 1 && (await locator.isEnabled({ timeout: 500 })) === enabled,
    async () => {
      const n = await locator.count();
      if (n !== 1) return `${what}: expected exactly one element, found ${n}`;
      return `${what}: expected ${enabled ? 'enabled' : 'disabled'}, still ${enabled ? 'disabled' : 'enabled'} after ${timeoutMs} ms`;
    },
    timeoutMs,
  );
}

/** Waits until the element's visible text matches (a pattern, or a predicate described by `pattern.toString`). Returns that text. */
export async function expectText(locator: Locator, pattern: RegExp | ((text: string) => boolean), what: string, timeoutMs = DEFAULT_TIMEOUT): Promise<string> {
  let last = '';
  const test = typeof pattern === 'function' ? pattern : (t: string) => pattern.test(t);
  await poll(
    async () => {
      last = (await locator.first().innerText({ timeout: 500 })).replace(/\s+/g, ' ').trim();
      return test(last);
    },
    async () => `${what}: text did not match ${typeof pattern === 'function' ? 'the expectation' : pattern} within ${timeoutMs} ms; it reads: ${JSON.stringify(last.slice(0, 600))}`,
    timeoutMs,
  );
  return last;
}

/**
 * The element's accessible description, as assistive technology announces it with the element: the text of
 * the elements its aria-describedby names (in order), else its title.
 */
export async function accessibleDescription(locator: Locator): Promise<string> {
  return locator.first().evaluate((el) => {
    const ids = (el.getAttribute('aria-describedby') ?? '').split(/\s+/).filter(Boolean);
    const text = ids.map((id) => el.ownerDocument.getElementById(id)?.textContent ?? '').join(' ');
    return (text.trim() || el.getAttribute('title') || '').replace(/\s+/g, ' ').trim();
  });
}

/** Waits until the element's accessible description matches. Returns it. */
export async function expectDescription(locator: Locator, pattern: RegExp | ((text: string) => boolean), what: string, timeoutMs = DEFAULT_TIMEOUT): Promise<string> {
  let last = '';
  const test = typeof pattern === 'function' ? pattern : (t: string) => pattern.test(t);
  await poll(
    async () => test((last = await accessibleDescription(locator))),
    async () => `${what}: accessible description did not match ${typeof pattern === 'function' ? 'the expectation' : pattern} within ${timeoutMs} ms; it reads: ${JSON.stringify(last.slice(0, 600))}`,
    timeoutMs,
  );
  return last;
}

/** Waits until the element's visible text does NOT match (e.g. an old error went away). */
export async function expectNoText(locator: Locator, pattern: RegExp, what: string, timeoutMs = DEFAULT_TIMEOUT): Promise<void> {
  let last = '';
  await poll(
    async () => {
      last = (await locator.first().innerText({ timeout: 500 })).replace(/\s+/g, ' ').trim();
      return !pattern.test(last);
    },
    async () => `${what}: text still matches ${pattern} after ${timeoutMs} ms: ${JSON.stringify(last.slice(0, 600))}`,
    timeoutMs,
  );
}

/** Waits until the locator matches at least one visible element. */
export async function expectVisible(locator: Locator, what: string, timeoutMs = DEFAULT_TIMEOUT): Promise<void> {
  try {
    await locator.first().waitFor({ state: 'visible', timeout: timeoutMs });
  } catch {
    throw new Error(`${what}: not visible within ${timeoutMs} ms`);
  }
}

/** The "Media source" control: a select (combobox/listbox) or a radio group, whichever the page uses. */
export function mediaSourceControl(page: Page): Locator {
  return page
    .getByRole('combobox', { name: 'Media source' })
    .or(page.getByRole('listbox', { name: 'Media source' }))
    .or(page.getByRole('radiogroup', { name: 'Media source' }));
}

/** The option (of a select) or radio (of a radio group) of the Media source control with this exact name. */
export function mediaSourceOption(page: Page, name: string): Locator {
  const control = mediaSourceControl(page);
  return control.getByRole('option', { name, exact: true }).or(control.getByRole('radio', { name, exact: true }));
}

/** Chooses a media source by its visible name. */
export async function chooseMediaSource(page: Page, name: 'Synthetic' | 'This browser' | 'Media file'): Promise<void> {
  const select = page.getByRole('combobox', { name: 'Media source' });
  if ((await select.count()) > 0) {
    await select.selectOption({ label: name });
    return;
  }
  await page.getByRole('radiogroup', { name: 'Media source' }).getByRole('radio', { name, exact: true }).check();
}
