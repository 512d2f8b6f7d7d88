#!/usr/bin/env bash
# Installs Debian's chromium for the HTML report's browser tests (test/report/html.browser.test.ts) when
# no Chromium is there and apt-get can install one. Never fails: without a browser those tests are
# skipped, and say why.
set -u
for b in "${VGIC_LAB_CHROMIUM:-}" /usr/bin/chromium /usr/bin/chromium-browser /snap/bin/chromium; do
  if [ -n "$b" ] && [ -x "$b" ]; then
    echo "install-browser: using $b"
    exit 0
  fi
done
as_root=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then as_root="sudo -n"; else
    echo "install-browser: no Chromium, and no root to install Debian's chromium: the browser tests will be skipped"
    exit 0
  fi
fi
if ! command -v apt-get >/dev/null; then
  echo "install-browser: no Chromium and no apt-get: the browser tests will be skipped"
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
if $as_root apt-get install -y --no-install-recommends chromium >/dev/null 2>&1 ||
  { $as_root apt-get update >/dev/null 2>&1 && $as_root apt-get install -y --no-install-recommends chromium >/dev/null 2>&1; }; then
  echo "install-browser: installed Debian's chromium"
else
  echo "install-browser: apt-get could not install chromium: the browser tests will be skipped"
fi
exit 0
