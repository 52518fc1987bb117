package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/eventms/gateway/graph"
	"github.com/eventms/gateway/graph/trusted"
	"github.com/eventms/gateway/internal/redistest"
)

func TestPublishValidatesThenPublishes(t *testing.T) {
	url := redistest.URL(t)
	prefix := redistest.Prefix(t)
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { _ = rdb.Close() })
	ctx := context.Background()
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	apollo := write("apollo.json", `{"format":"apollo-persisted-query-manifest","version":1,"operations":[{"id":"mine","name":"Mine","type":"query","body":"query Mine { user(id: \"1\") { userName } }"}]}`)
	codegen := write("persisted-documents.json", `{"abc": "query Events { events { id } }"}`)
	bad := write("bad.json", `{"v1": "query Ages { users { age } }"}`)
	noEnv := func(string) (string, bool) { return "", false }
	runCmd := func(args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		code := run(ctx, args, noEnv, &out, &errOut)
		return code, out.String(), errOut.String()
	}

	code, out, errOut := runCmd("-redis", url, "-prefix", prefix, "-name", "web", apollo, codegen)
	if code != 0 || !strings.Contains(out, `published 2 documents from 2 files as "web"`) {
		t.Fatalf("publish: %d %q %q", code, out, errOut)
	}
	published, err := trusted.Published(ctx, rdb, prefix)
	if err != nil {
		t.Fatal(err)
	}
	m, err := trusted.ParseManifest("web", published["web"], graph.NewExecutableSchema(graph.NewConfig(nil)).Schema())
	if err != nil || m.Len() != 2 {
		t.Fatalf("what was published: %v, %s", err, published["web"])
	}

	// A bad manifest publishes nothing and names what is wrong.
	code, _, errOut = runCmd("-redis", url, "-prefix", prefix, "-name", "web", apollo, bad)
	if code != 1 || !strings.Contains(errOut, "bad.json") || !strings.Contains(errOut, `"v1"`) || !strings.Contains(errOut, `"age"`) {
		t.Errorf("bad manifest: %d %q", code, errOut)
	}
	if again, _ := trusted.Published(ctx, rdb, prefix); !bytes.Equal(again["web"], published["web"]) {
		t.Error("a refused manifest changed what was published")
	}

	if code, out, _ := runCmd("-redis", url, "-prefix", prefix, "-name", "web", "-withdraw"); code != 0 || !strings.Contains(out, "withdrew") {
		t.Errorf("withdraw: %d %q", code, out)
	}
	if left, _ := trusted.Published(ctx, rdb, prefix); len(left) != 0 {
		t.Errorf("after withdrawing: %v", left)
	}

	for _, args := range [][]string{
		{"-prefix", prefix, "-name", "web", apollo},          // no Redis
		{"-redis", url, apollo},                              // no name
		{"-redis", url, "-name", "web"},                      // no files
		{"-redis", url, "-name", "web", "-withdraw", apollo}, // both
		{"-redis", "http://nope", "-name", "web", apollo},
	} {
		if code, _, errOut := runCmd(args...); code != 2 || !strings.Contains(errOut, "usage") {
			t.Errorf("%v: %d %q; want usage and status 2", args, code, errOut)
		}
	}
}
