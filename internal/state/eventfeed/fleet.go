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

// Open starts the feed of a replica on conn (see NewBus) and poll, the
// poller that finds events other clients added upstream; poll's Feed and
// Lease are set here. Close the feed to stop both.
func Open(conn *fleet.Conn, buffer int, poll Poller, hooks Hooks) (*Feed, error) {
	bus, lease := NewBus(conn)
	f := New(bus, buffer, hooks)
	poll.Feed, poll.Lease = f, lease
	return f, f.Run(&poll)
}
