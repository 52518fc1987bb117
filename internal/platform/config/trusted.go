package config

import (
	"os"
	"strings"

	"github.com/eventms/gateway/internal/platform/envvar"
)

// TrustedDocuments configures which operations the GraphQL door runs
// (graph/trusted): the operations frontend teams ship in persisted-query
// manifests, parsed and validated once at load. The defaults are the same
// in development and production: turning the list on takes a manifest.
//
//	TRUSTED_DOCUMENTS       Mode   off     off | log (run everything, report what is not listed) | enforce (run listed operations only)
//	TRUSTED_DOCUMENTS_FILE  Files  (none)  comma-separated manifest files (Apollo, GraphQL Code Generator, Relay); required unless off, each must exist at start-up
type TrustedDocuments struct {
	Mode  string
	Files []string
}

// loadTrusted reads the TRUSTED_DOCUMENTS group. The files are checked to
// exist here, so that a typo stops the start with the variable's name; their
// contents are checked when the door loads them.
func loadTrusted(r *envvar.Reader) TrustedDocuments {
	t := TrustedDocuments{
		Mode:  r.OneOf("TRUSTED_DOCUMENTS", "off", "off", "log", "enforce"),
		Files: r.List("TRUSTED_DOCUMENTS_FILE", ""),
	}
	if t.Mode != "off" && len(t.Files) == 0 {
		r.Fail("TRUSTED_DOCUMENTS_FILE", "", "one or more manifest files, comma-separated, when TRUSTED_DOCUMENTS="+t.Mode)
	}
	for _, f := range t.Files {
		st, err := os.Stat(f)
		switch {
		case err != nil:
			r.Fail("TRUSTED_DOCUMENTS_FILE", strings.Join(t.Files, ","), "existing manifest files ("+err.Error()+")")
		case st.IsDir():
			r.Fail("TRUSTED_DOCUMENTS_FILE", strings.Join(t.Files, ","), "manifest files ("+f+" is a directory)")
		}
	}
	return t
}
