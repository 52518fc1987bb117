package config

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eventms/gateway/internal/identity"
)

// devKeyFile writes a development key (ECDSA P-256) and returns its path
// and its PEM text.
func devKeyFile(t *testing.T) (path, text string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(k)
	text = string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	path = filepath.Join(t.TempDir(), "dev.pem")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, text
}

func TestAuthDefaults(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	a := c.Auth
	if a.Mode != identity.Off || a.UserClaim != "sub" || strings.Join(a.Algorithms, ",") != "RS256,ES256,PS256" ||
		a.Leeway != 30*time.Second || a.MaxTokenBytes != 8192 || a.RefreshInterval != 15*time.Minute || a.RefreshRateLimit != 10*time.Second ||
		a.AdminScope != "events:admin" || a.Forward != "none" || a.ForwardHeader != "X-User-Id" ||
		a.ClientNameHeader != "apollographql-client-name" || a.ClientVersionHeader != "apollographql-client-version" {
		t.Errorf("auth defaults: %+v", a)
	}
}

func TestAuthSettings(t *testing.T) {
	keyPath, keyText := devKeyFile(t)
	prod := map[string]string{"APP_ENV": "production", "EVENT_API_BASE_URL": "http://events.internal"}
	with := func(base map[string]string, kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	tests := []struct {
		name    string
		vars    map[string]string
		wantErr string // empty: valid
		check   func(Auth) bool
	}{
		{"production must choose AUTH_MODE", prod, `AUTH_MODE="": want off, optional or required, set explicitly when APP_ENV=production`, nil},
		{"production may choose off", with(prod, "AUTH_MODE", "off"), "", func(a Auth) bool { return a.Mode == identity.Off }},
		{"production, required with a JWKS", with(prod, "AUTH_MODE", "required", "AUTH_JWKS_URL", "https://idp.example/jwks.json"), "",
			func(a Auth) bool { return a.Mode == identity.Required && a.JWKSURL == "https://idp.example/jwks.json" }},
		{"production refuses AUTH_DEV_KEY", with(prod, "AUTH_MODE", "required", "AUTH_ISSUER", "https://idp.example/", "AUTH_DEV_KEY", keyPath),
			`AUTH_DEV_KEY="` + keyPath + `": want unset when APP_ENV=production`, nil},
		{"production refuses a dev key as the only source", with(prod, "AUTH_MODE", "required", "AUTH_DEV_KEY", keyText), `AUTH_MODE="required": want off, or AUTH_JWKS_URL or AUTH_ISSUER set as well`, nil},
		{"bad mode", map[string]string{"AUTH_MODE": "on"}, `AUTH_MODE="on": want one of off, optional, required`, nil},
		{"mode in any case", map[string]string{"AUTH_MODE": "Optional", "AUTH_ISSUER": "https://idp.example/"}, "",
			func(a Auth) bool { return a.Mode == identity.Optional }},
		{"required without keys", map[string]string{"AUTH_MODE": "required"}, `AUTH_MODE="required": want off, or AUTH_JWKS_URL or AUTH_ISSUER set as well (or AUTH_DEV_KEY, in development)`, nil},
		{"required with only a dev key, in development", map[string]string{"AUTH_MODE": "required", "AUTH_DEV_KEY": keyPath}, "",
			func(a Auth) bool { return a.DevKey == keyPath }},
		{"inline dev key", map[string]string{"AUTH_MODE": "required", "AUTH_DEV_KEY": keyText}, "", nil},
		{"unreadable dev key", map[string]string{"AUTH_DEV_KEY": "/nonexistent/dev.pem"}, `AUTH_DEV_KEY="/nonexistent/dev.pem": want a PEM private key`, nil},
		{"inline dev key that is no key", map[string]string{"AUTH_DEV_KEY": "-----BEGIN PRIVATE KEY-----\nMIIBroken\n-----END PRIVATE KEY-----"},
			`AUTH_DEV_KEY="(inline PEM)": want a PEM private key`, nil},
		{"dev key outside the algorithms", map[string]string{"AUTH_DEV_KEY": keyPath, "AUTH_ALGORITHMS": "RS256"}, `a key whose algorithm (ES256) AUTH_ALGORITHMS accepts`, nil},
		{"JWKS URL without scheme", map[string]string{"AUTH_JWKS_URL": "idp.example/jwks"}, `AUTH_JWKS_URL="idp.example/jwks": want an http:// or https:// URL`, nil},
		{"issuer to discover from must be a URL", map[string]string{"AUTH_ISSUER": "my-idp"}, `AUTH_ISSUER="my-idp": want an http:// or https:// URL to discover`, nil},
		{"issuer need not be a URL with a JWKS URL", map[string]string{"AUTH_ISSUER": "my-idp", "AUTH_JWKS_URL": "https://idp.example/jwks"}, "", nil},
		{"algorithms", map[string]string{"AUTH_ALGORITHMS": "es256, rs256,ES256, eddsa"}, "",
			func(a Auth) bool { return strings.Join(a.Algorithms, ",") == "ES256,RS256,EdDSA" }},
		{"HS256 refused", map[string]string{"AUTH_ALGORITHMS": "RS256,HS256"}, `AUTH_ALGORITHMS="RS256,HS256": want a comma-separated list of asymmetric algorithms (algorithm "HS256" is never accepted`, nil},
		{"none refused", map[string]string{"AUTH_ALGORITHMS": "none"}, `"none" is never accepted`, nil},
		{"empty algorithm list", map[string]string{"AUTH_ALGORITHMS": " , "}, `AUTH_ALGORITHMS=",": want at least one of`, nil},
		{"leeway", map[string]string{"AUTH_LEEWAY": "0s", "AUTH_MAX_TOKEN_BYTES": "4096"}, "",
			func(a Auth) bool { return a.Leeway == 0 && a.VerifierConfig().Leeway < 0 && a.MaxTokenBytes == 4096 }},
		{"leeway too large", map[string]string{"AUTH_LEEWAY": "1h"}, `AUTH_LEEWAY="1h": want a Go duration`, nil},
		{"token limit too small", map[string]string{"AUTH_MAX_TOKEN_BYTES": "10"}, `AUTH_MAX_TOKEN_BYTES="10": want an integer from 512`, nil},
		{"refresh window above the interval", map[string]string{"AUTH_JWKS_REFRESH_INTERVAL": "5s", "AUTH_JWKS_MIN_REFRESH_INTERVAL": "10s"},
			`AUTH_JWKS_MIN_REFRESH_INTERVAL="10s": want at most AUTH_JWKS_REFRESH_INTERVAL (5s)`, nil},
		{"forward", map[string]string{"AUTH_FORWARD": "header", "AUTH_FORWARD_HEADER": "X-Caller"}, "",
			func(a Auth) bool { return a.Forward == "header" && a.ForwardHeader == "X-Caller" }},
		{"bad forward", map[string]string{"AUTH_FORWARD": "cookie"}, `AUTH_FORWARD="cookie": want one of header, token, none`, nil},
		{"bad header name", map[string]string{"CLIENT_NAME_HEADER": "client name"}, `CLIENT_NAME_HEADER="client name": want an HTTP header name`, nil},
		{"admin scope with a space", map[string]string{"AUTH_ADMIN_SCOPE": "events admin"}, `AUTH_ADMIN_SCOPE="events admin": want one scope`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(env(tt.vars))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v\nwant it to contain %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "MII") {
					t.Errorf("the error repeats key material: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.check != nil && !tt.check(c.Auth) {
				t.Errorf("auth %+v", c.Auth)
			}
		})
	}
}

