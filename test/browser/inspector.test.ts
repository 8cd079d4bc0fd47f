// The page's inspector (issue 3): for each meeting, what was exchanged with the app — the signaling and data
// handshakes by message type, each webhook delivery with its HTTP status and the exact signature header sent,
// per-connection media counters that grow while media flows — and a log that can be filtered. Checked against
// what the reference app really received over real sockets; the page is addressed by roles and names only.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import type { Locator, Page } from 'playwright-core';
import { startReferenceApp, type ReferenceApp } from '../../src/client/reference-app.ts';
import { expectCleanPage, meetingPanel, openMockPage, type MockPage } from './helpers/mock-page.ts';
import { expectText, expectVisible } from './helpers/ui.ts';

let mp: MockPage;
let page: Page;
let app: ReferenceApp;
let uuid = '';
let streamId = '';

beforeAll(async () => {
  mp = await openMockPage();
  page = mp.page;
  app = await startReferenceApp({ log: false });
  mp.defer(() => app.stop());
  // A meeting started outside the page (as with curl): the page must pick it up from the live feed.
  const created = await mp.mock.startMeeting(app.url);
  uuid = created.meeting_uuid;
  streamId = created.rtms_stream_id;
  await app.waitFor((o) => o.kind === 'message' && o.streamId === streamId && o.msg?.msg_type === 14, 10_000, { label: 'first audio' });
}, 30_000);

afterAll(async () => {
  await mp?.close();
});

const panel = () => meetingPanel(page, uuid);
const tab = (name: string) => panel().getByRole('tab', { name, exact: true });
const tabpanel = (name: string) => panel().getByRole('tabpanel', { name, exact: true });

async function openTab(name: string): Promise<Locator> {
  await tab(name).click();
  const p = tabpanel(name);
  await expectVisible(p, `the "${name}" tab panel`);
  return p;
}

/** Visible text of every body row of the first table in `scope` (header rows excluded), cells joined by " | ". */
async function bodyRows(scope: Locator): Promise<string[]> {
  const rows = scope.getByRole('table').first().getByRole('row');
  const n = await rows.count();
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const row = rows.nth(i);
    if ((await row.getByRole('columnheader').count()) > 0) continue;
    const cells = await row.getByRole('cell').allInnerTexts();
    out.push(cells.map((c) => c.trim()).join(' | '));
  }
  return out;
}

/**
 * The text of the cell in column `column` (by its header's name) of the first body row matching `rowText`.
 * The page re-renders its tables as the live feed updates them, so a read that races a re-render is retried.
 */
async function cellText(table: Locator, rowText: string | RegExp, column: string, timeoutMs = 3_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const headers = (await table.getByRole('columnheader').allInnerTexts()).map((t) => t.trim());
      const index = headers.indexOf(column);
      if (index < 0) throw new Error(`no column "${column}" (columns: ${headers.join(', ') || 'none'})`);
      const row = table.getByRole('row').filter({ hasText: rowText }).filter({ has: table.page().getByRole('cell') }).first();
      return (await row.getByRole('cell').nth(index).innerText({ timeout: 500 })).trim();
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await Bun.sleep(50);
    }
  }
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 8_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
    await Bun.sleep(100);
  }
}

