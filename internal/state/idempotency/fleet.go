package idempotency

import (
	"time"

	"github.com/eventms/gateway/internal/state/fleet"
)

// NewStore returns the store of a replica on conn: the fleet's, on Redis,
// when conn is shared, so a key claimed on one replica is claimed on all;
// else this replica's memory of at most maxKeys keys on now's clock.
func NewStore[V any](conn *fleet.Conn, maxKeys int, now func() time.Time) (Store[V], error) {
	if conn.Shared() {
		return NewRedis[V](conn.Client(), conn.Prefix), nil
	}
	return NewMemory[V](maxKeys, now)
}
