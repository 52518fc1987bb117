package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/eventms/gateway/internal/eventsim"
)

// The realtime suite: eventAdded fan-out to many WebSocket subscribers of one
// server process, over the graphql-transport-ws protocol.
const (
	rtSubprotocol  = "graphql-transport-ws"
	rtSubscription = `subscription { eventAdded { id } }`
	rtMutation     = `mutation { addEvent(input: {name: "realtime bench", userId: "1"}) { __typename ... on AddEventSuccess { event { id } } ... on ServiceUnavailable { message } ... on InvalidInput { message } } }`
	// rtDialers is how many connections are being opened at once.
	rtDialers = 64
	// rtDeliveryBound is how long one mutation's event may take to reach
	// every subscriber before the missing ones are counted as such.
	rtDeliveryBound = 10 * time.Second
)

// rtMutationRun is one mutation and its event's arrivals.
type rtMutationRun struct {
	rtt       time.Duration // POST sent → answer read
	first     time.Duration // answer → first subscriber (negative: before the answer was read)
	last      time.Duration // answer → last subscriber
	lastSent  time.Duration // POST sent → last subscriber
	delivered int           // subscribers that got it within rtDeliveryBound
}

// rtResult is the realtime suite's figures.
type rtResult struct {
	when                   time.Time
	busy                   string
	subscribers, mutations int
	fdBench, fdServer      string
	fdRaised               string // "" or what the bench did to its limit
	connectFor             time.Duration
	before, with, after    rtMemory
	runs                   []rtMutationRun
	duplicates, unexpected int
	firstProblem           string
	atClose                map[string]int
	pings                  int64
	connectedFor           time.Duration
	serverEvents           float64 // gateway_subscription_events_total during the mutations
	serverDropped          float64
	closeNormal            int // connections whose close handshake completed
	closedIn               time.Duration
	subsAfter, wsAfter     float64
	closeErr               string
}

// rtMemory is the server's memory at one point.
type rtMemory struct {
	rssKB                                 int
	heapInuse, stackInuse, gorout, openFD float64
}

// rtBoard gathers every subscriber's arrivals.
type rtBoard struct {
	mu         sync.Mutex
	by         map[string]*rtArrival
	duplicates int
	unexpected int
	problem    string
	atClose    map[string]int // messages other than next while the bench closes the connections, by type
	pings      atomic.Int64
	closing    atomic.Bool
}

type rtArrival struct {
	n           int
	first, last time.Time
}

func (b *rtBoard) arrive(id string, at time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	a := b.by[id]
	if a == nil {
		a = &rtArrival{first: at}
		b.by[id] = a
	}
	a.n++
	if at.Before(a.first) {
		a.first = at
	}
	if at.After(a.last) {
		a.last = at
	}
}

func (b *rtBoard) get(id string) rtArrival {
	b.mu.Lock()
	defer b.mu.Unlock()
	if a := b.by[id]; a != nil {
		return *a
	}
	return rtArrival{}
}

// note records something a subscriber did not expect; the first is kept
// for the report.
func (b *rtBoard) note(what string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.unexpected++
	if b.problem == "" {
		b.problem = what
	}
}

// rtMessage is a graphql-transport-ws message.
type rtMessage struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// rtConnect opens one subscriber: connect with the graphql-transport-ws
// subprotocol, connection_init, wait for connection_ack, subscribe.
func rtConnect(ctx context.Context, wsURL string, hc *http.Client) (*websocket.Conn, error) {
	c, _, err := websocket.Dial(ctx, wsURL, &websocket.DialOptions{HTTPClient: hc, Subprotocols: []string{rtSubprotocol}})
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*websocket.Conn, error) {
		_ = c.CloseNow()
		return nil, err
	}
	if c.Subprotocol() != rtSubprotocol {
		return fail(fmt.Errorf("the server chose subprotocol %q", c.Subprotocol()))
	}
	if err := wsjson.Write(ctx, c, rtMessage{Type: "connection_init", Payload: json.RawMessage(`{}`)}); err != nil {
		return fail(err)
	}
	for acked := false; !acked; {
		var m rtMessage
		if err := wsjson.Read(ctx, c, &m); err != nil {
			return fail(fmt.Errorf("waiting for connection_ack: %w", err))
		}
		switch m.Type {
		case "connection_ack":
			acked = true
		case "ping":
			if err := wsjson.Write(ctx, c, rtMessage{Type: "pong"}); err != nil {
				return fail(err)
			}
		default:
			return fail(fmt.Errorf("%q before connection_ack: %s", m.Type, m.Payload))
		}
	}
	payload, _ := json.Marshal(map[string]string{"query": rtSubscription})
	if err := wsjson.Write(ctx, c, rtMessage{ID: "1", Type: "subscribe", Payload: payload}); err != nil {
		return fail(err)
	}
	return c, nil
}

