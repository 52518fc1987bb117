package entitycache

import (
	"time"

	"github.com/eventms/gateway/internal/state/fleet"
)

// NewStore returns the store of a replica on conn: its memory of at most
// maxEntries entries, in front of the fleet's Redis (entries kept there
// for keep) when conn is shared, so that one replica's fill serves all.
// The memory is returned too, for its size.
func NewStore(conn *fleet.Conn, maxEntries int, keep time.Duration, onEvict func()) (Store, *Memory, error) {
	local, err := NewMemory(maxEntries, onEvict)
	if err != nil {
		return nil, nil, err
	}
	if !conn.Shared() {
		return local, local, nil
	}
	return &Tiered{Local: local, Shared: NewRedis(conn.Client(), conn.Prefix, keep, conn.OnError)}, local, nil
}
