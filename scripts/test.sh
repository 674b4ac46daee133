#!/usr/bin/env bash
# One command: install everything (virtualenv, PostgreSQL, SoftHSM2, Chromium), then run the whole
# suite on SQLite, again on a throw-away PostgreSQL cluster, with S3 tests against moto and
# PKCS#11 tests against a fresh SoftHSM2 token.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh --system
. .venv/bin/activate

WORK=$(mktemp -d /tmp/certsvc-test.XXXXXX)
cleanup() {
  if [ -n "${PGBIN:-}" ] && [ -d "$WORK/pg" ]; then
    $PGRUN "$PGBIN/pg_ctl" -D "$WORK/pg" -m immediate stop >/dev/null 2>&1 || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

status=0
echo "== lint"
ruff check certsvc signing verify keys tests bench || status=1
ruff format --check certsvc signing verify keys tests bench || status=1
mypy || status=1  # the packages and options are in pyproject.toml's [tool.mypy]

# Run once, where it tells most: the fuzz campaign on PostgreSQL (the production database); what
# never opens a database (tests/signing, tests/verify, tests/keys, the bench smoke) and the tests
# that judge the files the service makes with independent tools (marker "files"), and the checks of
# worker processes and of the HTTP server under hostile clients (marker "once") on SQLite.
# Two test processes (pytest-xdist), each module whole in one of them: the live-server, subprocess and
# browser tests spend much of their time waiting, so two processes halve the wall time on two cores.
WORKERS=(-n "${CERTSVC_TEST_WORKERS:-2}" --dist loadfile)
echo "== tests on SQLite"
python -m pytest -q -p no:cacheprovider --durations=15 "${WORKERS[@]}" -m "not fuzz" "$@" || status=1

# PostgreSQL: a throw-away cluster on a local port.
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
PGRUN=""
if [ -n "$PGBIN" ]; then
  mkdir -p "$WORK/pg"
  if [ "$(id -u)" = 0 ]; then
    chown postgres "$WORK" "$WORK/pg" 2>/dev/null || { useradd -r postgres 2>/dev/null; chown postgres "$WORK" "$WORK/pg"; }
    chmod 755 "$WORK"
    PGRUN="runuser -u postgres --"
  fi
  PGPORT=${CERTSVC_TEST_PGPORT:-55432}
  $PGRUN "$PGBIN/initdb" -D "$WORK/pg" -A trust -U certsvc -E UTF8 >/dev/null
  $PGRUN "$PGBIN/pg_ctl" -D "$WORK/pg" -o "-p $PGPORT -k $WORK -c listen_addresses=127.0.0.1 -c fsync=off" -l "$WORK/pg.log" -w start >/dev/null
  echo "== tests on PostgreSQL (port $PGPORT)"
  CERTSVC_TEST_DATABASE_URL="postgresql+psycopg://certsvc@127.0.0.1:$PGPORT/postgres" \
    python -m pytest -q -p no:cacheprovider --durations=15 "${WORKERS[@]}" -m "not browser and not files and not once" "$@" tests/certsvc || status=1
else
  echo "PostgreSQL not installed: skipping the PostgreSQL run" >&2
  status=1
fi
exit $status
