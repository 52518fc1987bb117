package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/eventms/gateway/internal/eventsim"
	"github.com/eventms/gateway/internal/platform/config"
	"github.com/eventms/gateway/internal/testwait"
)

// When GATEWAY_TEST_MAIN is set this test binary is the server, so a test can
// send it a real signal.
func TestMain(m *testing.M) {
	if os.Getenv("GATEWAY_TEST_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

func testConfig(t *testing.T, env map[string]string) settings {
	t.Helper()
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	cfg, err := config.Load(lookup)
	if err != nil {
		t.Fatal(err)
	}
	sim, err := eventsim.ConfigFromEnv(lookup)
	if err != nil {
		t.Fatal(err)
	}
	return settings{Config: cfg, sim: sim}
}

// startRun starts run in the background, logging to log, and returns its
// address once it listens, the function that asks it to stop, and where its
// result arrives.
func startRun(cfg settings, log *slog.Logger) (addr string, stop context.CancelFunc, done <-chan error) {
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan string, 1)
	result := make(chan error, 1)
	go func() {
		result <- run(ctx, cfg, log, func(a string) { addrc <- a })
	}()
	return <-addrc, cancel, result
}

func quietLog() *slog.Logger { return slog.New(slog.DiscardHandler) }

// logSignal is a slog.Handler that discards every record but closes seen
// once a record with message msg is logged: run logs "shutting down:
// draining" once /readyz reports draining, so a test can act inside the
// drain delay without guessing when it starts.
type logSignal struct {
	msg  string
	once *sync.Once
	seen chan struct{}
}

func newLogSignal(msg string) logSignal {
	return logSignal{msg: msg, once: new(sync.Once), seen: make(chan struct{})}
}

func (h logSignal) Enabled(context.Context, slog.Level) bool { return true }
func (h logSignal) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h logSignal) WithGroup(string) slog.Handler            { return h }
func (h logSignal) Handle(_ context.Context, r slog.Record) error {
	if r.Message == h.msg {
		h.once.Do(func() { close(h.seen) })
	}
	return nil
}

// heldUpstream is the simulated Event API (no delay, no faults) behind a
// gate: an event lookup reports its arrival on arrived, then is held until
// release is called (or its client gives up). Other routes, such as the
// readiness probe's, are served at once. A test knows the gateway's query is
// in flight, and keeps it in flight, for as long as it needs to.
type heldUpstream struct {
	URL     string
	arrived chan struct{}
	release func()
}

func startHeldUpstream(t *testing.T) *heldUpstream {
	t.Helper()
	sim := eventsim.New(eventsim.Config{})
	arrived, held := make(chan struct{}, 16), make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/getEventById/") {
			select {
			case arrived <- struct{}{}:
			default:
			}
			select {
			case <-held:
			case <-r.Context().Done():
				return
			}
		}
		sim.ServeHTTP(w, r)
	}))
	var once sync.Once
	u := &heldUpstream{URL: srv.URL, arrived: arrived, release: func() { once.Do(func() { close(held) }) }}
	t.Cleanup(srv.Close)
	t.Cleanup(u.release) // runs first: nothing is still held when the server closes
	return u
}

