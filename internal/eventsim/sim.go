package eventsim

import (
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"time"
)

// Route names, as used by the request counters.
const (
	RouteGetUsers     = "getUsers"
	RouteGetUserByID  = "getUserById"
	RouteGetEvents    = "getEvents"
	RouteGetEventByID = "getEventById"
	RouteAddEvent     = "addEvent"
)

// Config tunes the simulator. Each field, the SIM_* variable ConfigFromEnv
// reads it from, and its value in Defaults() (the original mock's behaviour,
// and what ConfigFromEnv gives with no variable set):
//
//	EventDelay        SIM_EVENT_DELAY         500ms  getEventById waits this long before answering (0..1m)
//	NetworkErrorRate  SIM_NETWORK_ERROR_RATE  0.05   share (0..1) of getUsers/getEvents calls whose connection is dropped unanswered
//	FailureCycle      SIM_FAILURE_CYCLE       on     addEvent calls 1–5 of every 15 succeed; calls 6–15 wait FailureDelay and answer 503
//	FailureDelay      (no variable)           100ms  how long a failing addEvent waits before its 503
//	Users             SIM_USERS               0      generated users u1…uN added to the seed users 1, 2, 3 (0..100000)
//	EventsPerUser     SIM_EVENTS_PER_USER     0      events u<i>-e<j> per generated user (0..100000; Users × EventsPerUser ≤ MaxGeneratedEvents)
//	Capacity          SIM_CAPACITY            0      requests in flight (all Event API routes) served at full speed (0..1000000; 0: unlimited, no overload)
//	OverloadFactor    SIM_OVERLOAD_FACTOR     2      with a Capacity, requests beyond OverloadFactor × Capacity in flight are answered 503 (1..100; 0 here means 2)
//
// The capacity model, off unless Capacity > 0: every Event API request
// received counts as in flight (all routes together, the Stats InFlight
// figure) until it is answered. A request that arrives with more than
// OverloadFactor × Capacity (rounded down) in flight, itself included, is
// answered at once 503 {"success":false,"error":"Service temporarily
// unavailable","message":"Event API is over capacity"} with Retry-After: 1,
// before anything else: no delay, no dropped connection, no FailEvent or
// addEvent failure-cycle step is used up. It counts as a call and in
// Stats.Overloaded. A getEventById that finds n > Capacity requests in
// flight (itself included) when it starts waiting waits EventDelay × n /
// Capacity instead of EventDelay (so with no EventDelay only the 503s show);
// HoldEvents still replaces the wait. An OverloadFactor below 1 acts as 1.
//
// The zero value Config{} is not Defaults(): it is a fast, fault-free
// simulator with the seed data (no delay, no drops, no failure cycle), which
// is what most tests want.
type Config struct {
	EventDelay       time.Duration
	NetworkErrorRate float64
	FailureCycle     bool
	FailureDelay     time.Duration
	Users            int
	EventsPerUser    int
	Capacity         int
	OverloadFactor   float64
}

// Defaults is the original mock's behaviour.
func Defaults() Config {
	return Config{
		EventDelay:       500 * time.Millisecond,
		NetworkErrorRate: 0.05,
		FailureCycle:     true,
		FailureDelay:     100 * time.Millisecond,
		OverloadFactor:   DefaultOverloadFactor,
	}
}

// DefaultOverloadFactor is OverloadFactor's default, and what 0 means.
const DefaultOverloadFactor = 2

// overloadLimit is the most requests in flight, all routes, before more are
// answered 503; 0 when the capacity model is off.
func (c Config) overloadLimit() int {
	if c.Capacity <= 0 {
		return 0
	}
	f := c.OverloadFactor
	if f == 0 {
		f = DefaultOverloadFactor
	}
	return max(c.Capacity, int(math.Floor(f*float64(c.Capacity))))
}

