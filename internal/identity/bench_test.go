package identity

import (
	"net/http/httptest"
	"testing"
)

// BenchmarkAuthenticate is the per-request cost of authentication: reading
// the header and verifying a token with cached keys (no fetch), or finding
// no token; "remembered" is a token verified before (VerifiedTokens), the
// others are verified every time.
func BenchmarkAuthenticate(b *testing.B) {
	keys(b)
	p := newIDP(b, rsa1, ec1)
	v := newTestVerifier(b, p, newClock(), Config{VerifiedTokens: -1})
	remembering := newTestVerifier(b, p, newClock(), Config{})
	cases := []struct {
		name   string
		mode   Mode
		header string
		v      *Verifier
	}{
		{"off", Off, "", v},
		{"optional/no-token", Optional, "", v},
		{"required/RS256", Required, "Bearer " + rsa1.sign(b, claims(p.srv.URL, nil)), v},
		{"required/ES256", Required, "Bearer " + ec1.sign(b, claims(p.srv.URL, nil)), v},
		{"required/forged-RS256", Required, "Bearer " + forgedRSA1.sign(b, claims(p.srv.URL, nil)), v},
		{"required/RS256-remembered", Required, "Bearer " + rsa1.sign(b, claims(p.srv.URL, nil)), remembering},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			r := httptest.NewRequest("POST", "/graphql", nil)
			if c.header != "" {
				r.Header.Set("Authorization", c.header)
			}
			b.ReportAllocs()
			for b.Loop() {
				c.v.Authenticate(r, c.mode)
			}
		})
	}
}
