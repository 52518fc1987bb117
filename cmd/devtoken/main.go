// Command devtoken prints a bearer token signed with the development key, so
// that a newcomer can try authentication locally without an identity
// provider:
//
//	go run ./cmd/devtoken -sub 3 -scope events:admin
//	AUTH_MODE=required AUTH_DEV_KEY=.devkey.pem go run ./server
//	curl -H "Authorization: Bearer $(go run ./cmd/devtoken -sub 3)" localhost:3000/getUsers
//
// The key is -key, else AUTH_DEV_KEY (a PEM file's path or inline PEM),
// else .devkey.pem in the working directory (gitignored). A key file that
// does not exist yet is created (an ECDSA P-256 key, mode 0600) and stderr
// says which AUTH_DEV_KEY to give the gateway. Only the token goes to
// stdout.
//
// Flags (defaults from the gateway's own variables where it has one):
//
//	-sub    the user id (required); also written to AUTH_USER_CLAIM's claim when that is not sub
//	-scope  scopes, space- or comma-separated (e.g. "events:admin")
//	-ttl    lifetime [1h]
//	-iss    iss claim [$AUTH_ISSUER]
//	-aud    aud claim [$AUTH_AUDIENCE]
//	-key    the development key [$AUTH_DEV_KEY, else .devkey.pem]
//
// The gateway trusts the key only outside production: with APP_ENV=production
// it refuses to start while AUTH_DEV_KEY is set.
package main

import (
	"cmp"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/eventms/gateway/internal/identity"
)

// DefaultKeyPath is where the key is kept when neither -key nor
// AUTH_DEV_KEY names one.
const DefaultKeyPath = ".devkey.pem"

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr, time.Now))
}

// run does the command's work and returns its exit status: 0, 1 when the
// key cannot be read or made, 2 on bad flags.
func run(args []string, getenv func(string) string, stdout, stderr io.Writer, now func() time.Time) int {
	flags := flag.NewFlagSet("devtoken", flag.ContinueOnError)
	flags.SetOutput(stderr)
	sub := flags.String("sub", "", "the user id (required)")
	scope := flags.String("scope", "", "scopes, space- or comma-separated")
	ttl := flags.Duration("ttl", time.Hour, "lifetime of the token")
	iss := flags.String("iss", getenv("AUTH_ISSUER"), "iss claim")
	aud := flags.String("aud", getenv("AUTH_AUDIENCE"), "aud claim")
	// The default is resolved after parsing, so that usage never prints an
	// inline key.
	key := flags.String("key", "", "the development key: a PEM file, created if missing, or inline PEM (default $AUTH_DEV_KEY, else "+DefaultKeyPath+")")
	if err := flags.Parse(args); err != nil {
		return 2
	}
	*key = cmp.Or(*key, getenv("AUTH_DEV_KEY"), DefaultKeyPath)
	if *sub == "" || *ttl <= 0 || flags.NArg() > 0 {
		fmt.Fprintln(stderr, "devtoken: want -sub <user id>, a positive -ttl and no other arguments")
		flags.Usage()
		return 2
	}
	dev, created, err := loadOrCreate(*key)
	if err != nil {
		fmt.Fprintln(stderr, "devtoken:", err)
		return 1
	}
	if created {
		fmt.Fprintf(stderr, "devtoken: created the development key %s\n", *key)
	}
	if !identity.IsInlinePEM(*key) && getenv("AUTH_DEV_KEY") != *key {
		fmt.Fprintf(stderr, "devtoken: start the gateway with AUTH_MODE=required AUTH_DEV_KEY=%s (development only)\n", *key)
	}

	t := now()
	claims := jwt.MapClaims{
		"sub": *sub,
		"iat": t.Unix(),
		"nbf": t.Unix(),
		"exp": t.Add(*ttl).Unix(),
	}
	if c := getenv("AUTH_USER_CLAIM"); c != "" && c != "sub" {
		claims[c] = *sub
	}
	if s := strings.Join(strings.FieldsFunc(*scope, func(r rune) bool { return r == ',' || r == ' ' }), " "); s != "" {
		claims["scope"] = s
	}
	if *iss != "" {
		claims["iss"] = *iss
	}
	if *aud != "" {
		claims["aud"] = *aud
	}
	tok := jwt.NewWithClaims(jwt.GetSigningMethod(dev.Algorithm), claims)
	tok.Header["kid"] = dev.ID
	signed, err := tok.SignedString(dev.Private)
	if err != nil {
		fmt.Fprintln(stderr, "devtoken: sign:", err)
		return 1
	}
	fmt.Fprintln(stdout, signed)
	return 0
}

// loadOrCreate loads the key spec names, creating the file first when spec
// is a path that does not exist yet.
func loadOrCreate(spec string) (dev *identity.DevKey, created bool, err error) {
	if !identity.IsInlinePEM(spec) {
		if _, err := os.Stat(spec); errors.Is(err, fs.ErrNotExist) {
			if err := create(spec); err != nil {
				return nil, false, err
			}
			created = true
		}
	}
	dev, err = identity.LoadDevKey(spec)
	return dev, created, err
}

// create writes a new ECDSA P-256 key to path, readable by its owner only,
// and never over an existing file.
func create(path string) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("create the development key: %w", err)
		}
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("create the development key: %w", err)
	}
	if err := pem.Encode(f, &pem.Block{Type: "PRIVATE KEY", Bytes: der}); err != nil {
		f.Close()
		return fmt.Errorf("write the development key: %w", err)
	}
	return f.Close()
}
