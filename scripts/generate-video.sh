#!/usr/bin/env bash
# Pre-encodes the H.264 video loops the mock streams (spec §8: H264 is an Annex-B byte stream, one access unit
# per message, SPS/PPS before each key frame, up to 30 fps; §6: SD/HD/FHD/QHD). JPG/PNG need no data: they are
# rendered in TypeScript on first use (src/media/video/video-library.ts).
#
# Output: data/video/h264/<subject>-<W>x<H>.h264 and manifest.json (read and validated by video-library.ts).
# Idempotent: existing outputs are kept unless this script changed (its SHA-256 is stamped next to them).
# Usage: bash scripts/generate-video.sh [--force]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VIDEO_DIR="$ROOT/data/video"
OUT="$VIDEO_DIR/h264"
FONT=/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf
BUDGET_BYTES=1300000 # the whole data/video/ must stay under 1.3 MB (it is committed)

FPS=30
FRAMES=60 # 2-second loop
GOP=30    # one IDR per second: a late joiner waits at most 1 s for a decodable picture
CRF=27    # mostly static content: a high CRF keeps P-frames tiny while text stays crisp
PRESET=veryslow # encode time is a one-off; smaller files are what matters

RESOLUTIONS=(640x360 1280x720 1920x1080 2560x1440)

# key|kind|label|user id|background. Camera colours are what frame-renderer.ts userColor() gives each name,
# so JPG and H264 streams of one participant look alike.
SUBJECTS=(
  "alice|camera|Alice Chen|16778240|0xA8326A"
  "bob|camera|Bob Okafor|16779264|0x2F6FB3"
  "carol|camera|Carol Diaz|16780288|0xB34D2F"
  "share|share|Screen share||0x1E2430"
  "participant|fallback|Participant||0x8A6D1F"
)

log() { printf '[generate-video] %s\n' "$*"; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null 2>&1; then sudo "$@"; else
    log "need root to run: $*"; exit 1; fi
}

ensure_tools() {
  # Capture first: `grep -q` exiting early would SIGPIPE ffmpeg and fail the pipeline under pipefail.
  local encoders=''
  command -v ffmpeg >/dev/null 2>&1 && encoders="$(ffmpeg -hide_banner -encoders 2>/dev/null || true)"
  if [[ "$encoders" != *libx264* ]]; then
    log "installing ffmpeg (with libx264) via apt-get…"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ffmpeg
  fi
  if [ ! -f "$FONT" ]; then
    log "installing fonts-dejavu-core via apt-get…"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-dejavu-core
  fi
}

# drawtext TEXT SIZE X Y COLOUR [EXTRA]: expressions may use w, h, text_w, text_h and n (frame number).
# Expressions are single-quoted so their commas do not split the filter chain.
dt() {
  printf "drawtext=fontfile=%s:text='%s':fontsize='%s':x='%s':y='%s':fontcolor=%s%s" "$FONT" "$1" "$2" "$3" "$4" "$5" "${6:-}"
}
# drawbox X Y W H COLOUR (filled; expressions may use iw, ih)
db() { printf "drawbox=x='%s':y='%s':w='%s':h='%s':color=%s:t=fill" "$1" "$2" "$3" "$4" "$5"; }

# The frame number within the loop, bottom-right, as in the JPG/PNG frames ("#0042").
counter() {
  dt '#%{eif\:n\:d\:4}' 'h*0.055' 'w-text_w-h*0.05' 'h-text_h-h*0.05' white ':box=1:boxcolor=black:boxborderw=6'
}

