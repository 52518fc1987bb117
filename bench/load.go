package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"
)

// gql posts a GraphQL operation and returns the decoded answer.
func (s *stack) gql(query string, vars map[string]any) (map[string]any, error) {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	resp, err := s.http.Post(s.url+"/graphql", "application/json", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	if errs, ok := out["errors"]; ok {
		return out, fmt.Errorf("GraphQL errors: %v", errs)
	}
	return out, nil
}

// getStatus fetches a path and returns its status, reading the body through.
func (s *stack) getStatus(path string) (int, error) {
	resp, err := s.http.Get(s.url + path)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, err
}

// timed returns how long f took.
func timed(f func() error) (time.Duration, error) {
	start := time.Now()
	err := f()
	return time.Since(start), err
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p * float64(len(sorted)-1))
	return sorted[i]
}

// loadResult is one closed-loop load level.
type loadResult struct {
	concurrency int
	requests    int
	failures    int
	rps         float64
	p50, p99    time.Duration
}

// closedLoop runs `concurrency` workers calling f back to back for d, or
// until maxRequests in all: bounded in time and count.
func closedLoop(concurrency int, d time.Duration, maxRequests int, f func() error) loadResult {
	var mu sync.Mutex
	var lat []time.Duration
	failures := 0
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	budget := make(chan struct{}, maxRequests)
	for i := 0; i < maxRequests; i++ {
		budget <- struct{}{}
	}
	close(budget)
	start := time.Now()
	for w := 0; w < concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := make([]time.Duration, 0, 1024)
			bad := 0
			for range budget {
				if time.Now().After(deadline) {
					break
				}
				t, err := timed(f)
				if err != nil {
					bad++
				}
				local = append(local, t)
			}
			mu.Lock()
			lat = append(lat, local...)
			failures += bad
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(lat)
	return loadResult{
		concurrency: concurrency, requests: len(lat), failures: failures,
		rps: float64(len(lat)) / elapsed.Seconds(), p50: percentile(lat, 0.5), p99: percentile(lat, 0.99),
	}
}
