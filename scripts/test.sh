#!/usr/bin/env bash
# Runs every test the project has, as CI does: formatting, vet, generated
# code up to date, the schema contract (scripts/check-schema.sh), the Go suite
# with the race detector, and the end-to-end client suite (Apollo Client,
# urql, GraphiQL in Chromium, REST callers).
# SKIP_E2E=1 skips the client suite (it installs npm packages and Chromium).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files --cached --others --exclude-standard '*.go'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change:"; echo "$unformatted"; exit 1
fi

echo "== go vet"
go vet ./...

# bench/ is a module of its own (its plotting dependencies stay out of the
# root go.mod), so ./... above does not reach it: vet it and keep it building.
echo "== bench (own module): vet, build and its own tests"
# Its tests are of the report's logic and of the wrk scripts (those skip
# where wrk is not installed); the suites themselves are run by hand.
(cd bench && go vet ./... && go build -o /dev/null ./... && go test -count=1 ./...)

echo "== generated GraphQL code is up to date"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp graph/generated.go graph/schema.resolvers.go graph/model/models_gen.go "$tmp/"
go run github.com/99designs/gqlgen generate
for f in graph/generated.go graph/schema.resolvers.go graph/model/models_gen.go; do
  if ! cmp -s "$f" "$tmp/$(basename "$f")"; then
    echo "$f changed on regeneration: run 'go generate ./...' and commit the result"; exit 1
  fi
done

echo "== schema contract (breaking changes and lint)"
bash scripts/check-schema.sh

echo "== a private Redis for the tests"
# Tests that need Redis use TEST_REDIS_URL: a redis-server of our own on a
# free loopback port (never a shared one), installed from Debian if missing,
# stopped when this script ends.
if ! command -v redis-server >/dev/null; then
  sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends redis-server >/dev/null
fi
redis_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null || echo 16379)
redis_dir=$(mktemp -d)
redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --dir "$redis_dir" \
  --daemonize yes --pidfile "$redis_dir/redis.pid" --logfile "$redis_dir/redis.log"
# redis-server writes its log as it exits: wait for it before removing its
# directory, or rm races the last write.
stop_redis() {
  rm -rf "$tmp"
  if [ -f "$redis_dir/redis.pid" ]; then
    pid=$(cat "$redis_dir/redis.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -rf "$redis_dir"
}
trap stop_redis EXIT
for _ in $(seq 50); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done
export TEST_REDIS_URL="redis://127.0.0.1:$redis_port/0"

echo "== go test -race"
go test -race -count=1 ./...

if [ "${SKIP_E2E:-0}" != "1" ] && [ -f e2e/run.sh ]; then
  echo "== end-to-end client suite"
  bash e2e/run.sh
fi
