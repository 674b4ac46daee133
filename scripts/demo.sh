#!/usr/bin/env bash
# One command: install, load demo data on embedded defaults (SQLite, local blobs, encrypted key
# files under ./certsvc-data), print the URLs and keys, and serve on http://127.0.0.1:8000.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
export CERTSVC_DATA_DIR=${CERTSVC_DATA_DIR:-$PWD/certsvc-data}
exec .venv/bin/certsvc demo --host "${HOST:-127.0.0.1}" --port "${PORT:-8000}"
