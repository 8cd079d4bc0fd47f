#!/usr/bin/env bash
# Installs Debian packages the project needs at run or test time, from the Debian archive the machine is
# configured with; nothing else is ever downloaded (no Playwright browser download, no snap, no static builds).
#   bash scripts/install-debian-packages.sh chromium ffmpeg espeak-ng
# Each argument is a package whose command has the same name (chromium → /usr/bin/chromium); packages whose
# command is already on PATH are skipped, the rest go in one apt-get run. Quiet: one progress line, the full
# apt output only on failure.
set -uo pipefail

say() { echo "[install-debian-packages] $*" >&2; }

missing=()
for pkg in "$@"; do
  command -v "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
((${#missing[@]})) || exit 0

if [ "$(id -u)" -eq 0 ]; then
  SUDO=()
elif command -v sudo >/dev/null 2>&1; then
  SUDO=(sudo -n)
else
  say "${missing[*]} missing and this user cannot install packages (no root, no sudo);"
  say "install them with: apt-get install -y --no-install-recommends ${missing[*]}"
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  say "${missing[*]} missing and apt-get is not available: install Debian's ${missing[*]} packages"
  exit 1
fi

printf "[install-debian-packages] installing %s with apt-get… " "${missing[*]}" >&2
start=$(date +%s)
log=$(mktemp)
export DEBIAN_FRONTEND=noninteractive
# Wait for another apt/dpkg run (e.g. a parallel job installing the same package) instead of failing at once.
APT=("${SUDO[@]}" apt-get -q -o DPkg::Lock::Timeout=300)
# Refresh the package lists only when the first attempt cannot find a package (fresh images ship none).
if ! "${APT[@]}" install -y --no-install-recommends "${missing[@]}" >"$log" 2>&1; then
  if ! { "${APT[@]}" update && "${APT[@]}" install -y --no-install-recommends "${missing[@]}"; } >>"$log" 2>&1; then
    echo "failed" >&2
    cat "$log" >&2
    rm -f "$log"
    say "apt-get install ${missing[*]} failed (output above)"
    exit 1
  fi
fi
rm -f "$log"
for pkg in "${missing[@]}"; do
  if ! command -v "$pkg" >/dev/null 2>&1; then
    echo "failed" >&2
    say "the $pkg package installed but its command '$pkg' is not on PATH"
    exit 1
  fi
done
echo "done in $(( $(date +%s) - start )) s" >&2
