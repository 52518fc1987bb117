// Package ide serves the GraphQL IDEs, GraphiQL (Page) and GraphQL
// Playground (Playground), with every file they need embedded in the binary,
// so they work with no CDN and no internet (air-gapped networks, strict
// egress, CI). GraphiQL's page is gqlgen's own; only its asset URLs change,
// and each asset keeps gqlgen's SRI hash, which the browser verifies.
// Playground's page is graphql-playground-html's (see playgroundPage).
//
// Subscriptions work offline too: the page gives GraphiQL's fetcher a
// subscriptionUrl on its own host (ws://, or wss:// on an https page, at the
// endpoint's path), and graphiql.min.js bundles the graphql-ws client
// (graphql-transport-ws) the fetcher uses for it, so no further file is
// needed (TestPageRunsSubscriptionsOverTheSameHost checks both). Playground's
// bundle carries its subscriptions-transport-ws client likewise.
package ide

import (
	"embed"
	"io/fs"
	"net/http"

	"github.com/99designs/gqlgen/graphql/playground"
)

//go:embed assets
var files embed.FS

// AssetPrefix is where the assets are served.
const AssetPrefix = "/ide/"

// asset is one embedded file and its Subresource Integrity hash.
type asset struct{ name, sri string }

// The versions and hashes are those gqlgen's playground pins
// (scripts/vendor-graphiql.sh re-fetches them from the npm registry).
var (
	graphiqlJS  = asset{"graphiql.min.js", "sha256-hnImuor1znlJkD/FOTL3jayfS/xsyNoP04abi8bFJWs="}
	graphiqlCSS = asset{"graphiql.min.css", "sha256-MEh+B2NdMSpj9kexQNN3QKc8UzMrCXW/Sx/phcpuyIU="}
	reactJS     = asset{"react.production.min.js", "sha256-S0lp+k7zWUMk2ixteM6HZvu8L9Eh//OVrt+ZfbCpmgY="}
	reactDOMJS  = asset{"react-dom.production.min.js", "sha256-IXWO0ITNDjfnNXIu5POVfqlgYoop36bDzhodR6LW5Pc="}
	explorerJS  = asset{"plugin-explorer.umd.js", "sha256-UM8sWOS0Xa9yLY85q6Clh0pF4qpxX+TOcJ41flECqBs="}
	explorerCSS = asset{"plugin-explorer.css", "sha256-aJCaSuI7+t/EWRrLTis8jU9EFTua5/o7fnwxnroxDvE="}
)

func (a asset) url() string { return AssetPrefix + a.name }

// Page serves the GraphiQL page for the GraphQL endpoint.
func Page(title, endpoint string) http.Handler {
	return playground.Handler(title, endpoint,
		playground.WithGraphiqlVersion(graphiqlJS.url(), graphiqlCSS.url(), graphiqlJS.sri, graphiqlCSS.sri),
		playground.WithGraphiqlReactVersion(reactJS.url(), reactDOMJS.url(), reactJS.sri, reactDOMJS.sri),
		playground.WithGraphiqlPluginExplorerVersion(explorerJS.url(), explorerCSS.url(), explorerJS.sri, explorerCSS.sri),
		playground.WithGraphiqlEnablePluginExplorer(true),
	)
}

// Assets serves the embedded files under AssetPrefix. They never change for
// a given binary, so browsers may cache them for a day.
func Assets() http.Handler {
	sub, err := fs.Sub(files, "assets")
	if err != nil {
		panic(err) // the embed directive guarantees the folder
	}
	fileServer := http.StripPrefix(AssetPrefix, http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=86400")
		fileServer.ServeHTTP(w, r)
	})
}
