#!/usr/bin/env bash
# Prepare a fresh machine: system packages the tests need (Chromium for the desk tests, promtool for
# the alert rules), then the virtual environment with watchfloor and its test extras.
# Usage: scripts/bootstrap.sh [run|test]   (run: only what `watchfloor run` needs)
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-test}"

need_apt=()
if [ "$mode" = test ]; then
  command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
  command -v promtool >/dev/null 2>&1 || need_apt+=(prometheus)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # --no-install-recommends keeps the prometheus package from pulling exporters we never run.
    apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
    # The prometheus package starts its service on install; the tests only need promtool.
    if command -v systemctl >/dev/null 2>&1; then systemctl stop prometheus 2>/dev/null || true; fi
    pkill -x prometheus 2>/dev/null || true
  else
    echo "bootstrap: please install: sudo apt-get install ${need_apt[*]}" >&2
    exit 1
  fi
fi

python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
if [ "$mode" = test ]; then
  .venv/bin/python -m pip install -q -e ".[test]"
else
  .venv/bin/python -m pip install -q -e .
fi
