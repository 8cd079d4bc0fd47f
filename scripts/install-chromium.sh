#!/usr/bin/env bash
# Installs the browser the browser tests drive: Debian's own chromium package, from the Debian archive the
# machine is configured with. Nothing else is ever downloaded (no Playwright browser download, no snap).
# Does nothing when /usr/bin/chromium is already there. Quiet: one progress line, full output only on failure.
set -uo pipefail

CHROMIUM=/usr/bin/chromium
[ -x "$CHROMIUM" ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
  SUDO=()
elif command -v sudo >/dev/null 2>&1; then
  SUDO=(sudo -n)
else
  echo "[install-chromium] $CHROMIUM is missing and this user cannot install packages (no root, no sudo);" >&2
  echo "[install-chromium] install it with: apt-get install -y chromium" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "[install-chromium] $CHROMIUM is missing and apt-get is not available: install Debian's chromium package" >&2
  exit 1
fi

printf "[install-chromium] installing Debian's chromium package with apt-get… " >&2
start=$(date +%s)
log=$(mktemp)
export DEBIAN_FRONTEND=noninteractive
# Wait for another apt/dpkg run (e.g. a parallel job installing the same package) instead of failing at once.
APT=("${SUDO[@]}" apt-get -q -o DPkg::Lock::Timeout=300)
# Refresh the package lists only when the first attempt cannot find the package (fresh images ship none).
if ! "${APT[@]}" install -y --no-install-recommends chromium >"$log" 2>&1; then
  if ! { "${APT[@]}" update && "${APT[@]}" install -y --no-install-recommends chromium; } >>"$log" 2>&1; then
    echo "failed" >&2
    cat "$log" >&2
    rm -f "$log"
    echo "[install-chromium] apt-get install chromium failed (output above)" >&2
    exit 1
  fi
fi
rm -f "$log"
if [ ! -x "$CHROMIUM" ]; then
  echo "failed" >&2
  echo "[install-chromium] the chromium package installed but $CHROMIUM is missing" >&2
  exit 1
fi
echo "done in $(( $(date +%s) - start )) s" >&2
