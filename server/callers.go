package main

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/eventms/gateway/internal/identity"
	"github.com/eventms/gateway/internal/middleware"
	"github.com/eventms/gateway/internal/platform/config"
	"github.com/eventms/gateway/internal/platform/health"
	"github.com/eventms/gateway/internal/platform/metrics"
	"github.com/eventms/gateway/internal/ratelimit"
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
	budgets, err := ratelimit.NewBudgets(ratelimit.Options{
		Requests: cfg.Limits.Rate, Cost: cfg.Limits.CostBudget, MaxKeys: cfg.Limits.MaxKeys,
		Redis: conn.Client(), Prefix: conn.KeyPrefix(), OnError: conn.OnError, Now: now,
		Exempt: identity.Privileged(cfg.Auth.AdminScope, cfg.Limits.ExemptClients),
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
		Key:              ratelimit.CallerKey(identity.UserOf, cfg.Limits.TrustedProxies),
		Budgets:          c.budgets,
		ClientNameHeader: cfg.Auth.ClientNameHeader, ClientVersionHeader: cfg.Auth.ClientVersionHeader,
		OnClient: m.ClientRequest, OnRateLimited: m.RateLimited,
	}
	if c.verifier != nil {
		c.layer.Authenticate = func(r *http.Request) (identity.Identity, error) { return c.verifier.Authenticate(r, mode) }
	}
	return c, nil
}
