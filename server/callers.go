package main

import (
	"context"
	"crypto/subtle"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/eventms/gateway/internal/httpjson"
	"github.com/eventms/gateway/internal/identity"
	"github.com/eventms/gateway/internal/middleware"
	"github.com/eventms/gateway/internal/platform/config"
	"github.com/eventms/gateway/internal/platform/health"
	"github.com/eventms/gateway/internal/platform/metrics"
	"github.com/eventms/gateway/internal/ratelimit"
	"github.com/eventms/gateway/internal/respcache"
	"github.com/eventms/gateway/internal/state/entitycache"
	"github.com/eventms/gateway/internal/state/fleet"
)

// callers wires who is calling: the verifier of bearer tokens (nil with
// AUTH_MODE=off), the per-caller budgets (nil without RATE_LIMIT and
// COST_BUDGET), and the caller layer of the doors' routes.
type callers struct {
	verifier *identity.Verifier
	budgets  *ratelimit.Budgets
	layer    *middleware.Caller
}

func newCallers(cfg config.Config, conn *fleet.Conn, m *metrics.Metrics, h *health.Checker, log *slog.Logger, now func() time.Time) (*callers, error) {
	c := &callers{}
	mode := cfg.Auth.Mode
	if mode != identity.Off {
		vc := cfg.Auth.VerifierConfig()
		vc.OnFetch = func(err error) {
			if err != nil {
				log.Warn("fetching the identity provider's keys failed; the cached keys stay in use", "err", err)
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		v, err := identity.New(ctx, vc)
		if err != nil {
			return nil, err
		}
		c.verifier = v
		h.Reports("identity", func() health.Component {
			s := v.Status()
			return health.Component{Ready: s.Ready, Degraded: s.LastRefreshFailed, Detail: s}
		})
	}
	admin := cfg.Auth.AdminScope
	budgets, err := ratelimit.NewBudgets(ratelimit.Options{
		Requests: cfg.Limits.Rate, Cost: cfg.Limits.CostBudget, MaxKeys: cfg.Limits.MaxKeys,
		Redis: conn.Client(), Prefix: conn.KeyPrefix(), OnError: conn.OnError, Now: now,
		// Only what the token proved exempts a caller: the admin scope or
		// an allow-listed user id.
		Exempt: func(ctx context.Context) bool {
			id := identity.From(ctx)
			return id.Authenticated() && (id.HasScope(admin) || slices.Contains(cfg.Limits.ExemptClients, id.UserID))
		},
	})
	if err != nil {
		return nil, err
	}
	if budgets.Enabled() {
		c.budgets = budgets
		m.EnableRateLimits(budgets.Degraded)
		h.Reports("rateLimits", func() health.Component {
			return health.Component{Ready: true, Degraded: budgets.Degraded()}
		})
	}
	c.layer = &middleware.Caller{
		Key: ratelimit.CallerKey(func(ctx context.Context) (string, bool) {
			id := identity.From(ctx)
			return id.UserID, id.Authenticated()
		}, cfg.Limits.TrustedProxies),
		Budgets:          c.budgets,
		ClientNameHeader: cfg.Auth.ClientNameHeader, ClientVersionHeader: cfg.Auth.ClientVersionHeader,
		OnClient: m.ClientRequest, OnRateLimited: m.RateLimited,
	}
	if c.verifier != nil {
		c.layer.Authenticate = func(r *http.Request) (identity.Identity, error) { return c.verifier.Authenticate(r, mode) }
	}
	return c, nil
}

// authenticateToken checks a WebSocket's connection_init credentials; nil
// with authentication off.
func (c *callers) authenticateToken(mode identity.Mode) func(ctx context.Context, raw string) (identity.Identity, error) {
	if c.verifier == nil {
		return nil
	}
	return func(ctx context.Context, raw string) (identity.Identity, error) {
		return c.verifier.AuthenticateToken(ctx, raw, mode)
	}
}

// forward puts the caller's identity on the Event API's requests, as
// AUTH_FORWARD says: its user id in a header, or its token; nil for none.
func forward(a config.Auth) func(ctx context.Context, h http.Header) {
	switch a.Forward {
	case "header":
		return func(ctx context.Context, h http.Header) {
			if id := identity.From(ctx); id.Authenticated() {
				h.Set(a.ForwardHeader, id.UserID)
			}
		}
	case "token":
		return func(ctx context.Context, h http.Header) {
			if id := identity.From(ctx); id.Authenticated() {
				h.Set("Authorization", "Bearer "+id.Token())
			}
		}
	}
	return nil
}

// close stops the key refreshes.
func (c *callers) close() {
	if c.verifier != nil {
		c.verifier.Close()
	}
}

// purgeHandler is POST /admin/cache/purge: for callers with the admin
// scope when authentication is on, else for ADMIN_TOKEN's bearer; nil (not
// served) without a response cache or without either guard. The purge
// reaches the fleet through the entity cache's shared invalidations.
func (c *callers) purgeHandler(cfg config.Config, cache *entitycache.Cache, answers *respcache.Cache) http.Handler {
	if answers == nil || (c.verifier == nil && cfg.Cache.AdminToken == "") {
		return nil
	}
	purge := func(ctx context.Context, tags []string) int {
		n := answers.Purge(tags...)
		cache.Invalidate(ctx, tags...)
		return n
	}
	return respcache.PurgeHandler(purge, func(w http.ResponseWriter, r *http.Request) bool {
		if c.verifier != nil {
			id, err := c.verifier.Authenticate(r, identity.Required)
			switch {
			case err != nil:
				w.Header().Set("WWW-Authenticate", identity.Challenge(err))
				httpjson.Error(w, http.StatusUnauthorized, "Unauthorized", "a bearer token with the admin scope is required")
				return false
			case !id.HasScope(cfg.Auth.AdminScope):
				httpjson.Error(w, http.StatusForbidden, "Forbidden", "purging needs the "+cfg.Auth.AdminScope+" scope")
				return false
			}
			return true
		}
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), []byte("Bearer "+cfg.Cache.AdminToken)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="eventgw-admin"`)
			httpjson.Error(w, http.StatusUnauthorized, "Unauthorized", "Authorization: Bearer <ADMIN_TOKEN> is required")
			return false
		}
		return true
	})
}
