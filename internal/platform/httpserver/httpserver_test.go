package httpserver

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eventms/gateway/internal/testwait"
)

var quiet = slog.New(slog.DiscardHandler)

func get(url string) (string, error) {
	resp, err := http.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// held serves /slow only once release is closed, and tells arrived.
func held(arrived chan<- struct{}, release <-chan struct{}) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			arrived <- struct{}{}
			<-release
		}
		_, _ = io.WriteString(w, "ok")
	})
}

func TestServeDrainsInOrder(t *testing.T) {
	arrived, release := make(chan struct{}, 1), make(chan struct{})
	ln := listen(t)
	url := "http://" + ln.Addr().String()
	var mu sync.Mutex
	var steps []string
	step := func(s string) func() {
		return func() { mu.Lock(); steps = append(steps, s); mu.Unlock() }
	}
	delay, delayAsked := make(chan time.Time), make(chan time.Duration, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Serve(ctx, &http.Server{Handler: held(arrived, release)}, ln, Drain{
			Begin: step("begin"), Delay: 3 * time.Second, EndStreams: step("end streams"), Timeout: time.Minute,
			After: func(d time.Duration) <-chan time.Time { delayAsked <- d; return delay },
		}, quiet)
	}()

	slow := make(chan string, 1)
	go func() { body, _ := get(url + "/slow"); slow <- body }()
	testwait.Recv(t, arrived, "the slow request to arrive")
	cancel()
	if d := testwait.Recv(t, delayAsked, "the drain delay to start"); d != 3*time.Second {
		t.Errorf("drain delay %s, want 3s", d)
	}
	if body, err := get(url + "/fast"); err != nil || body != "ok" {
		t.Errorf("a new request during the delay: %q %v, want it served", body, err)
	}
	mu.Lock()
	if !slices.Equal(steps, []string{"begin"}) {
		t.Errorf("during the delay the steps were %q, want only begin", steps)
	}
	mu.Unlock()

	close(delay)
	testwait.Until(t, "the listener to close", func() bool {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			return true
		}
		c.Close()
		return false
	})
	mu.Lock()
	if !slices.Equal(steps, []string{"begin", "end streams"}) {
		t.Errorf("steps %q, want begin then end streams", steps)
	}
	mu.Unlock()
	select {
	case err := <-done:
		t.Fatalf("Serve returned %v with a request in flight", err)
	default:
	}
	close(release)
	if body := testwait.Recv(t, slow, "the in-flight request"); body != "ok" {
		t.Errorf("in-flight request answered %q, want it to finish", body)
	}
	if err := testwait.Recv(t, done, "Serve to return"); err != nil {
		t.Errorf("Serve returned %v, want a clean stop", err)
	}
}

func TestServeGivesUpAfterTheTimeout(t *testing.T) {
	arrived, release := make(chan struct{}, 1), make(chan struct{})
	defer close(release)
	ln := listen(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Serve(ctx, &http.Server{Handler: held(arrived, release)}, ln, Drain{Timeout: 50 * time.Millisecond}, quiet)
	}()
	failed := make(chan error, 1)
	go func() { _, err := get("http://" + ln.Addr().String() + "/slow"); failed <- err }()
	testwait.Recv(t, arrived, "the slow request to arrive")
	cancel()
	err := testwait.Recv(t, done, "Serve to return")
	if err == nil || !strings.Contains(err.Error(), "did not finish within 50ms") || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Serve returned %v, want the shutdown timeout", err)
	}
	if err := testwait.Recv(t, failed, "the cut-off request"); err == nil {
		t.Error("the request outliving the timeout was answered; want its connection closed")
	}
}

func TestServeReportsAFailedListener(t *testing.T) {
	ln := listen(t)
	ln.Close()
	err := Serve(context.Background(), &http.Server{}, ln, Drain{}, quiet)
	if err == nil || !strings.HasPrefix(err.Error(), "serve: ") {
		t.Errorf("Serve on a closed listener returned %v, want a serve error", err)
	}
}
