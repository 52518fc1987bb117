package ratelimit

import (
	"context"
	"net/http/httptest"
	"net/netip"
	"testing"
)

func prefixes(t *testing.T, ps ...string) []netip.Prefix {
	t.Helper()
	out := make([]netip.Prefix, len(ps))
	for i, p := range ps {
		out[i] = netip.MustParsePrefix(p)
	}
	return out
}

func TestClientAddress(t *testing.T) {
	proxies := prefixes(t, "10.0.0.0/8", "2001:db8:ffff::/48")
	tests := []struct {
		name    string
		peer    string
		xff     []string
		trusted []netip.Prefix
		want    string
	}{
		{"no proxy: the peer", "203.0.113.5:1234", nil, nil, "203.0.113.5"},
		{"untrusted peer: its X-Forwarded-For is ignored", "203.0.113.5:1234", []string{"198.51.100.7"}, proxies, "203.0.113.5"},
		{"no trusted list: X-Forwarded-For is ignored", "10.0.0.1:1234", []string{"198.51.100.7"}, nil, "10.0.0.1"},
		{"trusted peer: the hop it saw", "10.0.0.1:1234", []string{"198.51.100.7"}, proxies, "198.51.100.7"},
		{"trusted peer without the header", "10.0.0.1:1234", nil, proxies, "10.0.0.1"},
		{"chain: trusted hops skipped from the right, the client's own entries ignored",
			"10.0.0.1:1234", []string{"1.2.3.4, 198.51.100.7, 10.0.0.2"}, proxies, "198.51.100.7"},
		{"a spoofed trusted address to the left of the client changes nothing",
			"10.0.0.1:1234", []string{"10.9.9.9, 198.51.100.7"}, proxies, "198.51.100.7"},
		{"several header lines read as one list", "10.0.0.1:1234", []string{"1.2.3.4", "198.51.100.7, 10.0.0.2"}, proxies, "198.51.100.7"},
		{"malformed entries ignored", "10.0.0.1:1234", []string{"198.51.100.7, not-an-ip, , 10.0.0.2,unknown"}, proxies, "198.51.100.7"},
		{"every hop trusted: the leftmost", "10.0.0.1:1234", []string{"10.0.0.3, 10.0.0.2"}, proxies, "10.0.0.3"},
		{"only malformed entries: the peer", "10.0.0.1:1234", []string{"garbage"}, proxies, "10.0.0.1"},
		{"entries with ports", "10.0.0.1:1234", []string{"198.51.100.7:5555, 10.0.0.2:80"}, proxies, "198.51.100.7"},
		{"IPv6 peer", "[2001:db8::1]:443", nil, nil, "2001:db8::1"},
		{"bracketed IPv6 entry without a port", "10.0.0.1:80", []string{"[2001:db8:1::9]"}, proxies, "2001:db8:1::9"},
		{"half a bracket is malformed", "10.0.0.1:80", []string{"198.51.100.7, [2001:db8:1::9"}, proxies, "198.51.100.7"},
		{"IPv6 client behind an IPv6 proxy", "[2001:db8:ffff::1]:443", []string{"[2001:db8:1::9]:1234"}, proxies, "2001:db8:1::9"},
		{"IPv4-mapped peer matches an IPv4 prefix", "[::ffff:10.0.0.1]:80", []string{"198.51.100.7"}, proxies, "198.51.100.7"},
		{"IPv4-mapped client written as IPv4", "10.0.0.1:80", []string{"::ffff:198.51.100.7"}, proxies, "198.51.100.7"},
		{"zone dropped", "[fe80::1%eth0]:80", nil, nil, "fe80::1"},
		{"a peer that is no IP address", "@", []string{"198.51.100.7"}, proxies, "@"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.peer
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := ClientAddress(r, tt.trusted); got != tt.want {
				t.Errorf("ClientAddress = %q; want %q", got, tt.want)
			}
		})
	}
}

func TestCallerKey(t *testing.T) {
	type uid struct{}
	userID := func(ctx context.Context) (string, bool) { id, ok := ctx.Value(uid{}).(string); return id, ok }
	key := CallerKey(userID, prefixes(t, "10.0.0.0/8"))
	tests := []struct {
		name, user, peer, xff, want string
	}{
		{"a user by its id", "3", "203.0.113.5:1", "", "user:3"},
		{"anonymous by address", "", "203.0.113.5:1", "", "addr:203.0.113.5"},
		{"a user id that looks like an address", "203.0.113.5", "203.0.113.5:1", "", "user:203.0.113.5"},
		{"anonymous behind a proxy", "", "10.0.0.1:1", "198.51.100.7", "addr:198.51.100.7"},
		{"IPv6 by its /64", "", "[2001:db8:1:2:aaaa::1]:443", "", "addr:2001:db8:1:2::/64"},
		{"Unix socket", "", "@", "", "addr:@"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.peer
			if tt.xff != "" {
				r.Header.Set("X-Forwarded-For", tt.xff)
			}
			if tt.user != "" {
				r = r.WithContext(context.WithValue(r.Context(), uid{}, tt.user))
			}
			if got := key(r); got != tt.want {
				t.Errorf("key = %q; want %q", got, tt.want)
			}
		})
	}
	if got := CallerKey(nil, nil)(httptest.NewRequest("GET", "/", nil)); got != "addr:192.0.2.1" {
		t.Errorf("without identities: %q; want the address", got)
	}
}