// eventDelay is how long a getEventById admitted with n requests in flight
// (itself included) waits: EventDelay, grown in proportion beyond Capacity.
func (c Config) eventDelay(n int) time.Duration {
	if c.Capacity <= 0 || n <= c.Capacity || c.EventDelay <= 0 {
		return c.EventDelay
	}
	return time.Duration(float64(c.EventDelay) * float64(n) / float64(c.Capacity))
}

// Sim is the simulated Event API. It is an http.Handler and safe for
// concurrent use.
type Sim struct {
	cfg Config
	mux *http.ServeMux

	mu         sync.Mutex
	users      map[string]*User
	userOrder  []string
	events     map[string]*Event
	eventOrder []string
	addCalls   int // position in the addEvent failure cycle
	dropNext   int // deterministic dropped connections still to inject
	failEvents map[string]*injectedFailure
	stats      map[string]*routeStats // one per route in routes, never replaced
	inFlight   int                    // requests being served now, all routes
	overloaded int                    // answered 503 over capacity since the last reset
	peak       int                    // most served at once since the last reset, all routes
	holdN      int                    // HoldEvents: lookups to gather before any answers
	hold       chan struct{}          // closed once holdN lookups are in flight
	holds      map[string][]*Hold     // HoldNext: by route, in the order asked for
}

// routes are the counted Event API routes, in the order the contract lists them.
var routes = []string{RouteGetUsers, RouteGetUserByID, RouteGetEvents, RouteGetEventByID, RouteAddEvent}

// injectedFailure is a status to answer for an event id, remaining times
// (negative: forever).
type injectedFailure struct {
	status, remaining int
}

type routeStats struct {
	count, inFlight, peak int
}

// New returns a simulator loaded with the seed data.
func New(cfg Config) *Sim {
	s := &Sim{
		cfg:   cfg,
		mux:   http.NewServeMux(),
		stats: map[string]*routeStats{},
	}
	for _, route := range routes {
		s.stats[route] = &routeStats{}
	}
	s.loadSeed()
	s.mux.HandleFunc("GET /getUsers", s.track(RouteGetUsers, s.getUsers))
	s.mux.HandleFunc("GET /getUserById/{id}", s.track(RouteGetUserByID, s.getUserByID))
	s.mux.HandleFunc("GET /getEvents", s.track(RouteGetEvents, s.getEvents))
	s.mux.HandleFunc("GET /getEventById/{id}", s.track(RouteGetEventByID, s.getEventByID))
	s.mux.HandleFunc("POST /addEvent", s.track(RouteAddEvent, s.addEvent))
	// The simulator's own routes: not counted, never delayed or dropped.
	s.mux.HandleFunc("GET "+StatsPath, s.serveStats)
	s.mux.HandleFunc("POST "+ResetPath, s.serveReset)
	return s
}

// loadSeed (re)loads the seed data and forgets the failure-cycle position and
// any injected fault. Called with s.mu held, or before s is shared.
func (s *Sim) loadSeed() {
	s.users = map[string]*User{}
	s.userOrder = nil
	s.events = map[string]*Event{}
	s.eventOrder = nil
	s.addCalls = 0
	s.dropNext = 0
	s.failEvents = map[string]*injectedFailure{}
	us, es := seed(s.cfg.Users, s.cfg.EventsPerUser)
	for _, u := range us {
		s.users[u.ID] = u
		s.userOrder = append(s.userOrder, u.ID)
	}
	for _, e := range es {
		s.events[e.ID] = e
		s.eventOrder = append(s.eventOrder, e.ID)
	}
}

// ServeHTTP serves the Event API routes and the simulator's own GET /__stats
// and POST /__reset.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Count is how many requests a route has received.
func (s *Sim) Count(route string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st := s.stats[route]; st != nil {
		return st.count
	}
	return 0
}

// Overloaded is how many requests were answered 503 over capacity since the
// last reset (see Config.Capacity); they are counted as calls too.
func (s *Sim) Overloaded() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.overloaded
}

// PeakInFlight is the largest number of requests a route served at once.
func (s *Sim) PeakInFlight(route string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st := s.stats[route]; st != nil {
		return st.peak
	}
	return 0
}

