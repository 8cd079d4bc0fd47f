// The ingest wire format (docs/ingest.md §2, §4, §5) as pure functions: header parsing, message schemas.
import { expect, test } from 'bun:test';
import { FeederMessage, Hello, closeReason, languageId, parseBinaryFrame, parseText } from '../../src/ingest/protocol.ts';
import { frame } from './feeder.ts';

test('binary header: fields are read little-endian; payload checked against the header', () => {
  const audio = parseBinaryFrame(frame(1, 1, new Uint8Array(1920), { b2: 2, capture: 1732400000123.5 }));
  expect(audio).toMatchObject({ ok: true, value: { kind: 'audio', channels: 2, captureMs: 1732400000123.5 } });
  if (audio.ok) expect(audio.value.payload.byteLength).toBe(1920);
  const video = parseBinaryFrame(frame(3, 7, new Uint8Array([0, 0, 0, 1, 0x65]), { b2: 1, b3: 15, width: 1920, height: 1080 }));
  expect(video).toMatchObject({ ok: true, value: { kind: 'share', codec: 7, keyFrame: true, fps: 15, width: 1920, height: 1080 } });
});

test('binary header: every malformed frame is refused with a reason, never thrown', () => {
  const bad: [Uint8Array, RegExp][] = [
    [new Uint8Array(0), /truncated header: 0 of 16/],
    [new Uint8Array(15), /truncated header/],
    [frame(0, 1, new Uint8Array(2)), /unknown kind 0/],
    [frame(4, 1, new Uint8Array(2)), /unknown kind 4/],
    [frame(1, 2, new Uint8Array(2), { b2: 1 }), /audio codec 2/],
    [frame(1, 1, new Uint8Array(2), { b2: 3 }), /channels .* 1 or 2/],
    [frame(1, 1, new Uint8Array(6), { b2: 2 }), /not whole 2-channel/],
    [frame(1, 1, new Uint8Array(0), { b2: 1 }), /empty audio/],
    [frame(2, 1, new Uint8Array(4), { width: 10, height: 10 }), /video codec 1/],
    [frame(2, 5, new Uint8Array(4)), /width and height/],
    [frame(2, 5, new Uint8Array(0), { width: 10, height: 10 }), /empty video/],
    [frame(2, 5, new Uint8Array(4), { width: 10, height: 10, capture: Number.NaN }), /capture time/],
  ];
  for (const [bytes, reason] of bad) {
    const r = parseBinaryFrame(bytes);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toMatch(reason);
  }
  // Random bytes: always a result.
  for (let i = 0; i < 500; i++) {
    const b = new Uint8Array(Math.floor(Math.random() * 64));
    for (let j = 0; j < b.length; j++) b[j] = Math.floor(Math.random() * 256);
    expect(typeof parseBinaryFrame(b).ok).toBe('boolean');
  }
});

test('hello: defaults, unknown fields ignored, clear messages for bad fields', () => {
  expect(parseText('{"type":"hello","user_name":"Ada","extra":1}', Hello)).toEqual({
    ok: true, value: { type: 'hello', user_name: 'Ada', extra: 1, audio: true, camera: true, share: false },
  });
  expect(parseText('{"type":"hello","user_name":"Ada","user_id":"7"}', Hello)).toMatchObject({ ok: false, message: expect.stringMatching(/^user_id:/) });
  expect(parseText('{"type":"hello","user_name":""}', Hello)).toMatchObject({ ok: false, message: expect.stringMatching(/^user_name:/) });
  expect(parseText('[1]', Hello)).toEqual({ ok: false, message: 'a message must be a JSON object' });
  expect(parseText('nope', Hello)).toEqual({ ok: false, message: 'not valid JSON' });
});

test('text messages after hello', () => {
  expect(parseText('{"type":"camera","on":false}', FeederMessage)).toEqual({ ok: true, value: { type: 'camera', on: false } });
  expect(parseText('{"type":"share","on":"yes"}', FeederMessage)).toMatchObject({ ok: false, message: expect.stringMatching(/^on:/) });
  expect(parseText('{"type":"transcript","text":"hi","language":99}', FeederMessage)).toMatchObject({ ok: false, message: expect.stringMatching(/^language/) });
  expect(parseText('{"type":"chat"}', FeederMessage)).toMatchObject({ ok: false, message: expect.stringMatching(/^text:/) });
  expect(parseText('{"type":"wave"}', FeederMessage)).toMatchObject({ ok: false, message: expect.stringMatching(/unknown message type "wave"/) });
  expect(languageId('en-US', 3)).toBe(9);
  expect(languageId('fr-FR', 3)).toBe(3);
  expect(languageId(12, 3)).toBe(12);
  expect(new TextEncoder().encode(closeReason('é'.repeat(200))).byteLength).toBeLessThanOrEqual(123);
});
