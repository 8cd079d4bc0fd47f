#!/usr/bin/env bash
# Generates test/fixtures/clip.mp4, the media file the browser tests play through ffmpeg.wasm (committed; run
# again only to change it). 2 s, 640×360 at 30 fps, four solid quadrants (red, green / blue, yellow) so a
# decoded frame can be checked by colour, and a 880 Hz sine at -6 dBFS (the sine source is -18 dBFS, ×4), 48 kHz
# mono. H.264 + AAC in mp4, ~25 KB.
# Needs Debian's ffmpeg (installed with apt-get when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-debian-packages.sh ffmpeg
out=test/fixtures/clip.mp4
mkdir -p "$(dirname "$out")"
ffmpeg -hide_banner -loglevel error -y \
  -f lavfi -i "color=c=0xFF0000:s=640x360:r=30:d=2,drawbox=x=320:y=0:w=320:h=180:c=0x00FF00:t=fill,drawbox=x=0:y=180:w=320:h=180:c=0x0000FF:t=fill,drawbox=x=320:y=180:w=320:h=180:c=0xFFFF00:t=fill,format=yuv420p" \
  -f lavfi -i "sine=frequency=880:sample_rate=48000:duration=2,volume=4" \
  -map 0:v -map 1:a -c:v libx264 -preset veryslow -crf 18 -g 30 -pix_fmt yuv420p \
  -c:a aac -b:a 64k -ac 1 -ar 48000 -shortest -movflags +faststart -map_metadata -1 -fflags +bitexact "$out"
echo "[generate-test-clip] wrote $out ($(stat -c %s "$out") bytes)" >&2
