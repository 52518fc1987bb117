package identity

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func writePEM(t *testing.T, typ string, der []byte) (path, text string) {
	t.Helper()
	text = string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
	path = filepath.Join(t.TempDir(), "key.pem")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, text
}

func TestLoadDevKey(t *testing.T) {
	keys(t)
	ec := ec1.priv.(*ecdsa.PrivateKey)
	pkcs8EC, _ := x509.MarshalPKCS8PrivateKey(ec)
	sec1, _ := x509.MarshalECPrivateKey(ec)
	pkcs1 := x509.MarshalPKCS1PrivateKey(rsa1.priv.(*rsa.PrivateKey))
	pub, _ := x509.MarshalPKIXPublicKey(ec.Public())
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	sec1P384, _ := x509.MarshalECPrivateKey(p384)

	ecPath, ecText := writePEM(t, "PRIVATE KEY", pkcs8EC)
	sec1Path, _ := writePEM(t, "EC PRIVATE KEY", sec1)
	rsaPath, _ := writePEM(t, "RSA PRIVATE KEY", pkcs1)
	pubPath, _ := writePEM(t, "PUBLIC KEY", pub)
	p384Path, _ := writePEM(t, "EC PRIVATE KEY", sec1P384)
	tests := []struct {
		name, spec, alg, wantErr string
	}{
		{"PKCS #8 EC file", ecPath, "ES256", ""},
		{"SEC 1 EC file", sec1Path, "ES256", ""},
		{"PKCS #1 RSA file", rsaPath, "RS256", ""},
		{"inline PEM", ecText, "ES256", ""},
		{"inline PEM with escaped line breaks", strings.ReplaceAll(ecText, "\n", `\n`), "ES256", ""},
		{"a public key", pubPath, "", `"PUBLIC KEY": want a private key`},
		{"P-384", p384Path, "", "P-256"},
		{"missing file", filepath.Join(t.TempDir(), "none.pem"), "", "no such file"},
		{"not PEM", "-----BEGIN garbage", "", "development key inline PEM: no PEM block"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := LoadDevKey(tt.spec)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "MII") {
					t.Errorf("error repeats key material: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if k.Algorithm != tt.alg || !strings.HasPrefix(k.ID, "dev-") {
				t.Errorf("key %s %s", k.ID, k.Algorithm)
			}
		})
	}
	// The key id is a function of the key.
	a, _ := LoadDevKey(ecPath)
	b, _ := LoadDevKey(sec1Path)
	c, _ := LoadDevKey(rsaPath)
	if a.ID != b.ID || a.ID == c.ID {
		t.Errorf("key ids %s %s %s: want equal for one key, different for another", a.ID, b.ID, c.ID)
	}
}

// A Verifier with only a development key is ready at once and trusts what
// that key signs, and nothing else; its algorithm must be accepted.
func TestDevKeyVerifier(t *testing.T) {
	keys(t)
	der, _ := x509.MarshalPKCS8PrivateKey(ec1.priv)
	path, _ := writePEM(t, "PRIVATE KEY", der)
	dev, err := LoadDevKey(path)
	if err != nil {
		t.Fatal(err)
	}
	v := newTestVerifier(t, nil, newClock(), Config{DevKey: path, Audience: "-"})
	if s := v.Status(); !s.Ready || s.Keys != 1 {
		t.Errorf("status %+v", s)
	}
	devSigner := testKey{kid: dev.ID, alg: dev.Algorithm, priv: dev.Private}
	tok := devSigner.sign(t, claims("", jwt.MapClaims{"aud": "-", "iss": nil}))
	if id, err := v.Verify(context.Background(), tok); err != nil || id.UserID != "3" {
		t.Errorf("development token: %+v %v", id, err)
	}
	other := devSigner
	other.priv = forgedRSA1.priv
	other.alg = "RS256"
	if _, err := v.Verify(context.Background(), other.sign(t, claims("", jwt.MapClaims{"aud": "-"}))); err == nil {
		t.Error("a token naming the development key id but signed by another key was accepted")
	}
	if _, err := New(context.Background(), Config{DevKey: path, Algorithms: []string{"RS256"}, Now: func() time.Time { return t0 }}); err == nil || !strings.Contains(err.Error(), "ES256") {
		t.Errorf("development key outside the accepted algorithms: %v", err)
	}
}
