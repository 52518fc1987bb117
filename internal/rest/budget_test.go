package rest_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/eventms/gateway/internal/eventsim"
	"github.com/eventms/gateway/internal/platform/config"
	"github.com/eventms/gateway/internal/servicetest"
	"github.com/eventms/gateway/internal/testwait"
)

// A read of user 1 (UPSTREAM_MAX_RETRIES=3: 4 attempts) and addEvent's
// check of user 1 (UPSTREAM_WRITE_CHECK_RETRIES=1: 2 attempts), in flight
// at once against an upstream that fails them, each keep their own retry
// budget, with the entity cache on or off: 6 upstream attempts in all.
func TestRESTReadAndWriteCheckKeepTheirRetryBudgets(t *testing.T) {
	for _, cache := range []bool{true, false} {
		for _, readFirst := range []bool{true, false} {
			t.Run(fmt.Sprintf("cache %v, read first %v", cache, readFirst), func(t *testing.T) {
				var attempts atomic.Int32
				arrived, release := make(chan struct{}, 2), make(chan struct{})
				var g *gateway
				up := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if !strings.HasPrefix(r.URL.Path, "/getUserById/") {
						g.sim.ServeHTTP(w, r)
						return
					}
					if attempts.Add(1) <= 2 { // each caller's first attempt waits for the other's
						arrived <- struct{}{}
						select {
						case <-release:
						case <-r.Context().Done():
							return
						}
					}
					w.WriteHeader(http.StatusBadGateway)
				})
				g = newGateway(t, eventsim.Config{}, func(c *config.Config) {
					c.Cache.Enabled = cache
					c.Upstream.Client.Retry.MaxRetries = 3
					c.Upstream.WriteCheckRetries = 1
				}, withUpstream(up))
				var once atomic.Bool
				open := func() {
					if once.CompareAndSwap(false, true) {
						close(release)
					}
				}
				t.Cleanup(open)
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
				testwait.Recv(t, arrived, "the first caller's call")
				second()
				testwait.Recv(t, arrived, "the second caller's own call (it must not join the first's)")
				open()
				if s := testwait.Recv(t, read, "the read"); s != http.StatusBadGateway {
					t.Errorf("read: %d; want 502", s)
				}
				if s := testwait.Recv(t, write, "addEvent"); s != http.StatusServiceUnavailable {
					t.Errorf("addEvent: %d; want 503", s)
				}
				if n := attempts.Load(); n != 6 {
					t.Errorf("%d upstream attempts for user 1; want 6 (4 for the read, 2 for the check)", n)
				}
			})
		}
	}
}
