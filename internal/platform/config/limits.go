package config

import (
	"fmt"
	"net/netip"

	"github.com/eventms/gateway/internal/platform/envvar"
	"github.com/eventms/gateway/internal/ratelimit"
)

// Limits configures what each caller may spend (internal/ratelimit): a
// request rate and a budget of GraphQL complexity, keyed by the token's
// user id, else by the client's address. With REDIS_URL the budgets are
// the fleet's; without it, each replica's. A rate is N/period: 600/1m,
// 10/s, 100/1h; empty is off.
//
//	RATE_LIMIT                 Rate            (off)   requests per caller, e.g. 600/1m
//	COST_BUDGET                CostBudget      (off)   GraphQL complexity per caller, e.g. 50000/1m
//	TRUSTED_PROXIES            TrustedProxies  (none)  CIDRs or IPs whose X-Forwarded-For names the client
//	RATE_LIMIT_EXEMPT_CLIENTS  ExemptClients   (none)  user ids (the token's user claim) that spend from neither budget
//	RATE_LIMIT_MAX_KEYS        MaxKeys         100000  callers held per budget in a replica's memory
type Limits struct {
	Rate       ratelimit.Rate
	CostBudget ratelimit.Rate
	// TrustedProxies are the peers whose X-Forwarded-For is believed
	// (ratelimit.ClientAddress); none: the peer is the client.
	TrustedProxies []netip.Prefix
	// ExemptClients are authenticated user ids (what a token proved, never
	// a header a caller chooses) exempt from both budgets.
	ExemptClients []string
	MaxKeys       int
}

// loadLimits reads Limits, reporting bad values to r.
func loadLimits(r *envvar.Reader) Limits {
	return Limits{
		Rate:           readRate(r, "RATE_LIMIT", "600/1m"),
		CostBudget:     readRate(r, "COST_BUDGET", "50000/1m"),
		TrustedProxies: readPrefixes(r, "TRUSTED_PROXIES"),
		ExemptClients:  r.List("RATE_LIMIT_EXEMPT_CLIENTS", ""),
		MaxKeys:        r.Integer("RATE_LIMIT_MAX_KEYS", 100000, 1, 10000000),
	}
}

// readRate reads name as a ratelimit.Rate; empty is off.
func readRate(r *envvar.Reader, name, example string) ratelimit.Rate {
	v, ok := r.Raw(name)
	if !ok {
		return ratelimit.Rate{}
	}
	rate, err := ratelimit.ParseRate(v)
	if err != nil {
		r.Fail(name, v, fmt.Sprintf("N/period, e.g. %s, 10/s or 100/1h, or empty for off (%v)", example, err))
	}
	return rate
}

// readPrefixes reads name as a comma-separated list of CIDRs and IP
// addresses (an address is a prefix of its full length).
func readPrefixes(r *envvar.Reader, name string) []netip.Prefix {
	var out []netip.Prefix
	for _, item := range r.List(name, "") {
		p, err := netip.ParsePrefix(item)
		if err != nil {
			a, aerr := netip.ParseAddr(item)
			if aerr != nil {
				r.Fail(name, item, "comma-separated CIDRs or IP addresses, e.g. 10.0.0.0/8,192.0.2.7,2001:db8::/32")
				continue
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
			// Clients are compared unmapped (192.0.2.7, not ::ffff:192.0.2.7).
			p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
		}
		p = p.Masked()
		if p.Bits() == 0 {
			r.Warn(fmt.Sprintf("%s contains %s: every peer is trusted, so any client can choose its address with X-Forwarded-For", name, p))
		}
		out = append(out, p)
	}
	return out
}