// slowQuery asks for an event, which the simulator answers after its delay.
func slowQuery(addr string) (int, string, error) {
	resp, err := http.Post("http://"+addr+"/graphql", "application/json",
		strings.NewReader(`{"query":"{ event(id: \"event-1\") { id name } }"}`))
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

func TestShutdownDrainsInFlightRequests(t *testing.T) {
	up := startHeldUpstream(t)
	cfg := testConfig(t, map[string]string{"PORT": "0", "EVENT_API_BASE_URL": up.URL, "SHUTDOWN_DRAIN_DELAY": "200ms"})
	draining := newLogSignal("shutting down: draining")
	addr, cancel, done := startRun(cfg, slog.New(draining))

	type result struct {
		status int
		body   string
		err    error
	}
	inflight := make(chan result, 1)
	go func() { s, b, err := slowQuery(addr); inflight <- result{s, b, err} }()
	testwait.Recv(t, up.arrived, "the query to reach the upstream") // the query is now waiting on the upstream
	cancel()
	testwait.Recv(t, draining.seen, "the drain to start") // inside the drain delay: still serving, not ready
	resp, err := http.Get("http://" + addr + "/readyz")
	if err != nil {
		t.Fatalf("readyz during the drain delay: %v", err)
	}
	var ready struct{ Status string }
	_ = json.NewDecoder(resp.Body).Decode(&ready)
	resp.Body.Close()
	if resp.StatusCode != 503 || ready.Status != "draining" {
		t.Errorf("readyz while draining: %d %q, want 503 draining", resp.StatusCode, ready.Status)
	}
	// Past the drain delay the listener closes; the query, still held
	// upstream, is now the in-flight request the shutdown must wait for.
	testwait.Until(t, "the gateway to stop accepting connections", func() bool {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			return true
		}
		c.Close()
		return false
	})
	up.release()
	r := <-inflight
	if r.err != nil || r.status != 200 || !strings.Contains(r.body, `"Tech Conference"`) {
		t.Errorf("in-flight request: %d %s %v, want it to complete", r.status, r.body, r.err)
	}
	if err := <-done; err != nil {
		t.Errorf("run returned %v, want a clean stop", err)
	}
	if _, err := http.Get("http://" + addr + "/healthz"); err == nil {
		t.Error("still accepting connections after shutdown")
	}
}

func TestShutdownGivesUpAfterItsTimeout(t *testing.T) {
	up := startHeldUpstream(t) // holds the query past the shutdown timeout
	cfg := testConfig(t, map[string]string{"PORT": "0", "EVENT_API_BASE_URL": up.URL, "SHUTDOWN_TIMEOUT": "100ms"})
	addr, cancel, done := startRun(cfg, quietLog())
	go slowQuery(addr) //nolint:errcheck // cut off on purpose
	testwait.Recv(t, up.arrived, "the query to reach the upstream")
	cancel()
	if err := <-done; err == nil || !strings.Contains(err.Error(), "did not finish within 100ms") {
		t.Errorf("run returned %v, want the shutdown timeout", err)
	}
}

func TestSIGTERMExitsZeroAfterDraining(t *testing.T) {
	cmd, addr, first, simURL := startBinary(t, "SIM_EVENT_DELAY=300ms")
	if !strings.Contains(first, "embedded Event API simulator") {
		t.Errorf("first log line %q does not say the simulator is in use", first)
	}
	inflight := make(chan int, 1)
	go func() { s, _, _ := slowQuery(addr); inflight <- s }()
	// The child's simulator counts the lookup as it arrives, before its delay.
	testwait.Until(t, "the query to reach the child's simulator", func() bool {
		return simCalls(t, simURL, eventsim.RouteGetEventByID) > 0
	})
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if s := <-inflight; s != 200 {
		t.Errorf("in-flight request got %d, want 200", s)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("exit: %v, want status 0", err)
	}
}

// startBinary runs this test binary as the real server with env added,
// and returns it once it listens, with its address, its first log line's
// message and the url that line names (the embedded simulator's).
func startBinary(t *testing.T, env ...string) (cmd *exec.Cmd, addr, first, firstURL string) {
	t.Helper()
	cmd = exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(append(os.Environ(), "GATEWAY_TEST_MAIN=1", "PORT=0", "LOG_FORMAT=json"), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() }) // already exited when the test passes
	lines := bufio.NewScanner(stderr)
	for addr == "" && lines.Scan() {
		var rec map[string]any
		_ = json.Unmarshal(lines.Bytes(), &rec)
		if first == "" {
			first, _ = rec["msg"].(string)
			firstURL, _ = rec["url"].(string)
		}
		if rec["msg"] == "gateway listening" {
			addr = strings.Replace(rec["addr"].(string), "[::]", "127.0.0.1", 1)
		}
	}
	if addr == "" {
		t.Fatal("the server never listened")
	}
	go io.Copy(io.Discard, stderr) //nolint:errcheck // drain the rest
	return cmd, addr, first, firstURL
}

