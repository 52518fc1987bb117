package paging

import (
	"encoding/base64"
	"errors"
	"fmt"
	"hash/crc32"
	"strings"
	"testing"
)

func ptr[T any](v T) *T { return &v }

// forge builds a cursor by hand, with a correct check, from any payload.
func forge(payload string) string {
	return base64.RawURLEncoding.EncodeToString(fmt.Appendf([]byte(payload), "|%08x", crc32.ChecksumIEEE([]byte(payload))))
}

func TestCursorRoundTrip(t *testing.T) {
	for _, list := range []string{"users", "events", "user/1/events", "user/a|b/events", "user//events", ""} {
		for _, pos := range []int{0, 1, 19, 999, 1 << 40} {
			c := encode(list, pos)
			if strings.ContainsAny(c, "+/=") {
				t.Errorf("cursor %q is not unpadded base64url", c)
			}
			got, err := decode(list, "after", c)
			if err != nil || got != pos {
				t.Errorf("decode(encode(%q, %d)) = %d, %v", list, pos, got, err)
			}
		}
	}
}

func TestCursorIsStableAndListSpecific(t *testing.T) {
	if encode("users", 7) != encode("users", 7) {
		t.Error("the same position encodes differently")
	}
	if encode("users", 7) == encode("events", 7) {
		t.Error("two lists share a cursor")
	}
}

func TestBadCursorsAreRefusedNamingTheArgument(t *testing.T) {
	good := encode("user/1/events", 5)
	raw, _ := base64.RawURLEncoding.DecodeString(good)
	flipped := []byte(good)
	flipped[3] ^= 0x01 // still base64url, different bytes
	tests := []struct {
		name, cursor, want string
	}{
		{"another user's list", encode("user/2/events", 5), "cursor is not from this list"},
		{"Query.events' list", encode("events", 5), "cursor is not from this list"},
		{"a list whose name extends this one", encode("user/1/events|x", 5), "cursor is not from this list"},
		{"malformed base64", "not a cursor!", "malformed cursor (not base64url)"},
		{"padded base64", base64.URLEncoding.EncodeToString(raw) + "==", "malformed cursor (not base64url)"},
		{"standard base64 alphabet", strings.NewReplacer("-", "+", "_", "/").Replace(good) + "+/", "malformed cursor (not base64url)"},
		{"empty", "", "cursor was altered or is not one this API issued"},
		{"a character edited", string(flipped), "cursor was altered or is not one this API issued"},
		{"truncated", good[:len(good)-4], "cursor was altered or is not one this API issued"},
		{"position edited, check kept", base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(raw), "|5|", "|6|", 1))), "cursor was altered or is not one this API issued"},
		{"plain offset", base64.RawURLEncoding.EncodeToString([]byte("5")), "cursor was altered or is not one this API issued"},
		{"another version", forge("v0|user/1/events|5"), "cursor is of a version this API no longer reads; start from the first page"},
		{"negative position", forge("v1|user/1/events|-1"), "cursor was altered or is not one this API issued"},
		{"position with a sign", forge("v1|user/1/events|+5"), "cursor was altered or is not one this API issued"},
		{"position with leading zeros", forge("v1|user/1/events|05"), "cursor was altered or is not one this API issued"},
		{"position not a number", forge("v1|user/1/events|five"), "cursor was altered or is not one this API issued"},
		{"no position", forge("v1|user/1/events"), "cursor was altered or is not one this API issued"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, arg := range []string{"after", "before"} {
				a := Args{}
				if arg == "after" {
					a.After = &tt.cursor
				} else {
					a.Before = &tt.cursor
				}
				_, err := NewLimits(100, "MAX_PAGE_SIZE").Page("user/1/events", 10, a)
				var ae *ArgError
				if !errors.As(err, &ae) {
					t.Fatalf("%s %q: error %v, want an *ArgError", arg, tt.cursor, err)
				}
				if ae.Arg != arg || ae.Reason != tt.want {
					t.Errorf("%s %q: %q, want %q", arg, tt.cursor, err, arg+": "+tt.want)
				}
			}
		})
	}
}

