#!/usr/bin/env bash
# Make sure a Chromium the page's browser tests can drive is installed: Debian's `chromium` package (the tests
# never download a browser of their own). Installs it with apt-get when missing (about 50 s, as root or through
# sudo). Elsewhere: install Chromium or Chrome yourself and point BRIDGE_CHROMIUM at its executable.
set -euo pipefail
if [ -n "${BRIDGE_CHROMIUM:-}" ]; then
  [ -x "$BRIDGE_CHROMIUM" ] && exit 0
  echo "error: BRIDGE_CHROMIUM=$BRIDGE_CHROMIUM is not an executable file." >&2
  exit 1
fi
command -v chromium >/dev/null 2>&1 && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
  echo "error: no chromium on PATH and no apt-get to install it. Install Chromium (or Chrome) and set" \
       "BRIDGE_CHROMIUM to its executable." >&2
  exit 1
fi
as_root=()
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    as_root=(sudo -n)
  else
    echo "error: no chromium on PATH; install it as root: apt-get install -y chromium" >&2
    exit 1
  fi
fi
echo "Installing Debian's chromium for the page's browser tests (about a minute)" >&2
export DEBIAN_FRONTEND=noninteractive
if ! "${as_root[@]}" apt-get install -y -q chromium >/dev/null; then
  "${as_root[@]}" apt-get update -q >/dev/null
  "${as_root[@]}" apt-get install -y -q chromium >/dev/null
fi
command -v chromium >/dev/null 2>&1
