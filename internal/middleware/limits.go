package middleware

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/eventms/gateway/internal/httpjson"
)

// Limits rejects oversize requests before any handler reads them: a body
// over maxBody bytes gets 413, a URL query over maxQuery bytes gets 414.
// A body within the limit is read here whole, so that no handler ever sees
// a half-read body (gqlgen would answer a read error with a 200).
func Limits(maxBody int64, maxQuery int, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.URL.RawQuery) > maxQuery {
			httpjson.Error(w, http.StatusRequestURITooLong, "URI too long",
				fmt.Sprintf("query string: must be at most %d bytes (send large queries with POST)", maxQuery))
			return
		}
		if r.Body == nil || r.Body == http.NoBody {
			next.ServeHTTP(w, r)
			return
		}
		if r.ContentLength > maxBody {
			tooLarge(w, maxBody)
			return
		}
		body, err := readBody(http.MaxBytesReader(w, r.Body, maxBody), r.ContentLength)
		var mbe *http.MaxBytesError
		switch {
		case errors.As(err, &mbe):
			tooLarge(w, maxBody)
			return
		case err != nil:
			httpjson.Error(w, http.StatusBadRequest, "Bad request", "body: could not be read: "+err.Error())
			return
		}
		r.Body = &Body{b: body}
		r.ContentLength = int64(len(body))
		next.ServeHTTP(w, r)
	})
}

// readBody reads a body whole, into a buffer of its announced length when
// it has one (no growing and copying on the way), else as io.ReadAll does.
func readBody(body io.Reader, length int64) ([]byte, error) {
	if length <= 0 {
		return io.ReadAll(body)
	}
	b := make([]byte, length, length+1) // +1: room to see a body longer than announced
	if _, err := io.ReadFull(body, b); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("shorter than its Content-Length (%d bytes): %w", length, err)
		}
		return nil, err
	}
	// net/http ends a body at its Content-Length; a reader that does not
	// still gets read whole.
	if n, _ := body.Read(b[length : length+1]); n == 0 {
		return b, nil
	}
	rest, err := io.ReadAll(body)
	return append(b[:length+1], rest...), err
}

// Body is a request body Limits has read whole. A handler that needs the
// bytes takes them with Bytes instead of copying them again; one that reads
// it as a stream reads it as any body.
type Body struct {
	b    []byte
	read int
}

// Read implements io.Reader.
func (b *Body) Read(p []byte) (int, error) {
	if b.read >= len(b.b) {
		return 0, io.EOF
	}
	n := copy(p, b.b[b.read:])
	b.read += n
	return n, nil
}

// Bytes returns the whole body, whatever has been read of it. The caller
// must not modify it.
func (b *Body) Bytes() []byte { return b.b }

// Close implements io.Closer.
func (*Body) Close() error { return nil }

func tooLarge(w http.ResponseWriter, limit int64) {
	w.Header().Set("Connection", "close")
	httpjson.Error(w, http.StatusRequestEntityTooLarge, "Payload too large", fmt.Sprintf("body: must be at most %d bytes", limit))
}

// CleanPath answers 400 to a request whose path has empty, "." or ".."
// segments (also when percent-encoded), instead of letting the router
// redirect it to another route: /getEventsByUserId/../getUsers is a bad
// request, not a way to reach /getUsers.
func CleanPath(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		if p != "" && p != "/" && (p[0] != '/' || path.Clean(p) != strings.TrimSuffix(p, "/") || strings.HasSuffix(p, "//")) {
			httpjson.Error(w, http.StatusBadRequest, "Bad request", "path: must not contain empty, . or .. segments")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// Deadline gives every request a deadline that upstream calls inherit,
// except WebSocket upgrades: a connection lasts as long as its client
// wants, and its operations get their own deadlines. An answer that really
// is a stream (an SSE subscription) lifts the deadline itself, with Lift,
// once its transport knows it is one; a plain query sent with an Accept
// that merely lists text/event-stream (urql and GraphiQL send it on every
// request) keeps it.
func Deadline(d time.Duration, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
			next.ServeHTTP(w, r)
			return
		}
		base := r.Context()
		ctx, cancel := context.WithTimeout(base, d)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(context.WithValue(ctx, undeadlinedKey{}, base)))
	})
}

type undeadlinedKey struct{}

// Lift returns a context with ctx's values that ends when the request's
// client leaves (or the server shuts down the connection) but not at the
// deadline Deadline gave it: for the transport of a stream that may outlive
// it. Outside Deadline it returns ctx.
func Lift(ctx context.Context) context.Context {
	base, ok := ctx.Value(undeadlinedKey{}).(context.Context)
	if !ok {
		return ctx
	}
	return lifted{Context: base, values: ctx}
}

// lifted has the cancellation of the request before its deadline and the
// values of the request now (the loaders, the cache report, the identity
// added by the layers after Deadline).
type lifted struct {
	context.Context
	values context.Context
}

func (l lifted) Value(key any) any { return l.values.Value(key) }
