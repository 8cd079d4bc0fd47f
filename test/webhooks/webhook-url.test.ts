// Webhook URLs given by users: http(s) only, with messages that say how to fix the value.

import { describe, expect, test } from 'bun:test';
import { checkWebhookUrl, parseWebhookUrl, WebhookUrlError } from '../../src/webhooks/webhook-url.ts';

function errorOf(input: unknown, field?: string): string {
  const r = checkWebhookUrl(input, field);
  if (r.ok) throw new Error(`expected ${String(input)} to be rejected`);
  return r.error;
}

describe('checkWebhookUrl', () => {
  test('accepts http and https URLs, including IPv6 and ports', () => {
    for (const u of ['http://127.0.0.1:3000/webhook', 'https://example.com/zoom/hook?x=1', 'http://[::1]:8080/', 'HTTP://LOCALHOST/x']) {
      const r = checkWebhookUrl(u);
      expect(r.ok).toBe(true);
    }
    const r = checkWebhookUrl('  http://localhost:3000/webhook  ');
    expect(r.ok && r.url.href).toBe('http://localhost:3000/webhook');
  });

  test('other schemes: says which scheme is needed and what was given', () => {
    expect(errorOf('ftp://example.com/x')).toBe('webhook_url must be an http:// or https:// URL, got "ftp://example.com/x"');
    expect(errorOf('ws://127.0.0.1:3000/x')).toContain('webhooks are HTTP POSTs');
    expect(errorOf('mailto:a@b.c')).toContain('must be an http:// or https:// URL');
  });

  test('missing scheme: suggests the http:// form', () => {
    expect(errorOf('localhost:3000/webhook')).toBe(
      'webhook_url must start with http:// or https://, got "localhost:3000/webhook"; did you mean "http://localhost:3000/webhook"?',
    );
    expect(errorOf('127.0.0.1:3000/webhook')).toContain('did you mean "http://127.0.0.1:3000/webhook"?');
    expect(errorOf('example.com/webhook')).toContain('must start with http:// or https://');
  });

  test('unparseable or malformed values', () => {
    expect(errorOf('http://exa mple.com/')).toContain('is not a valid URL');
    expect(errorOf('http://host:99999/')).toContain('the port (1-65535)');
    expect(errorOf('http:/host/x')).toContain('write it as http://host[:port]/path');
    expect(errorOf('http://')).toContain('malformed');
  });

  test('empty and non-string values; field name appears in the message', () => {
    expect(errorOf('')).toContain('webhook_url is empty');
    expect(errorOf('   ', '--webhook-url')).toStartWith('--webhook-url is empty');
    expect(errorOf(42)).toContain('must be a string URL');
  });

  test('parseWebhookUrl throws WebhookUrlError with the same message', () => {
    expect(() => parseWebhookUrl('ftp://x')).toThrow(WebhookUrlError);
    expect(() => parseWebhookUrl('ftp://x')).toThrow('must be an http:// or https:// URL, got "ftp://x"');
    expect(parseWebhookUrl('http://a/b').href).toBe('http://a/b');
  });
});
