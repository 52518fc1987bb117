package identity

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/MicahParks/jwkset"

	"github.com/eventms/gateway/internal/testwait"
)

func verifyErr(t *testing.T, v *Verifier, tok string) *Error {
	t.Helper()
	_, err := v.Verify(context.Background(), tok)
	if err == nil {
		return nil
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("err %v is not an *Error", err)
	}
	return e
}

// A key id the Verifier does not hold makes it fetch the JWK Set again, at
// most once per RefreshRateLimit: the rotated key is picked up by one fetch,
// and a second unknown key id within the window fetches nothing.
func TestUnknownKeyIDRefreshesOncePerWindow(t *testing.T) {
	keys(t)
	p := newIDP(t, rsa1)
	clk := newClock()
	v := newTestVerifier(t, p, clk, Config{RefreshRateLimit: 10 * time.Second})
	if n := p.fetches(); n != 1 {
		t.Fatalf("%d fetches at start, want 1", n)
	}
	tok1 := rsa1.sign(t, claims(p.srv.URL, nil))
	tok2 := rsa2.sign(t, claims(p.srv.URL, nil))
	tok3 := rsa3.sign(t, claims(p.srv.URL, nil))

	// The identity provider rotates to rsa-2; right after the start-up
	// fetch, the window forbids another one.
	p.serve(t, rsa1, rsa2)
	if e := verifyErr(t, v, tok2); e == nil || e.Kind != Invalid || !strings.Contains(e.Description, "signing key is not known") {
		t.Fatalf("rsa-2 within the start-up window: %v", e)
	}
	if n := p.fetches(); n != 1 {
		t.Fatalf("%d fetches, want still 1 within the window", n)
	}

	clk.Advance(10 * time.Second)
	if e := verifyErr(t, v, tok2); e != nil {
		t.Fatalf("rsa-2 after the window: %v", e)
	}
	if n := p.fetches(); n != 2 {
		t.Fatalf("%d fetches, want 2: one refresh for the new key id", n)
	}
	// A second unknown key id within the new window: no fetch.
	clk.Advance(9 * time.Second)
	if e := verifyErr(t, v, tok3); e == nil || e.Kind != Invalid {
		t.Fatalf("rsa-3: %v", e)
	}
	if n := p.fetches(); n != 2 {
		t.Fatalf("%d fetches, want still 2", n)
	}
	// Known keys never fetch.
	for range 5 {
		if e := verifyErr(t, v, tok1); e != nil {
			t.Fatal(e)
		}
	}
	// After the window, one more fetch; still unknown.
	clk.Advance(time.Second)
	if e := verifyErr(t, v, tok3); e == nil {
		t.Fatal("rsa-3 accepted")
	}
	if n := p.fetches(); n != 3 {
		t.Fatalf("%d fetches, want 3", n)
	}
	// The rotation removed nothing yet; once rsa-1 is gone from the set, a
	// refresh drops it.
	p.serve(t, rsa2)
	clk.Advance(10 * time.Second)
	verifyErr(t, v, tok3) // triggers the refresh
	if e := verifyErr(t, v, tok1); e == nil {
		t.Error("rsa-1 still accepted after the identity provider removed it")
	}
}

// Many requests with unknown key ids at once cause one fetch: they join the
// fetch in flight or are refused by the window.
func TestConcurrentUnknownKeyIDsShareOneFetch(t *testing.T) {
	keys(t)
	p := newIDP(t, rsa1)
	clk := newClock()
	v := newTestVerifier(t, p, clk, Config{})
	p.serve(t, rsa1, rsa2)
	clk.Advance(time.Minute)
	tok := rsa2.sign(t, claims(p.srv.URL, nil))
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() { v.Verify(context.Background(), tok) })
	}
	wg.Wait()
	if n := p.fetches(); n != 2 {
		t.Errorf("%d fetches for 32 concurrent unknown key ids, want 2 (start-up and one refresh)", n)
	}
	if e := verifyErr(t, v, tok); e != nil {
		t.Errorf("rsa-2 after the refresh: %v", e)
	}
}

