// Package loader holds the per-request dataloaders that batch lookups of
// events and users by id.
//
// The upstream has no batch route: a batch goes down in one call to the
// Source (the entity cache, or the upstream client, which fetches it as
// concurrent single lookups under its adaptive limit, ids waiting for room
// costing no goroutine each). What the loaders add is one batch per
// request's wave of lookups, each id once (their cache), and a cache that
// list queries prime so that follow-up lookups cost nothing.
package loader

import (
	"context"
	"errors"
	"time"

	"github.com/graph-gophers/dataloader/v7"
	"go.opentelemetry.io/otel/attribute"

	"github.com/eventms/gateway/internal/platform/tracing"
	"github.com/eventms/gateway/internal/upstream/eventapi"
)

// Source looks up many ids in one call, each result with its own error
// (eventapi.ErrNotFound for an unknown id). eventapi.Client is one: the ids
// waiting for room under the upstream's concurrency limit cost no goroutine
// each; the entity cache in front of it is another.
type Source interface {
	EventsByID(ctx context.Context, ids []string) ([]*eventapi.Event, []error)
	UsersByID(ctx context.Context, ids []string) ([]*eventapi.User, []error)
}

// Loaders are one request's dataloaders. A nil value in a result means the
// upstream does not know that id.
type Loaders struct {
	Events *dataloader.Loader[string, *eventapi.Event]
	Users  *dataloader.Loader[string, *eventapi.User]
}

// Options tune the loaders.
type Options struct {
	// Wait is how long a batch stays open for more keys after its first.
	// Batches are fetched concurrently, so a late key only forms a second
	// concurrent batch, never a second round trip in sequence: the window
	// can be zero. (A non-zero window under 1 ms costs a whole millisecond on
	// an idle Go process, whose timer sleeps have millisecond granularity.)
	Wait time.Duration
	// BatchSize, if set, is observed for every batch dispatched (metrics).
	BatchSize func(loader string, n int)
}

// inputCapacity is the buffer of keys between Load and a batch's
// collector. dataloader's default, 1000, allocates 8 KB per batch, and a
// request makes several small batches; a fuller buffer only makes Load
// wait a moment for the collector, which drains it continuously.
const inputCapacity = 32

// New returns fresh loaders over src.
func New(src Source, opt Options) *Loaders {
	return &Loaders{
		Events: dataloader.NewBatchedLoader(batch(src.EventsByID, "event", opt.BatchSize),
			dataloader.WithWait[string, *eventapi.Event](opt.Wait), dataloader.WithInputCapacity[string, *eventapi.Event](inputCapacity)),
		Users: dataloader.NewBatchedLoader(batch(src.UsersByID, "user", opt.BatchSize),
			dataloader.WithWait[string, *eventapi.User](opt.Wait), dataloader.WithInputCapacity[string, *eventapi.User](inputCapacity)),
	}
}

// batch fetches a batch's distinct keys and returns the results in key
// order, each with its own error. Not found is a nil value, no error.
func batch[V any](fetch func(ctx context.Context, ids []string) ([]*V, []error), name string, observe func(string, int)) dataloader.BatchFunc[string, *V] {
	return func(ctx context.Context, keys []string) []*dataloader.Result[*V] {
		if observe != nil {
			observe(name, len(keys))
		}
		ctx, span := tracing.Child(ctx, "loader.batch "+name)
		if span.IsRecording() {
			span.SetAttributes(attribute.String("loader", name), attribute.Int("loader.batch_size", len(keys)))
		}
		defer span.End()
		// The loader's cache makes a batch's keys distinct, and the entity
		// cache and the client below join identical lookups anyway: the
		// keys go down as they are.
		vs, errs := fetch(ctx, keys)
		results := make([]*dataloader.Result[*V], len(keys))
		for i := range keys {
			v, err := vs[i], errs[i]
			if errors.Is(err, eventapi.ErrNotFound) {
				v, err = nil, nil
			}
			results[i] = &dataloader.Result[*V]{Data: v, Error: err}
		}
		return results
	}
}

type ctxKey struct{}

// WithLoaders returns ctx carrying l.
func WithLoaders(ctx context.Context, l *Loaders) context.Context {
	return context.WithValue(ctx, ctxKey{}, l)
}

// From returns the loaders carried by ctx, or nil.
func From(ctx context.Context) *Loaders {
	l, _ := ctx.Value(ctxKey{}).(*Loaders)
	return l
}

// LoadAll loads keys in order, returning each key's value and error.
// Unlike dataloader's LoadMany, which starts a goroutine per key, it enqueues
// every key from the calling goroutine before waiting, so the keys of one
// call go down together. With no batch window (Options.Wait 0) the batch
// closes as soon as the loader's timer goroutine runs, which on a busy
// machine can fall between two keys: the rest then form a second batch,
// which costs no extra upstream call (each id is one call either way).
func LoadAll[V any](ctx context.Context, l *dataloader.Loader[string, V], keys []string) ([]V, []error) {
	thunks := make([]dataloader.Thunk[V], len(keys))
	for i, k := range keys {
		thunks[i] = l.Load(ctx, k)
	}
	values := make([]V, len(keys))
	var errs []error
	for i, th := range thunks {
		v, err := th()
		values[i] = v
		if err != nil {
			if errs == nil {
				errs = make([]error, len(keys))
			}
			errs[i] = err
		}
	}
	return values, errs
}