// rtRead is one subscriber's reader, until the connection ends. It stamps
// each message as it arrives, before decoding it.
func (b *rtBoard) rtRead(ctx context.Context, c *websocket.Conn) {
	seen := map[string]bool{}
	for {
		_, data, err := c.Read(ctx)
		at := time.Now()
		if err != nil {
			if !b.closing.Load() {
				b.note("read: " + err.Error())
			}
			return
		}
		var m struct {
			Type    string `json:"type"`
			Payload struct {
				Data struct {
					EventAdded struct {
						ID string `json:"id"`
					} `json:"eventAdded"`
				} `json:"data"`
				Errors json.RawMessage `json:"errors"`
			} `json:"payload"`
		}
		if err := json.Unmarshal(data, &m); err != nil {
			b.note("undecodable message: " + truncate(string(data), 200))
			continue
		}
		switch id := m.Payload.Data.EventAdded.ID; {
		case m.Type == "next" && id != "":
			if seen[id] {
				b.mu.Lock()
				b.duplicates++
				b.mu.Unlock()
				continue
			}
			seen[id] = true
			b.arrive(id, at)
		case m.Type == "ping":
			b.pings.Add(1)
			wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			_ = wsjson.Write(wctx, c, rtMessage{Type: "pong"})
			cancel()
		case m.Type == "pong":
		case b.closing.Load():
			b.mu.Lock()
			b.atClose[m.Type]++
			b.mu.Unlock()
		default:
			b.note(truncate(string(data), 200))
		}
	}
}

// raiseOpenFiles makes sure this process may open need files, raising its
// soft limit towards the hard one if it must. It returns the limit and
// what it did.
func raiseOpenFiles(need uint64) (limit, did string) {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return "unknown (" + err.Error() + ")", ""
	}
	if l.Cur < need && l.Max > l.Cur {
		old := l.Cur
		l.Cur = min(l.Max, max(need, 4*need))
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
			did = fmt.Sprintf("raising it from %d failed: %v", old, err)
		} else {
			did = fmt.Sprintf("raised from %d", old)
		}
		_ = syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l)
	}
	return fmt.Sprintf("%d soft / %d hard", l.Cur, l.Max), did
}

func (s *stack) memory() rtMemory {
	m := rtMemory{rssKB: s.rssKB()}
	if p, err := s.metrics(); err == nil {
		m.heapInuse, m.stackInuse = p.sum("go_memstats_heap_inuse_bytes"), p.sum("go_memstats_stack_inuse_bytes")
		m.gorout, m.openFD = p.sum("go_goroutines"), p.sum("process_open_fds")
	}
	return m
}

