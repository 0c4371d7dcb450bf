#!/usr/bin/env bash
# The project's one test command (README, .ci/run): install what the tests need when it is
# missing — Debian packages (headless Chromium and a Chinese font for the web page's browser
# tests, redis-server/redis-cli for the Redis Cluster tests), then the venv with the dev extra —
# then lint, type-check and run the whole suite. Extra arguments go to pytest.
# pytest exits 5 when it collects no tests; `set -e` makes that a failure, never a silent pass.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v redis-cli >/dev/null 2>&1 || missing+=(redis-tools)
for pkg in fonts-wqy-microhei fonts-noto-color-emoji; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed' || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "tests/run.sh: installing Debian packages: ${missing[*]}"
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
mkdir -p .data
if ! .venv/bin/python -m pip install -q --disable-pip-version-check -e '.[dev]' >.data/pip-install.log 2>&1; then
  cat .data/pip-install.log >&2
  echo "tests/run.sh: pip install failed (log above)" >&2
  exit 1
fi
.venv/bin/ruff check .
.venv/bin/mypy
.venv/bin/python -m pytest "$@"
