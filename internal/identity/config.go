package identity

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Config is how a Verifier finds its keys and checks tokens. A zero field
// takes the default in the block below; the environment variable that sets
// it (internal/platform/config) is on the right.
//
//	JWKSURL           (empty)              AUTH_JWKS_URL     the identity provider's JWK Set; empty: discovered from Issuer
//	Issuer            (empty)              AUTH_ISSUER       iss must equal it; empty: not checked. Without JWKSURL, its
//	                                                         /.well-known/openid-configuration names the JWK Set (jwks_uri)
//	Audience          (empty)              AUTH_AUDIENCE     aud must contain it; empty: not checked
//	UserClaim         sub                  AUTH_USER_CLAIM   the claim holding the Event API user id (a string or a number)
//	Algorithms        RS256, ES256, PS256  AUTH_ALGORITHMS   accepted signing algorithms, among SupportedAlgorithms
//	Leeway            30s (negative: none) AUTH_LEEWAY       clock skew allowed on exp, nbf and iat
//	MaxTokenBytes     8192                 AUTH_MAX_TOKEN_BYTES  longer tokens are refused before any parsing
//	RefreshInterval   15m                  AUTH_JWKS_REFRESH_INTERVAL      background refresh of the JWK Set
//	RefreshRateLimit  10s                  AUTH_JWKS_MIN_REFRESH_INTERVAL  at most one fetch per this window for unknown key ids;
//	                                                         also the retry interval while fetching fails
//	VerifiedTokens    10000 (negative: off) AUTH_VERIFIED_TOKENS  tokens whose verification is remembered until they expire
//	FetchTimeout      5s                   -                 bound of one discovery or JWK Set request
//	DevKey            (empty)              AUTH_DEV_KEY      a development signing key: a PEM file's path or inline PEM
//	HTTPClient        a client of its own  -                 what fetches the JWK Set and the discovery document
//	Now               time.Now             -                 the clock of exp/nbf/iat and of the refresh window
//	OnFetch           nil                  -                 runs after each JWK Set fetch with its error (nil: success), for logs and metrics
//
// One of JWKSURL, Issuer or DevKey is required.
type Config struct {
	JWKSURL          string
	Issuer           string
	Audience         string
	UserClaim        string
	Algorithms       []string
	Leeway           time.Duration
	MaxTokenBytes    int
	RefreshInterval  time.Duration
	RefreshRateLimit time.Duration
	// VerifiedTokens bounds the tokens whose verification is remembered: a
	// signature check costs tens of microseconds (RS256), more than a kept
	// answer, and a client sends the same token with every request.
	VerifiedTokens int
	FetchTimeout   time.Duration
	// DevKey lets a newcomer try authentication without an identity
	// provider: tokens signed with this private key (cmd/devtoken signs
	// them) are trusted too. Only development may set it; the
	// configuration refuses AUTH_DEV_KEY when APP_ENV=production.
	DevKey     string
	HTTPClient *http.Client
	Now        func() time.Time
	// OnFetch runs on the fetching goroutine after every fetch of the JWK
	// Set, before the callers waiting for it resume (keep it quick): the
	// Verifier returns no error for a background fetch, so this is where
	// one is logged or counted.
	OnFetch func(err error)
}

// The defaults of Config's fields.
const (
	DefaultUserClaim        = "sub"
	DefaultLeeway           = 30 * time.Second
	DefaultMaxTokenBytes    = 8192
	DefaultRefreshInterval  = 15 * time.Minute
	DefaultRefreshRateLimit = 10 * time.Second
	DefaultFetchTimeout     = 5 * time.Second
	DefaultVerifiedTokens   = 10000
)

// DefaultAlgorithms are the algorithms accepted when Config.Algorithms is
// empty: what Auth0, Okta, Keycloak, Entra ID and Cognito sign with.
var DefaultAlgorithms = []string{"RS256", "ES256", "PS256"}

// SupportedAlgorithms are the algorithms Config.Algorithms may name: the
// asymmetric ones only. "none" and the HMAC family (HS256…) are refused
// outright: a verifier holding only public keys has no business with a
// shared secret, and accepting HS256 is how a public key gets used as an
// HMAC secret (the RS/HS confusion).
var SupportedAlgorithms = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

// CheckAlgorithm returns the canonical spelling of alg if it is supported,
// or an error saying why not.
func CheckAlgorithm(alg string) (string, error) {
	for _, a := range SupportedAlgorithms {
		if strings.EqualFold(a, alg) {
			return a, nil
		}
	}
	if strings.EqualFold(alg, "none") || strings.HasPrefix(strings.ToUpper(alg), "HS") {
		return "", fmt.Errorf("algorithm %q is never accepted: only asymmetric signatures are (%s)", alg, strings.Join(SupportedAlgorithms, ", "))
	}
	return "", fmt.Errorf("algorithm %q is not supported: want one of %s", alg, strings.Join(SupportedAlgorithms, ", "))
}

// withDefaults returns c with its zero fields set to their defaults, and
// checks what does not depend on the network.
func (c Config) withDefaults() (Config, error) {
	if c.UserClaim == "" {
		c.UserClaim = DefaultUserClaim
	}
	if len(c.Algorithms) == 0 {
		c.Algorithms = DefaultAlgorithms
	}
	algs := make([]string, 0, len(c.Algorithms))
	for _, a := range c.Algorithms {
		canonical, err := CheckAlgorithm(a)
		if err != nil {
			return c, err
		}
		if !slices.Contains(algs, canonical) {
			algs = append(algs, canonical)
		}
	}
	c.Algorithms = algs
	switch {
	case c.Leeway == 0:
		c.Leeway = DefaultLeeway
	case c.Leeway < 0:
		c.Leeway = 0
	}
	if c.MaxTokenBytes <= 0 {
		c.MaxTokenBytes = DefaultMaxTokenBytes
	}
	if c.RefreshInterval <= 0 {
		c.RefreshInterval = DefaultRefreshInterval
	}
	if c.RefreshRateLimit <= 0 {
		c.RefreshRateLimit = DefaultRefreshRateLimit
	}
	if c.FetchTimeout <= 0 {
		c.FetchTimeout = DefaultFetchTimeout
	}
	if c.VerifiedTokens == 0 {
		c.VerifiedTokens = DefaultVerifiedTokens
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: c.FetchTimeout}
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.JWKSURL == "" && c.Issuer == "" && c.DevKey == "" {
		return c, errors.New("identity: no keys to verify tokens with: set a JWK Set URL, an issuer to discover it from, or a development key")
	}
	if c.JWKSURL != "" {
		if err := checkHTTPURL(c.JWKSURL); err != nil {
			return c, fmt.Errorf("identity: JWK Set URL: %w", err)
		}
	} else if c.Issuer != "" {
		if err := checkHTTPURL(c.Issuer); err != nil {
			return c, fmt.Errorf("identity: issuer (to discover the JWK Set from): %w", err)
		}
	}
	return c, nil
}

// checkHTTPURL accepts an absolute http or https URL with a host.
func checkHTTPURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("want an http:// or https:// URL with a host")
	}
	return nil
}
