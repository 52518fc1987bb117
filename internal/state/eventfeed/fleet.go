package eventfeed

import "github.com/eventms/gateway/internal/state/fleet"

// NewBus returns the bus of a replica on conn and the lease its poller
// takes turns with: on Redis when conn is shared (events reach every
// replica's subscribers, one replica at a time polls); else this process's
// memory and no lease.
func NewBus(conn *fleet.Conn) (Bus, Leaser) {
	if conn.Shared() {
		b := NewRedis(conn.Client(), conn.Prefix, conn.OnError)
		return b, b
	}
	return &Memory{}, nil
}
