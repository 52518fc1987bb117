package trusted

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Files are watched with fsnotify (inotify, kqueue, ReadDirectoryChangesW)
// rather than by polling their modification times: a change is seen at
// once, without a poll interval to choose and without stat calls while
// nothing changes. fsnotify does not see changes on some network file
// systems (NFS, SMB); there, send the signal (Options.Signals) or call
// Store.Reload after deploying a manifest.

// watchDirs watches the directories holding files: a file's own watch is
// lost when it is replaced by a rename, which is how editors, deploy tools
// and Kubernetes (a ConfigMap's "..data" symlink) update files.
func watchDirs(files []string) (*fsnotify.Watcher, error) {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("watch trusted document files: %w", err)
	}
	seen := map[string]bool{}
	for _, f := range files {
		dir := filepath.Dir(f)
		if seen[dir] {
			continue
		}
		seen[dir] = true
		if err := w.Add(dir); err != nil {
			_ = w.Close()
			return nil, fmt.Errorf("watch trusted document files in %s: %w", dir, err)
		}
	}
	return w, nil
}

// concerns reports whether ev may have changed one of the files: an event
// on the file itself, or on Kubernetes' "..data" link in its directory.
func (s *Store) concerns(ev fsnotify.Event) bool {
	name := filepath.Clean(ev.Name)
	for _, f := range s.opts.Files {
		f = filepath.Clean(f)
		if name == f || name == filepath.Join(filepath.Dir(f), "..data") {
			return true
		}
	}
	return false
}

// watch reloads the files once they have been quiet for Settle after a
// change. A reload whose files are unchanged (a touch, a chmod) is silent.
func (s *Store) watch(ctx context.Context, w *fsnotify.Watcher) {
	defer s.wg.Done()
	var settled <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-w.Events:
			if !ok {
				return
			}
			if s.concerns(ev) {
				settled = time.After(s.opts.Settle)
			}
		case err, ok := <-w.Errors:
			if !ok {
				return
			}
			s.opts.OnReload(fmt.Errorf("watch trusted document files: %w", err), s.Len())
		case <-settled:
			settled = nil
			_ = s.reload(ctx, false, false) // reported to OnReload
		}
	}
}

// onSignals reloads on each of Options.Signals.
func (s *Store) onSignals(ctx context.Context) {
	defer s.wg.Done()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.signals:
			_ = s.Reload(ctx) // reported to OnReload
		}
	}
}
