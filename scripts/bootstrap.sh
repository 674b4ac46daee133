#!/usr/bin/env bash
# Installs what certsvc needs on a fresh Debian machine with Python 3.11: a virtualenv with the
# project, and (with --system) the Debian packages the full test suite uses.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
if [ "${1:-}" = "--system" ]; then
  .venv/bin/python -m pip install -q -e ".[test]"
else
  .venv/bin/python -m pip install -q -e .
fi

if [ "${1:-}" = "--system" ]; then
  SUDO=""
  if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
  need=()
  command -v pg_ctlcluster >/dev/null 2>&1 || [ -x /usr/lib/postgresql/*/bin/initdb ] 2>/dev/null || need+=(postgresql)
  command -v softhsm2-util >/dev/null 2>&1 || need+=(softhsm2)
  [ -x /usr/bin/chromium ] || need+=(chromium)
  [ -d /usr/share/fonts/truetype/wqy ] || need+=(fonts-wqy-microhei)  # CJK glyphs in browser screenshots
  command -v pkcs11-tool >/dev/null 2>&1 || need+=(opensc)
  # independent PDF signature validators (the test that they agree with ours) and a QR decoder
  command -v pdfsig >/dev/null 2>&1 || need+=(poppler-utils)
  command -v mutool >/dev/null 2>&1 || need+=(mupdf-tools)
  command -v zbarimg >/dev/null 2>&1 || need+=(zbar-tools)
  command -v certutil >/dev/null 2>&1 || need+=(libnss3-tools)  # pdfsig's NSS trust store
  if [ ${#need[@]} -gt 0 ]; then
    echo "installing Debian packages: ${need[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  fi
fi
