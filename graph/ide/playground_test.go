package ide

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// playgroundServer mounts the page and the assets as server/app.go does.
func playgroundServer(t *testing.T, title, endpoint string) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("GET /playground", Playground(title, endpoint))
	mux.Handle("GET "+AssetPrefix, Assets())
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, u string) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

// parsedPage is what the tests read from the page's HTML.
type parsedPage struct {
	refs    []ref    // every src and href, in document order
	scripts []string // the text of every inline script
	config  string   // the text of script#playground-config
}

// ref is one URL the page makes the browser load or link to.
type ref struct{ tag, attr, url, integrity string }

func parsePage(t *testing.T, page []byte) parsedPage {
	t.Helper()
	doc, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	var p parsedPage
	for n := range doc.Descendants() {
		if n.Type != html.ElementNode {
			continue
		}
		attrs := map[string]string{}
		for _, a := range n.Attr {
			attrs[a.Key] = a.Val
		}
		for _, key := range []string{"src", "href", "action", "poster", "srcset", "data"} {
			if v, ok := attrs[key]; ok {
				p.refs = append(p.refs, ref{n.Data, key, v, attrs["integrity"]})
			}
		}
		if n.Data == "script" && attrs["src"] == "" && n.FirstChild != nil {
			if attrs["id"] == "playground-config" {
				p.config = n.FirstChild.Data
			} else {
				p.scripts = append(p.scripts, n.FirstChild.Data)
			}
		}
	}
	return p
}

func sri(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}

// The page works on a machine with no internet: every URL in it resolves
// to the page's own host, is served there, and the script and stylesheet
// carry integrity hashes their bodies match (the browser refuses them
// otherwise). Nothing in the page's inline markup imports anything either.
func TestPlaygroundLoadsOnlySameOriginAssets(t *testing.T) {
	srv := playgroundServer(t, "Event Management System", "/graphql")
	resp, page := get(t, srv.URL+"/playground")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("page: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	base, _ := url.Parse(srv.URL + "/playground")
	p := parsePage(t, page)

	var loaded []string
	for _, r := range p.refs {
		u, err := base.Parse(r.url)
		if err != nil {
			t.Errorf("<%s %s=%q>: %v", r.tag, r.attr, r.url, err)
			continue
		}
		if u.Scheme != base.Scheme || u.Host != base.Host {
			t.Errorf("<%s %s=%q> is not on the page's host %s", r.tag, r.attr, r.url, base.Host)
			continue
		}
		loaded = append(loaded, u.Path)
		resp, body := get(t, u.String())
		if resp.StatusCode != 200 || resp.Header.Get("Cache-Control") == "" {
			t.Errorf("%s: %d %v", u.Path, resp.StatusCode, resp.Header)
		}
		if (r.tag == "script" || r.tag == "link" && r.attr == "href" && strings.HasSuffix(r.url, ".css")) && r.integrity == "" {
			t.Errorf("%s is loaded without an integrity hash", u.Path)
		}
		if r.integrity != "" && sri(body) != r.integrity {
			t.Errorf("%s: served %s, the page requires %s", u.Path, sri(body), r.integrity)
		}
	}
	want := []string{playgroundCSS.url(), playgroundFavicon.url(), playgroundJS.url()}
	if strings.Join(loaded, " ") != strings.Join(want, " ") {
		t.Errorf("page loads %v, want %v", loaded, want)
	}
	for _, s := range append(p.scripts, string(page)) {
		for _, offsite := range []string{"https://", "http://", "@import", "fonts.googleapis", "cdn.jsdelivr"} {
			if strings.Contains(s, offsite) {
				t.Errorf("page contains %q:\n%s", offsite, page)
			}
		}
	}
}

// The stylesheet names fonts but loads none (the page falls back to the
// system's): no url() or @import that a browser would fetch.
func TestPlaygroundStylesheetLoadsNothing(t *testing.T) {
	css, err := files.ReadFile("assets/" + playgroundCSS.name)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"url(", "@import", "@font-face"} {
		if bytes.Contains(css, []byte(s)) {
			t.Errorf("%s contains %s", playgroundCSS.name, s)
		}
	}
}

// The page hands Playground the endpoint for queries and the same URL for
// subscriptions, both resolved against the page's location, the
// subscription one switched to ws: (wss: on an https page), so they reach
// the same host the page came from; whatever the title and endpoint hold,
// the configuration stays inside its script element.
func TestPlaygroundPointsAtTheEndpoint(t *testing.T) {
	tests := []struct{ name, title, endpoint string }{
		{"the gateway's", "Event Management System", "/graphql"},
		{"hostile title", `</title><script>alert(1)</script>`, "/graphql"},
		{"hostile endpoint", "IDE", `/graphql"</script><script>alert(1)</script>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			Playground(tt.title, tt.endpoint).ServeHTTP(rec, httptest.NewRequest("GET", "/playground", nil))
			p := parsePage(t, rec.Body.Bytes())
			if len(p.scripts) != 1 {
				t.Fatalf("%d inline scripts besides the configuration, want 1:\n%s", len(p.scripts), rec.Body)
			}
			var cfg playgroundConfig
			if err := json.Unmarshal([]byte(p.config), &cfg); err != nil {
				t.Fatalf("configuration %q: %v", p.config, err)
			}
			if cfg.Endpoint != tt.endpoint || cfg.SubscriptionEndpoint != tt.endpoint {
				t.Errorf("endpoints %q and %q, want %q for both", cfg.Endpoint, cfg.SubscriptionEndpoint, tt.endpoint)
			}
			if cfg.Settings["schema.polling.enable"] != false || cfg.CanSaveConfig || cfg.SetTitle {
				t.Errorf("configuration %+v", cfg)
			}
			for _, want := range []string{
				`JSON.parse(document.getElementById('playground-config').textContent)`,
				`const endpoint = new URL(config.endpoint, location.href);`,
				`const subscriptionEndpoint = new URL(config.subscriptionEndpoint, location.href);`,
				`subscriptionEndpoint.protocol = subscriptionEndpoint.protocol == 'https:' ? 'wss:' : 'ws:';`,
				`config.endpoint = endpoint.href;`,
				`config.subscriptionEndpoint = subscriptionEndpoint.href;`,
				`GraphQLPlayground.init(document.getElementById('root'), config);`,
			} {
				if !strings.Contains(p.scripts[0], want) {
					t.Errorf("page script lacks %s", want)
				}
			}
		})
	}
}

// Subscriptions need no further file: the bundle defines the page's
// GraphQLPlayground.init and carries the subscriptions-transport-ws client,
// which opens its WebSocket with the graphql-ws subprotocol the gateway
// serves the legacy protocol on.
func TestPlaygroundBundleSpeaksTheLegacyProtocol(t *testing.T) {
	js, err := files.ReadFile("assets/" + playgroundJS.name)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`window.GraphQLPlayground={init:function`, `GRAPHQL_WS="graphql-ws"`, `GQL_START="start"`, `GQL_CONNECTION_INIT="connection_init"`} {
		if !bytes.Contains(js, []byte(want)) {
			t.Errorf("%s lacks %s", playgroundJS.name, want)
		}
	}
}
