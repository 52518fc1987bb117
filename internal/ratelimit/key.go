package ratelimit

import (
	"context"
	"net/http"
	"net/netip"
)

// KeyFunc names the caller a request comes from: the budget it spends.
type KeyFunc func(r *http.Request) string

// CallerKey is the gateway's KeyFunc: "user:<id>" for a caller its token
// named (userID reads the identity authentication put in the request's
// context; nil or false: anonymous), else "addr:<client address>"
// (ClientAddress, honouring trusted proxies). An IPv6 client is keyed by
// its /64, since one host commonly holds a whole /64 and could otherwise
// take a new budget per address. The kinds are prefixed so that a user id
// that looks like an address never shares that address's budget.
func CallerKey(userID func(ctx context.Context) (string, bool), trusted []netip.Prefix) KeyFunc {
	return func(r *http.Request) string {
		if userID != nil {
			if id, ok := userID(r.Context()); ok && id != "" {
				return "user:" + id
			}
		}
		a, ok := clientAddr(r, trusted)
		switch {
		case !ok:
			return "addr:" + r.RemoteAddr
		case a.Is6():
			return "addr:" + netip.PrefixFrom(a, 64).Masked().String()
		}
		return "addr:" + a.String()
	}
}

type keyCtx struct{}

// WithKey returns ctx carrying the caller's key, so that what spends from
// a budget later in the request (the GraphQL cost, which sees no
// *http.Request) uses the key the HTTP layer computed once.
func WithKey(ctx context.Context, key string) context.Context {
	return context.WithValue(ctx, keyCtx{}, key)
}

// KeyFrom returns the key WithKey put in ctx.
func KeyFrom(ctx context.Context) (string, bool) {
	k, ok := ctx.Value(keyCtx{}).(string)
	return k, ok
}
