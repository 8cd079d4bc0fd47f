// `--tls`: a local certificate authority and a server certificate for the public host, made at first start and
// kept in a directory (default ~/.rtms-mock/tls) so the CA only has to be trusted once. Or the user's own pair
// (--tls-cert/--tls-key). Runtime-neutral (node:fs + WebCrypto).
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair, importKeyPair, ipBytes, issueCertificate, pem, unpem } from './x509.ts';

export interface TlsMaterial {
  cert: string;
  key: string;
  /** The CA to trust (generated material only). */
  caPath: string | null;
  certPath: string;
  keyPath: string;
  /** Names and addresses the certificate is valid for (generated material only). */
  hosts: string[];
  /** What was made now rather than reused: 'ca' (and so the server certificate), 'server', or nothing. */
  generated: 'ca' | 'server' | null;
}

export class TlsSetupError extends Error {}

const CA_DAYS = 3650;
/** Apple and browsers refuse server certificates valid for more than 398 days. */
const SERVER_DAYS = 397;
const RENEW_BEFORE_DAYS = 30;
const DAY = 86_400_000;

/** ~/.rtms-mock/tls (HOME or USERPROFILE first: no extra permission needed on Deno). */
export function defaultTlsDir(): string {
  const home = process.env.HOME || process.env.USERPROFILE || homedir();
  return join(home, '.rtms-mock', 'tls');
}

/** The names a generated certificate covers: the public host, localhost and the loopback addresses. */
export function certificateHosts(publicHost: string, extra: string[] = []): string[] {
  const hosts = [publicHost, 'localhost', '127.0.0.1', '::1', ...extra]
    .map((h) => h.trim().replace(/^\[|\]$/g, ''))
    .filter((h) => h && h !== '0.0.0.0' && h !== '::');
  const seen = new Set<string>();
  return hosts.filter((h) => {
    const k = ipBytes(h) ? [...ipBytes(h)!].join('.') : h.toLowerCase();
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** Writes through a temporary file and a rename, so a crash never leaves half a key. */
function writeAtomic(path: string, text: string, mode: number): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode });
  try {
    chmodSync(tmp, mode);
  } catch {
    /* Windows: modes are advisory */
  }
  renameSync(tmp, path);
}

const fingerprint = (text: string) => createHash('sha256').update(text).digest('hex');

interface ServerMeta {
  hosts: string[];
  not_after: string;
  ca_sha256: string;
}

/**
 * Returns a certificate for `hosts` signed by the CA in `dir`, making the CA and/or the server certificate when
 * missing, expiring within 30 days, or (server) not covering every host.
 */
export async function ensureLocalCertificate(dir: string, hosts: string[], now = new Date()): Promise<TlsMaterial> {
  const where = (f: string) => join(dir, f);
  const caPath = where('ca.pem');
  const caKeyPath = where('ca-key.pem');
  const certPath = where('server.pem');
  const keyPath = where('server-key.pem');
  const metaPath = where('server.json');
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new TlsSetupError(`cannot create the TLS directory ${dir}: ${(e as Error).message}. Pick another with --tls-dir.`);
  }

  let generated: TlsMaterial['generated'] = null;
  let caPem: string;
  let caKey;
  const caValid = existsSync(caPath) && existsSync(caKeyPath) && caNotAfter(caPath) > now.getTime() + RENEW_BEFORE_DAYS * DAY;
  if (caValid) {
    caPem = readFileSync(caPath, 'utf8');
    try {
      caKey = await importKeyPair(readFileSync(caKeyPath, 'utf8'));
    } catch (e) {
      throw new TlsSetupError(`${caKeyPath} cannot be used (${(e as Error).message}). Delete ${dir} to make a new CA (then trust the new ca.pem), or use --tls-dir.`);
    }
  } else {
    caKey = await generateKeyPair();
    const der = await issueCertificate({
      subjectCN: 'rtms-mock local CA', subjectKey: caKey, ca: true,
      notBefore: new Date(now.getTime() - 3600_000), notAfter: new Date(now.getTime() + CA_DAYS * DAY),
    });
    caPem = pem('CERTIFICATE', der);
    writeAtomic(caKeyPath, caKey.keyPem, 0o600);
    writeAtomic(caPath, caPem, 0o644);
    generated = 'ca';
  }

  let meta: ServerMeta | null = null;
  try {
    meta = JSON.parse(readFileSync(metaPath, 'utf8')) as ServerMeta;
  } catch {
    meta = null;
  }
  const reuse = generated === null && meta !== null && existsSync(certPath) && existsSync(keyPath) &&
    meta.ca_sha256 === fingerprint(caPem) &&
    Date.parse(meta.not_after) > now.getTime() + RENEW_BEFORE_DAYS * DAY &&
    hosts.every((h) => meta!.hosts.includes(h));
  if (!reuse) {
    const key = await generateKeyPair();
    // Keep the names an earlier certificate covered, so alternating --public-host values do not churn.
    const all = certificateHosts(hosts[0] ?? 'localhost', [...hosts, ...(meta?.ca_sha256 === fingerprint(caPem) ? meta.hosts : [])]);
    const notAfter = new Date(now.getTime() + SERVER_DAYS * DAY);
    const der = await issueCertificate({
      subjectCN: all[0]!, subjectKey: key, issuer: { cn: 'rtms-mock local CA', key: caKey }, ca: false, hosts: all,
      notBefore: new Date(now.getTime() - 3600_000), notAfter,
    });
    writeAtomic(keyPath, key.keyPem, 0o600);
    writeAtomic(certPath, pem('CERTIFICATE', der), 0o644);
    writeAtomic(metaPath, JSON.stringify({ hosts: all, not_after: notAfter.toISOString(), ca_sha256: fingerprint(caPem) }, null, 2) + '\n', 0o644);
    meta = { hosts: all, not_after: notAfter.toISOString(), ca_sha256: fingerprint(caPem) };
    generated ??= 'server';
  }
  return {
    cert: readFileSync(certPath, 'utf8'),
    key: readFileSync(keyPath, 'utf8'),
    caPath, certPath, keyPath,
    hosts: meta!.hosts,
    generated,
  };
}

