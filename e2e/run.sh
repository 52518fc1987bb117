#!/usr/bin/env bash
# The client end-to-end suite: the real server binary, on its embedded
# simulator, driven by Apollo Client, urql, GraphiQL in headless Chromium and
# plain fetch (the REST callers), and a client typed by GraphQL Code
# Generator. The devtoken command mints the bearer tokens of the
# authentication tests. It installs what it needs: Debian's
# Chromium (a test tool's own browser download does not work here) and the
# pinned npm packages (npm ci). Run it alone with: bash e2e/run.sh
set -euo pipefail
cd "$(dirname "$0")"

chromium="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ ! -x "$chromium" ]; then
  echo "installing Debian's chromium for the GraphiQL test"
  sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi

npm ci --no-audit --no-fund --loglevel=error

bin_dir=$(mktemp -d)
trap 'rm -rf "$bin_dir"' EXIT
go build -o "$bin_dir/server" ../server
go build -o "$bin_dir/devtoken" ../cmd/devtoken

export GATEWAY_BIN="$bin_dir/server" DEVTOKEN_BIN="$bin_dir/devtoken" CHROMIUM_PATH="$chromium" E2E_ARTIFACTS="${E2E_ARTIFACTS:-$PWD/artifacts}"
node --test --test-reporter=spec tests/*.test.mjs
echo "screenshots:"; ls "$E2E_ARTIFACTS"/*.png
