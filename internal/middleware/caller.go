package middleware

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/eventms/gateway/internal/identity"
	"github.com/eventms/gateway/internal/ratelimit"
)

// Error codes of the caller layer (GraphQL's extensions.code; REST says
// the same in its own body).
const (
	// CodeUnauthenticated: the request's credentials are missing (with
	// AUTH_MODE=required) or not valid; 401 with WWW-Authenticate.
	CodeUnauthenticated = "UNAUTHENTICATED"
	// CodeRateLimited: the caller spent its budget (RATE_LIMIT, or
	// COST_BUDGET for a GraphQL operation's complexity); 429 with
	// Retry-After.
	CodeRateLimited = "RATE_LIMITED"
)

// Caller says who is calling a door and what they may spend. The zero
// value authenticates nobody (everybody is anonymous) and limits nothing.
type Caller struct {
	// Authenticate says who sent r; nil: everybody is anonymous.
	Authenticate func(r *http.Request) (identity.Identity, error)
	// Key names the budget a request spends from (ratelimit.CallerKey).
	Key ratelimit.KeyFunc
	// Budgets are the per-caller limits; nil: none.
	Budgets *ratelimit.Budgets
	// ClientNameHeader and ClientVersionHeader carry the client's name
	// and version (Apollo Client's client awareness); empty: not read.
	ClientNameHeader, ClientVersionHeader string
	// OnClient, if set, hears each request's client name (metrics).
	OnClient func(name string)
	// OnRateLimited, if set, hears each refusal by budget ("requests").
	OnRateLimited func(budget string)
}

// Refusals are how a door answers a request the caller layer refuses, in
// its own form (a GraphQL error, REST's error body). The layer sets the
// headers (WWW-Authenticate, Retry-After) before it calls them.
type Refusals struct {
	Unauthenticated func(w http.ResponseWriter, r *http.Request, message string)
	RateLimited     func(w http.ResponseWriter, r *http.Request, retryAfter int)
}

// layer authenticates the request, names its client, and spends one
// unit of its caller's request budget, refusing in the door's form.
// A WebSocket upgrade without an Authorization header passes anonymous:
// a browser cannot set headers on one, and the connection's
// connection_init payload carries its token instead.
func (c *Caller) layer(refuse Refusals, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		info := InfoFrom(ctx)
		span := trace.SpanFromContext(ctx)
		if c.ClientNameHeader != "" {
			name, version := clientLabel(r.Header.Get(c.ClientNameHeader)), clientLabel(r.Header.Get(c.ClientVersionHeader))
			info.setClient(name, version)
			if span.IsRecording() && name != "" {
				span.SetAttributes(attribute.String("client.name", name), attribute.String("client.version", version))
			}
			if c.OnClient != nil {
				c.OnClient(name)
			}
		}
		if c.Authenticate != nil {
			w.Header().Add("Vary", "Authorization")
			upgrade := strings.EqualFold(r.Header.Get("Upgrade"), "websocket") && r.Header.Get("Authorization") == ""
			if !upgrade {
				id, err := c.Authenticate(r)
				if err != nil {
					w.Header().Set("WWW-Authenticate", identity.Challenge(err))
					refuse.Unauthenticated(w, r, authMessage(err))
					return
				}
				ctx = identity.WithIdentity(ctx, id)
				if id.Authenticated() {
					info.setUser(id.UserID)
					if span.IsRecording() {
						span.SetAttributes(attribute.String("enduser.id", id.UserID))
					}
				}
			}
		}
		if c.Budgets.Enabled() && c.Key != nil {
			r = r.WithContext(ctx)
			key := c.Key(r)
			ctx = ratelimit.WithKey(ctx, key)
			if d, _ := c.Budgets.Request(ctx, key); !d.Allowed {
				if c.OnRateLimited != nil {
					c.OnRateLimited("requests")
				}
				secs := ratelimit.RetryAfterSeconds(d.RetryAfter)
				w.Header().Set("Retry-After", strconv.Itoa(secs))
				refuse.RateLimited(w, r, secs)
				return
			}
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// authMessage is what a refused caller is told: the error's description,
// which never holds the token or its claims.
func authMessage(err error) string {
	var e *identity.Error
	if errors.As(err, &e) {
		return "authentication failed: " + e.Description
	}
	return "authentication failed"
}

// clientLabel keeps what a client says of itself printable and short: it
// goes into logs and spans.
func clientLabel(s string) string {
	if len(s) > 64 {
		s = s[:64]
	}
	for _, c := range s {
		if c < 0x20 || c > 0x7e {
			return "invalid"
		}
	}
	return s
}
