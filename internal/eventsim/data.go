// Package eventsim is an in-process simulator of the external Event API.
//
// It serves the upstream routes exactly as the original mock did, including its
// flaws (slow event lookups, dropped connections on list routes, the addEvent
// failure cycle), so that the gateway, its tests and its benchmarks run against
// realistic behaviour with nothing to install. It also counts requests per
// route and their peak concurrency, which tests assert on instead of the clock
// and which tools outside the process read at GET /__stats (see StatsPath).
//
// ConfigFromEnv and SettingsFromEnv read its settings from the SIM_* variables
// only; the gateway's own configuration need not depend on this package.
package eventsim

import (
	"fmt"
	"strconv"
)

// User is a user as the upstream stores and serves it.
type User struct {
	ID       string   `json:"id"`
	UserName string   `json:"userName"`
	Email    string   `json:"email"`
	Events   []string `json:"events"`
}

// Event is an event as the upstream stores and serves it.
type Event struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	UserID  string `json:"userId"`
	Details string `json:"details,omitempty"`
}

// seed returns the original mock's data with its copy-paste id bugs fixed,
// plus `users` generated users u1…uN with `perUser` events u<i>-e<j> each.
func seed(users, perUser int) ([]*User, []*Event) {
	us := []*User{
		{ID: "1", UserName: "john_doe", Email: "john@example.com", Events: []string{"event-1", "event-3"}},
		{ID: "2", UserName: "jane_smith", Email: "jane@example.com", Events: []string{"event-2"}},
		{ID: "3", UserName: "bob_wilson", Email: "bob@example.com", Events: []string{"event-4"}},
	}
	es := []*Event{
		{ID: "event-1", Name: "Tech Conference", UserID: "1", Details: "Annual technology conference"},
		{ID: "event-2", Name: "Music Festival", UserID: "2", Details: "Summer music festival"},
		{ID: "event-3", Name: "Workshop", UserID: "1", Details: "Go programming workshop"},
		{ID: "event-4", Name: "Meetup", UserID: "3", Details: "Local developers meetup"},
	}
	for i := 1; i <= users; i++ {
		id := "u" + strconv.Itoa(i)
		u := &User{ID: id, UserName: "user_" + id, Email: id + "@example.com", Events: make([]string, 0, perUser)}
		for j := 1; j <= perUser; j++ {
			eid := fmt.Sprintf("%s-e%d", id, j)
			u.Events = append(u.Events, eid)
			es = append(es, &Event{ID: eid, Name: fmt.Sprintf("Event %d of %s", j, id), UserID: id, Details: "generated"})
		}
		us = append(us, u)
	}
	return us, es
}