// realtime is the realtime suite.
func (r *report) realtime(bin string) error {
	n := r.opts.subscribers
	res := &rtResult{when: time.Now(), busy: cpuBusy(time.Second), subscribers: n, mutations: r.opts.mutations}
	// Each subscriber is a socket here and one in the server; the server
	// is a Go program, which raises its own soft limit to its hard one.
	res.fdBench, res.fdRaised = raiseOpenFiles(uint64(n) + 256)
	st, err := start(bin, eventsim.Config{}) // no delays, no drops, no failure cycle
	if err != nil {
		return err
	}
	defer st.stop()
	res.fdServer = st.openFilesLimit()
	fmt.Fprintf(os.Stderr, "open files: bench %s %s; server %s\n", res.fdBench, res.fdRaised, res.fdServer)

	// Warm up (first parse, upstream connections), then the memory before.
	if _, err := st.gql(rtMutation, nil); err != nil {
		return fmt.Errorf("warm-up mutation: %w", err)
	}
	time.Sleep(500 * time.Millisecond)
	res.before = st.memory()

	// Everything below ends within this bound.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	board := &rtBoard{by: map[string]*rtArrival{}, atClose: map[string]int{}}
	wsURL := "ws" + strings.TrimPrefix(st.url, "http") + "/graphql"
	hc := &http.Client{Transport: &http.Transport{}}
	conns := make([]*websocket.Conn, n)
	var readers sync.WaitGroup
	var dialErr error
	var dialMu sync.Mutex
	sem := make(chan struct{}, rtDialers)
	var dialers sync.WaitGroup
	connectStart := time.Now()
	for i := range conns {
		dialers.Add(1)
		sem <- struct{}{}
		go func() {
			defer dialers.Done()
			defer func() { <-sem }()
			dctx, dcancel := context.WithTimeout(ctx, 15*time.Second)
			defer dcancel()
			c, err := rtConnect(dctx, wsURL, hc)
			if err != nil {
				dialMu.Lock()
				if dialErr == nil {
					dialErr = fmt.Errorf("subscriber %d: %w", i, err)
				}
				dialMu.Unlock()
				return
			}
			conns[i] = c
			readers.Add(1)
			go func() { defer readers.Done(); board.rtRead(ctx, c) }()
		}()
	}
	dialers.Wait()
	closeAll := func() {
		board.closing.Store(true)
		var wg sync.WaitGroup
		var normal atomic.Int64
		for _, c := range conns {
			if c == nil {
				continue
			}
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				wctx, wcancel := context.WithTimeout(ctx, 5*time.Second)
				_ = wsjson.Write(wctx, c, rtMessage{ID: "1", Type: "complete"})
				wcancel()
				if c.Close(websocket.StatusNormalClosure, "bench done") == nil {
					normal.Add(1)
				}
			}()
		}
		wg.Wait()
		res.closeNormal = int(normal.Load())
	}
	if dialErr != nil {
		closeAll()
		return dialErr
	}
	_, took, err := st.waitMetric("gateway_subscriptions", 30*time.Second, func(v float64) bool { return v >= float64(n) })
	if err != nil {
		closeAll()
		return fmt.Errorf("waiting for %d subscriptions: %w", n, err)
	}
	res.connectFor = time.Since(connectStart)
	fmt.Fprintf(os.Stderr, "%d subscribers in %v (the metric said so %v after the last subscribe was sent)\n", n, res.connectFor.Round(time.Millisecond), took.Round(time.Millisecond))
	connectedAt := time.Now()
	time.Sleep(time.Second) // let the server settle before its memory is read
	res.with = st.memory()
	m0, _ := st.metrics()

	for i := 0; i < r.opts.mutations; i++ {
		sent := time.Now()
		out, err := st.gql(rtMutation, nil)
		answered := time.Now()
		if err != nil {
			closeAll()
			return fmt.Errorf("mutation %d: %w", i+1, err)
		}
		ae, _ := out["data"].(map[string]any)["addEvent"].(map[string]any)
		ev, _ := ae["event"].(map[string]any)
		id, _ := ev["id"].(string)
		if id == "" {
			closeAll()
			return fmt.Errorf("mutation %d answered %v, not AddEventSuccess", i+1, out)
		}
		var a rtArrival
		for end := answered.Add(rtDeliveryBound); ; time.Sleep(200 * time.Microsecond) {
			if a = board.get(id); a.n >= n || time.Now().After(end) {
				break
			}
		}
		run := rtMutationRun{rtt: answered.Sub(sent), delivered: a.n}
		if a.n > 0 {
			run.first, run.last, run.lastSent = a.first.Sub(answered), a.last.Sub(answered), a.last.Sub(sent)
		}
		res.runs = append(res.runs, run)
	}
	time.Sleep(200 * time.Millisecond) // late duplicates, if any
	if m1, err := st.metrics(); err == nil && m0 != nil {
		res.serverEvents = m1.sum("gateway_subscription_events_total") - m0.sum("gateway_subscription_events_total")
		res.serverDropped = m1.sum("gateway_subscription_dropped_total") - m0.sum("gateway_subscription_dropped_total")
	}
	res.connectedFor = time.Since(connectedAt)
	res.pings = board.pings.Load()

	closeStart := time.Now()
	closeAll()
	cancel() // readers still blocked end now
	readers.Wait()
	subs, _, err1 := st.waitMetric("gateway_subscriptions", 10*time.Second, func(v float64) bool { return v == 0 })
	ws, _, err2 := st.waitMetric("gateway_websocket_connections", 10*time.Second, func(v float64) bool { return v == 0 })
	res.closedIn, res.subsAfter, res.wsAfter = time.Since(closeStart), subs, ws
	if err := errors.Join(err1, err2); err != nil {
		res.closeErr = err.Error()
	}
	res.after = st.memory()
	board.mu.Lock()
	res.duplicates, res.unexpected, res.firstProblem, res.atClose = board.duplicates, board.unexpected, board.problem, board.atClose
	board.mu.Unlock()
	r.realtimeRes = res
	fmt.Fprint(os.Stderr, r.realtimeMarkdown())
	return nil
}

