package identity

import (
	"net/http/httptest"
	"testing"
)

// BenchmarkAuthenticate is the per-request cost of authentication: reading
// the header and verifying a token with cached keys (no fetch), or finding
// no token.
func BenchmarkAuthenticate(b *testing.B) {
	keys(b)
	p := newIDP(b, rsa1, ec1)
	v := newTestVerifier(b, p, newClock(), Config{})
	cases := []struct {
		name   string
		mode   Mode
		header string
	}{
		{"off", Off, ""},
		{"optional/no-token", Optional, ""},
		{"required/RS256", Required, "Bearer " + rsa1.sign(b, claims(p.srv.URL, nil))},
		{"required/ES256", Required, "Bearer " + ec1.sign(b, claims(p.srv.URL, nil))},
		{"required/forged-RS256", Required, "Bearer " + forgedRSA1.sign(b, claims(p.srv.URL, nil))},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			r := httptest.NewRequest("POST", "/graphql", nil)
			if c.header != "" {
				r.Header.Set("Authorization", c.header)
			}
			b.ReportAllocs()
			for b.Loop() {
				v.Authenticate(r, c.mode)
			}
		})
	}
}