/** notAfter of a PEM certificate, in ms; 0 when it cannot be read (so it is replaced). */
export function caNotAfter(path: string): number {
  try {
    const der = unpem(readFileSync(path, 'utf8'), 'CERTIFICATE');
    if (!der) return 0;
    // The validity is the only SEQUENCE of two times in the TBS; find the second UTCTime/GeneralizedTime.
    const times: string[] = [];
    for (let i = 0; i < der.length - 2 && times.length < 2; i++) {
      const tag = der[i];
      const len = der[i + 1]!;
      if ((tag === 0x17 && len === 13) || (tag === 0x18 && len === 15)) {
        const s = new TextDecoder().decode(der.subarray(i + 2, i + 2 + len));
        if (/^\d+Z$/.test(s)) {
          times.push(s);
          i += 1 + len;
        }
      }
    }
    const t = times[1];
    if (!t) return 0;
    const full = t.length === 13 ? `${Number(t.slice(0, 2)) < 50 ? '20' : '19'}${t}` : t;
    return Date.UTC(+full.slice(0, 4), +full.slice(4, 6) - 1, +full.slice(6, 8), +full.slice(8, 10), +full.slice(10, 12), +full.slice(12, 14));
  } catch {
    return 0;
  }
}

/** The user's own certificate and key (--tls-cert/--tls-key), checked enough to give a clear error. */
export function loadTlsFiles(certPath: string, keyPath: string): TlsMaterial {
  const read = (path: string, flag: string, marker: RegExp, what: string) => {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      throw new TlsSetupError(`cannot read ${flag} ${path}: ${(e as Error).message}`);
    }
    if (!marker.test(text)) throw new TlsSetupError(`${flag} ${path} is not a PEM ${what} (expected a "-----BEGIN ${what.toUpperCase()}-----" block)`);
    return text;
  };
  const cert = read(certPath, '--tls-cert', /-----BEGIN CERTIFICATE-----/, 'certificate');
  const key = read(keyPath, '--tls-key', /-----BEGIN (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----/, 'private key');
  if (/ENCRYPTED PRIVATE KEY/.test(key)) throw new TlsSetupError(`--tls-key ${keyPath} is encrypted; give an unencrypted key (openssl pkey -in key.pem -out plain.pem)`);
  return { cert, key, caPath: null, certPath, keyPath, hosts: [], generated: null };
}

/** How to make clients trust the generated CA (printed at start). */
export function trustInstructions(caPath: string): string[] {
  return [
    `trust the local CA once, then https:// and wss:// verify normally:`,
    `  Node.js / Bun:  NODE_EXTRA_CA_CERTS=${caPath} node your-app.js`,
    `  Deno:           DENO_CERT=${caPath} deno run …`,
    `  Python:         SSL_CERT_FILE=${caPath} (requests: REQUESTS_CA_BUNDLE=${caPath})`,
    `  curl:           curl --cacert ${caPath} …`,
    `  browsers:       import ${caPath} as a trusted certificate authority`,
  ];
}
