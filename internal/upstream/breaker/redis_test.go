package breaker

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/eventms/gateway/internal/redistest"
)

// The Redis state must keep every semantic the local one has: the same
// scenarios run again with the state in Redis.
func TestRedisStatePassesTheSuite(t *testing.T) {
	rdb := redistest.Client(t)
	sharedState = func(t *testing.T) Shared { return NewRedis(rdb, redistest.Prefix(t), time.Minute) }
	defer func() { sharedState = nil }()
	for _, tc := range []struct {
		name string
		test func(*testing.T)
	}{
		{"ThresholdInsideAndOutsideTheWindow", TestThresholdInsideAndOutsideTheWindow},
		{"SuccessesDoNotResetTheWindow", TestSuccessesDoNotResetTheWindow},
		{"OpenRejectsWithRetryAfterAndProbesAfterTheTimeout", TestOpenRejectsWithRetryAfterAndProbesAfterTheTimeout},
		{"BackoffDoublesToTheCapAndResets", TestBackoffDoublesToTheCapAndResets},
		{"OneProbeAtATime", TestOneProbeAtATime},
		{"IgnoredOutcomesAreNotFailures", TestIgnoredOutcomesAreNotFailures},
		{"LateOutcomesFromAnEarlierStateAreIgnored", TestLateOutcomesFromAnEarlierStateAreIgnored},
		{"JitterIsBoundedAndVaries", TestJitterIsBoundedAndVaries},
	} {
		t.Run(tc.name, tc.test)
	}
}

// Three replicas sharing one state: failures count fleet-wide, OPEN is
// seen everywhere, and the fleet sends one probe per half-open period.
func TestReplicasShareOneCircuit(t *testing.T) {
	rdb := redistest.Client(t)
	prefix := redistest.Prefix(t)
	clock := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	replicas := make([]*Breaker, 3)
	for i := range replicas {
		replicas[i] = New(Config{FailureThreshold: 3, FailureWindow: 30 * time.Second, ResetTimeout: 10 * time.Second,
			MaxResetTimeout: time.Minute, Now: clock.Now, Shared: NewRedis(rdb, prefix, time.Minute)})
	}
	for i, b := range replicas { // one failure on each replica: three fleet-wide
		if _, ok := call(b, Failure); !ok {
			t.Fatalf("replica %d rejected while closed", i)
		}
	}
	for i, b := range replicas {
		if p, ok := b.Allow(ctx); ok || p.State != Open || p.RetryAfter != 10*time.Second {
			t.Errorf("replica %d after 3 fleet-wide failures: %+v %v; want OPEN for 10s", i, p, ok)
		}
	}
	clock.Advance(10 * time.Second)
	var wg sync.WaitGroup
	probes := make(chan Permit, 30)
	for _, b := range replicas {
		for i := 0; i < 10; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if p, ok := b.Allow(ctx); ok {
					probes <- p
				}
			}()
		}
	}
	wg.Wait()
	close(probes)
	if len(probes) != 1 {
		t.Fatalf("%d probes across the fleet in one half-open period; want 1", len(probes))
	}
	p := <-probes
	replicas[2].Done(ctx, p, Success)
	for i, b := range replicas {
		if st := b.State(); st != Closed {
			t.Errorf("replica %d after the probe succeeded: %s; want CLOSED", i, st)
		}
	}
}

// With the shared state out of reach the breaker decides locally and says so.
func TestUnreachableStateFallsBackToLocal(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: 50 * time.Millisecond})
	defer rdb.Close()
	var errs int
	var mu sync.Mutex
	b, _, _ := newTest(t, func(c *Config) {
		c.Shared = NewRedis(rdb, "x:", time.Minute)
		c.OnSharedError = func(error) { mu.Lock(); errs++; mu.Unlock() }
	})
	for i := 0; i < 3; i++ {
		call(b, Failure)
	}
	if p, ok := b.Allow(context.Background()); ok || p.State != Open {
		t.Errorf("after 3 local failures: %+v %v; want the local circuit OPEN", p, ok)
	}
	mu.Lock()
	defer mu.Unlock()
	if errs == 0 {
		t.Error("the shared state's failures were not reported")
	}
}
