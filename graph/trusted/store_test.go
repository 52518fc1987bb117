package trusted_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eventms/gateway/graph/trusted"
	"github.com/eventms/gateway/internal/redistest"
	"github.com/eventms/gateway/internal/testwait"
)

// reloads records what OnReload hears.
type reload struct {
	err error
	n   int
}

func reloads() (chan reload, func(error, int)) {
	ch := make(chan reload, 64)
	return ch, func(err error, n int) { ch <- reload{err, n} }
}

func open(t testing.TB, opts trusted.Options) *trusted.Store {
	t.Helper()
	s, err := trusted.Open(context.Background(), schema(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func openFiles(t testing.TB, files ...string) *trusted.Store {
	t.Helper()
	return open(t, trusted.Options{Files: files})
}

// replace writes content to path as deploy tools do: aside, then renamed
// over it, so that no reader sees half a file.
func replace(t testing.TB, path, content string) {
	t.Helper()
	tmp := filepath.Join(filepath.Dir(path), ".tmp-"+filepath.Base(path))
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func TestOpenRefusesABadFile(t *testing.T) {
	dir := t.TempDir()
	bad := writeFile(t, dir, "bad.json", keyValue([2]string{"v1", `query Ages { users { age } }`}))
	_, err := trusted.Open(context.Background(), schema(), trusted.Options{Files: []string{bad}})
	var me *trusted.ManifestError
	if !errors.As(err, &me) || me.Source != bad || me.ID != "v1" {
		t.Errorf("Open(bad) = %v; want a ManifestError naming %s and v1", err, bad)
	}
	_, err = trusted.Open(context.Background(), schema(), trusted.Options{Files: []string{filepath.Join(dir, "missing.json")}})
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "missing.json") {
		t.Errorf("Open(missing) = %v", err)
	}
}

func TestReloadRefusesABadManifestAndKeepsThePrevious(t *testing.T) {
	dir := t.TempDir()
	path := writeFile(t, dir, "m.json", keyValue([2]string{"m", mine}))
	heard, onReload := reloads()
	s := open(t, trusted.Options{Files: []string{path}, OnReload: onReload})

	replace(t, path, keyValue([2]string{"m", mine}, [2]string{"a", allEvents}))
	if err := s.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if r := testwait.Recv(t, heard, "reload"); r.err != nil || r.n != 2 {
		t.Errorf("OnReload(%v, %d); want nil, 2", r.err, r.n)
	}
	if _, ok := s.Lookup("a"); !ok {
		t.Error("the reloaded document is not in force")
	}

	replace(t, path, keyValue([2]string{"m", mine}, [2]string{"bad", `{ users { age } }`}))
	err := s.Reload(context.Background())
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), `"bad"`) {
		t.Errorf("Reload of a bad manifest = %v; want an error naming the file and the operation", err)
	}
	if r := testwait.Recv(t, heard, "refused reload"); r.err == nil || r.n != 2 {
		t.Errorf("OnReload(%v, %d); want the error, 2 still in force", r.err, r.n)
	}
	if _, ok := s.Lookup("a"); !ok || s.Len() != 2 {
		t.Error("the previous list is no longer in force")
	}
}

func TestReloadOnFileChange(t *testing.T) {
	dir := t.TempDir()
	path := writeFile(t, dir, "persisted-documents.json", keyValue([2]string{"m", mine}))
	other := writeFile(t, dir, "unrelated.txt", "x")
	heard, onReload := reloads()
	s := open(t, trusted.Options{Files: []string{path}, Watch: true, OnReload: onReload})

	replace(t, path, keyValue([2]string{"m", mine}, [2]string{"e", eventByID}))
	if r := testwait.Recv(t, heard, "reload after the file changed"); r.err != nil || r.n != 2 {
		t.Fatalf("OnReload(%v, %d); want nil, 2", r.err, r.n)
	}
	if d, ok := s.Lookup("e"); !ok || d.Text != eventByID {
		t.Error("the new document is not in force")
	}

	// A bad version is refused, the good one stays; the next good one is taken.
	replace(t, path, `{"e": "query { nope }"}`)
	if r := testwait.Recv(t, heard, "refused reload"); r.err == nil || !strings.Contains(r.err.Error(), path) || r.n != 2 {
		t.Fatalf("OnReload(%v, %d); want an error naming %s, 2 in force", r.err, r.n, path)
	}
	if _, ok := s.Lookup("e"); !ok {
		t.Error("the refused version replaced the list")
	}
	if err := os.WriteFile(other, []byte("y"), 0o600); err != nil { // not a manifest: no reload
		t.Fatal(err)
	}
	replace(t, path, keyValue([2]string{"a", allEvents}))
	if r := testwait.Recv(t, heard, "reload of the fixed file"); r.err != nil || r.n != 1 {
		t.Fatalf("OnReload(%v, %d); want nil, 1", r.err, r.n)
	}
	if _, ok := s.Lookup("m"); ok {
		t.Error("a document taken out of the file is still in force")
	}
	select {
	case r := <-heard:
		t.Errorf("an extra reload was reported: %+v", r)
	default:
	}
}

func TestFleetPublishReachesEveryReplica(t *testing.T) {
	rdb := redistest.Client(t)
	prefix := redistest.Prefix(t)
	ctx := context.Background()
	dir := t.TempDir()
	local := writeFile(t, dir, "shipped.json", keyValue([2]string{"m", mine}))

	heardA, onA := reloads()
	heardB, onB := reloads()
	a := open(t, trusted.Options{Files: []string{local}, Redis: rdb, Prefix: prefix, OnReload: onA})
	b := open(t, trusted.Options{Redis: rdb, Prefix: prefix, OnReload: onB})
	if a.Len() != 1 || b.Len() != 0 {
		t.Fatalf("before publishing: %d and %d documents", a.Len(), b.Len())
	}

	web, err := trusted.ParseManifest("web.json", []byte(apolloManifest([2]string{"events-v1", allEvents})), schema())
	if err != nil {
		t.Fatal(err)
	}
	if err := trusted.Publish(ctx, rdb, prefix, "web", web); err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]*trusted.Store{"a": a, "b": b} {
		testwait.Until(t, "replica "+name+" has the published manifest", func() bool {
			_, ok := s.Lookup("events-v1")
			return ok
		})
	}
	if a.Len() != 2 || b.Len() != 1 {
		t.Errorf("after publishing: %d and %d documents; want the files' plus the published", a.Len(), b.Len())
	}

	// A second team's manifest adds to the first's.
	app, _ := trusted.ParseManifest("app.json", []byte(keyValue([2]string{"by-id", eventByID})), schema())
	if err := trusted.Publish(ctx, rdb, prefix, "app", app); err != nil {
		t.Fatal(err)
	}
	testwait.Until(t, "both published manifests in force", func() bool { return b.Len() == 2 && a.Len() == 3 })

	// A replica started later loads what was published at Open.
	c := open(t, trusted.Options{Redis: rdb, Prefix: prefix})
	if _, ok := c.Lookup("by-id"); !ok || c.Len() != 2 {
		t.Errorf("a replica started later has %d documents", c.Len())
	}

	// A published manifest that does not validate (written past Publish)
	// is refused by every replica, which keeps its list.
	drain(heardA)
	drain(heardB)
	if err := rdb.HSet(ctx, prefix+"trusted:manifests", "web", `{"x": "{ users { age } }"}`).Err(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.Publish(ctx, prefix+"trusted:published", "web").Err(); err != nil {
		t.Fatal(err)
	}
	for name, heard := range map[string]chan reload{"a": heardA, "b": heardB} {
		r := testwait.Recv(t, heard, "replica "+name+" refusing the bad manifest")
		if r.err == nil || !strings.Contains(r.err.Error(), `published manifest "web"`) {
			t.Errorf("replica %s: OnReload(%v, %d); want an error naming the published manifest", name, r.err, r.n)
		}
	}
	if _, ok := b.Lookup("events-v1"); !ok || b.Len() != 2 {
		t.Error("a refused manifest replaced the list in force")
	}

	// Withdrawn, a name's documents leave every replica.
	if ok, err := trusted.Unpublish(ctx, rdb, prefix, "web"); err != nil || !ok {
		t.Fatal(ok, err)
	}
	testwait.Until(t, "the withdrawn manifest gone", func() bool {
		_, inA := a.Lookup("events-v1")
		_, inB := b.Lookup("events-v1")
		return !inA && !inB && a.Len() == 2 && b.Len() == 1
	})
}

func drain(ch chan reload) {
	for {
		select {
		case <-ch:
		default:
			return
		}
	}
}
