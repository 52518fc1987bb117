package main

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// promSamples is a Prometheus text exposition, by series ("name" or
// "name{labels}" as written).
type promSamples map[string]float64

// parseProm reads the Prometheus text format: comments skipped, each other
// line a series and its value (a timestamp after it, if any, ignored).
func parseProm(r io.Reader) (promSamples, error) {
	out := promSamples{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		// The value follows the series, after the closing brace if there
		// are labels (label values may hold spaces).
		cut := strings.LastIndexByte(line, '}') + 1
		if cut == 0 {
			cut = strings.IndexByte(line, ' ')
		}
		if cut <= 0 || cut >= len(line) {
			continue
		}
		f := strings.Fields(line[cut:])
		if len(f) == 0 {
			continue
		}
		v, err := strconv.ParseFloat(f[0], 64)
		if err != nil {
			return nil, fmt.Errorf("metric line %q: %w", line, err)
		}
		out[strings.TrimSpace(line[:cut])] = v
	}
	return out, sc.Err()
}

// sum adds every series of the metric name, whatever its labels.
func (p promSamples) sum(name string) float64 {
	t := 0.0
	for k, v := range p {
		if k == name || strings.HasPrefix(k, name+"{") {
			t += v
		}
	}
	return t
}

// metrics fetches the server's /metrics.
func (s *stack) metrics() (promSamples, error) {
	resp, err := s.http.Get(s.url + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("/metrics: status %d", resp.StatusCode)
	}
	return parseProm(resp.Body)
}

// waitMetric polls /metrics every 20 ms until the metric's sum satisfies
// ok or the bound d passes; it returns the last value seen and how long it
// took.
func (s *stack) waitMetric(name string, d time.Duration, ok func(float64) bool) (float64, time.Duration, error) {
	start := time.Now()
	last := -1.0
	for {
		m, err := s.metrics()
		if err == nil {
			last = m.sum(name)
			if ok(last) {
				return last, time.Since(start), nil
			}
		}
		if time.Since(start) > d {
			if err != nil {
				return last, time.Since(start), err
			}
			return last, time.Since(start), fmt.Errorf("%s is %v after %s", name, last, d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