func TestBadSizesAreRefusedNamingTheArgument(t *testing.T) {
	l := NewLimits(100, "MAX_PAGE_SIZE")
	tests := []struct {
		name string
		args Args
		want string
	}{
		{"first negative", Args{First: ptr(-1)}, "first: must not be negative"},
		{"last negative", Args{Last: ptr(-1)}, "last: must not be negative"},
		{"first and last", Args{First: ptr(10), Last: ptr(10)}, "last: cannot be given with first: page forward with first and after, or backward with last and before"},
		{"first over the maximum", Args{First: ptr(101)}, "first: must be at most 100 (MAX_PAGE_SIZE)"},
		{"last over the maximum", Args{Last: ptr(1 << 40)}, "last: must be at most 100 (MAX_PAGE_SIZE)"},
		{"size checked before cursors", Args{First: ptr(-1), After: ptr("garbage!")}, "first: must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := l.Page("users", 1000, tt.args)
			var ae *ArgError
			if !errors.As(err, &ae) || err.Error() != tt.want {
				t.Errorf("error %v, want *ArgError %q", err, tt.want)
			}
		})
	}
	if _, err := l.Page("users", 1000, Args{First: ptr(100)}); err != nil {
		t.Errorf("first: 100 (the maximum): %v", err)
	}
	if _, err := l.Page("users", 1000, Args{Last: ptr(0)}); err != nil {
		t.Errorf("last: 0: %v", err)
	}
}

// page is what a window says, in a form a table can spell out.
type page struct {
	start, end   int
	prev, next   bool
	startC, endC string // "" for nil
}

func TestPageFollowsTheRelayAlgorithm(t *testing.T) {
	const list = "user/1/events"
	at := func(pos int) *string { return ptr(encode(list, pos)) }
	l := NewLimits(100, "MAX_PAGE_SIZE")
	tests := []struct {
		name  string
		total int
		args  Args
		want  page
	}{
		{"first page", 1000, Args{First: ptr(20)}, page{0, 20, false, true, "0", "19"}},
		{"second page", 1000, Args{First: ptr(20), After: at(19)}, page{20, 40, true, true, "20", "39"}},
		{"last page forward", 1000, Args{First: ptr(20), After: at(979)}, page{980, 1000, true, false, "980", "999"}},
		{"short last page", 1000, Args{First: ptr(30), After: at(979)}, page{980, 1000, true, false, "980", "999"}},
		{"after the last item", 1000, Args{First: ptr(20), After: at(999)}, page{1000, 1000, true, false, "", ""}},
		{"after past the end (list shrank)", 10, Args{First: ptr(20), After: at(50)}, page{10, 10, true, false, "", ""}},
		{"last page", 1000, Args{Last: ptr(20)}, page{980, 1000, true, false, "980", "999"}},
		{"page before", 1000, Args{Last: ptr(20), Before: at(980)}, page{960, 980, true, true, "960", "979"}},
		{"first page backward", 1000, Args{Last: ptr(20), Before: at(15)}, page{0, 15, false, true, "0", "14"}},
		{"before the first item", 1000, Args{Last: ptr(20), Before: at(0)}, page{0, 0, false, true, "", ""}},
		{"before past the end", 10, Args{Last: ptr(3), Before: at(50)}, page{7, 10, true, false, "7", "9"}},
		{"no size: the default from the start", 1000, Args{}, page{0, 20, false, true, "0", "19"}},
		{"no size, after: the default forward", 1000, Args{After: at(99)}, page{100, 120, true, true, "100", "119"}},
		{"no size, before: the default backward", 1000, Args{Before: at(100)}, page{80, 100, true, true, "80", "99"}},
		{"a short list whole", 3, Args{}, page{0, 3, false, false, "0", "2"}},
		{"an empty list", 0, Args{First: ptr(20)}, page{0, 0, false, false, "", ""}},
		{"an empty list, after", 0, Args{First: ptr(20), After: at(3)}, page{0, 0, false, false, "", ""}},
		{"an empty list, last", 0, Args{Last: ptr(5)}, page{0, 0, false, false, "", ""}},
		{"first: 0", 10, Args{First: ptr(0)}, page{0, 0, false, true, "", ""}},
		{"last: 0", 10, Args{Last: ptr(0)}, page{10, 10, true, false, "", ""}},
		{"between after and before", 100, Args{After: at(9), Before: at(15)}, page{10, 15, true, false, "10", "14"}},
		// With first, hasNextPage says whether first cut the page short,
		// as the specification says, not whether items follow before.
		{"first between after and before", 100, Args{First: ptr(3), After: at(9), Before: at(15)}, page{10, 13, true, true, "10", "12"}},
		// With last, hasPreviousPage says whether last cut the page short;
		// hasNextPage whether items follow before.
		{"last between after and before", 100, Args{Last: ptr(3), After: at(9), Before: at(15)}, page{12, 15, true, true, "12", "14"}},
		{"last spanning after and before", 100, Args{Last: ptr(10), After: at(9), Before: at(15)}, page{10, 15, false, true, "10", "14"}},
		{"after beyond before", 100, Args{First: ptr(5), After: at(50), Before: at(10)}, page{51, 51, true, false, "", ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := l.Page(list, tt.total, tt.args)
			if err != nil {
				t.Fatal(err)
			}
			got := page{start: w.Start, end: w.End, prev: w.HasPreviousPage(), next: w.HasNextPage(),
				startC: position(t, list, w.StartCursor()), endC: position(t, list, w.EndCursor())}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
			if w.Total != tt.total || w.Len() != w.End-w.Start {
				t.Errorf("total %d len %d", w.Total, w.Len())
			}
		})
	}
}