describe('inspector', () => {
  test('a meeting started through the API appears with its inspector tabs', async () => {
    await expectVisible(panel(), `the panel of meeting ${uuid}`);
    for (const name of ['Log', 'Connections', 'Webhooks']) await expectVisible(tab(name), `the "${name}" tab`);
  }, 20_000);

  test('the log shows the handshakes by message type, in both directions', async () => {
    const log = await openTab('Log');
    let rows: string[] = [];
    await until('handshake rows in the log', async () => {
      rows = await bodyRows(log);
      return ['SIGNALING_HAND_SHAKE_REQ', 'SIGNALING_HAND_SHAKE_RESP', 'DATA_HAND_SHAKE_REQ', 'DATA_HAND_SHAKE_RESP', 'CLIENT_READY_ACK'].every((t) =>
        rows.some((r) => r.includes(t)),
      );
    }).catch((e) => {
      throw new Error(`${(e as Error).message}; rows:\n${rows.slice(0, 30).join('\n')}`);
    });
    // Requests come from the app, responses from the mock: the direction column says so.
    const req = rows.find((r) => r.includes('SIGNALING_HAND_SHAKE_REQ'))!;
    const resp = rows.find((r) => r.includes('SIGNALING_HAND_SHAKE_RESP'))!;
    expect(req).toMatch(/→ mock/);
    expect(resp).toMatch(/→ app/);
    // What the page lists matches what the app actually sent and received.
    const s = app.streams.get(streamId)!;
    expect(s.sent.some((m) => m.msg?.msg_type === 1)).toBe(true);
    expect(s.messages.some((m) => m.msg?.msg_type === 2 && m.msg.status_code === 0)).toBe(true);
  }, 20_000);

  test('the log can be filtered by text and direction, and media rows hidden', async () => {
    const log = await openTab('Log');
    const filter = log.getByRole('searchbox', { name: 'Filter log', exact: true });
    await filter.fill('HAND_SHAKE');
    let rows: string[] = [];
    await until('only handshake rows after filtering', async () => {
      rows = await bodyRows(log);
      return rows.length >= 4 && rows.every((r) => /hand_shake/i.test(r));
    });
    expect(rows.some((r) => r.includes('EVENT_UPDATE'))).toBe(false);

    await log.getByRole('combobox', { name: 'Direction', exact: true }).selectOption({ label: 'app → mock' });
    await until('only app → mock handshake rows', async () => {
      rows = await bodyRows(log);
      return rows.length >= 2 && rows.every((r) => /→ mock/.test(r) && /_REQ\b/.test(r));
    });

    await filter.fill('no such message 0xdeadbeef');
    await until('an empty result', async () => {
      rows = await bodyRows(log);
      return rows.length === 1 && /nothing matches/i.test(rows[0]!);
    });

    // Back to everything, then hide the media summaries.
    await filter.fill('');
    await log.getByRole('combobox', { name: 'Direction', exact: true }).selectOption({ label: 'all' });
    await until('media summary rows while media flows', async () => (await bodyRows(log)).some((r) => r.includes('MEDIA_DATA_AUDIO')));
    await log.getByRole('checkbox', { name: 'Media messages', exact: true }).uncheck();
    await until('no media rows once "Media messages" is off', async () => {
      rows = await bodyRows(log);
      return rows.length > 0 && !rows.some((r) => /MEDIA_DATA_/.test(r));
    });
    await log.getByRole('checkbox', { name: 'Media messages', exact: true }).check();
  }, 20_000);

  test('the webhook delivery shows its status and the exact x-zm-signature the app received', async () => {
    const received = app.webhooks.find((w) => w.event === 'meeting.rtms_started')!;
    expect(received).toBeDefined();
    const signature = received.headers['x-zm-signature']!;
    const timestamp = received.headers['x-zm-request-timestamp']!;
    expect(signature).toMatch(/^v0=[0-9a-f]{64}$/);

    const hooks = await openTab('Webhooks');
    // Each delivery is a disclosure (details/summary, role group) headed by its event and outcome.
    const delivery = hooks.getByRole('group').filter({ hasText: 'meeting.rtms_started' }).first();
    await expectText(delivery, /delivered/i, 'the rtms_started delivery outcome');
    await expectText(delivery, /HTTP 200/, 'the rtms_started delivery status');
    await delivery.click(); // opens it
    const table = delivery.getByRole('table');
    await expectVisible(table, 'the attempts table of the delivery');
    expect(await cellText(table, /HTTP 200/, 'x-zm-signature')).toBe(signature);
    expect(await cellText(table, /HTTP 200/, 'x-zm-request-timestamp')).toBe(timestamp);
    expect(await cellText(table, /HTTP 200/, 'Result')).toBe('HTTP 200');
  }, 20_000);

  test('per-connection media counters increase while media flows', async () => {
    const conns = await openTab('Connections');
    const table = conns.getByRole('table').first();
    await expectVisible(table, 'the connections table');
    const outOf = async () => {
      const text = await cellText(table, '/all', 'Out');
      const n = Number(/^(\d+)/.exec(text)?.[1]);
      if (!Number.isFinite(n)) throw new Error(`"Out" of /all reads ${JSON.stringify(text)}`);
      return n;
    };
    let first = 0;
    await until('a non-zero Out count on /all', async () => (first = await outOf()) > 0);
    const appCount = Object.entries(app.streams.get(streamId)!.counts)
      .filter(([k]) => ['14', '15', '16', '17', '18'].includes(k))
      .reduce((a, [, v]) => a + v, 0);
    expect(appCount).toBeGreaterThan(0);
    let later = 0;
    await until('the Out count to grow', async () => (later = await outOf()) > first, 5_000);
    expect(later).toBeGreaterThan(first);
  }, 20_000);

  test('the page made no request outside loopback and threw no error', () => {
    expectCleanPage(mp);
  });
});
