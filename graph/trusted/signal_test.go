//go:build unix

package trusted_test

import (
	"os"
	"syscall"
	"testing"

	"github.com/eventms/gateway/graph/trusted"
	"github.com/eventms/gateway/internal/testwait"
)

func TestReloadOnSIGHUP(t *testing.T) {
	path := writeFile(t, t.TempDir(), "m.json", keyValue([2]string{"m", mine}))
	heard, onReload := reloads()
	s := open(t, trusted.Options{Files: []string{path}, Signals: []os.Signal{syscall.SIGHUP}, OnReload: onReload})

	// Not watched: only the signal makes the Store read the file again.
	replace(t, path, keyValue([2]string{"m", mine}, [2]string{"e", eventByID}))
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	if r := testwait.Recv(t, heard, "reload on SIGHUP"); r.err != nil || r.n != 2 {
		t.Fatalf("OnReload(%v, %d); want nil, 2", r.err, r.n)
	}
	if _, ok := s.Lookup("e"); !ok {
		t.Error("the new document is not in force")
	}
}