// The identity provider going down after start-up: the cached keys keep
// verifying, and Status says the last refresh failed and when the keys were
// fetched; once it is back, a refresh clears that.
func TestIdentityProviderDownAfterStart(t *testing.T) {
	keys(t)
	p := newIDP(t, rsa1)
	clk := newClock()
	var fetchErrs []error
	var mu sync.Mutex
	v := newTestVerifier(t, p, clk, Config{OnFetch: func(err error) { mu.Lock(); fetchErrs = append(fetchErrs, err); mu.Unlock() }})
	if s := v.Status(); !s.Ready || s.LastRefreshFailed || s.Keys != 1 || !s.LastFetched.Equal(t0) {
		t.Fatalf("status after start: %+v", s)
	}

	p.down.Store(true)
	clk.Advance(time.Minute)
	verifyErr(t, v, rsa2.sign(t, claims(p.srv.URL, nil))) // an unknown key id: a refresh, which fails
	s := v.Status()
	if !s.Ready || !s.LastRefreshFailed || !strings.Contains(s.Error, "status 503") || !s.LastFetched.Equal(t0) || !s.LastAttempt.Equal(t0.Add(time.Minute)) || s.Keys != 1 {
		t.Fatalf("status with the identity provider down: %+v", s)
	}
	if e := verifyErr(t, v, rsa1.sign(t, claims(p.srv.URL, jwt3600()))); e != nil {
		t.Errorf("a cached key with the identity provider down: %v", e)
	}
	b, _ := json.Marshal(s)
	if !strings.Contains(string(b), `"lastRefreshFailed":true`) || !strings.Contains(string(b), `"lastFetched":"2026-03-01T12:00:00Z"`) {
		t.Errorf("status JSON: %s", b)
	}

	p.down.Store(false)
	clk.Advance(time.Minute)
	verifyErr(t, v, rsa2.sign(t, claims(p.srv.URL, nil)))
	if s := v.Status(); s.LastRefreshFailed || s.Error != "" || !s.LastFetched.Equal(t0.Add(2*time.Minute)) {
		t.Errorf("status after recovery: %+v", s)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(fetchErrs) != 3 || fetchErrs[0] != nil || fetchErrs[1] == nil || fetchErrs[2] != nil {
		t.Errorf("OnFetch saw %v, want success, failure, success", fetchErrs)
	}
}

// jwt3600 keeps a token valid an hour past the clock's advances.
func jwt3600() map[string]any { return map[string]any{"exp": t0.Add(3 * time.Hour).Unix()} }

// The identity provider down at start-up: New still returns, every token is
// refused, Status is not ready; the background loop retries every
// RefreshRateLimit and the Verifier becomes ready once the provider is back.
func TestIdentityProviderDownAtStart(t *testing.T) {
	keys(t)
	p := newIDP(t, rsa1)
	p.down.Store(true)
	clk := newClock()
	v := newTestVerifier(t, p, clk, Config{RefreshRateLimit: time.Millisecond, RefreshInterval: time.Hour})
	if s := v.Status(); s.Ready || !s.LastRefreshFailed || s.Keys != 0 || !s.LastFetched.IsZero() {
		t.Fatalf("status with the identity provider down at start: %+v", s)
	}
	tok := rsa1.sign(t, claims(p.srv.URL, nil))
	if e := verifyErr(t, v, tok); e == nil || e.Kind != Invalid {
		t.Fatalf("token verified without keys: %v", e)
	}
	p.down.Store(false)
	testwait.Until(t, "the verifier to become ready", func() bool { return v.Status().Ready })
	if e := verifyErr(t, v, tok); e != nil {
		t.Errorf("after the identity provider came back: %v", e)
	}
}

// An identity provider that does not answer at all does not hold New past
// its context, nor Close past the fetch it cancels.
func TestStartAndCloseDoNotWaitForAHangingProvider(t *testing.T) {
	release := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer hang.Close()
	defer close(release)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	v, err := New(ctx, Config{JWKSURL: hang.URL + "/jwks.json", FetchTimeout: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if s := v.Status(); s.Ready {
		t.Errorf("ready without keys: %+v", s)
	}
	v.Close() // cancels the fetch in flight and waits for it
	if _, err := v.Verify(context.Background(), "a.b.c"); err == nil {
		t.Error("verified after Close")
	}
}

// Without AUTH_JWKS_URL, the JWK Set's URL is discovered from the issuer's
// /.well-known/openid-configuration, once.
func TestDiscovery(t *testing.T) {
	keys(t)
	p := newIDP(t, ec1)
	clk := newClock()
	v := newTestVerifier(t, p, clk, Config{Issuer: p.srv.URL})
	if e := verifyErr(t, v, ec1.sign(t, claims(p.srv.URL, nil))); e != nil {
		t.Fatalf("discovered keys: %v", e)
	}
	clk.Advance(time.Minute)
	verifyErr(t, v, rsa2.sign(t, claims(p.srv.URL, nil))) // a refresh
	if d, f := p.discoveries.Load(), p.fetches(); d != 1 || f != 2 {
		t.Errorf("%d discoveries and %d fetches, want 1 and 2", d, f)
	}

	// A discovery document naming another issuer is refused.
	q := newIDP(t, ec1)
	q.issuer = "https://impostor.example"
	w := newTestVerifier(t, q, clk, Config{Issuer: q.srv.URL})
	if s := w.Status(); s.Ready || !strings.Contains(s.Error, `names the issuer "https://impostor.example"`) {
		t.Errorf("status with a mismatched discovery document: %+v", s)
	}
}

// The background loop refreshes every RefreshInterval.
func TestBackgroundRefresh(t *testing.T) {
	keys(t)
	p := newIDP(t, rsa1)
	v := newTestVerifier(t, p, newClock(), Config{RefreshInterval: time.Millisecond})
	p.serve(t, rsa2)
	testwait.Until(t, "a background refresh", func() bool { return p.fetches() >= 3 })
	if e := verifyErr(t, v, rsa2.sign(t, claims(p.srv.URL, nil))); e != nil {
		t.Errorf("key of a background refresh: %v", e)
	}
	v.Close()
	n := p.fetches()
	v.Close() // idempotent
	if v.startFetch(true) != nil || p.fetches() != n {
		t.Error("a fetch after Close")
	}
}

// Keys a verifier cannot use are left out of the set; a set with none is
// an error, and the keys held before stay.
func TestKeySetKeepsOnlyUsableSigningKeys(t *testing.T) {
	keys(t)
	weak, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	enc := rsa2.jwk(t)
	enc.KID, enc.USE = "enc-1", jwkset.UseEnc
	weakJWK := testKey{kid: "weak", alg: "RS256", priv: weak}.jwk(t)
	doc := jwkset.JWKSMarshal{Keys: []jwkset.JWKMarshal{
		rsa1.jwk(t), enc, weakJWK,
		{KTY: jwkset.KtyOct, KID: "hmac", K: "c2VjcmV0"},
		{KTY: jwkset.KtyRSA, KID: "broken", N: "!!", E: "AQAB"},
		testKey{kid: "ec-384", alg: "ES384", priv: p384}.jwk(t),
	}}
	b, _ := json.Marshal(doc)
	set, err := parseKeySet(b)
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	for kid := range set.byID {
		kept = append(kept, kid)
	}
	if len(set.all) != 2 || set.byID["rsa-1"].key == nil || set.byID["ec-384"].key == nil {
		t.Errorf("kept %v, want rsa-1 and ec-384", kept)
	}
	if !set.byID["ec-384"].compatible("ES384") || set.byID["ec-384"].compatible("ES256") {
		t.Error("a P-384 key must verify ES384 only")
	}
	for _, bad := range []string{`{"keys":[]}`, `{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}`, `[]`, `<html>`} {
		if _, err := parseKeySet([]byte(bad)); err == nil {
			t.Errorf("%s: accepted", bad)
		}
	}
}

// A JWK Set that turns empty is a failed refresh: the keys stay.
func TestEmptyKeySetKeepsTheKeys(t *testing.T) {
	keys(t)
	p := newIDP(t, rsa1)
	clk := newClock()
	v := newTestVerifier(t, p, clk, Config{})
	p.serve(t)
	clk.Advance(time.Minute)
	verifyErr(t, v, rsa2.sign(t, claims(p.srv.URL, jwt3600())))
	if s := v.Status(); !s.LastRefreshFailed || !strings.Contains(s.Error, "no usable signing key") {
		t.Errorf("status: %+v", s)
	}
	if e := verifyErr(t, v, rsa1.sign(t, claims(p.srv.URL, jwt3600()))); e != nil {
		t.Error(e)
	}
}

// A token without a kid is tried with every key of its algorithm.
func TestTokenWithoutKeyID(t *testing.T) {
	keys(t)
	p := newIDP(t, rsa2, ec1, rsa1)
	v := newTestVerifier(t, p, newClock(), Config{})
	for _, k := range []testKey{rsa1, ec1} {
		noKID := k
		noKID.kid = ""
		tok := noKID.sign(t, claims(p.srv.URL, nil))
		if e := verifyErr(t, v, tok); e != nil {
			t.Errorf("%s without kid: %v", k.alg, e)
		}
	}
	forged := forgedRSA1
	forged.kid = ""
	if e := verifyErr(t, v, forged.sign(t, claims(p.srv.URL, nil))); e == nil || !strings.Contains(e.Description, "signature is invalid") {
		t.Errorf("forged without kid: %v", e)
	}
}

func TestNewRefusesConfigurationsThatCannotWork(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no key source", Config{}, "no keys to verify tokens with"},
		{"HS256", Config{JWKSURL: "http://127.0.0.1:1/jwks", Algorithms: []string{"RS256", "HS256"}}, `"HS256" is never accepted`},
		{"none", Config{JWKSURL: "http://127.0.0.1:1/jwks", Algorithms: []string{"none"}}, `"none" is never accepted`},
		{"unknown algorithm", Config{JWKSURL: "http://127.0.0.1:1/jwks", Algorithms: []string{"RS1"}}, "not supported"},
		{"JWKS URL without a scheme", Config{JWKSURL: "idp.example/jwks"}, "JWK Set URL"},
		{"issuer to discover from, not a URL", Config{Issuer: "my-idp"}, "issuer"},
		{"unreadable development key", Config{DevKey: "/nonexistent/dev.pem"}, "development key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := New(context.Background(), tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				v.Close()
				t.Errorf("err %v, want %q", err, tt.want)
			}
		})
	}
	// Algorithms are matched case-insensitively and kept in canonical form.
	c, err := Config{JWKSURL: "http://127.0.0.1:1/jwks", Algorithms: []string{"rs256", "eddsa", "RS256"}}.withDefaults()
	if err != nil || strings.Join(c.Algorithms, ",") != "RS256,EdDSA" {
		t.Errorf("algorithms %v, %v", c.Algorithms, err)
	}
}
