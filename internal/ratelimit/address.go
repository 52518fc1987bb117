package ratelimit

import (
	"net/http"
	"net/netip"
	"strings"
)

// ClientAddress is the address of the client that sent r. It is the direct
// peer (r.RemoteAddr), unless the peer is a trusted proxy: then
// X-Forwarded-For is read from the right (each proxy appends the address
// it received from), trusted hops are skipped, and the first untrusted hop
// is the client; entries that are not addresses are ignored. The hops to
// the left of it were written by the client itself and prove nothing.
// When every hop is trusted, the leftmost is the client. An address is
// written in its usual form (IPv4 also when it came as IPv4-mapped IPv6,
// without a zone); a peer that is no IP address (a Unix socket) is
// returned as r.RemoteAddr has it.
func ClientAddress(r *http.Request, trusted []netip.Prefix) string {
	if a, ok := clientAddr(r, trusted); ok {
		return a.String()
	}
	return r.RemoteAddr
}

func clientAddr(r *http.Request, trusted []netip.Prefix) (netip.Addr, bool) {
	peer, ok := parseAddr(r.RemoteAddr)
	if !ok || !isTrusted(peer, trusted) {
		return peer, ok
	}
	client := peer
	hops := r.Header.Values("X-Forwarded-For")
	for i := len(hops) - 1; i >= 0; i-- {
		line := hops[i]
		for line != "" {
			var entry string
			if j := strings.LastIndexByte(line, ','); j >= 0 {
				line, entry = line[:j], line[j+1:]
			} else {
				line, entry = "", line
			}
			a, ok := parseAddr(strings.TrimSpace(entry))
			if !ok {
				continue
			}
			if !isTrusted(a, trusted) {
				return a, true
			}
			client = a
		}
	}
	return client, true
}

// parseAddr reads an address with or without a port ("192.0.2.1",
// "192.0.2.1:443", "2001:db8::1", "[2001:db8::1]:443", "[2001:db8::1]").
func parseAddr(s string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		if ap, perr := netip.ParseAddrPort(s); perr == nil {
			a = ap.Addr()
		} else if inner, ok := strings.CutPrefix(s, "["); ok && strings.HasSuffix(inner, "]") {
			if a, err = netip.ParseAddr(inner[:len(inner)-1]); err != nil {
				return netip.Addr{}, false
			}
		} else {
			return netip.Addr{}, false
		}
	}
	return a.Unmap().WithZone(""), true
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