// fragmentBomb is a document of levels named fragments, each spreading the
// previous fanout times: a few hundred bytes that expand to fanout^levels fields.
func fragmentBomb(levels, fanout int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "query { ...F%d } fragment F0 on Query { users { id } }", levels)
	for l := 1; l <= levels; l++ {
		fmt.Fprintf(&b, " fragment F%d on Query {", l)
		for i := 0; i < fanout; i++ {
			fmt.Fprintf(&b, " ...F%d", l-1)
		}
		b.WriteString(" }")
	}
	return b.String()
}

// The audit's attack on the real binary in production mode: fragment
// bombs from several clients are each refused with a code, the server keeps
// answering ordinary queries, and SIGTERM afterwards exits 0.
func TestFragmentBombsThenSIGTERMExitsZero(t *testing.T) {
	sim := httptest.NewServer(eventsim.New(eventsim.Config{}))
	defer sim.Close()
	cmd, addr, _, _ := startBinary(t, "APP_ENV=production", "EVENT_API_BASE_URL="+sim.URL, "AUTH_MODE=off", "SHUTDOWN_DRAIN_DELAY=0s")
	post := func(query string) (int, string, error) {
		body, _ := json.Marshal(map[string]string{"query": query})
		resp, err := http.Post("http://"+addr+"/graphql", "application/json", bytes.NewReader(body))
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), err
	}
	var g errgroup.Group
	for _, levels := range []int{6, 8, 12, 20} {
		for _, fanout := range []int{10, 50} {
			g.Go(func() error {
				status, body, err := post(fragmentBomb(levels, fanout))
				if err != nil {
					return err
				}
				if status != 200 || !strings.Contains(body, `"code":"QUERY_TOO_LARGE"`) || strings.Contains(body, `"data"`) {
					return fmt.Errorf("bomb %d×%d: %d %.200s; want QUERY_TOO_LARGE without data", levels, fanout, status, body)
				}
				return nil
			})
		}
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	if status, body, err := post(`{ user(id: "1") { userName } }`); err != nil || status != 200 || !strings.Contains(body, "john_doe") {
		t.Fatalf("ordinary query after the attack: %d %s %v", status, body, err)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("exit after the attack: %v, want status 0", err)
	}
}

// simCalls asks a simulator running in another process how many calls route
// has received.
func simCalls(t *testing.T, simURL, route string) int {
	t.Helper()
	resp, err := http.Get(simURL + eventsim.StatsPath)
	if err != nil {
		t.Fatalf("simulator stats: %v", err)
	}
	defer resp.Body.Close()
	var st eventsim.Stats
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatalf("simulator stats: %v", err)
	}
	return st.Calls[route]
}

// The gateway listens on LISTEN_ADDR's host and PORT's port; without
// LISTEN_ADDR, on every interface.
func TestListenAddr(t *testing.T) {
	tests := []struct {
		env      map[string]string
		wantHost string
	}{
		{map[string]string{"PORT": "0"}, "::"},
		{map[string]string{"PORT": "0", "LISTEN_ADDR": "127.0.0.1"}, "127.0.0.1"},
	}
	for _, tt := range tests {
		addr, stop, done := startRun(testConfig(t, tt.env), quietLog())
		host, _, err := net.SplitHostPort(addr)
		if err != nil || host != tt.wantHost {
			t.Errorf("%v: listening on %q; want host %s", tt.env, addr, tt.wantHost)
		}
		stop()
		if err := <-done; err != nil {
			t.Errorf("%v: run: %v", tt.env, err)
		}
	}
}

