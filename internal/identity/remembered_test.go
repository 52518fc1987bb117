package identity

import (
	"context"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// A verified token is remembered, and only a verified one; it stops being
// remembered when it expires and when the JWK Set is fetched again (the key
// that signed it may be gone), and with VerifiedTokens off nothing is.
func TestVerifiedTokensAreRememberedUntilExpiryOrRefresh(t *testing.T) {
	keys(t)
	t.Run("until it expires", func(t *testing.T) {
		p := newIDP(t, rsa1)
		clk := newClock()
		v := newTestVerifier(t, p, clk, Config{Leeway: -1})
		tok := rsa1.sign(t, claims(p.srv.URL, jwt.MapClaims{"exp": t0.Add(time.Minute).Unix()}))
		for range 3 {
			if e := verifyErr(t, v, tok); e != nil {
				t.Fatal(e)
			}
		}
		if n := v.verified.Len(); n != 1 {
			t.Fatalf("%d tokens remembered; want 1", n)
		}
		clk.Advance(time.Minute)
		if e := verifyErr(t, v, tok); e == nil || e.Kind != Expired {
			t.Errorf("at exp: %v; want Expired, not the remembered identity", e)
		}
	})
	t.Run("never a refused token", func(t *testing.T) {
		p := newIDP(t, rsa1)
		v := newTestVerifier(t, p, newClock(), Config{})
		for _, tok := range []string{
			rsa2.sign(t, claims(p.srv.URL, nil)),                           // a key the set lacks
			rsa1.sign(t, claims(p.srv.URL, jwt.MapClaims{"aud": "other"})), // another audience
		} {
			for range 2 {
				if e := verifyErr(t, v, tok); e == nil {
					t.Fatal("a bad token accepted")
				}
			}
		}
		if n := v.verified.Len(); n != 0 {
			t.Errorf("%d refused tokens remembered", n)
		}
	})
	t.Run("until the JWK Set is fetched again", func(t *testing.T) {
		p := newIDP(t, rsa1)
		v := newTestVerifier(t, p, newClock(), Config{})
		tok := rsa1.sign(t, claims(p.srv.URL, nil))
		if e := verifyErr(t, v, tok); e != nil {
			t.Fatal(e)
		}
		p.serve(t, rsa2) // rsa-1 rotated out: it leaked
		<-v.startFetch(true).done
		if e := verifyErr(t, v, tok); e == nil {
			t.Error("a token of a key rotated out still accepted after the refresh")
		}
	})
	t.Run("off", func(t *testing.T) {
		p := newIDP(t, rsa1)
		v := newTestVerifier(t, p, newClock(), Config{VerifiedTokens: -1})
		id, err := v.Verify(context.Background(), rsa1.sign(t, claims(p.srv.URL, nil)))
		if err != nil || id.UserID != "3" || v.verified != nil {
			t.Errorf("%+v %v, remembering %v; want the identity and nothing remembered", id, err, v.verified != nil)
		}
	})
}
