package config

import (
	"strings"
	"testing"
)

func TestDocumentCaches(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    DocumentCaches
		wantErr string // a variable the error must name
	}{
		{name: "defaults", want: DocumentCaches{
			QueryBytes: 32 << 20, QueryMaxDocumentBytes: 256 << 10, QueryEntries: 1000,
			APQBytes: 16 << 20, APQMaxDocumentBytes: 64 << 10, APQEntries: 1000, APQRedisBytes: 32 << 20,
		}},
		{name: "set", env: map[string]string{
			"GRAPHQL_QUERY_CACHE_BYTES": "1048576", "GRAPHQL_CACHE_MAX_DOCUMENT_BYTES": "65536", "GRAPHQL_QUERY_CACHE_SIZE": "50",
			"APQ_CACHE_BYTES": "2097152", "APQ_MAX_DOCUMENT_BYTES": "8192", "APQ_CACHE_SIZE": "60", "APQ_REDIS_MAX_BYTES": "4194304",
		}, want: DocumentCaches{
			QueryBytes: 1 << 20, QueryMaxDocumentBytes: 64 << 10, QueryEntries: 50,
			APQBytes: 2 << 20, APQMaxDocumentBytes: 8 << 10, APQEntries: 60, APQRedisBytes: 4 << 20,
		}},
		{name: "a parsed document over the cache", env: map[string]string{"GRAPHQL_QUERY_CACHE_BYTES": "1048576", "GRAPHQL_CACHE_MAX_DOCUMENT_BYTES": "2097152"}, wantErr: "GRAPHQL_CACHE_MAX_DOCUMENT_BYTES"},
		{name: "a persisted document over the replica's cache", env: map[string]string{"APQ_CACHE_BYTES": "65536", "APQ_MAX_DOCUMENT_BYTES": "131072"}, wantErr: "APQ_MAX_DOCUMENT_BYTES"},
		{name: "a persisted document over the fleet's budget", env: map[string]string{"APQ_REDIS_MAX_BYTES": "65536", "APQ_MAX_DOCUMENT_BYTES": "131072"}, wantErr: "APQ_MAX_DOCUMENT_BYTES"},
		{name: "a budget too small", env: map[string]string{"GRAPHQL_QUERY_CACHE_BYTES": "1000"}, wantErr: "GRAPHQL_QUERY_CACHE_BYTES"},
		{name: "not a number", env: map[string]string{"APQ_REDIS_MAX_BYTES": "32MiB"}, wantErr: "APQ_REDIS_MAX_BYTES"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(env(tt.env))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr+"=") {
					t.Errorf("error %v; want one naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.GraphQL.Caches != tt.want {
				t.Errorf("got %+v\nwant %+v", c.GraphQL.Caches, tt.want)
			}
		})
	}
}
