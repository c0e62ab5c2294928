#!/usr/bin/env bash
# Makes sure a PostgreSQL server answers for the PostgreSQL test suite: uses TEST_POSTGRES_URL if set,
# else the local server at 127.0.0.1:5432 (trust auth), starting it — or installing it from Debian's
# packages — when it is not running.
set -euo pipefail
if [ -n "${TEST_POSTGRES_URL:-}" ]; then exit 0; fi
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
ready() { pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; }
if command -v pg_isready >/dev/null && ready; then exit 0; fi
if ! command -v pg_ctlcluster >/dev/null; then
  echo "ensurePostgres: installing postgresql from Debian's packages"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends postgresql
fi
version=$(ls /etc/postgresql | sort -V | tail -1)
echo "ensurePostgres: starting PostgreSQL $version"
as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
for _ in $(seq 1 30); do ready && break; sleep 1; done
ready || { echo "ensurePostgres: PostgreSQL did not come up on 127.0.0.1:5432" >&2; exit 1; }
# A fresh Debian cluster uses peer/md5 auth; the suite connects as postgres over TCP without a password.
if ! psql "postgresql://postgres@127.0.0.1:5432/postgres" -c "select 1" >/dev/null 2>&1; then
  hba=$(as_root su postgres -c "psql -tAc 'show hba_file'")
  echo "ensurePostgres: allowing trust auth on loopback in $hba (test machine only)"
  as_root sed -i '1i host all all 127.0.0.1/32 trust' "$hba"
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main reload
fi
