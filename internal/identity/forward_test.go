package identity

import (
	"context"
	"net/http"
	"testing"
)

func TestForwarding(t *testing.T) {
	user := WithIdentity(context.Background(), Identity{UserID: "3", token: &bearer{raw: "tok"}})
	anon := WithIdentity(context.Background(), Identity{Anonymous: true})
	tests := []struct {
		how         string
		ctx         context.Context
		header, val string
	}{
		{"header", user, "X-User-Id", "3"},
		{"token", user, "Authorization", "Bearer tok"},
		{"header", anon, "X-User-Id", ""},
		{"token", anon, "Authorization", ""},
	}
	for _, tt := range tests {
		h := http.Header{}
		Forwarding(tt.how, "X-User-Id")(tt.ctx, h)
		if got := h.Get(tt.header); got != tt.val || len(h) > 1 {
			t.Errorf("%s, %v: %s %q (%v); want %q", tt.how, From(tt.ctx).UserID, tt.header, got, h, tt.val)
		}
	}
	if Forwarding("none", "X-User-Id") != nil {
		t.Error("none forwards something")
	}
}
