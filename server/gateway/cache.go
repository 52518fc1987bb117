package gateway

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/eventms/gateway/internal/config"
	"github.com/eventms/gateway/internal/entitycache"
	"github.com/eventms/gateway/internal/eventapi"
	"github.com/eventms/gateway/internal/httpcache"
	"github.com/eventms/gateway/internal/metrics"
)

// newEntityCache puts the entity cache in front of api, as cfg says, with
// the fleet's shared level behind this replica's memory when there is one.
func newEntityCache(cfg config.Cache, api *eventapi.Client, fl *fleet, m *metrics.Metrics, now func() time.Time) (*entitycache.Cache, error) {
	local, err := entitycache.NewMemory(cfg.MaxEntries, func() { m.CacheEviction() })
	if err != nil {
		return nil, err
	}
	m.EnableCache(local.Len)
	ecfg := cfg.Entity
	ecfg.Now = now
	ecfg.Hooks = entitycache.Hooks{Hit: m.CacheHit, Miss: m.CacheMiss, Stale: m.CacheStale, Refresh: m.CacheRefresh}
	var cache *entitycache.Cache
	store := fl.cacheStore(local, ecfg.StaleIfError, func(keys []string) {
		// Another replica's write: fills in flight may predate it.
		cache.Invalidated()
		local.Delete(context.Background(), keys...)
	})
	cache = entitycache.New(api, store, ecfg)
	return cache, nil
}

// withCacheReport gives a request a cache report, limits the answer's HTTP
// cache policy to the entries' remaining freshness (none when stale), and
// says on the answer what it holds: Age (the oldest entry's, when a second or more) and, when
// any of it was stale, a Warning (110, RFC 7234's "Response is Stale").
// Headers are set when the status is written: by then the reads are done.
func withCacheReport(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, rep := entitycache.WithReport(r.Context())
		next.ServeHTTP(&reportWriter{ResponseWriter: w, rep: rep}, r.WithContext(ctx))
		// What the answer was built from bounds how long it may be reused.
		if s := rep.Summary(); s.Used {
			httpcache.PolicyFrom(ctx).Limit(s.FreshFor, false)
		}
	})
}

type reportWriter struct {
	http.ResponseWriter
	rep   *entitycache.Report
	wrote bool
}

func (w *reportWriter) WriteHeader(status int) {
	if !w.wrote {
		w.wrote = true
		if s := w.rep.Summary(); s.Stale && status == http.StatusOK {
			w.Header().Set("Age", strconv.Itoa(int(s.Age/time.Second)))
			w.Header().Set("Warning", `110 - "Response is Stale"`)
		}
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *reportWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// Flush passes through for streaming answers.
func (w *reportWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *reportWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// staleExtension is what a GraphQL answer built from stale data says in
// its extensions: {"cache": {"stale": true, "age": 42}} (age in seconds).
func staleExtension(s entitycache.Summary) map[string]any {
	return map[string]any{"stale": true, "age": int(s.Age / time.Second)}
}