camera_graph() { # SIZE COLOUR LABEL USERID
  local size="$1" colour="$2" label="$3" uid="$4" initials
  initials="$(printf '%s' "$label" | awk '{ s = substr($1, 1, 1); if (NF > 1) s = s substr($NF, 1, 1); else s = substr($1, 1, 2); print toupper(s) }')"
  local g="color=c=${colour}:s=${size}:r=${FPS}:d=$((FRAMES / FPS))"
  g+=",$(dt '●' 'h*0.42' '(w-text_w)/2' 'h*0.34-text_h/2' 'white@0.35')"      # avatar disc
  g+=",$(dt "$initials" 'h*0.12' '(w-text_w)/2' 'h*0.34-text_h/2' 'black@0.45')"
  g+=",$(dt "$label" 'h*0.11' '(w-text_w)/2' 'h*0.56' white)"
  if [ -n "$uid" ]; then g+=",$(dt "user $uid" 'h*0.04' '(w-text_w)/2' 'h*0.71' 'white@0.6')"; fi
  g+=",$(db 'iw*0.15' 'ih*0.877' 'iw*0.7' 'max(2,ih*0.006)' 'white@0.3')"           # track
  # Moving element: a dot swinging along the track, periodic in the loop so frame 59 flows into frame 0.
  g+=",$(dt '●' 'h*0.07' "w/2+w*0.35*sin(2*PI*n/${FRAMES})-text_w/2" 'h*0.88-text_h/2' white)"
  g+=",$(counter)"
  printf '%s' "$g"
}

share_graph() { # SIZE COLOUR
  local size="$1" colour="$2"
  local g="color=c=${colour}:s=${size}:r=${FPS}:d=$((FRAMES / FPS))"
  g+=",$(db 'ih*0.04' 'ih*0.04' 'iw-ih*0.08' 'ih*0.92' '0xF4F5F7')"                 # window
  g+=",$(db 'ih*0.04' 'ih*0.04' 'iw-ih*0.08' 'ih*0.06' '0x3A404C')"                 # title bar
  g+=",$(dt '●' 'h*0.035' 'h*0.065' 'h*0.07-text_h/2' '0xFF5F57')"
  g+=",$(dt '●' 'h*0.035' 'h*0.1' 'h*0.07-text_h/2' '0xFEBC2E')"
  g+=",$(dt '●' 'h*0.035' 'h*0.135' 'h*0.07-text_h/2' '0x28C840')"
  g+=",$(dt 'Screen share' 'h*0.032' '(w-text_w)/2' 'h*0.07-text_h/2' white)"
  g+=",$(dt 'Screen share' 'h*0.1' 'w*0.1' 'h*0.17' '0x1F2A44')"
  g+=",$(db 'iw*0.1' 'ih*0.31' 'iw*0.22' 'max(2,ih*0.008)' '0x2D8CFF')"             # accent rule
  local y=0.38 frac
  for frac in 0.62 0.48 0.55 0.36 0.43; do                                           # slide lines
    g+=",$(db 'iw*0.1' "ih*$y" 'ih*0.028' 'ih*0.028' '0x2D8CFF')"
    g+=",$(db 'iw*0.1+ih*0.056' "ih*$y" "iw*$frac" 'ih*0.028' '0xC5CBD6')"
    y="$(awk -v y="$y" 'BEGIN { printf "%.3f", y + 0.067 }')"
  done
  g+=",$(dt 'Shared by a participant' 'h*0.045' 'w*0.1' 'h*0.83' '0x4A5568')"
  # Moving element: a red "laser pointer" tracing an ellipse once per loop.
  g+=",$(dt '●' 'h*0.05' "w*(0.62+0.2*cos(2*PI*n/${FRAMES}))-text_w/2" "h*(0.5+0.2*sin(2*PI*n/${FRAMES}))-text_h/2" '0xE52B2B')"
  g+=",$(counter)"
  printf '%s' "$g"
}

