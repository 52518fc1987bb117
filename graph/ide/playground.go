package ide

import (
	"bytes"
	"html/template"
	"net/http"
)

// GraphQL Playground's build, as graphql-playground-react 1.7.28 (its last
// release) publishes it on npm, byte for byte; scripts/vendor-playground.sh
// re-fetches it and checks it against these hashes. middleware.js is the
// standalone bundle (React and the subscriptions-transport-ws client
// included) that defines window.GraphQLPlayground; index.css is the sheet
// graphql-playground-html's page loads beside it.
var (
	playgroundJS      = asset{"playground/middleware.js", "sha256-VVwEZwxs4qS5W7E+/9nXINYgr/BJRWKOi/rTMUdmmWg="}
	playgroundCSS     = asset{"playground/index.css", "sha256-dKnNLEFwKSVFpkpjRWe+o/jQDM6n/JsvQ0J3l5Dk3fc="}
	playgroundFavicon = asset{"playground/favicon.png", "sha256-GhTyE+McTU79R4+pRO6ih+4TfsTOrpPwD8ReKFzb3PM="}
	playgroundLicense = asset{"playground/LICENSE", "sha256-EkDonflhDKcD02UF/SeG7Ks/4Cm2958sJfOqfjxX73U="}
)

// playgroundConfig is what the page hands GraphQLPlayground.init, as
// graphql-playground-html's renderPlaygroundPage does, before the page's
// script makes the endpoints absolute on the page's own host.
type playgroundConfig struct {
	Endpoint             string         `json:"endpoint"`
	SubscriptionEndpoint string         `json:"subscriptionEndpoint"`
	SetTitle             bool           `json:"setTitle"`
	CanSaveConfig        bool           `json:"canSaveConfig"`
	Settings             map[string]any `json:"settings"`
}

// playgroundPage is graphql-playground-html's renderPlaygroundPage (1.6.30)
// with these changes: the assets come from AssetPrefix with their SRI hashes
// instead of jsDelivr; the Google Fonts stylesheet is dropped, so Open Sans
// and Source Code Pro fall back to the system's sans-serif and monospace
// fonts (the bundle and its CSS only name them, and load nothing else); the
// endpoints are resolved against the page's location, so that subscriptions
// use ws: or wss: as the page was loaded; the loading animation is left out;
// and a style rule hides the autocomplete leftovers that 1.7.28 never
// removes (they would pile up over the editor as one types).
var playgroundPage = template.Must(template.New("playground").Parse(`<!DOCTYPE html>
<html>
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="user-scalable=no, initial-scale=1.0, minimum-scale=1.0, maximum-scale=1.0, minimal-ui">
  <title>{{.Title}}</title>
  <link rel="stylesheet" href="{{.CSS.URL}}" integrity="{{.CSS.SRI}}">
  <link rel="shortcut icon" href="{{.Favicon}}">
  <script src="{{.JS.URL}}" integrity="{{.JS.SRI}}"></script>
  <style>
    html { font-family: "Open Sans", sans-serif; overflow: hidden; }
    body { margin: 0; background: #172a3a; }
    /* Playground leaves each closed autocomplete popup's type information
       on the page (graphql/graphql-playground#1429); a popup without its
       list of hints is such a leftover. */
    .CodeMirror-hints-wrapper:not(:has(> .CodeMirror-hints)) { display: none; }
  </style>
</head>
<body>
  <div id="root"></div>
  <script id="playground-config" type="application/json">{{.Config}}</script>
  <script>
    window.addEventListener('load', function () {
      const config = JSON.parse(document.getElementById('playground-config').textContent);
      const endpoint = new URL(config.endpoint, location.href);
      const subscriptionEndpoint = new URL(config.subscriptionEndpoint, location.href);
      subscriptionEndpoint.protocol = subscriptionEndpoint.protocol == 'https:' ? 'wss:' : 'ws:';
      config.endpoint = endpoint.href;
      config.subscriptionEndpoint = subscriptionEndpoint.href;
      GraphQLPlayground.init(document.getElementById('root'), config);
    });
  </script>
</body>
</html>
`))

// pageAsset is an asset as the page template links it.
type pageAsset struct{ URL, SRI string }

// Playground serves GraphQL Playground's page for the GraphQL endpoint, a
// path on the page's host ("/graphql") or an absolute URL. Queries go to it
// over HTTP POST, subscriptions over a WebSocket to the same URL (ws:, or
// wss: from an https page) in the legacy subscriptions-transport-ws protocol
// (subprotocol graphql-ws), the only one Playground speaks. Its files are
// served by Assets; nothing is loaded from anywhere else.
//
// Two of Playground's defaults change: it does not poll the schema (every
// 2 s an introspection query, each counted against the caller's
// RATE_LIMIT and COST_BUDGET and logged; its reload button fetches it on
// demand), and the page keeps title instead of naming the endpoint.
func Playground(title, endpoint string) http.Handler {
	var page bytes.Buffer
	err := playgroundPage.Execute(&page, struct {
		Title   string
		CSS, JS pageAsset
		Favicon string
		Config  playgroundConfig
	}{
		Title:   title,
		CSS:     pageAsset{playgroundCSS.url(), playgroundCSS.sri},
		JS:      pageAsset{playgroundJS.url(), playgroundJS.sri},
		Favicon: playgroundFavicon.url(),
		Config: playgroundConfig{
			Endpoint:             endpoint,
			SubscriptionEndpoint: endpoint,
			Settings:             map[string]any{"schema.polling.enable": false},
		},
	})
	if err != nil {
		panic(err) // the template is fixed and its data plain strings: only a broken template fails
	}
	body := page.Bytes()
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(body)
	})
}
