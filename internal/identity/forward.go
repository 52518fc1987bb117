package identity

import (
	"context"
	"net/http"
)

// Forwarding returns what puts the caller's identity on a request to the
// Event API (eventapi.Hooks.Request), as AUTH_FORWARD says: "header" sets
// header to the user id, "token" passes the bearer token through; anything
// else (none) returns nil. Anonymous callers' requests carry nothing.
func Forwarding(how, header string) func(ctx context.Context, h http.Header) {
	switch how {
	case "header":
		return func(ctx context.Context, h http.Header) {
			if id := From(ctx); id.Authenticated() {
				h.Set(header, id.UserID)
			}
		}
	case "token":
		return func(ctx context.Context, h http.Header) {
			if id := From(ctx); id.Authenticated() {
				h.Set("Authorization", "Bearer "+id.Token())
			}
		}
	}
	return nil
}
