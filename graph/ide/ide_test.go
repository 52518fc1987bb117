package ide

import (
	"crypto/sha256"
	"encoding/base64"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// pinned is every embedded file with the hash it must have.
var pinned = []asset{graphiqlJS, graphiqlCSS, reactJS, reactDOMJS, explorerJS, explorerCSS,
	playgroundJS, playgroundCSS, playgroundFavicon, playgroundLicense}

func TestAssetsMatchTheirIntegrity(t *testing.T) {
	for _, a := range pinned {
		b, err := files.ReadFile("assets/" + a.name)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		if got := "sha256-" + base64.StdEncoding.EncodeToString(sum[:]); got != a.sri {
			t.Errorf("%s: %s, want %s: the browser would refuse it", a.name, got, a.sri)
		}
	}
}

// A file added to assets without a pinned hash would be served unchecked.
func TestEveryEmbeddedFileIsPinned(t *testing.T) {
	want := map[string]bool{}
	for _, a := range pinned {
		want["assets/"+a.name] = true
	}
	err := fs.WalkDir(files, "assets", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !want[path] {
			t.Errorf("%s is embedded without a pinned hash", path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestPageUsesOnlyLocalAssets(t *testing.T) {
	mux := http.NewServeMux()
	mux.Handle("GET /{$}", Page("IDE", "/graphql"))
	mux.Handle("GET "+AssetPrefix, Assets())
	srv := httptest.NewServer(mux)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	// html/template writes + as &#43; in attributes; the browser decodes it.
	page := strings.ReplaceAll(string(raw), "&#43;", "+")
	if strings.Contains(page, "cdn.jsdelivr.net") || strings.Contains(page, "https://") {
		t.Errorf("page loads from the internet:\n%s", page)
	}
	for _, a := range []asset{graphiqlJS, graphiqlCSS, reactJS, reactDOMJS, explorerJS, explorerCSS} {
		if !strings.Contains(page, `"`+a.url()+`"`) || !strings.Contains(page, a.sri) {
			t.Errorf("page does not load %s with its integrity", a.name)
		}
		resp, err := http.Get(srv.URL + a.url())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Cache-Control") == "" {
			t.Errorf("%s: %d %v", a.name, resp.StatusCode, resp.Header)
		}
	}
}

// Subscriptions in the IDE need nothing from the internet either: the page
// hands GraphiQL's fetcher a subscriptionUrl on the page's own host
// (ws: or wss: as the page was loaded), and the vendored GraphiQL bundle
// carries the graphql-ws client (graphql-transport-ws) that the fetcher
// imports for it. A GraphiQL upgrade that drops the client from its bundle
// would leave subscriptions failing ("You need to install the 'graphql-ws'
// package") and must vendor it beside the bundle instead.
func TestPageRunsSubscriptionsOverTheSameHost(t *testing.T) {
	rec := httptest.NewRecorder()
	Page("IDE", "/graphql").ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	page := rec.Body.String()
	for _, want := range []string{
		`const wsProto = location.protocol == 'https:' ? 'wss:' : 'ws:';`,
		`const subscriptionUrl = wsProto + '//' + location.host + "/graphql";`,
		`GraphiQL.createFetcher({ url, subscriptionUrl,`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	js, err := files.ReadFile("assets/" + graphiqlJS.name)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`GRAPHQL_TRANSPORT_WS_PROTOCOL`, `"graphql-transport-ws"`, `createClient:function`} {
		if !strings.Contains(string(js), want) {
			t.Errorf("%s does not bundle the graphql-ws client (no %s)", graphiqlJS.name, want)
		}
	}
}