func TestBadConfigurationStopsWithAClearMessage(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "GATEWAY_TEST_MAIN=1", "PORT=eighty", "UPSTREAM_TIMEOUT=soon")
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 2 {
		t.Fatalf("exit %v, want status 2", err)
	}
	for _, want := range []string{`PORT="eighty": want an integer`, `UPSTREAM_TIMEOUT="soon": want a Go duration`} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// A client's traceparent reaches the upstream in the same trace, through
// the real binary, and the answer names the trace.
// With tracing on, the upstream call's parent is the gateway's own span;
// with it off (no span recorded, no otelhttp on the call), the client's
// trace context still reaches the upstream unchanged.
func TestTraceContextReachesTheUpstream(t *testing.T) {
	const traceID, clientSpan = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	for _, tc := range []struct {
		name        string
		env         []string
		ownSpanWant bool
	}{
		{"tracing on", []string{"OTEL_TRACES_EXPORTER=console", "OTEL_TRACES_SAMPLER=parentbased_always_on"}, true},
		{"tracing off", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sim := eventsim.New(eventsim.Config{})
			seen := make(chan string, 16)
			upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tp := r.Header.Get("Traceparent"); tp != "" && r.URL.Path != "/getUserById/__readyz__" {
					select {
					case seen <- tp:
					default:
					}
				}
				sim.ServeHTTP(w, r)
			}))
			defer upstream.Close()
			_, addr, _, _ := startBinary(t, append([]string{"EVENT_API_BASE_URL=" + upstream.URL, "CACHE=off"}, tc.env...)...)
			req, _ := http.NewRequest("POST", "http://"+addr+"/graphql", strings.NewReader(`{"query":"{ user(id: \"1\") { userName } }"}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Traceparent", "00-"+traceID+"-"+clientSpan+"-01")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if got := resp.Header.Get("X-Trace-ID"); got != traceID {
				t.Errorf("X-Trace-ID %q; want the client's trace %s", got, traceID)
			}
			tp := testwait.Recv(t, seen, "the upstream call")
			parts := strings.Split(tp, "-")
			if len(parts) != 4 || parts[1] != traceID {
				t.Fatalf("upstream traceparent %q; want trace %s", tp, traceID)
			}
			if own := parts[2] != clientSpan; own != tc.ownSpanWant {
				t.Errorf("upstream traceparent %q: parent is the gateway's own span: %v, want %v", tp, own, tc.ownSpanWant)
			}
		})
	}
}

// A nested deferred answer still pending, another left by its client: the
// process answers the first to its end and exits 0 on SIGTERM.
func TestPendingDeferredAnswersThenSIGTERMExitsZero(t *testing.T) {
	sim := httptest.NewServer(eventsim.New(eventsim.Config{EventDelay: 300 * time.Millisecond}))
	defer sim.Close()
	cmd, addr, _, _ := startBinary(t, "APP_ENV=production", "EVENT_API_BASE_URL="+sim.URL, "AUTH_MODE=off", "SHUTDOWN_DRAIN_DELAY=0s")
	body, _ := json.Marshal(map[string]string{"query": `{ user(id: "1") { id ... @defer { id ... @defer { email events { id } } } } }`})
	send := func(ctx context.Context) (*http.Response, error) {
		req, _ := http.NewRequestWithContext(ctx, "POST", "http://"+addr+"/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "multipart/mixed;deferSpec=20220824, application/json")
		return http.DefaultClient.Do(req)
	}
	leaving, leave := context.WithCancel(context.Background())
	left, err := send(leaving)
	if err != nil {
		t.Fatal(err)
	}
	leave()
	left.Body.Close()
	pending, err := send(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer pending.Body.Close()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	all, err := io.ReadAll(pending.Body)
	if err != nil || !strings.Contains(string(all), `"hasNext":false`) || !strings.Contains(string(all), "event-3") {
		t.Errorf("the pending answer: %v %s; want it whole, ending with hasNext false", err, all)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("exit: %v, want status 0", err)
	}
}
