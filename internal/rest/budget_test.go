package rest_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/eventms/gateway/internal/eventsim"
	"github.com/eventms/gateway/internal/platform/config"
	"github.com/eventms/gateway/internal/servicetest"
	"github.com/eventms/gateway/internal/testwait"
	"github.com/eventms/gateway/internal/upstreamtest"
)

// A read of user 1 (UPSTREAM_MAX_RETRIES=3: 4 attempts) and addEvent's
// check of user 1 (UPSTREAM_WRITE_CHECK_RETRIES=1: 2 attempts), in flight
// at once against an upstream that fails them, each keep their own retry
// budget, with the entity cache on or off: 6 upstream attempts in all.
func TestRESTReadAndWriteCheckKeepTheirRetryBudgets(t *testing.T) {
	for _, cache := range []bool{true, false} {
		for _, readFirst := range []bool{true, false} {
			t.Run(fmt.Sprintf("cache %v, read first %v", cache, readFirst), func(t *testing.T) {
				held := upstreamtest.NewHeldFailure(t, 2) // each caller's first attempt waits for the other's
				var g *gateway
				up := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if !strings.HasPrefix(r.URL.Path, "/getUserById/") {
						g.sim.ServeHTTP(w, r)
						return
					}
					held.ServeHTTP(w, r)
				})
				g = newGateway(t, eventsim.Config{}, func(c *config.Config) {
					c.Cache.Enabled = cache
					c.Upstream.Client.Retry.MaxRetries = 3
					c.Upstream.WriteCheckRetries = 1
				}, withUpstream(up))
				t.Cleanup(held.Release) // before the upstream's server closes: it waits for held calls
				read := make(chan int, 1)
				write := make(chan int, 1)
				startRead := func() {
					go func() {
						resp, _, err := servicetest.Send(http.MethodGet, g.url+"/getEventsByUserId/1", "", "", nil)
						if err != nil {
							read <- 0
							return
						}
						read <- resp.StatusCode
					}()
				}
				startWrite := func() {
					go func() {
						resp, _, err := servicetest.Send(http.MethodPost, g.url+"/addEvent", "application/json", `{"name":"n","userId":"1"}`, nil)
						if err != nil {
							write <- 0
							return
						}
						write <- resp.StatusCode
					}()
				}
				first, second := startRead, startWrite
				if !readFirst {
					first, second = startWrite, startRead
				}
				first()
				testwait.Recv(t, held.Arrived(), "the first caller's call")
				second()
				testwait.Recv(t, held.Arrived(), "the second caller's own call (it must not join the first's)")
				held.Release()
				if s := testwait.Recv(t, read, "the read"); s != http.StatusBadGateway {
					t.Errorf("read: %d; want 502", s)
				}
				if s := testwait.Recv(t, write, "addEvent"); s != http.StatusServiceUnavailable {
					t.Errorf("addEvent: %d; want 503", s)
				}
				if n := held.Attempts(); n != 6 {
					t.Errorf("%d upstream attempts for user 1; want 6 (4 for the read, 2 for the check)", n)
				}
			})
		}
	}
}
