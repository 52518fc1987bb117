package config

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/eventms/gateway/internal/ratelimit"
)

func TestLimitsDefaultToOff(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	l := c.Limits
	if !l.Rate.IsZero() || !l.CostBudget.IsZero() || len(l.TrustedProxies) != 0 || len(l.ExemptClients) != 0 || l.MaxKeys != 100000 {
		t.Errorf("defaults: %+v; want both budgets off, no proxies, no exemptions, 100000 keys", l)
	}
}

func TestLimitsValues(t *testing.T) {
	c, err := Load(env(map[string]string{
		"RATE_LIMIT": "8/1m", "COST_BUDGET": "50000/m",
		"TRUSTED_PROXIES":           "10.0.0.0/8, 192.0.2.7 ,2001:db8::/32, 10.1.2.3/16, ::ffff:198.51.100.0/120",
		"RATE_LIMIT_EXEMPT_CLIENTS": "billing, ops-console",
		"RATE_LIMIT_MAX_KEYS":       "500",
	}))
	if err != nil {
		t.Fatal(err)
	}
	l := c.Limits
	if l.Rate != (ratelimit.Rate{N: 8, Per: time.Minute}) || l.CostBudget != (ratelimit.Rate{N: 50000, Per: time.Minute}) || l.MaxKeys != 500 {
		t.Errorf("rates %v %v, max keys %d", l.Rate, l.CostBudget, l.MaxKeys)
	}
	want := []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.7/32"), netip.MustParsePrefix("2001:db8::/32"),
		netip.MustParsePrefix("10.1.0.0/16"), netip.MustParsePrefix("198.51.100.0/24"),
	}
	if !slices.Equal(l.TrustedProxies, want) {
		t.Errorf("trusted proxies %v; want %v (addresses as full prefixes, host bits masked, IPv4-mapped as IPv4)", l.TrustedProxies, want)
	}
	if !slices.Equal(l.ExemptClients, []string{"billing", "ops-console"}) {
		t.Errorf("exempt clients %q", l.ExemptClients)
	}
}

func TestLimitsInvalidValuesNameTheVariable(t *testing.T) {
	tests := []struct{ name, value, want string }{
		{"RATE_LIMIT", "600", `RATE_LIMIT="600": want N/period, e.g. 600/1m`},
		{"RATE_LIMIT", "600/minute", `RATE_LIMIT="600/minute": want N/period, e.g. 600/1m, 10/s or 100/1h, or empty for off (period "minute"`},
		{"COST_BUDGET", "0/1m", `COST_BUDGET="0/1m": want N/period, e.g. 50000/1m`},
		{"TRUSTED_PROXIES", "10.0.0.0/8,proxy.internal", `TRUSTED_PROXIES="proxy.internal": want comma-separated CIDRs or IP addresses`},
		{"TRUSTED_PROXIES", "10.0.0.0/33", `TRUSTED_PROXIES="10.0.0.0/33"`},
		{"RATE_LIMIT_MAX_KEYS", "0", `RATE_LIMIT_MAX_KEYS="0": want an integer from 1 to 10000000`},
	}
	for _, tt := range tests {
		_, err := Load(env(map[string]string{tt.name: tt.value}))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s=%s: err %v, want it to contain %q", tt.name, tt.value, err, tt.want)
		}
	}
}

// Trusting every peer lets any client choose its address: allowed, but
// said at start-up.
func TestTrustingEveryPeerIsWarnedAbout(t *testing.T) {
	c, err := Load(env(map[string]string{"TRUSTED_PROXIES": "0.0.0.0/0"}))
	if err != nil {
		t.Fatal(err)
	}
	if w := strings.Join(c.Warnings, "; "); !strings.Contains(w, "TRUSTED_PROXIES contains 0.0.0.0/0: every peer is trusted") {
		t.Errorf("warnings %q; want one about trusting every peer", w)
	}
}
