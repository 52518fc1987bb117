package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The Apollo Server peer of the peers suite lives in bench/peers/apollo as
// plain JavaScript with a lock file; the bench installs it with npm ci and
// runs it with node, so nothing of it is built or committed but its source.
const (
	// apolloDir is the peer's folder, relative to the gateway's root.
	apolloDir = "bench/peers/apollo"
	// minNodeMajor is the oldest Node.js Apollo Server 5 supports.
	minNodeMajor = 20
	// npmCIFor bounds the install: the registry is reachable but may be slow.
	npmCIFor = 5 * time.Minute
	// peerStopFor bounds how long a stopped peer may drain before it is killed.
	peerStopFor = 10 * time.Second
)

// errNoNode is what the suite says when Node.js or npm cannot be used, so
// that the reader knows what to install rather than why a command failed.
var errNoNode = errors.New("the peers suite needs Node.js " + strconv.Itoa(minNodeMajor) +
	" or later and npm on PATH (Debian: apt-get install nodejs npm)")

// nodeVersion checks that node and npm are there and node is recent
// enough, and returns node's version ("v20.20.2").
func nodeVersion() (string, error) {
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			return "", fmt.Errorf("%w: %s not found", errNoNode, tool)
		}
	}
	out, err := exec.Command("node", "--version").Output()
	if err != nil {
		return "", fmt.Errorf("%w: node --version: %v", errNoNode, err)
	}
	v := strings.TrimSpace(string(out))
	major, ok := nodeMajor(v)
	if !ok || major < minNodeMajor {
		return "", fmt.Errorf("%w: node is %s", errNoNode, v)
	}
	return v, nil
}

// nodeMajor is the major version in node --version's "v20.20.2".
func nodeMajor(v string) (int, bool) {
	head, _, _ := strings.Cut(strings.TrimPrefix(strings.TrimSpace(v), "v"), ".")
	n, err := strconv.Atoi(head)
	return n, err == nil
}

// installStale says whether the peer's node_modules must be (re)installed:
// npm writes node_modules/.package-lock.json at the end of every install, so
// one missing (no install, or an interrupted one) or older than
// package.json or package-lock.json means the lock file changed since.
func installStale(pkg, lock, installed time.Time, haveInstalled bool) bool {
	return !haveInstalled || installed.Before(lock) || installed.Before(pkg)
}

// installApollo runs npm ci in dir when its node_modules is missing or stale.
func installApollo(dir string) error {
	stat := func(name string) (time.Time, bool) {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			return time.Time{}, false
		}
		return fi.ModTime(), true
	}
	pkg, okPkg := stat("package.json")
	lock, okLock := stat("package-lock.json")
	if !okPkg || !okLock {
		return fmt.Errorf("apollo peer: %s has no package.json and package-lock.json", dir)
	}
	installed, ok := stat("node_modules/.package-lock.json")
	if !installStale(pkg, lock, installed, ok) {
		return nil
	}
	fmt.Fprintf(os.Stderr, "apollo peer: npm ci in %s\n", dir)
	ctx, cancel := context.WithTimeout(context.Background(), npmCIFor)
	defer cancel()
	cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund")
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("apollo peer: npm ci in %s: %w", dir, err)
	}
	return nil
}

// apolloVersion is the installed @apollo/server's version, or "".
func apolloVersion(dir string) string { return npmVersion(dir, "@apollo/server") }

// npmVersion is the installed version of the package name in dir's
// node_modules, or "".
func npmVersion(dir, name string) string {
	b, err := os.ReadFile(filepath.Join(dir, "node_modules", filepath.FromSlash(name), "package.json"))
	if err != nil {
		return ""
	}
	var p struct {
		Version string `json:"version"`
	}
	if json.Unmarshal(b, &p) != nil {
		return ""
	}
	return p.Version
}

// startApollo runs the peer in dir against the upstream at simURL on a free
// loopback port, as NODE_ENV=production (what a deployment runs), and waits
// until it answers a query. The stack's process is node itself, so its
// /proc status is the peer's memory.
func startApollo(dir, simURL string) (*stack, error) { return startApolloEnv(dir, simURL) }

// startApolloEnv is startApollo with the extra environment env (the peer's
// RESPONSE_CACHE_MAX_AGE).
func startApolloEnv(dir, simURL string, env ...string) (*stack, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command("node", "server.js")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "EVENT_API_BASE_URL="+simURL, "PORT="+strconv.Itoa(port), "HOST=127.0.0.1",
		"NODE_ENV=production")
	cmd.Env = append(cmd.Env, env...)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("apollo peer: start node: %w", err)
	}
	s := &stack{cmd: cmd, url: fmt.Sprintf("http://127.0.0.1:%d", port),
		http: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1024}, Timeout: time.Minute}}
	for i := 0; i < 200; i++ { // bounded wait: node starts in about a second
		if _, err := s.gql(`{ __typename }`, nil); err == nil {
			return s, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	stopBounded(s)
	return nil, fmt.Errorf("apollo peer did not answer on port %d within 10 s", port)
}

// stopBounded ends a process with SIGTERM, and kills it if it has not
// exited within peerStopFor (Apollo drains open keep-alive connections).
func stopBounded(s *stack) {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(peerStopFor):
		_ = s.cmd.Process.Kill()
		<-done
	}
}
