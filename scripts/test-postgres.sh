#!/usr/bin/env bash
# Makes sure a PostgreSQL server for the tests is running and prints its URL.
#   scripts/test-postgres.sh            start (installing with apt if missing) and print the URL
#   scripts/test-postgres.sh --check    print the URL only if a server already answers
# The database `ldn_test` and role `ldn_test` are created once; the tests empty it themselves.
set -euo pipefail

URL="postgresql+psycopg://ldn_test:ldn_test@127.0.0.1:5432/ldn_test"

answers() {
  command -v pg_isready >/dev/null && pg_isready -q -h 127.0.0.1 -p 5432
}

if [[ "${1:-}" == "--check" ]]; then
  if answers && PGPASSWORD=ldn_test psql -h 127.0.0.1 -U ldn_test -d ldn_test -c 'select 1' >/dev/null 2>&1; then
    echo "$URL"
  fi
  exit 0
fi

if ! command -v pg_ctlcluster >/dev/null; then
  echo "Installing PostgreSQL" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq postgresql >/dev/null
fi
if ! answers; then
  cluster=$(pg_lsclusters --no-header | awk 'NR==1 {print $1" "$2}')
  if [[ -z "$cluster" ]]; then
    version=$(ls /usr/lib/postgresql | sort -n | tail -1)
    pg_createcluster "$version" main >/dev/null
    cluster="$version main"
  fi
  # shellcheck disable=SC2086
  pg_ctlcluster $cluster start
  for _ in $(seq 30); do answers && break; sleep 0.5; done
fi
su postgres -c "psql -q -tc \"SELECT 1 FROM pg_roles WHERE rolname='ldn_test'\" | grep -q 1 || psql -q -c \"CREATE ROLE ldn_test LOGIN PASSWORD 'ldn_test'\"" >/dev/null
su postgres -c "psql -q -tc \"SELECT 1 FROM pg_database WHERE datname='ldn_test'\" | grep -q 1 || createdb -O ldn_test ldn_test" >/dev/null
echo "$URL"
