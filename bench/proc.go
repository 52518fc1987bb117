package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/eventms/gateway/internal/eventsim"
)

// gatewayModule is the module path of the repository root, whose go.mod
// gatewayRoot looks for.
const gatewayModule = "github.com/eventms/gateway"

// gatewayRoot walks up from the working directory to the folder whose go.mod
// declares gatewayModule, so the bench runs the same from the repository root
// (go -C bench run .) as from bench/ (go run .).
func gatewayRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && modulePath(b) == gatewayModule {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod for module %s in the working directory or above it: run from the repository or its bench folder", gatewayModule)
		}
		dir = parent
	}
}

// modulePath is the path in a go.mod's module directive, or "".
func modulePath(gomod []byte) string {
	for _, l := range strings.Split(string(gomod), "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(l), "module"); ok && (rest == "" || rest[0] == ' ' || rest[0] == '\t') {
			rest, _, _ = strings.Cut(rest, "//")
			return strings.Trim(strings.TrimSpace(rest), `"`+"`")
		}
	}
	return ""
}

// buildServer compiles root/server once for every suite.
func buildServer(root string) (string, func(), error) {
	dir, err := os.MkdirTemp("", "gateway-bench")
	if err != nil {
		return "", nil, err
	}
	bin := filepath.Join(dir, "server")
	cmd := exec.Command("go", "build", "-o", bin, "./server")
	cmd.Dir = root
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		os.RemoveAll(dir)
		return "", nil, fmt.Errorf("build server: %w", err)
	}
	return bin, func() { os.RemoveAll(dir) }, nil
}

// stack is a simulator in this process and a gateway process in front of it.
type stack struct {
	sim  *eventsim.Server
	cmd  *exec.Cmd
	url  string
	http *http.Client
}

// start runs a simulator with simCfg and the server binary against it with
// the extra environment env. The entity cache is off unless env turns it
// on: these suites measure what reaches the upstream, which the cache
// would answer from memory after the first request.
func start(bin string, simCfg eventsim.Config, env ...string) (*stack, error) {
	sim, err := eventsim.Start(simCfg, "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s, err := startProcess(bin, sim.URL, append([]string{"CACHE=off"}, env...)...)
	if err != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = sim.Close(ctx)
		return nil, err
	}
	s.sim = sim
	return s, nil
}

// startProcess runs the server binary against the upstream at simURL with
// the extra environment env, and waits until it answers /healthz. The
// stack's sim is nil: the caller owns the simulator (a fleet shares one).
// The bench's own REDIS_* variables are not passed on: a suite that wants
// Redis names it in env.
func startProcess(bin, simURL string, env ...string) (*stack, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "REDIS_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	// IDEMPOTENCY_LEASE must exceed REQUEST_TIMEOUT (the server refuses to
	// start otherwise); its default is 30s.
	cmd.Env = append(cmd.Env, "EVENT_API_BASE_URL="+simURL, "PORT="+strconv.Itoa(port), "LOG_LEVEL=warn",
		"REQUEST_TIMEOUT=30s", "HTTP_WRITE_TIMEOUT=60s", "IDEMPOTENCY_LEASE=1m")
	cmd.Env = append(cmd.Env, env...)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &stack{cmd: cmd, url: fmt.Sprintf("http://127.0.0.1:%d", port),
		http: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1024, MaxConnsPerHost: 0}, Timeout: time.Minute}}
	for i := 0; i < 100; i++ { // bounded wait for the port to open
		if resp, err := s.http.Get(s.url + "/healthz"); err == nil {
			resp.Body.Close()
			return s, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.stop()
	return nil, fmt.Errorf("server did not start on port %d", port)
}

func (s *stack) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	_ = s.cmd.Wait()
	if s.sim == nil { // closed already (the cache suite's outage)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = s.sim.Close(ctx)
}

// peakRSS is the server process's peak resident memory, in MiB.
func (s *stack) peakRSS() float64 { return float64(s.procStatusKB("VmHWM")) / 1024 }

// rssKB is the server process's resident memory now, in KiB.
func (s *stack) rssKB() int { return s.procStatusKB("VmRSS") }

// procStatusKB is a "<field>: <n> kB" line of the server process's
// /proc/<pid>/status, or 0.
func (s *stack) procStatusKB(field string) int {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")))
			return kb
		}
	}
	return 0
}

// openFilesLimit is the server process's "Max open files" soft and hard
// limits from /proc/<pid>/limits, or "".
func (s *stack) openFilesLimit() string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/limits", s.cmd.Process.Pid))
	if err != nil {
		return ""
	}
	for _, l := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(l, "Max open files"); ok {
			f := strings.Fields(rest)
			if len(f) >= 2 {
				return f[0] + " soft / " + f[1] + " hard"
			}
		}
	}
	return ""
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
