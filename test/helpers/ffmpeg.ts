// Debian's ffmpeg, the independent decoder/encoder some media tests check our bytes against. npm test installs
// it (scripts/test.sh → scripts/install-debian-packages.sh); a bare `bun test` without it fails these tests
// with what to do rather than skipping them silently.
export function requireFfmpeg(): string {
  const path = Bun.which('ffmpeg');
  if (!path) throw new Error('ffmpeg is not on PATH: run `bash scripts/install-debian-packages.sh ffmpeg` (npm test does it for you)');
  return path;
}
