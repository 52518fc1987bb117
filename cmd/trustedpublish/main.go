// Command trustedpublish puts trusted documents in force across a fleet of
// gateways: it reads manifests (Apollo's persisted-query manifest, GraphQL
// Code Generator's persisted-documents.json, Relay's persisted queries),
// validates every document against the schema this binary was built with,
// and publishes them to the fleet's Redis under a name; every replica loads
// them at once, validates them again, and runs them beside the documents of
// its own TRUSTED_DOCUMENTS_FILE.
//
//	trustedpublish -redis redis://host:6379/0 -prefix eventgw: -name web manifest.json [more.json …]
//	trustedpublish -redis redis://host:6379/0 -name web -withdraw
//
// Publishing under a name replaces what was published under that name (a
// frontend team publishes its whole current list, old clients' operations
// included); other names are untouched. -withdraw removes a name's
// documents. -redis and -prefix default to REDIS_URL and REDIS_KEY_PREFIX
// (else eventgw:), the gateway's own variables. A manifest that does not
// validate publishes nothing and exits with status 1, naming the file, the
// operation and the GraphQL error; bad usage exits with status 2.
//
// A command rather than an admin route: whoever can publish decides what
// every replica runs, and a command needs no credentials, route or
// authorisation of its own: it is run by whoever already holds the Redis
// URL (a CI job's secret).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/eventms/gateway/graph"
	"github.com/eventms/gateway/graph/trusted"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.LookupEnv, os.Stdout, os.Stderr))
}

// run publishes as args say and returns the exit status.
func run(ctx context.Context, args []string, lookup func(string) (string, bool), stdout, stderr io.Writer) int {
	env := func(name, def string) string {
		if v, ok := lookup(name); ok && v != "" {
			return v
		}
		return def
	}
	fs := flag.NewFlagSet("trustedpublish", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: trustedpublish [-redis URL] [-prefix P] -name NAME manifest.json [more.json …]")
		fmt.Fprintln(stderr, "       trustedpublish [-redis URL] [-prefix P] -name NAME -withdraw")
		fs.PrintDefaults()
	}
	redisURL := fs.String("redis", env("REDIS_URL", ""), "the fleet's Redis, redis://[user:password@]host:port[/db] [REDIS_URL]")
	prefix := fs.String("prefix", env("REDIS_KEY_PREFIX", "eventgw:"), "the fleet's key prefix [REDIS_KEY_PREFIX]")
	name := fs.String("name", "", "what to publish the documents as (a frontend app, a team): replaces only what was published under it")
	withdraw := fs.Bool("withdraw", false, "withdraw what was published under -name instead of publishing")
	timeout := fs.Duration("timeout", 10*time.Second, "how long to wait for Redis")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	files := fs.Args()
	switch {
	case *redisURL == "":
		return usage(fs, stderr, "-redis (or REDIS_URL) is required")
	case *name == "":
		return usage(fs, stderr, "-name is required")
	case *withdraw && len(files) > 0:
		return usage(fs, stderr, "-withdraw takes no manifest files")
	case !*withdraw && len(files) == 0:
		return usage(fs, stderr, "no manifest files")
	}
	opt, err := redis.ParseURL(*redisURL)
	if err != nil {
		return usage(fs, stderr, "-redis: "+err.Error())
	}
	var m *trusted.Manifest
	if !*withdraw {
		// Validated before anything is sent: a bad manifest publishes nothing.
		if m, err = trusted.ReadFiles(graph.NewExecutableSchema(graph.NewConfig(nil)).Schema(), files...); err != nil {
			fmt.Fprintln(stderr, "trustedpublish:", err)
			return 1
		}
	}
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	if *withdraw {
		ok, err := trusted.Unpublish(ctx, rdb, *prefix, *name)
		if err != nil {
			fmt.Fprintln(stderr, "trustedpublish:", err)
			return 1
		}
		if !ok {
			fmt.Fprintf(stdout, "nothing was published as %q\n", *name)
			return 0
		}
		fmt.Fprintf(stdout, "withdrew the documents published as %q\n", *name)
		return 0
	}
	if err := trusted.Publish(ctx, rdb, *prefix, *name, m); err != nil {
		fmt.Fprintln(stderr, "trustedpublish:", err)
		return 1
	}
	fmt.Fprintf(stdout, "published %d documents from %d files as %q\n", m.Len(), len(files), *name)
	return 0
}

func usage(fs *flag.FlagSet, stderr io.Writer, msg string) int {
	fmt.Fprintln(stderr, "trustedpublish:", msg)
	fs.Usage()
	return 2
}
