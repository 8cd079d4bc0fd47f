// Just enough X.509 to issue a local CA and a server certificate for `--tls`, with WebCrypto (ECDSA P-256,
// SHA-256) and a small DER writer: no openssl, no dependency, the same code on Bun, Deno and in the executable.
// Structure from RFC 5280 §4.1 (Certificate, TBSCertificate, extensions) and RFC 5480/5758 (ECDSA keys and
// signatures). Only what these two certificates need is here.

// ---- DER (X.690) ----

/** Bytes backed by a plain ArrayBuffer (what WebCrypto's BufferSource takes). */
type Bytes = Uint8Array<ArrayBuffer>;

function lengthBytes(n: number): number[] {
  if (n < 0x80) return [n];
  const out: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) out.unshift(v & 0xff);
  return [0x80 | out.length, ...out];
}

function tlv(tag: number, content: Bytes): Bytes {
  const len = lengthBytes(content.length);
  const out = new Uint8Array(1 + len.length + content.length);
  out[0] = tag;
  out.set(len, 1);
  out.set(content, 1 + len.length);
  return out;
}

function concat(parts: Bytes[]): Bytes {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const seq = (...parts: Bytes[]) => tlv(0x30, concat(parts));
const set = (...parts: Bytes[]) => tlv(0x31, concat(parts));
const octets = (b: Bytes) => tlv(0x04, b);
const utf8 = (s: string) => tlv(0x0c, new TextEncoder().encode(s));
const bool = (v: boolean) => tlv(0x01, new Uint8Array([v ? 0xff : 0x00]));
/** [n] EXPLICIT */
const explicit = (n: number, inner: Bytes) => tlv(0xa0 | n, inner);

/** A non-negative INTEGER from big-endian magnitude bytes (minimal encoding, sign byte when needed). */
function uint(bytes: Bytes): Bytes {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  const b = bytes.subarray(i);
  return tlv(0x02, (b[0] ?? 0) & 0x80 ? concat([new Uint8Array([0]), b]) : b);
}

const smallInt = (n: number) => uint(new Uint8Array([n]));

/** BIT STRING with `unused` trailing bits in the last byte. */
const bits = (b: Bytes, unused = 0) => tlv(0x03, concat([new Uint8Array([unused]), b]));

function oid(dotted: string): Bytes {
  const [a, b, ...rest] = dotted.split('.').map(Number);
  const out = [40 * a! + b!];
  for (const n of rest) {
    const chunk: number[] = [];
    let v = n;
    do {
      chunk.unshift(v & 0x7f);
      v = Math.floor(v / 128);
    } while (v > 0);
    for (let i = 0; i < chunk.length - 1; i++) chunk[i]! |= 0x80;
    out.push(...chunk);
  }
  return tlv(0x06, new Uint8Array(out));
}

/** UTCTime until 2049, GeneralizedTime after (RFC 5280 §4.1.2.5). */
function time(d: Date): Bytes {
  const iso = d.toISOString(); // 2025-01-31T12:34:56.789Z
  const digits = iso.slice(0, 19).replace(/[-:T]/g, '') + 'Z'; // 20250131123456Z
  return d.getUTCFullYear() < 2050
    ? tlv(0x17, new TextEncoder().encode(digits.slice(2)))
    : tlv(0x18, new TextEncoder().encode(digits));
}

// ---- names and addresses ----

const OID = {
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  subjectKeyId: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyId: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
};

function name(cn: string, org: string): Bytes {
  return seq(set(seq(oid(OID.organization), utf8(org))), set(seq(oid(OID.commonName), utf8(cn))));
}

/** IPv4 or IPv6 text to its 4 or 16 bytes; null for anything else (a DNS name). */
export function ipBytes(host: string): Bytes | null {
  const h = host.replace(/^\[|\]$/g, '');
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(h);
  if (v4) {
    const parts = v4.slice(1).map(Number);
    return parts.every((p) => p <= 255) ? new Uint8Array(parts) : null;
  }
  if (!h.includes(':') || !/^[0-9a-fA-F:.]+$/.test(h)) return null;
  let tail: number[] = [];
  let text = h;
  const dotted = /:(\d+\.\d+\.\d+\.\d+)$/.exec(h);
  if (dotted) {
    const b = ipBytes(dotted[1]!);
    if (!b) return null;
    tail = [...b];
    text = h.slice(0, dotted.index + 1) + '0:0';
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const groups = (s: string) => (s === '' ? [] : s.split(':'));
  const head = groups(halves[0]!);
  const rest = halves.length === 2 ? groups(halves[1]!) : [];
  const missing = 8 - head.length - rest.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const all = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...rest];
  if (all.some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) return null;
  const out = new Uint8Array(16);
  all.forEach((g, i) => {
    const v = parseInt(g, 16);
    out[2 * i] = v >> 8;
    out[2 * i + 1] = v & 0xff;
  });
  if (tail.length) out.set(tail, 12);
  return out;
}

function generalNames(hosts: string[]): Bytes {
  return seq(...hosts.map((h) => {
    const ip = ipBytes(h);
    // dNSName [2] IA5String, iPAddress [7] OCTET STRING (both IMPLICIT, RFC 5280 §4.2.1.6).
    return ip ? tlv(0x87, ip) : tlv(0x82, new TextEncoder().encode(h.toLowerCase()));
  }));
}

// ---- keys, signatures, PEM ----

const ALG = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGN = { name: 'ECDSA', hash: 'SHA-256' } as const;

/** WebCrypto gives r‖s (IEEE P1363); X.509 wants SEQUENCE { INTEGER r, INTEGER s } (RFC 5758 §3.2). */
function p1363ToDer(sig: Bytes): Bytes {
  const half = sig.length / 2;
  return seq(uint(sig.subarray(0, half)), uint(sig.subarray(half)));
}

function base64(b: Bytes): string {
  let s = '';
  for (let i = 0; i < b.length; i += 0x8000) s += String.fromCharCode(...b.subarray(i, i + 0x8000));
  return btoa(s);
}

export function pem(label: string, der: Bytes): string {
  const b64 = base64(der).replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

export function unpem(text: string, label: string): Bytes | null {
  const m = new RegExp(`-----BEGIN ${label}-----([\\s\\S]*?)-----END ${label}-----`).exec(text);
  if (!m) return null;
  try {
    return Uint8Array.from(atob(m[1]!.replace(/\s+/g, '')), (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}

export interface KeyPair {
  privateKey: CryptoKey;
  /** SubjectPublicKeyInfo DER. */
  spki: Bytes;
  /** PKCS#8 PEM ("PRIVATE KEY"). */
  keyPem: string;
}

export async function generateKeyPair(): Promise<KeyPair> {
  const k = (await crypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
  const spki = new Uint8Array(await crypto.subtle.exportKey('spki', k.publicKey));
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey('pkcs8', k.privateKey));
  return { privateKey: k.privateKey, spki, keyPem: pem('PRIVATE KEY', pkcs8) };
}

/** Imports a PKCS#8 PEM P-256 key written by generateKeyPair, with its public half for the key identifier. */
export async function importKeyPair(keyPem: string): Promise<KeyPair> {
  const der = unpem(keyPem, 'PRIVATE KEY');
  if (!der) throw new Error('not a PKCS#8 "PRIVATE KEY" PEM');
  const privateKey = await crypto.subtle.importKey('pkcs8', der, ALG, true, ['sign']);
  // The public point is in the JWK form of the private key; rebuild the SPKI from it.
  const jwk = await crypto.subtle.exportKey('jwk', privateKey);
  const pub = await crypto.subtle.importKey('jwk', { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y, ext: true }, ALG, true, ['verify']);
  const spki = new Uint8Array(await crypto.subtle.exportKey('spki', pub));
  return { privateKey, spki, keyPem };
}

/** The BIT STRING contents of the SPKI (the EC point), hashed for the key identifiers (RFC 5280 §4.2.1.2). */
async function keyId(spki: Bytes): Promise<Bytes> {
  // SPKI = SEQUENCE { AlgorithmIdentifier, BIT STRING }; for P-256 the point is the last 65 bytes.
  const point = spki.subarray(spki.length - 65);
  return new Uint8Array(await crypto.subtle.digest('SHA-1', point)).subarray(0, 20);
}

function extension(id: string, critical: boolean, value: Bytes): Bytes {
  return critical ? seq(oid(id), bool(true), octets(value)) : seq(oid(id), octets(value));
}

export interface IssueOptions {
  subjectCN: string;
  subjectKey: KeyPair;
  /** Omitted: self-signed (the CA). */
  issuer?: { cn: string; key: KeyPair };
  ca: boolean;
  /** SubjectAltName entries (DNS names and IP addresses); server certificates only. */
  hosts?: string[];
  notBefore: Date;
  notAfter: Date;
}

const ORG = 'rtms-mock (local development only)';

/** Issues one certificate; returns its DER. */
export async function issueCertificate(o: IssueOptions): Promise<Bytes> {
  const issuer = o.issuer ?? { cn: o.subjectCN, key: o.subjectKey };
  const serial = crypto.getRandomValues(new Uint8Array(16));
  serial[0] = (serial[0]! & 0x7f) | 0x40; // positive, 16 bytes, minimal
  const sigAlg = seq(oid(OID.ecdsaWithSha256));
  const ski = await keyId(o.subjectKey.spki);
  const aki = await keyId(issuer.key.spki);
  const exts: Bytes[] = [];
  if (o.ca) {
    exts.push(extension(OID.basicConstraints, true, seq(bool(true), smallInt(0))));
    // keyCertSign (5), cRLSign (6), digitalSignature (0): 1000 0110, one unused bit.
    exts.push(extension(OID.keyUsage, true, bits(new Uint8Array([0x86]), 1)));
  } else {
    exts.push(extension(OID.basicConstraints, true, seq()));
    exts.push(extension(OID.keyUsage, true, bits(new Uint8Array([0x80]), 7))); // digitalSignature
    exts.push(extension(OID.extKeyUsage, false, seq(oid(OID.serverAuth))));
    exts.push(extension(OID.subjectAltName, false, generalNames(o.hosts ?? [])));
    exts.push(extension(OID.authorityKeyId, false, seq(tlv(0x80, aki))));
  }
  exts.push(extension(OID.subjectKeyId, false, octets(ski)));
  const tbs = seq(
    explicit(0, smallInt(2)), // v3
    uint(serial),
    sigAlg,
    name(issuer.cn, ORG),
    seq(time(o.notBefore), time(o.notAfter)),
    name(o.subjectCN, ORG),
    o.subjectKey.spki,
    explicit(3, seq(...exts)),
  );
  const sig = new Uint8Array(await crypto.subtle.sign(SIGN, issuer.key.privateKey, tbs));
  return seq(tbs, sigAlg, bits(p1363ToDer(sig)));
}
