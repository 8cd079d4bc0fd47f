// --tls: a CA and a server certificate made at first start (kept in --tls-dir, reused after), both ports over
// TLS, wss:// and https:// URLs handed out, and clients that VERIFY the certificate against the generated CA —
// in-process with `tls: { ca }`, and the reference app in its own process trusting it through
// NODE_EXTRA_CA_CERTS, exactly as the start-up log tells users to. No verification is ever turned off.
import { afterAll, afterEach, beforeAll, expect, test } from 'bun:test';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { certificateHosts, ensureLocalCertificate, loadTlsFiles } from '../../src/tls/local-ca.ts';
import { ipBytes } from '../../src/tls/x509.ts';
import { spawnMock, type MockProcess } from '../helpers/mock-process.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
let dir = '';
let mock: MockProcess | null = null;
const procs: { kill(sig?: number | NodeJS.Signals): void; exitCode: number | null }[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rtms-tls-'));
});
afterEach(async () => {
  await mock?.stop();
  mock = null;
  for (const p of procs.splice(0)) if (p.exitCode === null) p.kill('SIGKILL');
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const serve = (tlsDir: string, extra: string[] = []) =>
  // One webhook attempt: the flow driver's app is gone when the mock stops, no retries to wait for.
  spawnMock([process.execPath, 'src/index.ts', '--port', '0', '--media-port', '0', '--webhook-attempts', '1', '--tls', '--tls-dir', tlsDir, ...extra], {
    cwd: root,
    env: { ...process.env, NO_COLOR: '1' },
  });

test('ipBytes: IPv4, IPv6 (with :: and embedded IPv4), and DNS names', () => {
  expect([...ipBytes('127.0.0.1')!]).toEqual([127, 0, 0, 1]);
  expect([...ipBytes('::1')!]).toEqual([...Array(15).fill(0), 1]);
  expect([...ipBytes('[fe80::1:2]')!]).toEqual([0xfe, 0x80, ...Array(10).fill(0), 0, 1, 0, 2]);
  expect([...ipBytes('::ffff:10.0.0.1')!].slice(10)).toEqual([0xff, 0xff, 10, 0, 0, 1]);
  expect(ipBytes('localhost')).toBeNull();
  expect(ipBytes('256.1.1.1')).toBeNull();
  expect(ipBytes('1::2::3')).toBeNull();
  expect(certificateHosts('LOCALHOST', ['0.0.0.0', '127.0.0.1'])).toEqual(['LOCALHOST', '127.0.0.1', '::1']);
});

test('certificates: made once, reused, re-issued for a new host under the same CA; the user\'s own pair is checked', async () => {
  const d = join(dir, 'unit');
  const first = await ensureLocalCertificate(d, certificateHosts('localhost'));
  expect(first.generated).toBe('ca');
  expect(first.hosts).toEqual(['localhost', '127.0.0.1', '::1']);
  if (process.platform !== 'win32') {
    expect(statSync(join(d, 'ca-key.pem')).mode & 0o077).toBe(0);
    expect(statSync(join(d, 'server-key.pem')).mode & 0o077).toBe(0);
  }
  const again = await ensureLocalCertificate(d, certificateHosts('localhost'));
  expect(again.generated).toBeNull();
  expect(again.cert).toBe(first.cert);
  const other = await ensureLocalCertificate(d, certificateHosts('rtms.test'));
  expect(other.generated).toBe('server');
  expect(other.hosts).toEqual(expect.arrayContaining(['rtms.test', 'localhost', '127.0.0.1']));
  expect(readFileSync(other.caPath!, 'utf8')).toBe(readFileSync(first.caPath!, 'utf8'));

  // A server with the re-issued certificate verifies for the new name against the unchanged CA.
  const ca = readFileSync(other.caPath!, 'utf8');
  const server = Bun.serve({ hostname: '127.0.0.1', port: 0, tls: { cert: other.cert, key: other.key }, fetch: () => new Response('ok') });
  try {
    const ok = await fetch(`https://127.0.0.1:${server.port}/`, { tls: { ca, serverName: 'rtms.test' } } as RequestInit);
    expect(await ok.text()).toBe('ok');
    // Not covered by the SAN: refused.
    await expect(fetch(`https://127.0.0.1:${server.port}/`, { tls: { ca, serverName: 'other.test' } } as RequestInit)).rejects.toThrow();
  } finally {
    server.stop(true);
  }

  writeFileSync(join(dir, 'not-a-cert.pem'), 'hello');
  expect(() => loadTlsFiles(join(dir, 'not-a-cert.pem'), join(d, 'server-key.pem'))).toThrow(/--tls-cert .*not-a-cert\.pem is not a PEM certificate/);
  expect(() => loadTlsFiles(join(dir, 'missing.pem'), join(d, 'server-key.pem'))).toThrow(/cannot read --tls-cert/);
});

test('--tls: https/wss on both ports, verified against the generated CA; main flow through NODE_EXTRA_CA_CERTS; CA reused on restart', async () => {
  const tlsDir = join(dir, 'cli');
  mock = await serve(tlsDir, ['--public-host', 'localhost']);
  expect(mock.tls).toBe(true);
  const caPath = join(tlsDir, 'ca.pem');
  await mock.waitForText('made now (new CA)');
  await mock.waitForText(`NODE_EXTRA_CA_CERTS=${caPath}`);
  const ca = readFileSync(caPath, 'utf8');

  // In-process: verified with the CA; refused without it (the certificate is not trusted by default).
  const health = await fetch(`https://localhost:${mock.port}/health`, { tls: { ca } } as RequestInit);
  expect(health.status).toBe(200);
  await expect(fetch(`https://localhost:${mock.port}/health`)).rejects.toThrow();
  // Plain HTTP on a TLS port does not work either.
  await expect(fetch(`http://localhost:${mock.port}/health`).then((r) => r.status)).rejects.toThrow();

  // The media port speaks TLS too: a verified wss:// connection opens (and the bad path is refused by HTTP 404).
  const media = await fetch(`https://localhost:${mock.mediaPort}/nope`, { tls: { ca } } as RequestInit);
  expect(media.status).toBe(404);
  const ws = new WebSocket(`wss://localhost:${mock.mediaPort}/all`, { tls: { ca } } as unknown as string[]);
  await new Promise<void>((resolve, reject) => {
    ws.onopen = () => resolve();
    ws.onerror = () => reject(new Error('wss:// to the media port failed'));
  });
  ws.close();

  // The reference app in its own process, trusting the CA the documented way, runs the whole flow.
  const driver = Bun.spawn([process.execPath, 'test/tls/flow-driver.ts', `https://localhost:${mock.port}`], {
    cwd: root,
    env: { ...process.env, NODE_EXTRA_CA_CERTS: caPath },
    stdout: 'pipe',
    stderr: 'pipe',
  });
  procs.push(driver);
  const [code, out, err] = await Promise.all([driver.exited, new Response(driver.stdout).text(), new Response(driver.stderr).text()]);
  if (code !== 0) throw new Error(`flow driver failed (${code}):\n${out}\n${err}`);
  const result = JSON.parse(out.trim().split('\n').pop()!);
  expect(result.server_urls).toStartWith(`wss://localhost:${mock.port}/`);
  expect(result.media_url).toStartWith(`wss://localhost:${mock.mediaPort}/`);
  expect(result.received).toMatchObject({ audio: true, video: true });

  // Second start with the same directory: nothing regenerated, same CA.
  expect(await mock.signal('SIGTERM')).toBe(0);
  mock = await serve(tlsDir, ['--public-host', 'localhost']);
  await mock.waitForText('reused, signed by the local CA');
  expect(readFileSync(caPath, 'utf8')).toBe(ca);
  expect((await fetch(`${mock.baseUrl}/health`, { tls: { ca } } as RequestInit)).status).toBe(200);
}, 60_000);

test('--tls-cert/--tls-key: the user\'s own pair; a lone --tls-cert is refused with what to do', async () => {
  const d = join(dir, 'own');
  const m = await ensureLocalCertificate(d, certificateHosts('localhost'));
  mock = await spawnMock([process.execPath, 'src/index.ts', '--port', '0', '--media-port', '0', '--tls-cert', m.certPath, '--tls-key', m.keyPath], {
    cwd: root,
    env: { ...process.env, NO_COLOR: '1' },
  });
  expect(mock.tls).toBe(true);
  await mock.waitForText(`TLS: certificate ${m.certPath}`);
  const ca = readFileSync(m.caPath!, 'utf8');
  expect((await fetch(`https://127.0.0.1:${mock.port}/health`, { tls: { ca } } as RequestInit)).status).toBe(200);

  const lone = Bun.spawn([process.execPath, 'src/index.ts', '--port', '0', '--media-port', '0', '--tls-cert', m.certPath], { cwd: root, stdout: 'pipe', stderr: 'pipe' });
  procs.push(lone);
  const [code, err] = await Promise.all([lone.exited, new Response(lone.stderr).text()]);
  expect(code).toBe(2);
  expect(err).toContain('--tls-cert and --tls-key go together');
}, 30_000);
