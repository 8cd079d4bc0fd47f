// Starts a real mock in-process on ephemeral loopback ports; every test stops what it starts.
import { createMock, type CreateMockOptions, type MockHandle } from '../../src/app.ts';
import { fileURLToPath } from 'node:url';

export const DATA_DIR = fileURLToPath(new URL('../../data', import.meta.url));

export interface TestMock extends MockHandle {
  api(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
  /** Creates a meeting towards `webhookUrl` and returns the API reply. */
  startMeeting(webhookUrl: string | null, extra?: Record<string, unknown>): Promise<any>;
}

export async function startMock(over: CreateMockOptions = {}): Promise<TestMock> {
  const m = await createMock({
    port: 0,
    mediaPort: 0,
    bindHost: '127.0.0.1',
    publicHost: '127.0.0.1',
    dataDir: DATA_DIR,
    credentialsPath: `${DATA_DIR}/rtms_credentials.json`,
    logLevel: 'silent',
    webhookBackoffMs: 50,
    webhookTimeoutMs: 2000,
    ...over,
  });
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${m.baseUrl}${path}`, {
      method,
      // A mock started with an API token (README "Security and limits") is called as an authorised client.
      headers: { ...(m.engine.options.apiToken ? { authorization: `Bearer ${m.engine.options.apiToken}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: any = text;
    try { parsed = JSON.parse(text); } catch { /* not JSON */ }
    return { status: res.status, body: parsed };
  };
  return Object.assign(m, {
    api,
    async startMeeting(webhookUrl: string | null, extra: Record<string, unknown> = {}) {
      const r = await api('POST', '/api/meetings', { ...(webhookUrl ? { webhook_url: webhookUrl } : {}), ...extra });
      if (r.status !== 201) throw new Error(`POST /api/meetings → ${r.status} ${JSON.stringify(r.body)}`);
      return r.body;
    },
  });
}
