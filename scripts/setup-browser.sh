#!/usr/bin/env bash
# Installs Debian's headless browser for the portal's real-browser tests
# (crates/server/tests/server/portal_browser.rs): `chromium` and `chromium-driver`
# from the distribution's archive, nothing downloaded at test time.
# Idempotent: does nothing when both are present. Exits 0 even when the
# packages cannot be installed (no network, not Debian/Ubuntu): the browser
# test then skips and says why.
set -uo pipefail

have() { command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; }
have && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  echo "voltex setup-browser: no apt-get; install chromium and chromium-driver yourself" >&2
  exit 0
fi
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
echo "voltex setup-browser: installing chromium chromium-driver" >&2
$SUDO apt-get update -qq || true
if ! DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
  chromium chromium-driver fonts-noto-cjk >/dev/null; then
  echo "voltex setup-browser: could not install chromium; the browser test will skip" >&2
fi
exit 0