// realtimeMarkdown is the realtime suite's section of RESULTS.md.
func (r *report) realtimeMarkdown() string {
	res := r.realtimeRes
	if res == nil {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n%s`eventAdded` to %d WebSocket subscribers (graphql-transport-ws)\n\n", suiteHeading("realtime"), res.subscribers)
	b.WriteString(r.measuredOn("realtime", res.when, res.busy) + ".\n")
	fmt.Fprintf(&b, "One server process in front of the simulator with no delays, no dropped connections and no failure cycle "+
		"(`eventsim.Config{}`), default settings. %d clients in the bench process, one connection each "+
		"(github.com/coder/websocket, subprotocol `%s`): `connection_init`, wait for `connection_ack`, `subscribe` "+
		"`%s`; %d at a time. Once the server's `gateway_subscriptions` said %d, %d `addEvent` mutations over `POST /graphql`, "+
		"one after another, each sent once every subscriber had the previous event. Every message is timestamped by its "+
		"subscriber's reader as it arrives, before it is decoded.\n\n",
		res.subscribers, rtSubprotocol, rtSubscription, rtDialers, res.subscribers, len(res.runs))
	var rtt, first, last, lastSent []time.Duration
	expected, got := 0, 0
	for _, run := range res.runs {
		rtt = append(rtt, run.rtt)
		expected += res.subscribers
		got += run.delivered
		if run.delivered > 0 {
			first, last, lastSent = append(first, run.first), append(last, run.last), append(lastSent, run.lastSent)
		}
	}
	row := func(name string, ds []time.Duration) {
		s := slices.Clone(ds)
		slices.Sort(s)
		if len(s) == 0 {
			fmt.Fprintf(&b, "| %s | — | — | — | — |\n", name)
			return
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", name, msSigned(s[0]), msSigned(percentile(s, 0.5)), msSigned(percentile(s, 0.99)), msSigned(s[len(s)-1]))
	}
	fmt.Fprintf(&b, "| over the %d mutations | min | p50 | p99 | max |\n|---|---:|---:|---:|---:|\n", len(res.runs))
	row("mutation round trip (POST sent → answer read)", rtt)
	row("answer → **first** subscriber has the event", first)
	row(fmt.Sprintf("answer → **last** (%dth) subscriber has the event", res.subscribers), last)
	row("POST sent → last subscriber has the event", lastSent)
	fmt.Fprintf(&b, "\nDelivered: **%d of %d** event messages (%d subscribers × %d events) within %s of each answer; "+
		"duplicates %d; other messages or read errors before the bench began closing %d", got, expected, res.subscribers, len(res.runs), rtDeliveryBound, res.duplicates, res.unexpected)
	if res.firstProblem != "" {
		fmt.Fprintf(&b, " (first: `%s`)", truncate(res.firstProblem, 200))
	}
	fmt.Fprintf(&b, ". Server counters over the mutations: `gateway_subscription_events_total` +%.0f, `gateway_subscription_dropped_total` +%.0f.\n",
		res.serverEvents, res.serverDropped)
	fmt.Fprintf(&b, "\nConnecting and subscribing all %d took %.1f s.\n\n", res.subscribers, res.connectFor.Seconds())
	b.WriteString("| server process | RSS (`VmRSS`) | Go heap in use | goroutine stacks | goroutines | open files |\n|---|---:|---:|---:|---:|---:|\n")
	mib := func(v float64) string { return fmt.Sprintf("%.1f MiB", v/(1<<20)) }
	mem := func(name string, m rtMemory) {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %.0f | %.0f |\n", name, mib(float64(m.rssKB)*1024), mib(m.heapInuse), mib(m.stackInuse), m.gorout, m.openFD)
	}
	mem("before connecting (after one warm-up mutation)", res.before)
	mem(fmt.Sprintf("%d subscribed, 1 s later", res.subscribers), res.with)
	n := float64(res.subscribers)
	kib := func(a, z float64) string { return fmt.Sprintf("%.1f KiB", (z-a)/n/1024) }
	fmt.Fprintf(&b, "| **per connection** (difference ÷ %d) | **%s** | **%s** | **%s** | **%.1f** | **%.1f** |\n", res.subscribers,
		kib(float64(res.before.rssKB)*1024, float64(res.with.rssKB)*1024), kib(res.before.heapInuse, res.with.heapInuse),
		kib(res.before.stackInuse, res.with.stackInuse), (res.with.gorout-res.before.gorout)/n, (res.with.openFD-res.before.openFD)/n)
	mem("after closing them all", res.after)
	fmt.Fprintf(&b, "\nOpen-file limits: bench process %s", res.fdBench)
	if res.fdRaised != "" {
		fmt.Fprintf(&b, " (%s)", res.fdRaised)
	}
	fmt.Fprintf(&b, "; server process %s (`/proc/<pid>/limits`). ", res.fdServer)
	fmt.Fprintf(&b, "Closing: each client sent `complete`, then a normal close; %d of %d close handshakes completed, and "+
		"%.1f s after the first close `gateway_subscriptions` read %.0f and `gateway_websocket_connections` %.0f",
		res.closeNormal, res.subscribers, res.closedIn.Seconds(), res.subsAfter, res.wsAfter)
	if res.closeErr != "" {
		fmt.Fprintf(&b, " (%s)", truncate(res.closeErr, 200))
	}
	if len(res.atClose) > 0 {
		var kinds []string
		for t, n := range res.atClose {
			kinds = append(kinds, fmt.Sprintf("%d `%s`", n, t))
		}
		slices.Sort(kinds)
		fmt.Fprintf(&b, "; messages the server sent while the clients closed: %s", strings.Join(kinds, ", "))
	}
	fmt.Fprintf(&b, ". Server pings received over the %.1f s the subscribers were connected: %d.\n", res.connectedFor.Seconds(), res.pings)
	b.WriteString(realtimeLegend)
	return b.String()
}

// msSigned is a duration in milliseconds with two decimals and its sign.
func msSigned(d time.Duration) string {
	return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
}

const realtimeLegend = "\nHow to read it: `addEvent` publishes the event to this process's subscribers (the in-memory bus, no " +
	"`REDIS_URL`) before it answers, so the fan-out starts before the client has the answer: a negative figure is an " +
	"event that reached a subscriber before the mutation's own answer was read. The \"last subscriber\" figure is the " +
	"time for the server to write the event to every connection and for the bench to read them all: the server, the " +
	"simulator and the 1000 client readers share the same cores. Memory per connection is the difference between two " +
	"readings of a garbage-collected process, so it is approximate (the heap in use counts garbage not yet collected: " +
	"after closing, the heap is whatever the next collection has not yet freed); the goroutine and open-file counts are exact.\n"
