#!/usr/bin/env bash
# Re-vendors the GraphiQL IDE's files into graph/ide/assets from the npm
# registry, at the versions gqlgen's playground pins, and checks each against
# the SRI hash graph/ide/ide.go declares (the browser checks them too).
# The IDE then works with no CDN and no internet, subscriptions included:
# graphiql.min.js bundles the graphql-ws client its fetcher uses for the
# page's subscriptionUrl (the last test checks that it still does).
# GraphQL Playground's files are re-vendored too (scripts/vendor-playground.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent graphiql@4.1.2 react@18.2.0 react-dom@18.2.0 @graphiql/plugin-explorer@4.0.6 >/dev/null)
for t in "$work"/*.tgz; do mkdir -p "${t%.tgz}"; tar -xzf "$t" -C "${t%.tgz}"; done
dst=graph/ide/assets
cp "$work"/graphiql-4.1.2/package/graphiql.min.js "$work"/graphiql-4.1.2/package/graphiql.min.css "$dst/"
cp "$work"/react-18.2.0/package/umd/react.production.min.js "$dst/"
cp "$work"/react-dom-18.2.0/package/umd/react-dom.production.min.js "$dst/"
cp "$work"/graphiql-plugin-explorer-4.0.6/package/dist/index.umd.js "$dst/plugin-explorer.umd.js"
cp "$work"/graphiql-plugin-explorer-4.0.6/package/dist/style.css "$dst/plugin-explorer.css"
go test ./graph/ide -run 'TestAssetsMatchTheirIntegrity|TestPageRunsSubscriptionsOverTheSameHost'
scripts/vendor-playground.sh
