package eventsim

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestFailureCycle(t *testing.T) {
	cfg := Defaults()
	cfg.FailureDelay = 0
	s := New(cfg)
	srv := httptest.NewServer(s)
	defer srv.Close()

	var got []int
	for i := 0; i < 32; i++ {
		body := `{"id":"x` + string(rune('a'+i)) + `","name":"n","userId":"1"}`
		resp, err := http.Post(srv.URL+"/addEvent", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		got = append(got, resp.StatusCode)
	}
	for i, status := range got {
		want := http.StatusServiceUnavailable
		if i%15 < 5 {
			want = http.StatusOK
		}
		if status != want {
			t.Fatalf("call %d: status %d, want %d (all: %v)", i+1, status, want, got)
		}
	}
	if n := len(s.UserEvents("1")); n != 2+5+5+2 {
		t.Errorf("user 1 has %d events, want %d (seed 2 + 12 stored)", n, 2+5+5+2)
	}
}

func TestDropIsAClosedConnection(t *testing.T) {
	s := New(Config{})
	srv := httptest.NewServer(s)
	defer srv.Close()
	s.DropNext(1)
	_, err := http.Get(srv.URL + "/getUsers")
	if err == nil || !(errors.Is(err, io.EOF) || strings.Contains(err.Error(), "EOF")) {
		t.Fatalf("dropped call: err %v, want EOF on a closed connection", err)
	}
	resp, err := http.Get(srv.URL + "/getUsers")
	if err != nil {
		t.Fatalf("next call: %v", err)
	}
	defer resp.Body.Close()
	var users []User
	if err := json.NewDecoder(resp.Body).Decode(&users); err != nil || len(users) != 3 {
		t.Fatalf("users %v, err %v; want the 3 seed users", users, err)
	}
	if c := s.Count(RouteGetUsers); c != 2 {
		t.Errorf("getUsers count %d, want 2", c)
	}
}

func TestSeedIDsMatchKeysAndGeneratedUsers(t *testing.T) {
	s := New(Config{Users: 2, EventsPerUser: 3})
	srv := httptest.NewServer(s)
	defer srv.Close()
	tests := []struct{ path, wantID string }{
		{"/getUserById/3", "3"},
		{"/getEventById/event-4", "event-4"},
		{"/getUserById/u2", "u2"},
		{"/getEventById/u2-e3", "u2-e3"},
	}
	for _, tt := range tests {
		resp, err := http.Get(srv.URL + tt.path)
		if err != nil {
			t.Fatal(err)
		}
		var obj struct{ ID string }
		err = json.NewDecoder(resp.Body).Decode(&obj)
		resp.Body.Close()
		if err != nil || obj.ID != tt.wantID {
			t.Errorf("%s: id %q (err %v), want %q", tt.path, obj.ID, err, tt.wantID)
		}
	}
	resp, err := http.Get(srv.URL + "/getUserById/nope")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || len(b) != 0 {
		t.Errorf("unknown user: %d %q, want an empty 200 as the original", resp.StatusCode, b)
	}
}

// A held request answers with the data as they were when it arrived, once
// released; the next request to the route is not held.
func TestHoldNextAnswersAsOfArrival(t *testing.T) {
	s := New(Config{})
	srv := httptest.NewServer(s)
	defer srv.Close()
	users := func() (int, error) {
		resp, err := http.Get(srv.URL + "/getUsers")
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		var us []User
		err = json.NewDecoder(resp.Body).Decode(&us)
		return len(us), err
	}
	h := s.HoldNext(RouteGetUsers)
	held := make(chan int, 1)
	go func() { n, _ := users(); held <- n }()
	<-h.Arrived()
	s.PutUser(User{ID: "4"})
	if n, err := users(); err != nil || n != 4 {
		t.Fatalf("a request after the held one: %d users, %v; want 4, not held", n, err)
	}
	select {
	case <-h.Answered():
		t.Fatal("answered before Release")
	default:
	}
	h.Release()
	if n := <-held; n != 3 {
		t.Errorf("the held request: %d users; want the 3 there were when it arrived", n)
	}
	<-h.Answered()
	if n := s.Count(RouteGetUsers); n != 2 {
		t.Errorf("%d calls counted; want 2", n)
	}
}