// ResetStats zeroes the request and overload counters and restarts the peaks. Requests
// still in flight stay counted as in flight, so a peak afterwards starts from
// them (0 when the simulator is idle). The data, the addEvent failure cycle
// and injected faults are kept: see ResetData.
func (s *Sim) ResetStats() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, st := range s.stats {
		st.count = 0
		st.peak = st.inFlight
	}
	s.peak = s.inFlight
	s.overloaded = 0
}

// ResetData makes the simulator as New left it, counters apart: it restores
// the seed data (dropping events added or removed since and users put), restarts
// the addEvent failure cycle at call 1 and cancels pending DropNext and
// FailEvent faults.
func (s *Sim) ResetData() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.loadSeed()
}

// DropNext makes the next n list-route calls (getUsers, getEvents) drop their
// connection, whatever the random rate says: deterministic fault injection.
func (s *Sim) DropNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dropNext = n
}

// FailEvent makes getEventById for id answer status for its next n calls
// (n < 0: for every call).
func (s *Sim) FailEvent(id string, status, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failEvents[id] = &injectedFailure{status: status, remaining: n}
}

// RemoveEvent deletes an event but leaves its id in its user's list, as an
// upstream that lost an event would.
func (s *Sim) RemoveEvent(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.events, id)
	s.eventOrder = slices.DeleteFunc(s.eventOrder, func(e string) bool { return e == id })
}

// HoldEvents makes getEventById lookups wait, instead of the event delay,
// until n of them are in flight at once, then answer all together (or after
// holdLimit, whichever comes first). A test then sees whether a gateway
// really fetches n lookups concurrently, however slow or busy the machine:
// a gateway that does not never gathers n, and the peak shows it.
func (s *Sim) HoldEvents(n int) {
	s.mu.Lock()
	s.holdN, s.hold = n, make(chan struct{})
	s.mu.Unlock()
}

// holdLimit bounds a HoldEvents wait, so a gateway that never gathers n
// lookups fails its test instead of hanging it.
const holdLimit = 10 * time.Second

func (s *Sim) track(route string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		st := s.stats[route]
		s.mu.Lock()
		st.count++
		st.inFlight++
		st.peak = max(st.peak, st.inFlight)
		if route == RouteGetEventByID && s.holdN > 0 && st.inFlight >= s.holdN {
			close(s.hold)
			s.holdN = 0
		}
		s.inFlight++
		s.peak = max(s.peak, s.inFlight)
		limit := s.cfg.overloadLimit()
		over := limit > 0 && s.inFlight > limit
		if over {
			s.overloaded++
		}
		s.mu.Unlock()
		defer func() {
			s.mu.Lock()
			st.inFlight--
			s.inFlight--
			s.mu.Unlock()
		}()
		if over {
			w.Header().Set("Retry-After", "1")
			writeJSON(w, http.StatusServiceUnavailable, map[string]any{
				"success": false,
				"error":   "Service temporarily unavailable",
				"message": "Event API is over capacity",
			})
			return
		}
		if hold := s.takeHold(route); hold != nil {
			hold.serve(w, r, h)
			return
		}
		h(w, r)
	}
}

// dropped decides whether this list-route call loses its connection and, if
// so, closes it without writing a response.
func (s *Sim) dropped(w http.ResponseWriter) bool {
	s.mu.Lock()
	drop := s.dropNext > 0
	if drop {
		s.dropNext--
	}
	s.mu.Unlock()
	if !drop && (s.cfg.NetworkErrorRate <= 0 || rand.Float64() >= s.cfg.NetworkErrorRate) {
		return false
	}
	// A real closed connection, as the original mock's socket.destroy(): the
	// client sees EOF, not an HTTP status.
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return true
		}
	}
	panic(http.ErrAbortHandler)
}