func TestAuthWarnings(t *testing.T) {
	keyPath, _ := devKeyFile(t)
	c, err := Load(env(map[string]string{"AUTH_DEV_KEY": keyPath}))
	if err != nil || !strings.Contains(strings.Join(c.Warnings, "\n"), "AUTH_DEV_KEY is set but AUTH_MODE is off") {
		t.Errorf("dev key with auth off: %v %q", err, c.Warnings)
	}
	c, err = Load(env(map[string]string{"APP_ENV": "production", "EVENT_API_BASE_URL": "http://events.internal", "AUTH_MODE": "required", "AUTH_JWKS_URL": "http://idp.internal/jwks"}))
	if err != nil || !strings.Contains(strings.Join(c.Warnings, "\n"), "AUTH_JWKS_URL is plain http") {
		t.Errorf("plain http JWKS in production: %v %q", err, c.Warnings)
	}
}

// The settings become an identity.Config the Verifier accepts.
func TestAuthVerifierConfig(t *testing.T) {
	c, err := Load(env(map[string]string{"AUTH_MODE": "required", "AUTH_JWKS_URL": "https://idp.example/jwks", "AUTH_AUDIENCE": "api", "AUTH_LEEWAY": "5s"}))
	if err != nil {
		t.Fatal(err)
	}
	v := c.Auth.VerifierConfig()
	if v.JWKSURL != "https://idp.example/jwks" || v.Audience != "api" || v.Leeway != 5*time.Second || v.UserClaim != "sub" || len(v.Algorithms) != 3 ||
		v.MaxTokenBytes != 8192 || v.RefreshInterval != 15*time.Minute || v.RefreshRateLimit != 10*time.Second {
		t.Errorf("verifier config %+v", v)
	}
}
