package trusted

import (
	"context"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// A fleet shares its published manifests in one Redis hash, one field per
// name, and announces every change on one channel; each replica's Store
// reads the whole hash again when it hears the announcement, and when its
// subscription is (re)established, so that a replica that was disconnected
// catches up. Names let several frontend teams publish independently: a
// team's new manifest replaces only its own.

func manifestsKey(prefix string) string { return prefix + "trusted:manifests" }
func channelName(prefix string) string  { return prefix + "trusted:published" }

// Publish puts m in force across the fleet under name, replacing what was
// published under that name before. m was validated when it was read (the
// trustedpublish command reads it against the gateway's schema); every
// replica validates it again against its own schema, and one that refuses
// it keeps its previous list and reports the error to its OnReload.
func Publish(ctx context.Context, rdb redis.UniversalClient, prefix, name string, m *Manifest) error {
	if name == "" {
		return errors.New("publish trusted documents: no name")
	}
	body, err := m.MarshalApollo()
	if err != nil {
		return err
	}
	_, err = rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, manifestsKey(prefix), name, body)
		p.Publish(ctx, channelName(prefix), name)
		return nil
	})
	if err != nil {
		return fmt.Errorf("publish trusted documents %q: %w", name, err)
	}
	return nil
}

// Unpublish withdraws what was published under name; false if nothing was.
func Unpublish(ctx context.Context, rdb redis.UniversalClient, prefix, name string) (bool, error) {
	var del *redis.IntCmd
	_, err := rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		del = p.HDel(ctx, manifestsKey(prefix), name)
		p.Publish(ctx, channelName(prefix), name)
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("unpublish trusted documents %q: %w", name, err)
	}
	return del.Val() > 0, nil
}

// Published returns the manifests published to the fleet, by name.
func Published(ctx context.Context, rdb redis.UniversalClient, prefix string) (map[string][]byte, error) {
	all, err := rdb.HGetAll(ctx, manifestsKey(prefix)).Result()
	if err != nil {
		return nil, fmt.Errorf("read the trusted documents published to the fleet: %w", err)
	}
	out := make(map[string][]byte, len(all))
	for name, body := range all {
		out[name] = []byte(body)
	}
	return out, nil
}

// listen reloads the published manifests whenever one is announced and
// whenever the subscription is (re)established: go-redis resubscribes after
// a lost connection by itself, and what was published meanwhile is read
// then. A reload that finds nothing new is silent.
func (s *Store) listen(ctx context.Context) {
	defer s.wg.Done()
	sub := s.opts.Redis.Subscribe(ctx, channelName(s.opts.Prefix))
	defer sub.Close()
	ch := sub.ChannelWithSubscriptions()
	for {
		select {
		case <-ctx.Done():
			return
		case _, ok := <-ch:
			if !ok {
				return
			}
			_ = s.reload(ctx, true, false) // reported to OnReload
		}
	}
}
