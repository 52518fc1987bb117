package middleware

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"time"
)

// Limits rejects oversize requests before any handler reads them: a body
// over maxBody bytes gets 413, a URL query over maxQuery bytes gets 414.
// A body within the limit is read here whole, so that no handler ever sees
// a half-read body (gqlgen would answer a read error with a 200).
func Limits(maxBody int64, maxQuery int, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.URL.RawQuery) > maxQuery {
			writeError(w, http.StatusRequestURITooLong, "URI too long",
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
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		var mbe *http.MaxBytesError
		switch {
		case errors.As(err, &mbe):
			tooLarge(w, maxBody)
			return
		case err != nil:
			writeError(w, http.StatusBadRequest, "Bad request", "body: could not be read: "+err.Error())
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		next.ServeHTTP(w, r)
	})
}

func tooLarge(w http.ResponseWriter, limit int64) {
	w.Header().Set("Connection", "close")
	writeError(w, http.StatusRequestEntityTooLarge, "Payload too large", fmt.Sprintf("body: must be at most %d bytes", limit))
}

// Deadline gives every request a deadline that upstream calls inherit.
func Deadline(d time.Duration, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), d)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// simpleContentTypes are those a browser sends cross-site without a
// preflight: a request with one of them (or none) may be a forged form post.
var simpleContentTypes = map[string]bool{
	"":                                  true,
	"text/plain":                        true,
	"application/x-www-form-urlencoded": true,
	"multipart/form-data":               true,
}

func mediaType(r *http.Request) string {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return ""
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return "invalid"
	}
	return mt
}

// CSRFMessage is the error a blocked GraphQL request gets (Apollo Server's wording).
const CSRFMessage = "This operation has been blocked as a potential Cross-Site Request Forgery (CSRF). " +
	"Please either specify a 'content-type' header (with a type that is not one of " +
	"application/x-www-form-urlencoded, multipart/form-data, text/plain) or provide a non-empty value " +
	"for one of the following headers: x-apollo-operation-name, apollo-require-preflight"

// GraphQLCSRF blocks requests a browser could send cross-site without a
// preflight, as Apollo Server's csrfPrevention does: the request must carry
// a non-simple Content-Type, or an X-Apollo-Operation-Name or
// Apollo-Require-Preflight header. OPTIONS (the preflight itself) passes.
func GraphQLCSRF(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions || !simpleContentTypes[mediaType(r)] ||
			r.Header.Get("X-Apollo-Operation-Name") != "" || r.Header.Get("Apollo-Require-Preflight") != "" {
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"errors":[{"message":"`+CSRFMessage+`","extensions":{"code":"BAD_REQUEST"}}]}`+"\n")
	})
}

// RequireJSON answers 415 to a request whose body is not declared JSON, so
// a cross-site form cannot post to a JSON route.
func RequireJSON(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if mt := mediaType(r); mt != "application/json" {
			writeError(w, http.StatusUnsupportedMediaType, "Unsupported media type",
				fmt.Sprintf("Content-Type: must be application/json, got %q", r.Header.Get("Content-Type")))
			return
		}
		next.ServeHTTP(w, r)
	})
}
