package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eventms/gateway/internal/identity"
)

var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func devtoken(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(args, func(k string) string { return env[k] }, &out, &errOut, func() time.Time { return now })
	return code, out.String(), errOut.String()
}

// verifier trusts the development key at keySpec, with the token's clock.
func verifier(t *testing.T, cfg identity.Config) *identity.Verifier {
	t.Helper()
	cfg.Now = func() time.Time { return now.Add(time.Minute) }
	v, err := identity.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(v.Close)
	return v
}

// With no key anywhere, devtoken creates .devkey.pem in the working
// directory, says which AUTH_DEV_KEY to set, and prints a token that a
// Verifier trusting that key accepts; a second run reuses the key.
func TestTokenIsTrustedByAVerifierWithTheDevKey(t *testing.T) {
	t.Chdir(t.TempDir())
	code, out, errOut := devtoken(t, nil, "-sub", "3", "-scope", "events:admin events:read")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(errOut, "created the development key .devkey.pem") || !strings.Contains(errOut, "AUTH_DEV_KEY=.devkey.pem") {
		t.Errorf("stderr %q, want the created key and the AUTH_DEV_KEY to set", errOut)
	}
	info, err := os.Stat(DefaultKeyPath)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v, %v; want mode 0600", info, err)
	}
	key, _ := os.ReadFile(DefaultKeyPath)

	v := verifier(t, identity.Config{DevKey: DefaultKeyPath})
	id, err := v.Verify(context.Background(), strings.TrimSpace(out))
	if err != nil {
		t.Fatalf("the printed token: %v", err)
	}
	if id.UserID != "3" || !id.HasScope("events:admin") || !id.HasScope("events:read") || !id.ExpiresAt.Equal(now.Add(time.Hour)) {
		t.Errorf("identity %+v", id)
	}

	code, out2, errOut := devtoken(t, nil, "-sub", "1", "-ttl", "5m")
	again, _ := os.ReadFile(DefaultKeyPath)
	if code != 0 || strings.Contains(errOut, "created") || !bytes.Equal(key, again) {
		t.Fatalf("second run: exit %d, stderr %q; the key must be reused", code, errOut)
	}
	if id, err := v.Verify(context.Background(), strings.TrimSpace(out2)); err != nil || id.UserID != "1" || !id.ExpiresAt.Equal(now.Add(5*time.Minute)) {
		t.Errorf("second token: %+v %v", id, err)
	}
}

// The key may come from AUTH_DEV_KEY, inline; issuer, audience and the user
// claim follow the gateway's variables; and the development key is trusted
// beside an identity provider's keys, even one that is down.
func TestKeyIssuerAudienceAndUserClaimFromTheEnvironment(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "keys", "dev.pem")
	if code, _, errOut := devtoken(t, nil, "-sub", "x", "-key", path); code != 0 {
		t.Fatal(errOut)
	}
	pemText, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	idp := httptest.NewServer(http.NotFoundHandler())
	defer idp.Close()
	env := map[string]string{
		"AUTH_DEV_KEY":    strings.ReplaceAll(string(pemText), "\n", `\n`), // as a .env line holds it
		"AUTH_ISSUER":     idp.URL,
		"AUTH_AUDIENCE":   "eventgw-api",
		"AUTH_USER_CLAIM": "uid",
	}
	code, out, errOut := devtoken(t, env, "-sub", "42")
	if code != 0 || strings.Contains(errOut, "PRIVATE KEY") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	v := verifier(t, identity.Config{DevKey: env["AUTH_DEV_KEY"], JWKSURL: idp.URL + "/jwks", Issuer: idp.URL, Audience: "eventgw-api", UserClaim: "uid"})
	if id, err := v.Verify(context.Background(), strings.TrimSpace(out)); err != nil || id.UserID != "42" || id.Subject != "42" {
		t.Errorf("identity %+v, %v", id, err)
	}
	// Another audience is refused: the claims are really checked.
	code, out, _ = devtoken(t, env, "-sub", "42", "-aud", "another-api")
	if _, err := v.Verify(context.Background(), strings.TrimSpace(out)); code != 0 || err == nil {
		t.Errorf("a token for another audience: exit %d, err %v", code, err)
	}
}

func TestBadUsage(t *testing.T) {
	t.Chdir(t.TempDir())
	for _, args := range [][]string{{}, {"-sub", "3", "-ttl", "0s"}, {"-sub", "3", "extra"}, {"-nope"}} {
		if code, _, _ := devtoken(t, nil, args...); code != 2 {
			t.Errorf("%q: exit %d, want 2", args, code)
		}
	}
	if _, err := os.Stat(DefaultKeyPath); err == nil {
		t.Error("a key was created on bad usage")
	}
	if err := os.WriteFile("not-a-key.pem", []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := devtoken(t, nil, "-sub", "3", "-key", "not-a-key.pem"); code != 1 || !strings.Contains(errOut, "no PEM block") {
		t.Errorf("unusable key: exit %d, %q", code, errOut)
	}
	// Usage never prints an inline key.
	_, _, errOut := devtoken(t, map[string]string{"AUTH_DEV_KEY": "-----BEGIN PRIVATE KEY-----\nsecret\n-----END PRIVATE KEY-----"}, "-h")
	if strings.Contains(errOut, "secret") {
		t.Errorf("usage shows the key: %s", errOut)
	}
}
