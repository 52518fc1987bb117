package graph

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"syscall"

	"github.com/eventms/gateway/graph/trusted"
	"github.com/eventms/gateway/internal/eventsvc"
	"github.com/eventms/gateway/internal/platform/config"
	"github.com/eventms/gateway/internal/state/fleet"
)

// OpenTrustedDocuments loads the trusted documents cfg names, validated
// against this schema, and keeps them current: reloaded when a file
// changes, on SIGHUP, and when a manifest is published to the fleet (with
// Redis). A reload that fails leaves the previous list in force, logged.
// reloaded, if set, runs after each list that came into force: kept
// answers of documents the new list drops must go (the response cache).
// The store is nil with TRUSTED_DOCUMENTS=off; Close it at shutdown,
// before the fleet's connection.
func OpenTrustedDocuments(cfg config.TrustedDocuments, svc *eventsvc.Service, conn *fleet.Conn, log *slog.Logger,
	reloaded func(),
) (trusted.Mode, *trusted.Store, error) {
	mode, err := trusted.ParseMode(cfg.Mode)
	if err != nil || mode == trusted.Off {
		return mode, nil, err
	}
	opts := trusted.Options{Files: cfg.Files, Redis: conn.Client(), Watch: true, Signals: []os.Signal{syscall.SIGHUP},
		OnReload: func(err error, n int) {
			if err != nil {
				log.Error("trusted documents refused; the previous list stays in force", "err", err, "documents", n)
				return
			}
			log.Info("trusted documents loaded", "documents", n)
			if reloaded != nil {
				reloaded()
			}
		},
	}
	if conn.Shared() {
		opts.Prefix = conn.Prefix
	}
	store, err := trusted.Open(context.Background(), NewExecutableSchema(NewConfig(svc)).Schema(), opts)
	if err != nil {
		return mode, nil, fmt.Errorf("TRUSTED_DOCUMENTS_FILE: %w", err)
	}
	log.Info("trusted documents in force", "mode", mode.String(), "documents", store.Len(), "files", cfg.Files)
	return mode, store, nil
}
