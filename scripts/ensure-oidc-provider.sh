#!/usr/bin/env bash
# Make sure the real OpenID Connect provider the OIDC tests start is installed: npm's `oidc-provider` (OpenID
# Certified), at the version pinned by tests/servers/oidc/package.json and package-lock.json, in
# .cache/oidc-provider (git-ignored). Installs it with `npm ci` when missing or when the pinned files changed
# (a few seconds). Needs Node.js 20 or later and npm on PATH; the tests fail, not skip, without it.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
pinned="$repo/tests/servers/oidc"
target="$repo/.cache/oidc-provider"
installed() {
  [ -f "$target/node_modules/oidc-provider/package.json" ] &&
    cmp -s "$pinned/package.json" "$target/package.json" &&
    cmp -s "$pinned/package-lock.json" "$target/package-lock.json"
}
installed && exit 0
for tool in node npm; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "error: no $tool on PATH: install Node.js 20 or later (with npm) for the OIDC tests." >&2
    exit 1
  fi
done
echo "Installing oidc-provider for the OIDC tests into $target" >&2
mkdir -p "$target"
cp "$pinned/package.json" "$pinned/package-lock.json" "$target/"
(cd "$target" && npm ci --no-audit --no-fund --loglevel=error >&2)
installed
