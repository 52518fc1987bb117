package identity

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"
)

// DevKey is a development signing key: its private half signs tokens
// (cmd/devtoken), its public half is trusted by a Verifier whose
// Config.DevKey names it. It exists so that a newcomer can try
// authentication locally without an identity provider; the configuration
// refuses it in production.
type DevKey struct {
	// ID is the kid the key signs with and is found by: "dev-" and a
	// digest of the public key, so a changed key file is a different key.
	ID string
	// Algorithm is the JWS algorithm the key signs with: ES256 for a P-256
	// key, RS256 for an RSA key of at least 2048 bits.
	Algorithm string
	// Private signs; Public verifies.
	Private crypto.Signer
	Public  crypto.PublicKey
}

// IsInlinePEM reports whether spec holds PEM text rather than a file path.
func IsInlinePEM(spec string) bool { return strings.Contains(spec, "-----BEGIN") }

// LoadDevKey reads a development key from spec: inline PEM text (a .env
// file may write its line breaks as \n) or the path of a PEM file. It
// accepts PKCS #8, PKCS #1 (RSA) and SEC 1 (EC) private keys. Errors name
// the file, never the key's content.
func LoadDevKey(spec string) (*DevKey, error) {
	data := []byte(spec)
	where := "inline PEM"
	if IsInlinePEM(spec) {
		if !strings.Contains(spec, "\n") {
			data = []byte(strings.ReplaceAll(spec, `\n`, "\n"))
		}
	} else {
		var err error
		if data, err = os.ReadFile(spec); err != nil {
			return nil, fmt.Errorf("development key: %w", err)
		}
		where = spec
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("development key %s: no PEM block", where)
	}
	key, err := parsePrivateKey(block)
	if err != nil {
		return nil, fmt.Errorf("development key %s: %w", where, err)
	}
	return NewDevKey(key)
}

func parsePrivateKey(block *pem.Block) (any, error) {
	switch block.Type {
	case "RSA PRIVATE KEY":
		return x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		return x509.ParseECPrivateKey(block.Bytes)
	case "PRIVATE KEY":
		return x509.ParsePKCS8PrivateKey(block.Bytes)
	}
	return nil, fmt.Errorf("a PEM block of type %q: want a private key (PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY)", block.Type)
}

// NewDevKey wraps a P-256 ECDSA or an RSA (≥ 2048 bits) private key.
func NewDevKey(key any) (*DevKey, error) {
	var alg string
	switch k := key.(type) {
	case *ecdsa.PrivateKey:
		if k.Curve != elliptic.P256() {
			return nil, errors.New("an EC key on P-256 is needed (ES256)")
		}
		alg = "ES256"
	case *rsa.PrivateKey:
		if k.N.BitLen() < minRSABits {
			return nil, fmt.Errorf("an RSA key of at least %d bits is needed", minRSABits)
		}
		alg = "RS256"
	default:
		return nil, fmt.Errorf("a %T: want an ECDSA P-256 or RSA private key", key)
	}
	signer := key.(crypto.Signer)
	der, err := x509.MarshalPKIXPublicKey(signer.Public())
	if err != nil {
		return nil, fmt.Errorf("development key: %w", err)
	}
	sum := sha256.Sum256(der)
	return &DevKey{
		ID:        "dev-" + base64.RawURLEncoding.EncodeToString(sum[:12]),
		Algorithm: alg,
		Private:   signer,
		Public:    signer.Public(),
	}, nil
}

// minRSABits is the smallest RSA key accepted, from a JWK Set or as a
// development key (NIST SP 800-57: 2048 bits).
const minRSABits = 2048
