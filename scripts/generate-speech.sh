#!/usr/bin/env bash
# Regenerates data/speech (the built-in dialogue: clips, aligned transcript, pre-encoded G.722 and Opus) from
# data/speech/dialogue.json. Idempotent: does nothing when the outputs are current; pass --force to rebuild.
# Needs espeak-ng and ffmpeg (installed from Debian with apt-get when missing) and the project's pinned Bun.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

say() { echo "[generate-speech.sh] $*"; }

bash scripts/install-debian-packages.sh espeak-ng ffmpeg
# The Opus tracks need ffmpeg's libopus encoder and the G.722 ones its g722 encoder.
encoders="$(ffmpeg -hide_banner -encoders 2>/dev/null)" # captured: grep -q would SIGPIPE ffmpeg under pipefail
for enc in libopus g722; do
  grep -qw "$enc" <<<"$encoders" || { say "ffmpeg lacks the $enc encoder"; exit 1; }
done

bun_bin="$root/.tools/node_modules/.bin/bun"
if [[ ! -x $bun_bin ]]; then
  if command -v bun >/dev/null 2>&1; then
    bun_bin="$(command -v bun)"
  else
    say "installing the pinned bun (scripts/bootstrap.mjs)"
    node scripts/bootstrap.mjs bun --version >/dev/null
  fi
fi
say "espeak-ng $(espeak-ng --version | awk '{print $4}'), $(ffmpeg -version | head -1 | awk '{print $1, $3}'), bun $("$bun_bin" --version)"
exec "$bun_bin" scripts/generate-speech.ts "$@"
