package identity

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/MicahParks/jwkset"
)

// maxDocumentBytes bounds a JWK Set or discovery document: real ones are a
// few kilobytes, and a misbehaving endpoint must not fill the memory.
const maxDocumentBytes = 1 << 20

// verificationKey is one public key a token may be verified with.
type verificationKey struct {
	// alg is the algorithm the JWK is restricted to; empty when it names none.
	alg string
	key crypto.PublicKey
}

// compatible reports whether k may verify a token signed with alg: the key's
// type must belong to alg's family (RSA for RS* and PS*, ECDSA on alg's
// curve for ES*, Ed25519 for EdDSA), and a JWK that names an algorithm is
// used for that one only. This is checked here, before the signature, and
// not left to the signing method alone, so that no key is ever offered to an
// algorithm it was not made for.
func (k verificationKey) compatible(alg string) bool {
	if k.alg != "" && k.alg != alg {
		return false
	}
	switch alg {
	case "RS256", "RS384", "RS512", "PS256", "PS384", "PS512":
		_, ok := k.key.(*rsa.PublicKey)
		return ok
	case "ES256":
		return onCurve(k.key, elliptic.P256())
	case "ES384":
		return onCurve(k.key, elliptic.P384())
	case "ES512":
		return onCurve(k.key, elliptic.P521())
	case "EdDSA":
		_, ok := k.key.(ed25519.PublicKey)
		return ok
	}
	return false
}

func onCurve(key crypto.PublicKey, c elliptic.Curve) bool {
	k, ok := key.(*ecdsa.PublicKey)
	return ok && k.Curve == c
}

// keySet is one fetched JWK Set, immutable once built.
type keySet struct {
	byID map[string]verificationKey
	all  []verificationKey
}

func (s *keySet) size() int {
	if s == nil {
		return 0
	}
	return len(s.all)
}

// parseKeySet reads a JWK Set document. Keys it cannot use (encryption keys,
// symmetric keys, unsupported types, RSA below 2048 bits, malformed ones)
// are left out, so that one odd key does not take the others down with it;
// a set with no usable key at all is an error, and the keys held before stay.
func parseKeySet(body []byte) (*keySet, error) {
	var doc jwkset.JWKSMarshal
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, errors.New(`the JWK Set is not a JSON object of the form {"keys": [...]}`)
	}
	set := &keySet{byID: make(map[string]verificationKey, len(doc.Keys))}
	for _, m := range doc.Keys {
		if m.USE != "" && m.USE != jwkset.UseSig {
			continue
		}
		jwk, err := jwkset.NewJWKFromMarshal(m, jwkset.JWKMarshalOptions{}, jwkset.JWKValidateOptions{})
		if err != nil {
			continue
		}
		key, ok := publicKey(jwk.Key())
		if !ok {
			continue
		}
		k := verificationKey{alg: string(m.ALG), key: key}
		if _, dup := set.byID[m.KID]; m.KID != "" && !dup {
			set.byID[m.KID] = k
		}
		set.all = append(set.all, k)
	}
	if len(set.all) == 0 {
		return nil, fmt.Errorf("the JWK Set holds no usable signing key (of %d keys)", len(doc.Keys))
	}
	return set, nil
}

// publicKey returns the public half of an asymmetric key worth verifying
// with; symmetric keys and short RSA keys are refused.
func publicKey(key any) (crypto.PublicKey, bool) {
	if s, ok := key.(crypto.Signer); ok {
		key = s.Public()
	}
	switch k := key.(type) {
	case *rsa.PublicKey:
		return k, k.N.BitLen() >= minRSABits
	case *ecdsa.PublicKey:
		return k, true
	case ed25519.PublicKey:
		return k, true
	}
	return nil, false
}

// fetchKeys fetches the JWK Set, discovering its URL first if it is not
// known yet.
func (v *Verifier) fetchKeys(ctx context.Context) (*keySet, error) {
	v.mu.Lock()
	u := v.jwksURL
	v.mu.Unlock()
	if u == "" {
		var err error
		if u, err = v.discover(ctx); err != nil {
			return nil, err
		}
		v.mu.Lock()
		v.jwksURL = u
		v.mu.Unlock()
	}
	body, err := v.get(ctx, u)
	if err != nil {
		return nil, fmt.Errorf("fetch JWK Set: %w", err)
	}
	set, err := parseKeySet(body)
	if err != nil {
		return nil, fmt.Errorf("fetch JWK Set from %s: %w", u, err)
	}
	return set, nil
}

// discover reads the issuer's OpenID Provider metadata (OpenID Connect
// Discovery 1.0, section 4) for its jwks_uri. The document must name the
// configured issuer, as the specification requires.
func (v *Verifier) discover(ctx context.Context) (string, error) {
	u := strings.TrimSuffix(v.cfg.Issuer, "/") + "/.well-known/openid-configuration"
	body, err := v.get(ctx, u)
	if err != nil {
		return "", fmt.Errorf("discover JWK Set: %w", err)
	}
	var doc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return "", fmt.Errorf("discover JWK Set: %s is not a JSON object", u)
	}
	if doc.Issuer != v.cfg.Issuer {
		return "", fmt.Errorf("discover JWK Set: %s names the issuer %q, not %q", u, doc.Issuer, v.cfg.Issuer)
	}
	if err := checkHTTPURL(doc.JWKSURI); err != nil {
		return "", fmt.Errorf("discover JWK Set: %s has no usable jwks_uri: %w", u, err)
	}
	return doc.JWKSURI, nil
}

// get fetches u, bounded by ctx and maxDocumentBytes.
func (v *Verifier) get(ctx context.Context, u string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := v.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: status %d", u, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDocumentBytes+1))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", u, err)
	}
	if len(body) > maxDocumentBytes {
		return nil, fmt.Errorf("GET %s: larger than %d bytes", u, maxDocumentBytes)
	}
	return body, nil
}
