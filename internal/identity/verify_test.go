package identity

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// unsigned builds a token from raw header and claims JSON with the given
// signature bytes, for tokens no library would sign.
func unsigned(header, payload string, sig []byte) string {
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(payload)) + "." + enc.EncodeToString(sig)
}

// hs256 signs header.payload with HMAC-SHA256 under secret.
func hs256(header, payload string, secret []byte) string {
	enc := base64.RawURLEncoding
	signing := enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(payload))
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(signing))
	return signing + "." + enc.EncodeToString(m.Sum(nil))
}

// A secret-looking user id, to check that no error repeats a claim.
const secretSub = "user-7f3a9c1d"

func TestVerify(t *testing.T) {
	keys(t)
	p := newIDP(t, rsa1, rsa2, ec1, ps1, rsaNA)
	v := newTestVerifier(t, p, newClock(), Config{Algorithms: []string{"RS256", "ES256", "PS256"}})
	iss := p.srv.URL
	c := func(extra jwt.MapClaims) jwt.MapClaims { return claims(iss, extra) }

	// The RS/HS confusion: HS256 "signed" with the RSA public key as the
	// HMAC secret, in both encodings an attacker would try.
	pubDER, err := x509.MarshalPKIXPublicKey(rsa1.priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	payload := `{"iss":"` + iss + `","aud":"` + testAudience + `","sub":"` + secretSub + `","exp":` + strconv.FormatInt(t0.Add(time.Hour).Unix(), 10) + `}`

	tests := []struct {
		name     string
		token    string
		wantKind Kind   // 0: valid
		wantDesc string // part of the description
		wantUser string
	}{
		{"valid RS256", rsa1.sign(t, c(nil)), 0, "", "3"},
		{"valid ES256 (JWK without alg)", ec1.sign(t, c(nil)), 0, "", "3"},
		{"valid PS256", ps1.sign(t, c(nil)), 0, "", "3"},
		{"valid RS256, key without alg", rsaNA.sign(t, c(nil)), 0, "", "3"},
		{"second key of the set", rsa2.sign(t, c(nil)), 0, "", "3"},
		{"aud as an array containing ours", rsa1.sign(t, c(jwt.MapClaims{"aud": []string{"other", testAudience}})), 0, "", "3"},
		{"number user id", rsa1.sign(t, c(jwt.MapClaims{"sub": 3})), 0, "", "3"},
		{"integral float user id", rsa1.sign(t, c(jwt.MapClaims{"sub": 3.0})), 0, "", "3"},
		{"large number user id", rsa1.sign(t, c(jwt.MapClaims{"sub": int64(9007199254740993)})), 0, "", "9007199254740993"},

		{"expired", rsa1.sign(t, c(jwt.MapClaims{"exp": t0.Add(-time.Hour).Unix()})), Expired, "has expired", ""},
		{"not yet valid", rsa1.sign(t, c(jwt.MapClaims{"nbf": t0.Add(time.Hour).Unix()})), Invalid, "not valid yet", ""},
		{"issued in the future", rsa1.sign(t, c(jwt.MapClaims{"iat": t0.Add(time.Hour).Unix()})), Invalid, "issue time is in the future", ""},
		{"without exp", rsa1.sign(t, c(jwt.MapClaims{"exp": nil})), Invalid, "lacks a required claim", ""},
		{"exp of the wrong type", rsa1.sign(t, c(jwt.MapClaims{"exp": "tomorrow"})), Invalid, "wrong type", ""},
		{"wrong issuer", rsa1.sign(t, c(jwt.MapClaims{"iss": "https://evil.example"})), Invalid, "issuer is not accepted", ""},
		{"no issuer", rsa1.sign(t, c(jwt.MapClaims{"iss": nil})), Invalid, "lacks a required claim", ""},
		{"wrong audience", rsa1.sign(t, c(jwt.MapClaims{"aud": "another-api"})), Invalid, "audience is not accepted", ""},
		{"wrong issuer wins over expiry", rsa1.sign(t, c(jwt.MapClaims{"iss": "x", "exp": t0.Add(-time.Hour).Unix()})), Invalid, "issuer", ""},
		{"forged signature (another key, same kid)", forgedRSA1.sign(t, c(jwt.MapClaims{"sub": secretSub})), Invalid, "signature is invalid", ""},
		{"alg none", unsigned(`{"alg":"none","typ":"JWT","kid":"rsa-1"}`, payload, nil), Invalid, "algorithm is not accepted", ""},
		{"alg None", unsigned(`{"alg":"None","typ":"JWT"}`, payload, nil), Invalid, "algorithm is not accepted", ""},
		{"HS256 with the RSA public key (PEM) as secret", hs256(`{"alg":"HS256","typ":"JWT","kid":"rsa-1"}`, payload, pubPEM), Invalid, "algorithm is not accepted", ""},
		{"HS256 with the RSA public key (DER) as secret", hs256(`{"alg":"HS256","typ":"JWT","kid":"rsa-1"}`, payload, pubDER), Invalid, "algorithm is not accepted", ""},
		{"ES256 header naming an RSA key", unsigned(`{"alg":"ES256","typ":"JWT","kid":"rsa-na"}`, payload, make([]byte, 64)), Invalid, "does not match its signing key", ""},
		{"RS256 header naming an EC key", unsigned(`{"alg":"RS256","typ":"JWT","kid":"ec-1"}`, payload, make([]byte, 256)), Invalid, "does not match its signing key", ""},
		{"PS256 header naming a key restricted to RS256", unsigned(`{"alg":"PS256","typ":"JWT","kid":"rsa-1"}`, payload, make([]byte, 256)), Invalid, "does not match its signing key", ""},
		{"algorithm outside the accepted list", rsaAs(t, "RS512", c(nil)), Invalid, "algorithm is not accepted", ""},
		{"kid of the wrong type", unsigned(`{"alg":"RS256","kid":7}`, payload, make([]byte, 256)), Invalid, "key id is not a string", ""},
		{"unknown alg", unsigned(`{"alg":"XX999","kid":"rsa-1"}`, payload, nil), Invalid, "algorithm is not accepted", ""},

		{"malformed: one part", "abcdef", Invalid, "malformed", ""},
		{"malformed: two parts", "abc.def", Invalid, "malformed", ""},
		{"malformed: four parts", "a.b.c.d", Invalid, "malformed", ""},
		{"malformed: empty", "", Invalid, "malformed", ""},
		{"malformed: bad base64", "!!!.###.$$$", Invalid, "malformed", ""},
		{"malformed: header not JSON", unsigned(`{"alg":`, payload, nil), Invalid, "malformed", ""},
		{"malformed: claims not JSON", unsigned(`{"alg":"RS256","kid":"rsa-1"}`, `{"sub":`, make([]byte, 256)), Invalid, "malformed", ""},

		{"no user id", rsa1.sign(t, c(jwt.MapClaims{"sub": nil})), Invalid, "user id claim", ""},
		{"empty user id", rsa1.sign(t, c(jwt.MapClaims{"sub": ""})), Invalid, "user id claim", ""},
		{"fractional user id", rsa1.sign(t, c(jwt.MapClaims{"sub": 3.5})), Invalid, "user id claim", ""},
		{"user id of the wrong type", rsa1.sign(t, c(jwt.MapClaims{"sub": []string{"3"}})), Invalid, "user id claim", ""},
		{"user id with a line break", rsa1.sign(t, c(jwt.MapClaims{"sub": "3\r\nX-Admin: yes"})), Invalid, "user id claim", ""},
		{"user id too long", rsa1.sign(t, c(jwt.MapClaims{"sub": strings.Repeat("9", 257)})), Invalid, "user id claim", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := v.Verify(context.Background(), tt.token)
			if tt.wantKind == 0 {
				if err != nil {
					t.Fatalf("err %v, want a valid token", err)
				}
				if id.Anonymous || id.UserID != tt.wantUser || id.ExpiresAt.IsZero() {
					t.Errorf("identity %+v, want user %s", id, tt.wantUser)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) || e.Kind != tt.wantKind || !strings.Contains(e.Description, tt.wantDesc) {
				t.Fatalf("err %v, want %s containing %q", err, tt.wantKind, tt.wantDesc)
			}
			if !id.Anonymous || id.UserID != "" {
				t.Errorf("identity with an error: %+v, want anonymous", id)
			}
			assertNothingLeaks(t, tt.token, err)
		})
	}
}

// assertNothingLeaks checks that neither the error nor its challenge repeats
// the token, a part of it, or a claim value.
func assertNothingLeaks(t *testing.T, token string, err error) {
	t.Helper()
	for _, s := range []string{err.Error(), Challenge(err)} {
		if strings.Contains(s, secretSub) {
			t.Errorf("%q repeats a claim value", s)
		}
		for _, part := range strings.Split(token, ".") {
			if len(part) >= 8 && strings.Contains(s, part) {
				t.Errorf("%q repeats a part of the token", s)
			}
		}
	}
}

// rsaAs signs claims with rsa-1's key under alg, naming a key that accepts
// no other algorithm than RS256.
func rsaAs(t *testing.T, alg string, c jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.GetSigningMethod(alg), c)
	tok.Header["kid"] = "rsa-na"
	s, err := tok.SignedString(rsa1.priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Oversized tokens are refused by their length, before any parsing: a
// well-formed, correctly signed token one byte over the limit is refused as
// too long, and so is garbage that parsing would call malformed.
func TestOversizedTokensAreRefusedBeforeParsing(t *testing.T) {
	keys(t)
	p := newIDP(t, rsa1)
	v := newTestVerifier(t, p, newClock(), Config{MaxTokenBytes: 1024})
	valid := rsa1.sign(t, claims(p.srv.URL, nil))
	if len(valid) <= 1024 {
		// Pad the claims until the signed token is just over the limit.
		pad := strings.Repeat("x", 1024-len(valid)+1)
		valid = rsa1.sign(t, claims(p.srv.URL, jwt.MapClaims{"pad": pad}))
	}
	for name, tok := range map[string]string{"signed": valid, "garbage": strings.Repeat("@", 1025)} {
		_, err := v.Verify(context.Background(), tok)
		var e *Error
		if !errors.As(err, &e) || e.Kind != Invalid || !strings.Contains(e.Description, "longer than 1024 bytes") {
			t.Errorf("%s, %d bytes: err %v, want it refused as too long", name, len(tok), err)
		}
	}
	// The default limit is 8192 bytes.
	d := newTestVerifier(t, p, newClock(), Config{})
	if _, err := d.Verify(context.Background(), strings.Repeat("a", 8193)); err == nil || !strings.Contains(err.Error(), "longer than 8192 bytes") {
		t.Errorf("default limit: %v", err)
	}
}

// The leeway, exactly, with the injected clock: exp is accepted while now <
// exp + leeway; nbf and iat once now ≥ nbf − leeway.
func TestLeeway(t *testing.T) {
	keys(t)
	p := newIDP(t, rsa1)
	tests := []struct {
		name    string
		leeway  time.Duration
		claims  jwt.MapClaims
		advance time.Duration // from t0
		want    Kind
	}{
		{"exp: within the default 30s", 0, jwt.MapClaims{"exp": t0.Unix()}, 29 * time.Second, 0},
		{"exp: a nanosecond before the end", 0, jwt.MapClaims{"exp": t0.Unix()}, 30*time.Second - 1, 0},
		{"exp: at exp+leeway", 0, jwt.MapClaims{"exp": t0.Unix()}, 30 * time.Second, Expired},
		{"exp: custom 5s, at 5s", 5 * time.Second, jwt.MapClaims{"exp": t0.Unix()}, 5 * time.Second, Expired},
		{"exp: custom 5s, at 4s", 5 * time.Second, jwt.MapClaims{"exp": t0.Unix()}, 4 * time.Second, 0},
		{"exp: no leeway, at exp", -1, jwt.MapClaims{"exp": t0.Unix()}, 0, Expired},
		{"exp: no leeway, just before", -1, jwt.MapClaims{"exp": t0.Unix(), "nbf": nil, "iat": nil}, -time.Nanosecond, 0},
		{"nbf: at nbf-leeway", 0, jwt.MapClaims{"nbf": t0.Add(30 * time.Second).Unix(), "iat": nil}, 0, 0},
		{"nbf: a nanosecond earlier", 0, jwt.MapClaims{"nbf": t0.Add(30 * time.Second).Unix(), "iat": nil}, -time.Nanosecond, Invalid},
		{"nbf: no leeway, at nbf", -1, jwt.MapClaims{"nbf": t0.Unix(), "iat": nil}, 0, 0},
		{"nbf: no leeway, before", -1, jwt.MapClaims{"nbf": t0.Unix(), "iat": nil}, -time.Nanosecond, Invalid},
		{"iat: at iat-leeway", 0, jwt.MapClaims{"iat": t0.Add(30 * time.Second).Unix(), "nbf": nil}, 0, 0},
		{"iat: a nanosecond earlier", 0, jwt.MapClaims{"iat": t0.Add(30 * time.Second).Unix(), "nbf": nil}, -time.Nanosecond, Invalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClock()
			v := newTestVerifier(t, p, clk, Config{Leeway: tt.leeway})
			clk.Advance(tt.advance)
			_, err := v.Verify(context.Background(), rsa1.sign(t, claims(p.srv.URL, tt.claims)))
			var e *Error
			switch {
			case tt.want == 0 && err != nil:
				t.Errorf("err %v, want accepted", err)
			case tt.want != 0 && (!errors.As(err, &e) || e.Kind != tt.want):
				t.Errorf("err %v, want %s", err, tt.want)
			}
		})
	}
}

func TestScopesAndClaims(t *testing.T) {
	keys(t)
	p := newIDP(t, rsa1)
	tests := []struct {
		name   string
		claims jwt.MapClaims
		want   []string
	}{
		{"scope string", jwt.MapClaims{"scope": "events:read  events:admin"}, []string{"events:read", "events:admin"}},
		{"scp array", jwt.MapClaims{"scope": nil, "scp": []string{"events:read", "events:admin"}}, []string{"events:read", "events:admin"}},
		{"scp string", jwt.MapClaims{"scope": nil, "scp": "events:read events:admin"}, []string{"events:read", "events:admin"}},
		{"both, without duplicates", jwt.MapClaims{"scope": "a b", "scp": []any{"b", "c", 7}}, []string{"a", "b", "c"}},
		{"scope array", jwt.MapClaims{"scope": []string{"a"}}, []string{"a"}},
		{"none", jwt.MapClaims{"scope": nil}, nil},
		{"wrong type", jwt.MapClaims{"scope": 12}, nil},
	}
	v := newTestVerifier(t, p, newClock(), Config{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := v.Verify(context.Background(), rsa1.sign(t, claims(p.srv.URL, tt.claims)))
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(id.Scopes, ",") != strings.Join(tt.want, ",") {
				t.Errorf("scopes %q, want %q", id.Scopes, tt.want)
			}
			for _, s := range tt.want {
				if !id.HasScope(s) {
					t.Errorf("HasScope(%q) false", s)
				}
			}
			if id.HasScope("events:delete") || id.HasScope("") {
				t.Error("HasScope true for a scope not granted")
			}
		})
	}

	// The user claim is configurable; sub stays the Subject.
	u := newTestVerifier(t, p, newClock(), Config{UserClaim: "https://eventgw.example/user_id"})
	id, err := u.Verify(context.Background(), rsa1.sign(t, claims(p.srv.URL, jwt.MapClaims{"https://eventgw.example/user_id": 12, "sub": "auth0|abc"})))
	if err != nil || id.UserID != "12" || id.Subject != "auth0|abc" || !id.ExpiresAt.Equal(t0.Add(time.Hour)) || !id.Authenticated() {
		t.Errorf("custom user claim: %+v, %v", id, err)
	}
	if _, err := u.Verify(context.Background(), rsa1.sign(t, claims(p.srv.URL, nil))); err == nil {
		t.Error("a token without the configured user claim was accepted")
	}
}

func TestIssuerAndAudienceAreOptional(t *testing.T) {
	keys(t)
	p := newIDP(t, rsa1)
	v, err := New(context.Background(), Config{JWKSURL: p.jwksURL(), Now: newClock().Now})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	tok := rsa1.sign(t, claims("https://anyone.example", jwt.MapClaims{"aud": nil}))
	if _, err := v.Verify(context.Background(), tok); err != nil {
		t.Errorf("without AUTH_ISSUER and AUTH_AUDIENCE: %v", err)
	}
}
