package eventsim

import (
	"fmt"
	"net/http"
	"strings"
)

// The simulator's own routes, served beside the Event API ones so that tools
// outside the Go process can count upstream calls. They are not counted as
// calls and are never delayed or dropped. Other methods get 405 with an Allow
// header.
const (
	// StatsPath answers GET with the Stats as JSON.
	StatsPath = "/__stats"
	// ResetPath on POST calls ResetStats and answers 204; with ?data=1 (or
	// true/on/yes) it calls ResetData first, restoring the seed data and
	// restarting the addEvent failure cycle.
	ResetPath = "/__reset"
)

// Stats is a snapshot of the request counters, in the JSON form GET /__stats
// serves, e.g.
//
//	{"calls":{"addEvent":2,"getEventById":12,"getEvents":0,"getUserById":1,"getUsers":3},
//	 "peakInFlight":12,"inFlight":0,"overloaded":0,
//	 "peakInFlightByRoute":{"addEvent":1,"getEventById":12,"getEvents":0,"getUserById":1,"getUsers":1}}
//
// Every Event API route is named, zeros included. Dropped connections,
// injected failures and 503s over capacity count as calls: the caller made
// them.
type Stats struct {
	// Calls is how many requests each route received since the last reset.
	Calls map[string]int `json:"calls"`
	// PeakInFlight is the most requests served at once since the last
	// reset, all routes together.
	PeakInFlight int `json:"peakInFlight"`
	// InFlight is how many requests are being served now, all routes.
	InFlight int `json:"inFlight"`
	// Overloaded is how many requests were answered 503 over capacity
	// (Config.Capacity) since the last reset; with Calls it gives the
	// upstream's overload 503 rate.
	Overloaded int `json:"overloaded"`
	// PeakInFlightByRoute is each route's own peak since the last reset.
	PeakInFlightByRoute map[string]int `json:"peakInFlightByRoute"`
}

// Stats returns the request counters.
func (s *Sim) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := Stats{
		Calls:               make(map[string]int, len(routes)),
		PeakInFlight:        s.peak,
		InFlight:            s.inFlight,
		Overloaded:          s.overloaded,
		PeakInFlightByRoute: make(map[string]int, len(routes)),
	}
	for _, route := range routes {
		st := s.stats[route]
		out.Calls[route] = st.count
		out.PeakInFlightByRoute[route] = st.peak
	}
	return out
}

func (s *Sim) serveStats(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, s.Stats())
}

func (s *Sim) serveReset(w http.ResponseWriter, r *http.Request) {
	data := false
	if v := r.URL.Query().Get("data"); v != "" {
		var ok bool
		if data, ok = parseBool(v); !ok {
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": fmt.Sprintf("data=%q: want %s", v, boolForm)})
			return
		}
	}
	if data {
		s.ResetData()
	}
	s.ResetStats()
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}

const boolForm = "on or off (also true/false, 1/0, yes/no)"

func parseBool(v string) (value, ok bool) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "on", "true", "1", "yes":
		return true, true
	case "off", "false", "0", "no":
		return false, true
	}
	return false, false
}
