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

// OpenGuard returns the guard of a replica on conn: its keys claimed in
// NewStore's store and kept for ttl.
func OpenGuard[V any](conn *fleet.Conn, maxKeys int, ttl time.Duration, opt Options, now func() time.Time) (*Guard[V], error) {
	store, err := NewStore[V](conn, maxKeys, now)
	if err != nil {
		return nil, err
	}
	return NewGuard(store, ttl, opt), nil
}
