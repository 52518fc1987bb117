package middleware

import (
	"net/http/httptest"
	"testing"
)

// Without authentication, only ADMIN_TOKEN's exact bearer is admitted; a
// guard with neither a verifier nor a token admits nobody. (With a
// verifier: server's TestPurgeNeedsTheAdminScope, against a real JWK Set.)
func TestAdminTokenGuard(t *testing.T) {
	const token = "an-admin-token-of-32-characters!"
	tests := []struct {
		guard  Admin
		header string
		allow  bool
	}{
		{Admin{Token: token}, "Bearer " + token, true},
		{Admin{Token: token}, "Bearer " + token + "x", false},
		{Admin{Token: token}, "bearer " + token, true},
		{Admin{Token: token}, token, false},
		{Admin{Token: token}, "", false},
		{Admin{}, "Bearer ", false},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("POST", "/admin/cache/purge", nil)
		if tt.header != "" {
			r.Header.Set("Authorization", tt.header)
		}
		rec := httptest.NewRecorder()
		if got := tt.guard.Allow(rec, r); got != tt.allow {
			t.Errorf("%q: %v; want %v", tt.header, got, tt.allow)
		}
		if !tt.allow && (rec.Code != 401 || rec.Header().Get("WWW-Authenticate") == "") {
			t.Errorf("%q refused with %d %q; want 401 with a challenge", tt.header, rec.Code, rec.Header().Get("WWW-Authenticate"))
		}
	}
	if (Admin{}).Enabled() || !(Admin{Token: token}).Enabled() {
		t.Error("Enabled")
	}
}