// position decodes c to its position, "" for nil.
func position(t *testing.T, list string, c *string) string {
	t.Helper()
	if c == nil {
		return ""
	}
	pos, err := decode(list, "cursor", *c)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprint(pos)
}

func TestWalkingEveryPageVisitsEveryPositionOnce(t *testing.T) {
	const list, total = "events", 103
	l := NewLimits(100, "MAX_PAGE_SIZE")
	var forward []int
	args := Args{First: ptr(10)}
	for pages := 0; ; pages++ {
		w, err := l.Page(list, total, args)
		if err != nil {
			t.Fatal(err)
		}
		for pos := w.Start; pos < w.End; pos++ {
			forward = append(forward, pos)
		}
		if !w.HasNextPage() {
			break
		}
		if pages > total {
			t.Fatal("no end")
		}
		args.After = w.EndCursor()
	}
	var backward []int
	args = Args{Last: ptr(7)}
	for pages := 0; ; pages++ {
		w, err := l.Page(list, total, args)
		if err != nil {
			t.Fatal(err)
		}
		for pos := w.End - 1; pos >= w.Start; pos-- {
			backward = append(backward, pos)
		}
		if !w.HasPreviousPage() {
			break
		}
		if pages > total {
			t.Fatal("no end")
		}
		args.Before = w.StartCursor()
	}
	if len(forward) != total || len(backward) != total {
		t.Fatalf("forward %d, backward %d positions, want %d each", len(forward), len(backward), total)
	}
	for i := range total {
		if forward[i] != i || backward[i] != total-1-i {
			t.Fatalf("position %d: forward %d, backward %d", i, forward[i], backward[i])
		}
	}
}

func TestSizeIsWhatAPageCanCost(t *testing.T) {
	l := NewLimits(100, "")
	tests := []struct {
		first, last *int
		want        int
	}{
		{nil, nil, 20},
		{ptr(5), nil, 5},
		{nil, ptr(50), 50},
		{ptr(1000), nil, 100},
		{ptr(-1), nil, 0},
		{ptr(3), ptr(60), 60},
	}
	for _, tt := range tests {
		if got := l.Size(tt.first, tt.last); got != tt.want {
			t.Errorf("Size(%v, %v) = %d, want %d", tt.first, tt.last, got, tt.want)
		}
	}
	if got := NewLimits(5, "").Size(nil, nil); got != 5 {
		t.Errorf("default with a maximum of 5: %d, want 5", got)
	}
}
