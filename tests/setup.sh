#!/usr/bin/env bash
# Install what the test suite needs on a fresh Debian machine (run as root or with sudo):
# system ffmpeg, redis-server and chromium, a virtualenv with the project and its test extras,
# and the npm validators (W3C WebVTT parser, axe-core). Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
need=()
for cmd_pkg in ffmpeg:ffmpeg redis-server:redis-server chromium:chromium node:nodejs npm:npm \
               /usr/lib/postgresql/15/bin/initdb:postgresql; do
  command -v "${cmd_pkg%%:*}" >/dev/null 2>&1 || need+=("${cmd_pkg##*:}")
done
if [ ${#need[@]} -gt 0 ]; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install -q --disable-pip-version-check -e '.[test]'
(cd tests/js && npm ci --no-audit --no-fund --loglevel=error)
