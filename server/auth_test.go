package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	coderws "github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	"github.com/golang-jwt/jwt/v5"

	"github.com/eventms/gateway/internal/eventsim"
	"github.com/eventms/gateway/internal/platform/config"
	"github.com/eventms/gateway/internal/redistest"
	"github.com/eventms/gateway/internal/servicetest"
	"github.com/eventms/gateway/internal/testwait"
)

// idp is an identity provider for tests: a real JWK Set over HTTP and a
// signer of tokens with its key (or, forged, with another one).
type idp struct {
	url    string
	key    *rsa.PrivateKey
	forger *rsa.PrivateKey
}

const (
	testIssuer   = "https://idp.test/"
	testAudience = "eventgw"
)

func newIDP(t testing.TB) *idp {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	forger, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	b64 := func(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
	jwks, _ := json.Marshal(map[string]any{"keys": []map[string]string{{
		"kty": "RSA", "kid": "k1", "use": "sig", "alg": "RS256",
		"n": b64(key.N.Bytes()), "e": b64(big.NewInt(int64(key.E)).Bytes()),
	}}})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(jwks)
	}))
	t.Cleanup(srv.Close)
	return &idp{url: srv.URL, key: key, forger: forger}
}

// token signs claims for user with scopes, expiring after ttl (negative:
// already expired); forged signs it with a key the JWK Set lacks.
func (p *idp) token(t testing.TB, user, scopes string, ttl time.Duration, forged bool) string {
	t.Helper()
	now := time.Now()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{
		"iss": testIssuer, "aud": testAudience, "sub": user, "scope": scopes,
		"iat": now.Add(-time.Minute).Unix(), "nbf": now.Add(-time.Minute).Unix(), "exp": now.Add(ttl).Unix(),
	})
	tok.Header["kid"] = "k1"
	key := p.key
	if forged {
		key = p.forger
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// authConfig is the configuration of a replica with authentication
// required against p and a request budget of rate, shared through redisURL.
func authConfig(t *testing.T, p *idp, rate, redisURL, prefix string) config.Config {
	t.Helper()
	env := map[string]string{
		"AUTH_MODE": "required", "AUTH_JWKS_URL": p.url, "AUTH_ISSUER": testIssuer, "AUTH_AUDIENCE": testAudience,
		"RATE_LIMIT": rate, "REDIS_URL": redisURL, "REDIS_KEY_PREFIX": prefix,
		"UPSTREAM_RETRY_BASE": "1ms", "UPSTREAM_RETRY_MAX": "5ms", "CACHE": "off",
	}
	cfg, err := config.Load(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// The acceptance, through the real composition: two replicas on
// one Redis, AUTH_MODE=required against a real JWK Set, RATE_LIMIT=8/1m.
func TestAuthenticationOwnershipAndASharedRateLimit(t *testing.T) {
	p := newIDP(t)
	rs := redistest.Start(t)
	prefix := redistest.Prefix(t)
	up := httptest.NewServer(eventsim.New(eventsim.Config{}))
	t.Cleanup(up.Close)
	var replicas []string
	for range 2 {
		a, err := newTestApp(authConfig(t, p, "8/1m", rs.URL(), prefix), up.URL, servicetest.Discard())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(a.close)
		srv := httptest.NewServer(a.handler)
		t.Cleanup(srv.Close)
		replicas = append(replicas, srv.URL)
	}
	gql := func(url, token, query string) (*http.Response, servicetest.Response) {
		t.Helper()
		h := map[string]string{}
		if token != "" {
			h["Authorization"] = "Bearer " + token
		}
		resp, raw := servicetest.Do(t, "POST", url+"/graphql", "application/json", servicetest.GraphQLBody(query), h)
		var out servicetest.Response
		servicetest.MustUnmarshal(t, []byte(raw), &out)
		return resp, out
	}

	t.Run("no, forged or expired tokens are refused on both doors", func(t *testing.T) {
		for name, token := range map[string]string{
			"none":    "",
			"forged":  p.token(t, "3", "", time.Hour, true),
			"expired": p.token(t, "3", "", -time.Minute, false),
		} {
			resp, res := gql(replicas[0], token, `{ users { id } }`)
			if resp.StatusCode != 401 || len(res.Errors) != 1 || res.Errors[0].Extensions["code"] != "UNAUTHENTICATED" ||
				!strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") || res.Data != nil {
				t.Errorf("GraphQL, %s token: %d %+v %q", name, resp.StatusCode, res, resp.Header.Get("WWW-Authenticate"))
			}
			h := map[string]string{}
			if token != "" {
				h["Authorization"] = "Bearer " + token
			}
			resp, body := servicetest.Do(t, "GET", replicas[1]+"/getUsers", "", "", h)
			if resp.StatusCode != 401 || !strings.Contains(body, `"Unauthorized"`) || token != "" && strings.Contains(body, token) {
				t.Errorf("REST, %s token: %d %s", name, resp.StatusCode, body)
			}
		}
	})

	user3 := p.token(t, "3", "", time.Hour, false)
	spent := 0
	t.Run("user 3 adds for itself, not for user 1", func(t *testing.T) {
		const m = `mutation { addEvent(input: {name: "Party", userId: "%s"}) { __typename } }`
		_, res := gql(replicas[0], user3, strings.Replace(m, "%s", "1", 1))
		spent++
		if len(res.Errors) != 1 || res.Errors[0].Extensions["code"] != "FORBIDDEN" {
			t.Errorf("for user 1: %+v; want FORBIDDEN", res)
		}
		_, res = gql(replicas[1], user3, strings.Replace(m, "%s", "3", 1))
		spent++
		if len(res.Errors) != 0 || !strings.Contains(string(res.Data), "AddEventSuccess") {
			t.Errorf("for itself: %+v; want AddEventSuccess", res)
		}
	})
	t.Run("user 3 reads its own e-mail only", func(t *testing.T) {
		_, res := gql(replicas[0], user3, `{ a: user(id: "1") { email } b: user(id: "3") { email } }`)
		spent++
		if !strings.Contains(string(res.Data), `"a":{"email":null}`) || !strings.Contains(string(res.Data), "bob@example.com") ||
			len(res.Errors) != 1 || res.Errors[0].Extensions["code"] != "FORBIDDEN" {
			t.Errorf("%s %+v; want user 1's null with FORBIDDEN and its own address", res.Data, res.Errors)
		}
	})
	t.Run("the ninth request across both replicas is 429", func(t *testing.T) {
		for ; spent < 8; spent++ {
			if resp, res := gql(replicas[spent%2], user3, `{ user(id: "3") { id } }`); resp.StatusCode != 200 {
				t.Fatalf("request %d: %d %+v", spent+1, resp.StatusCode, res)
			}
		}
		resp, res := gql(replicas[1], user3, `{ user(id: "3") { id } }`)
		if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" || len(res.Errors) != 1 ||
			res.Errors[0].Extensions["code"] != "RATE_LIMITED" || res.Errors[0].Extensions["retryAfter"] == nil {
			t.Errorf("ninth: %d Retry-After %q %+v", resp.StatusCode, resp.Header.Get("Retry-After"), res)
		}
		resp, body := servicetest.Do(t, "GET", replicas[0]+"/getUsers", "", "", map[string]string{"Authorization": "Bearer " + user3})
		if resp.StatusCode != 429 || !strings.Contains(body, `"retryAfter"`) {
			t.Errorf("REST tenth: %d %s", resp.StatusCode, body)
		}
		// Another caller has a budget of its own.
		if resp, res := gql(replicas[0], p.token(t, "1", "", time.Hour, false), `{ user(id: "1") { id } }`); resp.StatusCode != 200 {
			t.Errorf("user 1: %d %+v", resp.StatusCode, res)
		}
	})
}

// A WebSocket authenticates by its connection_init payload (browsers set
// no headers on one): without a token the connection closes with 4403;
// with one it works; when the token expires the connection closes.
func TestWebSocketAuthenticatesByConnectionInit(t *testing.T) {
	p := newIDP(t)
	up := httptest.NewServer(eventsim.New(eventsim.Config{}))
	t.Cleanup(up.Close)
	a, err := newTestApp(authConfig(t, p, "", "", ""), up.URL, servicetest.Discard())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.close)
	srv := httptest.NewServer(a.handler)
	t.Cleanup(srv.Close)
	dial := func(payload map[string]any) (*coderws.Conn, map[string]any) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), testwait.Limit)
		defer cancel()
		conn, _, err := coderws.Dial(ctx, strings.Replace(srv.URL, "http", "ws", 1)+"/graphql",
			&coderws.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = conn.CloseNow() })
		_ = wsjson.Write(ctx, conn, map[string]any{"type": "connection_init", "payload": payload})
		var m map[string]any
		err = wsjson.Read(ctx, conn, &m)
		if err != nil {
			return conn, map[string]any{"close": int(coderws.CloseStatus(err))}
		}
		return conn, m
	}
	if _, m := dial(nil); m["close"] != 4403 {
		t.Errorf("no token: %v; want closed with 4403", m)
	}
	if _, m := dial(map[string]any{"Authorization": "Bearer " + p.token(t, "3", "", -time.Minute, false)}); m["close"] != 4403 {
		t.Errorf("expired token: %v; want closed with 4403", m)
	}
	conn, m := dial(map[string]any{"Authorization": "Bearer " + p.token(t, "3", "", 2*time.Second, false)})
	if m["type"] != "connection_ack" {
		t.Fatalf("valid token: %v; want connection_ack", m)
	}
	ctx, cancel := context.WithTimeout(context.Background(), testwait.Limit)
	defer cancel()
	_ = wsjson.Write(ctx, conn, map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": `{ user(id: "3") { email } }`}})
	var next map[string]any
	for next["type"] != "next" {
		if err := wsjson.Read(ctx, conn, &next); err != nil {
			t.Fatal(err)
		}
	}
	if !strings.Contains(jsonOf(next), "bob@example.com") {
		t.Errorf("%v; want user 3's own e-mail over the authenticated connection", next)
	}
	// The token expires in 2 s: the connection ends with it.
	for {
		var msg map[string]any
		if err := wsjson.Read(ctx, conn, &msg); err != nil {
			if code := coderws.CloseStatus(err); code != 4403 {
				t.Errorf("at expiry: %v; want closed with 4403", err)
			}
			break
		}
	}
}

func jsonOf(v any) string { b, _ := json.Marshal(v); return string(b) }
