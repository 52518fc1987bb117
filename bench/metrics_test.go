package main

import (
	"strings"
	"testing"
)

func TestParsePromSumsSeriesOfAName(t *testing.T) {
	text := `# HELP gateway_subscriptions Active eventAdded subscriptions (all transports).
# TYPE gateway_subscriptions gauge
gateway_subscriptions 1000
gateway_subscriptions_dropped 3
gateway_redis_errors_total{op="get"} 2
gateway_redis_errors_total{op="a b}"} 5 1712345678
go_memstats_heap_inuse_bytes 3.5e+07
`
	p, err := parseProm(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]float64{
		"gateway_subscriptions":        1000,
		"gateway_redis_errors_total":   7,
		"go_memstats_heap_inuse_bytes": 3.5e7,
		"absent":                       0,
	} {
		if got := p.sum(name); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
}