encode() { # GRAPH OUTFILE
  # Constrained baseline (no B-frames, so decode order = display order); IDR exactly every GOP frames (no
  # scene-cut extras); repeat-headers puts SPS/PPS in front of every IDR; aud=1 starts each access unit with an
  # AUD so splitting is trivial; filter_units drops x264's SEI (its settings banner, ~700 bytes of text).
  ffmpeg -hide_banner -loglevel error -y -f lavfi -i "$1" -frames:v "$FRAMES" \
    -c:v libx264 -profile:v baseline -preset "$PRESET" -crf "$CRF" -pix_fmt yuv420p \
    -x264-params "keyint=${GOP}:min-keyint=${GOP}:scenecut=0:repeat-headers=1:aud=1" \
    -bsf:v filter_units=remove_types=6 -f h264 "$2"
}

main() {
  local force=0
  [ "${1:-}" = "--force" ] && force=1
  ensure_tools
  mkdir -p "$OUT"
  local stamp
  stamp="$(sha256sum "${BASH_SOURCE[0]}" | cut -d' ' -f1)"
  if [ "$force" -eq 1 ] || [ "$(cat "$OUT/.stamp" 2>/dev/null || true)" != "$stamp" ]; then
    log "settings changed (or --force): re-encoding everything"
    rm -f "$OUT"/*.h264 "$OUT/manifest.json" "$OUT/.stamp"
  fi

  local entries=() res subject key kind label uid colour file graph start bytes nframes nkey
  for res in "${RESOLUTIONS[@]}"; do
    for subject in "${SUBJECTS[@]}"; do
      IFS='|' read -r key kind label uid colour <<<"$subject"
      file="${key}-${res}.h264"
      if [ -s "$OUT/$file" ]; then
        log "$file: up to date"
      else
        case "$kind" in
          share) graph="$(share_graph "$res" "$colour")" ;;
          *) graph="$(camera_graph "$res" "$colour" "$label" "$uid")" ;;
        esac
        start=$(date +%s.%N)
        encode "$graph" "$OUT/$file.tmp"
        # Check the loop shape the library relies on: FRAMES pictures, one key frame per GOP.
        nframes="$(ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames -of csv=p=0 -f h264 "$OUT/$file.tmp")"
        nkey="$(ffprobe -v error -select_streams v:0 -show_entries frame=key_frame -of csv=p=0 -f h264 "$OUT/$file.tmp" | grep -c '^1' || true)"
        if [ "$nframes" != "$FRAMES" ] || [ "$nkey" != "$((FRAMES / GOP))" ]; then
          log "$file: expected $FRAMES frames / $((FRAMES / GOP)) key frames, got $nframes / $nkey"; exit 1
        fi
        mv "$OUT/$file.tmp" "$OUT/$file"
        log "$file: $(stat -c %s "$OUT/$file") bytes, $nframes frames, $nkey key frames ($(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }') s)"
      fi
      IFS=x read -r w h <<<"$res"
      bytes=$(stat -c %s "$OUT/$file")
      entries+=("{\"key\":\"$key\",\"kind\":\"$kind\",\"label\":\"$label\",\"width\":$w,\"height\":$h,\"file\":\"$file\",\"bytes\":$bytes}")
    done
  done

  {
    printf '{\n  "version": 1,\n  "fps": %d,\n  "frames": %d,\n  "gop": %d,\n  "streams": [\n' "$FPS" "$FRAMES" "$GOP"
    local i
    for i in "${!entries[@]}"; do
      printf '    %s%s\n' "${entries[$i]}" "$([ "$i" -lt $((${#entries[@]} - 1)) ] && echo ,)"
    done
    printf '  ]\n}\n'
  } >"$OUT/manifest.json"
  printf '%s\n' "$stamp" >"$OUT/.stamp"

  local total
  total=$(find "$VIDEO_DIR" -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')
  log "data/video: $total bytes in $(find "$VIDEO_DIR" -type f | wc -l) files (budget $BUDGET_BYTES)"
  for res in "${RESOLUTIONS[@]}"; do
    log "  $res: $(find "$OUT" -name "*-$res.h264" -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }') bytes"
  done
  if [ "$total" -gt "$BUDGET_BYTES" ]; then
    log "over budget: raise CRF or shorten the loop"; exit 1
  fi
}

main "$@"
