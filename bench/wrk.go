package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// The peers suite measures with wrk, a load generator in C that costs the
// shared 2 cores less than the Go closed loop (load.go), when it is
// installed, and cross-checks the two on one case each round.

// wrkRun is one run of wrk, as its --latency report gives it.
type wrkRun struct {
	requests int
	failures int // socket errors and non-2xx/3xx answers
	kept     int // answers a cache kept: the gateway's X-Cache: hit, the Apollo peer's age header (read scripts only)
	rps      float64
	p50, p99 time.Duration
}

// wrkPath is wrk's path, or "" when it is not installed.
func wrkPath() string {
	p, err := exec.LookPath("wrk")
	if err != nil {
		return ""
	}
	return p
}

// wrkGraphQLScript is the Lua that makes wrk post the user-events query for
// uid; a long bracket string needs no escaping of the JSON body.
func wrkGraphQLScript(uid string) string {
	return "wrk.method = \"POST\"\nwrk.headers[\"Content-Type\"] = \"application/json\"\nwrk.body = [==[" +
		userEventsBody(uid) + "]==]\n"
}

// runWrk runs wrk with concurrency connections against url for d, with the
// Lua script if it is not "". It is bounded by d plus a margin.
func runWrk(url string, concurrency int, d time.Duration, script string) (wrkRun, error) {
	args := []string{"-t", strconv.Itoa(wrkThreads(concurrency)), "-c", strconv.Itoa(concurrency),
		"-d", fmt.Sprintf("%ds", max(1, int(d.Round(time.Second).Seconds()))), "--latency", "--timeout", "30s"}
	if script != "" {
		dir, err := os.MkdirTemp("", "bench-wrk")
		if err != nil {
			return wrkRun{}, err
		}
		defer os.RemoveAll(dir)
		path := filepath.Join(dir, "post.lua")
		if err := os.WriteFile(path, []byte(script), 0o644); err != nil {
			return wrkRun{}, err
		}
		args = append(args, "-s", path)
	}
	args = append(args, url)
	ctx, cancel := context.WithTimeout(context.Background(), d+time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "wrk", args...).CombinedOutput()
	if err != nil {
		return wrkRun{}, fmt.Errorf("wrk %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	res, err := parseWrk(string(out))
	if err != nil {
		return wrkRun{}, fmt.Errorf("wrk %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return res, nil
}

var (
	wrkTotal      = regexp.MustCompile(`(?m)^\s*(\d+) requests in `)
	wrkRate       = regexp.MustCompile(`(?m)^Requests/sec:\s*([0-9.]+)`)
	wrkPercentile = regexp.MustCompile(`(?m)^\s*(50|99)(?:\.0+)?%\s+([0-9.]+)(us|ms|s|m|h)\s*$`)
	wrkSocket     = regexp.MustCompile(`Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
	wrkNon2xx     = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`)
	wrkGQLErrors  = regexp.MustCompile(`(?m)^GraphQL errors: (\d+)`)
	wrkKept       = regexp.MustCompile(`(?m)^Kept answers: (\d+)`)
)

// parseWrk reads wrk --latency's report: the request count, Requests/sec,
// the 50 % and 99 % latencies and the errors.
func parseWrk(out string) (wrkRun, error) {
	var r wrkRun
	m := wrkTotal.FindStringSubmatch(out)
	if m == nil {
		return r, fmt.Errorf("no request count in wrk's report")
	}
	r.requests, _ = strconv.Atoi(m[1])
	if m = wrkRate.FindStringSubmatch(out); m == nil {
		return r, fmt.Errorf("no Requests/sec in wrk's report")
	}
	r.rps, _ = strconv.ParseFloat(m[1], 64)
	for _, p := range wrkPercentile.FindAllStringSubmatch(out, -1) {
		d, err := time.ParseDuration(p[2] + p[3])
		if err != nil {
			return r, fmt.Errorf("wrk latency %s%s: %w", p[2], p[3], err)
		}
		if p[1] == "50" {
			r.p50 = d
		} else {
			r.p99 = d
		}
	}
	if r.p50 == 0 || r.p99 == 0 {
		return r, fmt.Errorf("no 50%% and 99%% latencies in wrk's report (run it with --latency)")
	}
	if m = wrkSocket.FindStringSubmatch(out); m != nil {
		for _, v := range m[1:] {
			n, _ := strconv.Atoi(v)
			r.failures += n
		}
	}
	for _, re := range []*regexp.Regexp{wrkNon2xx, wrkGQLErrors} {
		if m = re.FindStringSubmatch(out); m != nil {
			n, _ := strconv.Atoi(m[1])
			r.failures += n
		}
	}
	if m = wrkKept.FindStringSubmatch(out); m != nil {
		r.kept, _ = strconv.Atoi(m[1])
	}
	return r, nil
}

// wrkTarget says what a wrk read asks for: a GraphQL POST to path or a
// REST GET of path+uid; the same user every time, or (distinct) users
// start+1, start+2, … spread over the threads, wrapping at users
// (peersUsers when 0).
type wrkTarget struct {
	graphql  bool
	path     string
	distinct bool
	start    int
	users    int
}

// wrkReadScript is the Lua that makes wrk read users' events as t says,
// with threads threads. wrk judges an answer by its status only; the script
// also counts 200 answers that carry GraphQL errors and prints them at the
// end, for parseWrk to add to the failures. It counts too the answers a
// cache kept: the gateway marks them X-Cache: hit (a stale one says stale),
// the Apollo peer's response cache sends an age header with them (node
// writes header names in lower case, Go's Age on the gateway's stale
// answers is capitalised, and wrk hands them to Lua as written).
func wrkReadScript(t wrkTarget, threads int) string {
	prefix, suffix, _ := strings.Cut(userEventsBody("UID"), `"UID"`)
	prefix, suffix = prefix+`"`, `"`+suffix
	users := t.users
	if users == 0 {
		users = peersUsers
	}
	var b strings.Builder
	fmt.Fprintf(&b, "local graphql, distinct, start, users, nthreads = %v, %v, %d, %d, %d\n", t.graphql, t.distinct, t.start, users, threads)
	fmt.Fprintf(&b, "local path, same = [==[%s]==], [==[%s]==]\n", t.path, peersSameUser)
	fmt.Fprintf(&b, "local prefix, suffix = [==[%s]==], [==[%s]==]\n", prefix, suffix)
	b.WriteString(`local threads = {}
function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end
errs = 0
kept = 0
local n = 0
function request()
  local uid = same
  if distinct then
    uid = "u" .. ((start + n * nthreads + tid) % users + 1)
    n = n + 1
  end
  if graphql then
    return wrk.format("POST", path, {["Content-Type"] = "application/json"}, prefix .. uid .. suffix)
  end
  return wrk.format("GET", path .. uid)
end
function response(status, headers, body)
  if status == 200 and string.find(body, '"errors"', 1, true) then errs = errs + 1 end
  if headers["X-Cache"] == "hit" or headers["age"] then kept = kept + 1 end
end
function done(summary, latency, requests)
  local e, k = 0, 0
  for _, t in ipairs(threads) do
    e = e + (t:get("errs") or 0)
    k = k + (t:get("kept") or 0)
  end
  io.write(string.format("GraphQL errors: %d\nKept answers: %d\n", e, k))
end
`)
	return b.String()
}

// wrkThreads is the -t wrk runs with at concurrency c.
func wrkThreads(c int) int { return min(runtime.NumCPU(), c) }

// wrkEventScript is the Lua that makes wrk look up every event of users
// u1…, one after another, spread over threads: the upstream ceiling.
func wrkEventScript(threads int) string {
	return fmt.Sprintf("local users, events, nthreads = %d, %d, %d\n", peersUsers, peersEvents, threads) + `local count = 0
function setup(thread)
  thread:set("tid", count)
  count = count + 1
end
local n = 0
function request()
  local k = n * nthreads + tid
  n = n + 1
  return wrk.format("GET", "/getEventById/u" .. (math.floor(k / events) % users + 1) .. "-e" .. (k % events + 1))
end
`
}
