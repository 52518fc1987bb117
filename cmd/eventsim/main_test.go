package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/eventms/gateway/internal/eventsim"
)

// TestMain lets TestProcess run this binary as the real command.
func TestMain(m *testing.M) {
	if os.Getenv("EVENTSIM_TEST_RUN_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

// syncBuffer is a bytes.Buffer safe to read while run writes its log to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func stats(t *testing.T, base string) eventsim.Stats {
	t.Helper()
	resp, err := http.Get(base + eventsim.StatsPath)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st eventsim.Stats
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /__stats: %d, %v", resp.StatusCode, err)
	}
	return st
}

func TestRunIgnoresTheGatewaysVariables(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stderr syncBuffer
	urls := make(chan string, 1)
	code := make(chan int, 1)
	go func() {
		code <- run(ctx, env(map[string]string{
			// The gateway's variables, invalid for the gateway or not: ignored.
			"APP_ENV": "production", "PORT": "eighty", "LOG_LEVEL": "loud", "LOG_FORMAT": "xml",
			"EVENT_API_BASE_URL": "not a url", "UPSTREAM_TIMEOUT": "5",
			"SIM_PORT": "0", "SIM_NETWORK_ERROR_RATE": "0", "SIM_EVENT_DELAY": "0s",
		}), &stderr, func(url string) { urls <- url })
	}()
	var url string
	select {
	case url = <-urls:
	case c := <-code:
		t.Fatalf("run returned %d before listening:\n%s", c, stderr.String())
	case <-time.After(10 * time.Second):
		t.Fatal("not listening after 10s")
	}

	for _, path := range []string{"/getUsers", "/getUsers", "/getEventById/event-1"} {
		resp, err := http.Get(url + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	st := stats(t, url)
	if st.Calls[eventsim.RouteGetUsers] != 2 || st.Calls[eventsim.RouteGetEventByID] != 1 || st.InFlight != 0 {
		t.Errorf("stats %+v, want 2 getUsers and 1 getEventById", st)
	}
	if !strings.Contains(stderr.String(), "Event API simulator listening") || !strings.Contains(stderr.String(), "url="+url) {
		t.Errorf("log lacks the listening line:\n%s", stderr.String())
	}

	cancel()
	select {
	case c := <-code:
		if c != 0 {
			t.Errorf("exit status %d after cancel, want 0:\n%s", c, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return after cancel")
	}
}

// Run alone with no SIM_LISTEN_ADDR, the simulator listens on the loopback
// only; SIM_LISTEN_ADDR chooses another address.
func TestRunListensOnLoopbackByDefault(t *testing.T) {
	tests := []struct {
		name     string
		env      map[string]string
		wantHost string
	}{
		{"default", map[string]string{"SIM_PORT": "0"}, "127.0.0.1"},
		{"SIM_LISTEN_ADDR=::1", map[string]string{"SIM_PORT": "0", "SIM_LISTEN_ADDR": "::1"}, "[::1]"},
		{"SIM_LISTEN_ADDR=0.0.0.0", map[string]string{"SIM_PORT": "0", "SIM_LISTEN_ADDR": "0.0.0.0"}, "localhost"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.wantHost == "[::1]" {
				if ln, err := net.Listen("tcp", "[::1]:0"); err != nil {
					t.Skip("no IPv6 loopback here:", err)
				} else {
					ln.Close()
				}
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var stderr syncBuffer
			urls := make(chan string, 1)
			code := make(chan int, 1)
			go func() { code <- run(ctx, env(tt.env), &stderr, func(url string) { urls <- url }) }()
			var url string
			select {
			case url = <-urls:
			case c := <-code:
				t.Fatalf("run returned %d before listening:\n%s", c, stderr.String())
			case <-time.After(10 * time.Second):
				t.Fatal("not listening after 10s")
			}
			host, _, err := net.SplitHostPort(strings.TrimPrefix(url, "http://"))
			if err != nil {
				t.Fatal(err)
			}
			if want := strings.Trim(tt.wantHost, "[]"); host != want {
				t.Errorf("reported %s; want host %s", url, want)
			}
			if !strings.Contains(stderr.String(), "url="+url) {
				t.Errorf("log lacks the address:\n%s", stderr.String())
			}
			stats(t, url) // it answers there (the stats route never drops a connection)
			cancel()
			if c := <-code; c != 0 {
				t.Errorf("exit status %d", c)
			}
		})
	}
}

func TestRunRejectsBadSIMVariables(t *testing.T) {
	var stderr bytes.Buffer
	code := run(context.Background(), env(map[string]string{
		"SIM_PORT": "eighty", "SIM_USERS": "-1", "SIM_FAILURE_CYCLE": "maybe", "APP_ENV": "production",
	}), &stderr, func(string) { t.Error("started listening with invalid settings") })
	if code != 2 {
		t.Errorf("exit status %d, want 2", code)
	}
	for _, want := range []string{
		`SIM_PORT="eighty": want an integer from 0 to 65535`,
		`SIM_USERS="-1": want an integer from 0 to 100000`,
		`SIM_FAILURE_CYCLE="maybe": want on or off`,
	} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
		}
	}
	if strings.Contains(stderr.String(), "APP_ENV") {
		t.Errorf("stderr mentions APP_ENV:\n%s", stderr.String())
	}
}

func TestRunPortInUse(t *testing.T) {
	ln, err := net.Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	var stderr bytes.Buffer
	if code := run(context.Background(), env(map[string]string{"SIM_PORT": port}), &stderr, nil); code != 1 {
		t.Errorf("exit status %d with the port taken, want 1:\n%s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "simulator did not start") {
		t.Errorf("stderr: %s", stderr.String())
	}
}

// TestProcess runs the real command with a real environment: the gateway's
// variables set to values the gateway rejects, and a .env file in its working
// directory that would be invalid if it were read.
func TestProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(dir+"/.env", []byte("SIM_PORT=eighty\nSIM_USERS=lots\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	command := func(extra ...string) *exec.Cmd {
		cmd := exec.Command(exe, "-test.run=^$")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "EVENTSIM_TEST_RUN_MAIN=1", "APP_ENV=production", "PORT=eighty", "LOG_LEVEL=loud")
		cmd.Env = append(cmd.Env, extra...)
		return cmd
	}

	t.Run("bad SIM variable exits 2", func(t *testing.T) {
		out, err := command("SIM_PORT=eighty").CombinedOutput()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 2 {
			t.Fatalf("err %v, want exit status 2; output:\n%s", err, out)
		}
		if !strings.Contains(string(out), `SIM_PORT="eighty": want an integer from 0 to 65535`) {
			t.Errorf("output lacks the SIM_PORT problem:\n%s", out)
		}
		for _, line := range strings.Split(string(out), "\n") {
			if strings.HasPrefix(line, "PORT=") || strings.HasPrefix(line, "APP_ENV=") || strings.HasPrefix(line, "LOG_LEVEL=") ||
				strings.HasPrefix(line, "SIM_USERS=") { // SIM_USERS=lots is only in .env, which is not read
				t.Errorf("output names a variable it must not read: %q", line)
			}
		}
	})

	t.Run("starts, serves stats, stops on SIGTERM", func(t *testing.T) {
		cmd := command("SIM_PORT=0", "SIM_NETWORK_ERROR_RATE=0", "SIM_EVENT_DELAY=0s")
		stderr, err := cmd.StderrPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer cmd.Process.Kill()
		var logged bytes.Buffer
		urls := make(chan string, 1)
		go func() {
			re := regexp.MustCompile(`url=(\S+)`)
			sc := bufio.NewScanner(stderr)
			for sc.Scan() {
				logged.WriteString(sc.Text() + "\n")
				if m := re.FindStringSubmatch(sc.Text()); m != nil {
					urls <- m[1]
				}
			}
			close(urls)
		}()
		var url string
		select {
		case u, ok := <-urls:
			if !ok {
				err := cmd.Wait()
				t.Fatalf("exited (%v) without listening:\n%s", err, logged.String())
			}
			url = u
		case <-time.After(20 * time.Second):
			t.Fatal("not listening after 20s")
		}
		resp, err := http.Get(url + "/getUsers")
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if st := stats(t, url); st.Calls[eventsim.RouteGetUsers] != 1 {
			t.Errorf("stats %+v, want 1 getUsers", st)
		}
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		for range urls { // drain stderr to EOF before Wait
		}
		if err := cmd.Wait(); err != nil {
			t.Errorf("after SIGTERM: %v, want exit status 0:\n%s", err, logged.String())
		}
	})
}
