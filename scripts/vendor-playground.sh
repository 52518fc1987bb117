#!/usr/bin/env bash
# Re-vendors GraphQL Playground's files into graph/ide/assets/playground
# from the npm registry (graphql-playground-react 1.7.28, its last release)
# and checks each against the SHA-256/SRI hash graph/ide/playground.go pins.
# The files are copied byte for byte; the page that loads them is in
# playground.go (graphql-playground-html's, minus the CDN and Google Fonts).
# Playground then works with no internet, subscriptions included:
# middleware.js bundles the subscriptions-transport-ws client.
# scripts/vendor-graphiql.sh runs this too.
set -euo pipefail
cd "$(dirname "$0")/.."
version=1.7.28
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "graphql-playground-react@$version" >/dev/null)
tar -xzf "$work/graphql-playground-react-$version.tgz" -C "$work"
src="$work/package"
dst=graph/ide/assets/playground
mkdir -p "$dst"
cp "$src/build/static/js/middleware.js" "$src/build/static/css/index.css" "$src/build/favicon.png" "$src/LICENSE" "$dst/"
go test ./graph/ide -run 'TestAssetsMatchTheirIntegrity|TestEveryEmbeddedFileIsPinned|TestPlayground'
