package trusted

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/redis/go-redis/v9"
	"github.com/vektah/gqlparser/v2/ast"
)

// DefaultSettle is how long the manifest files must be quiet after a change
// before they are read again (Options.Settle).
const DefaultSettle = 100 * time.Millisecond

// Options say where a Store's documents come from and when it reloads them.
// Every field is optional.
type Options struct {
	// Files are the manifest files, read at Open and at every reload.
	Files []string
	// Redis, if set, holds the manifests published to the fleet (Publish)
	// under keys starting with Prefix; the Store loads them at Open and
	// whenever one is published or withdrawn. Nil: the files only.
	Redis  redis.UniversalClient
	Prefix string
	// Watch reloads when a file changes. It watches the files'
	// directories (fsnotify), so that a file replaced by a rename (editors,
	// deploy tools) or a Kubernetes ConfigMap's symlink swap is seen too.
	Watch bool
	// Settle is how long the files must be quiet after a change before
	// they are read [DefaultSettle], so that a file written in several
	// steps is read once, whole.
	Settle time.Duration
	// Signals reload the files when the process receives one of them: the
	// server passes syscall.SIGHUP. Nil: none.
	Signals []os.Signal
	// OnReload hears every reload after Open that changed something or
	// failed: err nil and n the documents now in force, or the error that
	// refused the new list and n the documents still in force. It is the
	// place to log; the Store logs nothing itself.
	OnReload func(err error, n int)
}

// Store holds the trusted documents in force, by id and by text. Lookups
// are safe for concurrent use and never wait: a reload builds the new list
// aside and swaps it in at once, so a request sees the old list or the new
// one, whole. A new list that fails to load is refused and the previous one
// stays in force. A nil *Store holds nothing.
//
// The list in force is the documents of every file plus every manifest
// published to the fleet (Publish, one per name): the files are what ships
// with this deployment, the published manifests what was released since.
type Store struct {
	schema *ast.Schema
	opts   Options
	cur    atomic.Pointer[list]

	mu        sync.Mutex        // serialises reloads
	published map[string][]byte // the last published manifests put in force

	cancel  context.CancelFunc
	watcher *fsnotify.Watcher
	signals chan os.Signal
	wg      sync.WaitGroup
	closed  sync.Once
}

// list is one immutable generation of the documents in force.
type list struct {
	byID        map[string]*Document // manifest ids and SHA-256 hex
	byText      map[string]*Document
	n           int
	fingerprint [sha256.Size]byte // of the bytes it was built from
}

