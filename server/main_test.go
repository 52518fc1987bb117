package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/eventms/gateway/internal/config"
	"github.com/eventms/gateway/internal/eventsim"
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

// startRun starts run in the background and returns its address once it
// listens, the function that asks it to stop, and where its result arrives.
func startRun(cfg settings) (addr string, stop context.CancelFunc, done <-chan error) {
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan string, 1)
	result := make(chan error, 1)
	go func() {
		result <- run(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), func(a string) { addrc <- a })
	}()
	return <-addrc, cancel, result
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
	cfg := testConfig(t, map[string]string{"PORT": "0", "SIM_EVENT_DELAY": "400ms", "SHUTDOWN_DRAIN_DELAY": "200ms", "SIM_NETWORK_ERROR_RATE": "0"})
	addr, cancel, done := startRun(cfg)

	type result struct {
		status int
		body   string
		err    error
	}
	inflight := make(chan result, 1)
	go func() { s, b, err := slowQuery(addr); inflight <- result{s, b, err} }()
	time.Sleep(100 * time.Millisecond) // the query is now waiting on the upstream
	cancel()
	time.Sleep(50 * time.Millisecond) // inside the drain delay: still serving, not ready
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
	cfg := testConfig(t, map[string]string{"PORT": "0", "SIM_EVENT_DELAY": "3s", "SHUTDOWN_TIMEOUT": "100ms"})
	addr, cancel, done := startRun(cfg)
	go slowQuery(addr) //nolint:errcheck // cut off on purpose
	time.Sleep(100 * time.Millisecond)
	cancel()
	if err := <-done; err == nil || !strings.Contains(err.Error(), "did not finish within 100ms") {
		t.Errorf("run returned %v, want the shutdown timeout", err)
	}
}

func TestSIGTERMExitsZeroAfterDraining(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "GATEWAY_TEST_MAIN=1", "PORT=0", "SIM_EVENT_DELAY=300ms", "LOG_FORMAT=json")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill() //nolint:errcheck // already exited when the test passes
	lines := bufio.NewScanner(stderr)
	var addr, first string
	for addr == "" && lines.Scan() {
		var rec map[string]any
		_ = json.Unmarshal(lines.Bytes(), &rec)
		if first == "" {
			first, _ = rec["msg"].(string)
		}
		if rec["msg"] == "gateway listening" {
			addr = strings.Replace(rec["addr"].(string), "[::]", "127.0.0.1", 1)
		}
	}
	if !strings.Contains(first, "embedded Event API simulator") {
		t.Errorf("first log line %q does not say the simulator is in use", first)
	}
	go io.Copy(io.Discard, stderr) //nolint:errcheck // drain the rest
	inflight := make(chan int, 1)
	go func() { s, _, _ := slowQuery(addr); inflight <- s }()
	time.Sleep(100 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if s := <-inflight; s != 200 {
		t.Errorf("in-flight request got %d, want 200", s)
	}
	err = cmd.Wait()
	var exit *exec.ExitError
	if errors.As(err, &exit) || err != nil {
		t.Errorf("exit: %v, want status 0", err)
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