func (s *Sim) getUsers(w http.ResponseWriter, r *http.Request) {
	if s.dropped(w) {
		return
	}
	s.mu.Lock()
	out := make([]User, 0, len(s.userOrder))
	for _, id := range s.userOrder {
		out = append(out, s.userCopy(id))
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

func (s *Sim) getUserByID(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	_, ok := s.users[r.PathValue("id")]
	var u User
	if ok {
		u = s.userCopy(r.PathValue("id"))
	}
	s.mu.Unlock()
	if !ok {
		// The original answered an unknown id with an empty 200.
		w.WriteHeader(http.StatusOK)
		return
	}
	writeJSON(w, http.StatusOK, u)
}

func (s *Sim) getEvents(w http.ResponseWriter, r *http.Request) {
	if s.dropped(w) {
		return
	}
	s.mu.Lock()
	out := make([]Event, 0, len(s.eventOrder))
	for _, id := range s.eventOrder {
		out = append(out, *s.events[id])
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

func (s *Sim) getEventByID(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	hold := s.hold
	delay := s.cfg.eventDelay(s.inFlight)
	s.mu.Unlock()
	if hold != nil {
		select {
		case <-hold:
		case <-r.Context().Done():
			return
		case <-time.After(holdLimit):
		}
	} else if !sleep(r.Context(), delay) {
		return
	}
	id := r.PathValue("id")
	s.mu.Lock()
	status := s.injectedEventFailure(id)
	e, ok := s.events[id]
	var ev Event
	if ok {
		ev = *e
	}
	s.mu.Unlock()
	switch {
	case status != 0:
		writeJSON(w, status, map[string]any{"error": "injected failure"})
	case !ok:
		w.WriteHeader(http.StatusOK)
	default:
		writeJSON(w, http.StatusOK, ev)
	}
}

// injectedEventFailure returns the status FailEvent set for id, or 0.
// Called with s.mu held.
func (s *Sim) injectedEventFailure(id string) int {
	f, ok := s.failEvents[id]
	if !ok {
		return 0
	}
	if f.remaining > 0 {
		f.remaining--
		if f.remaining == 0 {
			delete(s.failEvents, id)
		}
	}
	return f.status
}

func (s *Sim) addEvent(w http.ResponseWriter, r *http.Request) {
	var e Event
	if err := json.NewDecoder(r.Body).Decode(&e); err != nil || e.ID == "" || e.Name == "" {
		writeJSON(w, http.StatusBadRequest, map[string]any{"success": false, "error": "Invalid event"})
		return
	}
	s.mu.Lock()
	s.addCalls++
	call := s.addCalls
	if s.addCalls >= 15 {
		s.addCalls = 0
	}
	s.mu.Unlock()
	if s.cfg.FailureCycle && call > 5 {
		if !sleep(r.Context(), s.cfg.FailureDelay) {
			return
		}
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{
			"success": false,
			"error":   "Service temporarily unavailable",
			"message": "Event API is experiencing high load",
		})
		return
	}
	s.mu.Lock()
	u, ok := s.users[e.UserID]
	if ok {
		if _, dup := s.events[e.ID]; !dup {
			s.events[e.ID] = &e
			s.eventOrder = append(s.eventOrder, e.ID)
			u.Events = append(u.Events, e.ID)
		}
	}
	s.mu.Unlock()
	if !ok {
		writeJSON(w, http.StatusBadRequest, map[string]any{"success": false, "error": "User not found"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"success": true})
}

// userCopy returns a copy that shares no slice with the store. Called with s.mu held.
func (s *Sim) userCopy(id string) User {
	u := *s.users[id]
	u.Events = slices.Clone(u.Events)
	return u
}

// sleep waits d or until ctx ends; it reports whether the full wait elapsed.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// PutUser adds or replaces a user (tests use it to make users share events).
func (s *Sim) PutUser(u User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.users[u.ID]; !ok {
		s.userOrder = append(s.userOrder, u.ID)
	}
	u.Events = slices.Clone(u.Events)
	s.users[u.ID] = &u
}

// UserEvents returns the event ids the user with id lists.
func (s *Sim) UserEvents(id string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u, ok := s.users[id]; ok {
		return slices.Clone(u.Events)
	}
	return nil
}