// Open loads the documents of opts.Files, validated against schema, and
// starts what opts asks for (watching the files, listening for signals and
// for published manifests); Close stops it. A file that cannot be read or
// is refused fails Open. A published manifest that fails to load does not:
// it is reported to OnReload and the files' documents are in force.
func Open(ctx context.Context, schema *ast.Schema, opts Options) (*Store, error) {
	if schema == nil {
		return nil, errors.New("trusted documents: no schema")
	}
	if opts.Settle <= 0 {
		opts.Settle = DefaultSettle
	}
	if opts.OnReload == nil {
		opts.OnReload = func(error, int) {}
	}
	s := &Store{schema: schema, opts: opts}
	if _, err := s.rebuild(ctx, false, true); err != nil {
		return nil, err
	}
	if opts.Redis != nil {
		s.reload(ctx, true, false)
	}
	if err := s.start(); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// start starts the background work opts asks for.
func (s *Store) start() error {
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	if s.opts.Watch && len(s.opts.Files) > 0 {
		w, err := watchDirs(s.opts.Files)
		if err != nil {
			return err
		}
		s.watcher = w
		s.wg.Add(1)
		go s.watch(ctx, w)
	}
	if len(s.opts.Signals) > 0 {
		s.signals = make(chan os.Signal, 1)
		signal.Notify(s.signals, s.opts.Signals...)
		s.wg.Add(1)
		go s.onSignals(ctx)
	}
	if s.opts.Redis != nil {
		s.wg.Add(1)
		go s.listen(ctx)
	}
	return nil
}

// Close stops watching, listening and reloading, and waits until they have
// stopped. The documents stay in force.
func (s *Store) Close() {
	s.closed.Do(func() {
		if s.cancel != nil {
			s.cancel()
		}
		if s.watcher != nil {
			_ = s.watcher.Close()
		}
		if s.signals != nil {
			signal.Stop(s.signals)
		}
		s.wg.Wait()
	})
}

// Lookup finds a document by the manifest's id, by its SHA-256 hex, or by
// "sha256:<hex>" (GraphQL over HTTP's document id).
func (s *Store) Lookup(id string) (Document, bool) {
	if d := s.lookup(id); d != nil {
		return *d, true
	}
	return Document{}, false
}

func (s *Store) lookup(id string) *Document {
	if s == nil || id == "" {
		return nil
	}
	l := s.cur.Load()
	if d := l.byID[id]; d != nil {
		return d
	}
	if h, ok := strings.CutPrefix(id, "sha256:"); ok {
		return l.byID[strings.ToLower(h)]
	}
	return nil
}

// ByText finds a document by its text, byte for byte.
func (s *Store) ByText(text string) (Document, bool) {
	if d := s.byText(text); d != nil {
		return *d, true
	}
	return Document{}, false
}

func (s *Store) byText(text string) *Document {
	if s == nil {
		return nil
	}
	return s.cur.Load().byText[text]
}

// Len is the number of documents in force.
func (s *Store) Len() int {
	if s == nil {
		return 0
	}
	return s.cur.Load().n
}

// Reload reads the files again and puts their documents in force, with the
// published manifests last put in force, and reports the outcome to
// OnReload (even when nothing changed, so that a reload asked for by hand
// is always answered). On error the previous documents stay in force.
func (s *Store) Reload(ctx context.Context) error {
	return s.reload(ctx, false, true)
}

// reload rebuilds the list and reports the outcome. fresh reads the
// published manifests from Redis; force reports a rebuild that changed
// nothing.
func (s *Store) reload(ctx context.Context, fresh, force bool) error {
	changed, err := s.rebuild(ctx, fresh, force)
	if err != nil || changed {
		s.opts.OnReload(err, s.Len())
	}
	return err
}

// source is one manifest's bytes and name.
type source struct {
	name string
	data []byte
}

// rebuild builds the list from the files and the published manifests
// (read from Redis if fresh, else the last ones put in force) and puts it
// in force, unless its sources are the ones in force and not force.
func (s *Store) rebuild(ctx context.Context, fresh, force bool) (changed bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	srcs := make([]source, 0, len(s.opts.Files))
	for _, p := range s.opts.Files {
		data, err := os.ReadFile(p)
		if err != nil {
			return false, &ManifestError{Source: p, Err: err}
		}
		srcs = append(srcs, source{p, data})
	}
	pub := s.published
	if fresh {
		if pub, err = Published(ctx, s.opts.Redis, s.opts.Prefix); err != nil {
			return false, err
		}
	}
	names := make([]string, 0, len(pub))
	for name := range pub {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		srcs = append(srcs, source{fmt.Sprintf("published manifest %q", name), pub[name]})
	}
	fp := fingerprint(srcs)
	if cur := s.cur.Load(); cur != nil && cur.fingerprint == fp && !force {
		return false, nil
	}
	all := &Manifest{}
	for _, src := range srcs {
		m, err := ParseManifest(src.name, src.data, s.schema)
		if err != nil {
			return false, err
		}
		if err := all.Merge(m); err != nil {
			return false, err
		}
	}
	s.cur.Store(newList(all, fp))
	s.published = pub
	return true, nil
}

// fingerprint identifies a list by the bytes and names it is built from.
func fingerprint(srcs []source) [sha256.Size]byte {
	h := sha256.New()
	for _, s := range srcs {
		fmt.Fprintf(h, "%d:%s%d:", len(s.name), s.name, len(s.data))
		h.Write(s.data)
	}
	var out [sha256.Size]byte
	h.Sum(out[:0])
	return out
}

func newList(m *Manifest, fp [sha256.Size]byte) *list {
	l := &list{byID: make(map[string]*Document, 2*len(m.docs)), byText: make(map[string]*Document, len(m.docs)),
		n: len(m.docs), fingerprint: fp}
	for _, d := range m.docs {
		for _, id := range []string{d.ID, d.Hash} {
			if _, ok := l.byID[id]; !ok {
				l.byID[id] = d
			}
		}
		if _, ok := l.byText[d.Text]; !ok {
			l.byText[d.Text] = d
		}
	}
	return l
}
