package identity

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"
)

// The tests run against a real JWK Set served over HTTP by fakeIDP, with
// keys generated once per run.

const testAudience = "eventgw-api"

// t0 is the injected clock's start; tokens are issued at it.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// testKey is a signing key and how tokens name it.
type testKey struct {
	kid, alg string
	priv     crypto.Signer
	withAlg  bool // the JWK carries "alg"
}

var (
	keysOnce               sync.Once
	rsa1, rsa2, rsa3, ec1  testKey
	forgedRSA1, ps1, rsaNA testKey
)

// keys generates the RSA and EC keys once: RSA generation is slow enough to
// be worth sharing between tests.
func keys(t testing.TB) {
	t.Helper()
	keysOnce.Do(func() {
		gen := func() *rsa.PrivateKey {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				panic(err)
			}
			return k
		}
		ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		a, b, c, d := gen(), gen(), gen(), gen()
		rsa1 = testKey{kid: "rsa-1", alg: "RS256", priv: a, withAlg: true}
		rsa2 = testKey{kid: "rsa-2", alg: "RS256", priv: b, withAlg: true}
		rsa3 = testKey{kid: "rsa-3", alg: "RS256", priv: c, withAlg: true}
		// forgedRSA1 is another key that claims rsa-1's kid.
		forgedRSA1 = testKey{kid: "rsa-1", alg: "RS256", priv: d}
		// ps1 signs PS256 with rsa-3's key material under its own kid, and
		// rsaNA is rsa-1's key used with a JWK that names no algorithm.
		ps1 = testKey{kid: "ps-1", alg: "PS256", priv: c}
		rsaNA = testKey{kid: "rsa-na", alg: "RS256", priv: a}
		ec1 = testKey{kid: "ec-1", alg: "ES256", priv: ec}
	})
}

func (k testKey) jwk(t testing.TB) jwkset.JWKMarshal {
	t.Helper()
	meta := jwkset.JWKMetadataOptions{KID: k.kid, USE: jwkset.UseSig}
	if k.withAlg {
		meta.ALG = jwkset.ALG(k.alg)
	}
	j, err := jwkset.NewJWKFromKey(k.priv.Public(), jwkset.JWKOptions{Metadata: meta})
	if err != nil {
		t.Fatal(err)
	}
	return j.Marshal()
}

// sign returns a token with claims, signed by k and naming k.kid.
func (k testKey) sign(t testing.TB, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.GetSigningMethod(k.alg), claims)
	if k.kid != "" {
		tok.Header["kid"] = k.kid
	}
	s, err := tok.SignedString(k.priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// fakeIDP serves a JWK Set and an OpenID discovery document, counts the
// fetches and can be taken down.
type fakeIDP struct {
	srv         *httptest.Server
	mu          sync.Mutex
	set         []byte
	issuer      string // what the discovery document names; the server's URL by default
	jwksFetches atomic.Int32
	discoveries atomic.Int32
	down        atomic.Bool
}

func newIDP(t testing.TB, served ...testKey) *fakeIDP {
	t.Helper()
	p := &fakeIDP{}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p.down.Load() {
			http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
			return
		}
		p.mu.Lock()
		set, issuer := p.set, p.issuer
		p.mu.Unlock()
		switch r.URL.Path {
		case "/jwks.json":
			p.jwksFetches.Add(1)
			w.Header().Set("Content-Type", "application/json")
			w.Write(set)
		case "/.well-known/openid-configuration":
			p.discoveries.Add(1)
			json.NewEncoder(w).Encode(map[string]string{"issuer": issuer, "jwks_uri": p.srv.URL + "/jwks.json"})
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(p.srv.Close)
	p.issuer = p.srv.URL
	p.serve(t, served...)
	return p
}

// serve replaces the JWK Set with keys.
func (p *fakeIDP) serve(t testing.TB, keys ...testKey) {
	t.Helper()
	doc := jwkset.JWKSMarshal{Keys: []jwkset.JWKMarshal{}}
	for _, k := range keys {
		doc.Keys = append(doc.Keys, k.jwk(t))
	}
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	p.set = b
	p.mu.Unlock()
}

func (p *fakeIDP) jwksURL() string { return p.srv.URL + "/jwks.json" }
func (p *fakeIDP) fetches() int    { return int(p.jwksFetches.Load()) }

// clock is the injected clock, safe to read from the fetching goroutines.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: t0} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// newTestVerifier returns a Verifier of idp's keys with the test issuer and
// audience, closed when the test ends. cfg's zero fields take those values.
func newTestVerifier(t testing.TB, p *fakeIDP, clk *clock, cfg Config) *Verifier {
	t.Helper()
	if cfg.JWKSURL == "" && cfg.Issuer == "" && p != nil {
		cfg.JWKSURL, cfg.Issuer = p.jwksURL(), p.srv.URL
	}
	if cfg.Audience == "" {
		cfg.Audience = testAudience
	}
	if cfg.Now == nil {
		cfg.Now = clk.Now
	}
	v, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(v.Close)
	return v
}

// claims are a valid token's claims for issuer at t0; extra replace or add
// claims (a nil value removes one).
func claims(issuer string, extra jwt.MapClaims) jwt.MapClaims {
	c := jwt.MapClaims{
		"iss":   issuer,
		"aud":   testAudience,
		"sub":   "3",
		"iat":   t0.Unix(),
		"nbf":   t0.Unix(),
		"exp":   t0.Add(time.Hour).Unix(),
		"scope": "events:read events:write",
	}
	for k, v := range extra {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return c
}
