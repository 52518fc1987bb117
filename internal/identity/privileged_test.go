package identity

import (
	"context"
	"testing"
)

func TestPrivilegedOnlyByWhatATokenProved(t *testing.T) {
	exempt := Privileged("admin", []string{"billing"})
	for _, tc := range []struct {
		name string
		id   *Identity // nil: no identity in the context
		want bool
	}{
		{"no identity", nil, false},
		{"anonymous", &Identity{Anonymous: true}, false},
		{"a user", &Identity{UserID: "3", Scopes: []string{"events:write"}}, false},
		{"the admin scope", &Identity{UserID: "3", Scopes: []string{"admin"}}, true},
		{"an allow-listed user", &Identity{UserID: "billing"}, true},
		{"the admin scope without a user id", &Identity{Scopes: []string{"admin"}}, false},
		{"anonymous claiming an allow-listed id", &Identity{Anonymous: true, UserID: "billing"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			if tc.id != nil {
				ctx = WithIdentity(ctx, *tc.id)
			}
			if got := exempt(ctx); got != tc.want {
				t.Errorf("Privileged = %v, want %v", got, tc.want)
			}
			user, ok := UserOf(ctx)
			if wantOK := tc.id != nil && tc.id.Authenticated(); ok != wantOK || (ok && user != tc.id.UserID) {
				t.Errorf("UserOf = %q %v, want the user id only when authenticated", user, ok)
			}
		})
	}
	if none := Privileged("", nil); none(WithIdentity(context.Background(), Identity{UserID: "3", Scopes: []string{""}})) {
		t.Error("an empty admin scope exempted a caller")
	}
}

func TestTokenAuthenticatorIsNilWithoutAVerifier(t *testing.T) {
	var v *Verifier
	if v.TokenAuthenticator(Required) != nil {
		t.Error("a nil verifier gave a token authenticator; the WebSocket door would call it")
	}
	v.Close() // nil-safe, as the composition root relies on
}
