package identity

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"
	lru "github.com/hashicorp/golang-lru/v2"
)

// Verifier checks bearer tokens against the identity provider's keys and
// says who is calling. It is safe for concurrent use.
//
// Start-up: New fetches the JWK Set in the background and waits for that
// first fetch only as long as its context allows. An identity provider that
// is down does not stop the server from starting: until the first fetch
// succeeds (retried every RefreshRateLimit), every token is refused as
// Invalid (401) and Status reports not ready. Once fetched, keys are kept
// through failed refreshes: the provider going down later only makes new
// key ids unknown, and Status says the last refresh failed.
type Verifier struct {
	cfg    Config
	parser *jwt.Parser
	dev    *DevKey
	remote bool // a JWK Set is fetched (from JWKSURL or by discovery)

	keys atomic.Pointer[keySet]
	// verified remembers the identities of tokens verified with the keys
	// then held (see remembered); nil when Config.VerifiedTokens is off.
	verified *lru.Cache[[sha256.Size]byte, verifiedToken]

	life   context.Context // ends at Close; fetches run on it
	cancel context.CancelFunc
	wg     sync.WaitGroup // the refresh loop and the fetches

	mu          sync.Mutex
	jwksURL     string // JWKSURL, or what discovery found
	inflight    *fetchCall
	closed      bool
	lastAttempt time.Time
	lastFetched time.Time
	lastErr     error
}

// New returns a Verifier for cfg. It fails only on a configuration that can
// never work (no key source, an unsupported algorithm, an unreadable
// development key), never because the identity provider is unreachable:
// it waits for the first fetch of the JWK Set until ctx is done (each fetch
// is bounded by FetchTimeout anyway) and goes on fetching in the background
// until Close.
func New(ctx context.Context, cfg Config) (*Verifier, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	v := &Verifier{cfg: cfg, jwksURL: cfg.JWKSURL, remote: cfg.JWKSURL != "" || cfg.Issuer != ""}
	if cfg.VerifiedTokens > 0 {
		v.verified, _ = lru.New[[sha256.Size]byte, verifiedToken](cfg.VerifiedTokens) // errors only on a size <= 0
	}
	if cfg.DevKey != "" {
		if v.dev, err = LoadDevKey(cfg.DevKey); err != nil {
			return nil, fmt.Errorf("identity: %w", err)
		}
		if !slices.Contains(cfg.Algorithms, v.dev.Algorithm) {
			return nil, fmt.Errorf("identity: the development key signs with %s, which the accepted algorithms (%s) leave out",
				v.dev.Algorithm, strings.Join(cfg.Algorithms, ", "))
		}
	}
	opts := []jwt.ParserOption{
		jwt.WithValidMethods(cfg.Algorithms),
		jwt.WithJSONNumber(),
		jwt.WithLeeway(cfg.Leeway),
		jwt.WithTimeFunc(cfg.Now),
		jwt.WithIssuedAt(),
		jwt.WithExpirationRequired(),
	}
	if cfg.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(cfg.Issuer))
	}
	if cfg.Audience != "" {
		opts = append(opts, jwt.WithAudience(cfg.Audience))
	}
	v.parser = jwt.NewParser(opts...)
	v.life, v.cancel = context.WithCancel(context.WithoutCancel(ctx))
	if v.remote {
		first := v.startFetch(true)
		v.wg.Add(1)
		go v.refreshLoop(first)
		select {
		case <-first.done:
		case <-ctx.Done():
		}
	}
	return v, nil
}

// Close stops the background refresh and waits for any fetch in flight to
// end. A closed Verifier still verifies with the keys it holds.
func (v *Verifier) Close() {
	if v == nil {
		return
	}
	v.mu.Lock()
	v.closed = true
	v.mu.Unlock()
	v.cancel()
	v.wg.Wait()
}

// Verify checks a raw JWT (without the "Bearer " prefix): its size, its
// signature with an accepted algorithm and a key of that algorithm's type,
// iss and aud when configured, exp (required), nbf and iat with the leeway,
// and the user claim. A token whose key id is unknown makes the Verifier
// fetch the JWK Set again, at most once per RefreshRateLimit, and wait for
// that fetch as long as ctx allows. Every error is an *Error; the identity
// returned with one is anonymous.
func (v *Verifier) Verify(ctx context.Context, raw string) (Identity, error) {
	if v == nil {
		return anonymous, fail(Invalid, "authentication is not configured")
	}
	if len(raw) > v.cfg.MaxTokenBytes {
		return anonymous, fail(Invalid, fmt.Sprintf("the token is longer than %d bytes", v.cfg.MaxTokenBytes))
	}
	sum := sha256.Sum256([]byte(raw))
	if id, ok := v.remembered(sum); ok {
		return id, nil
	}
	keys := v.keys.Load()
	claims := jwt.MapClaims{}
	var keyLooked bool
	keyfunc := func(t *jwt.Token) (any, error) {
		keyLooked = true
		return v.key(ctx, t)
	}
	if _, err := v.parser.ParseWithClaims(raw, claims, keyfunc); err != nil {
		return anonymous, classify(err, keyLooked)
	}
	id, err := v.identity(claims)
	if err == nil {
		id.token = &bearer{raw: raw}
		if v.verified != nil {
			v.verified.Add(sum, verifiedToken{id: id, keys: keys})
		}
	}
	return id, err
}

// verifiedToken is a token's identity and the key set it was verified
// with.
type verifiedToken struct {
	id   Identity
	keys *keySet
}

// remembered returns the identity of a token verified before, while it has
// not expired and the JWK Set has not been fetched again since: a refresh
// may have dropped the key that signed it (a key rotated out because it
// leaked), so every remembered token is checked again after one. A token
// is remembered only once it passed every check, and exp is the only one
// that can turn: nbf and iat, once passed, stay passed.
func (v *Verifier) remembered(sum [sha256.Size]byte) (Identity, bool) {
	if v.verified == nil {
		return anonymous, false
	}
	t, ok := v.verified.Get(sum)
	if !ok {
		return anonymous, false
	}
	if t.keys != v.keys.Load() || !v.cfg.Now().Before(t.id.ExpiresAt) {
		v.verified.Remove(sum)
		return anonymous, false
	}
	return t.id, true
}

// Sentinel causes from key lookup, classified by classify.
var (
	errUnknownKey  = errors.New("unknown key")
	errKeyMismatch = errors.New("key does not match the algorithm")
	errBadKeyID    = errors.New("kid is not a string")
)

// key finds the key a token names. Without a kid, every key of the
// token's algorithm is tried (an identity provider with one key may omit it).
func (v *Verifier) key(ctx context.Context, t *jwt.Token) (any, error) {
	alg := t.Method.Alg()
	raw, hasKID := t.Header["kid"]
	if !hasKID {
		return v.keysFor(alg)
	}
	kid, ok := raw.(string)
	if !ok || kid == "" {
		return nil, errBadKeyID
	}
	k, found := v.lookup(kid)
	if !found && v.remote && v.refreshForUnknownKey(ctx) {
		k, found = v.lookup(kid)
	}
	switch {
	case !found:
		return nil, errUnknownKey
	case !k.compatible(alg):
		return nil, errKeyMismatch
	}
	return k.key, nil
}

func (v *Verifier) lookup(kid string) (verificationKey, bool) {
	if v.dev != nil && kid == v.dev.ID {
		return verificationKey{alg: v.dev.Algorithm, key: v.dev.Public}, true
	}
	if set := v.keys.Load(); set != nil {
		k, ok := set.byID[kid]
		return k, ok
	}
	return verificationKey{}, false
}

func (v *Verifier) keysFor(alg string) (any, error) {
	var keys jwt.VerificationKeySet
	all := v.keys.Load()
	held := all.size()
	if all != nil {
		for _, k := range all.all {
			if k.compatible(alg) {
				keys.Keys = append(keys.Keys, k.key)
			}
		}
	}
	if v.dev != nil {
		held++
		if k := (verificationKey{alg: v.dev.Algorithm, key: v.dev.Public}); k.compatible(alg) {
			keys.Keys = append(keys.Keys, k.key)
		}
	}
	switch {
	case len(keys.Keys) > 0:
		return keys, nil
	case held > 0:
		return nil, errKeyMismatch
	}
	return nil, errUnknownKey
}

// classify turns the JWT library's error into the caller's *Error. Reasons
// that make a token unacceptable whatever its age win over expiry, so that
// Expired only ever means "get a new token and it will work".
func classify(err error, keyLooked bool) *Error {
	var d string
	switch {
	case errors.Is(err, errUnknownKey):
		d = "the token's signing key is not known"
	case errors.Is(err, errKeyMismatch):
		d = "the token's algorithm does not match its signing key"
	case errors.Is(err, errBadKeyID):
		d = "the token's key id is not a string"
	case errors.Is(err, jwt.ErrTokenMalformed):
		d = "the token is malformed"
	case errors.Is(err, jwt.ErrTokenUnverifiable),
		errors.Is(err, jwt.ErrTokenSignatureInvalid) && !keyLooked: // the accepted list refused it
		d = "the token's signing algorithm is not accepted"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		d = "the token's signature is invalid"
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		d = "the token's issuer is not accepted"
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		d = "the token's audience is not accepted"
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		d = "the token lacks a required claim"
	case errors.Is(err, jwt.ErrInvalidType):
		d = "a claim of the token has the wrong type"
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		d = "the token is not valid yet"
	case errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		d = "the token's issue time is in the future"
	case errors.Is(err, jwt.ErrTokenExpired):
		return fail(Expired, "the token has expired")
	default:
		d = "the token is invalid"
	}
	return fail(Invalid, d)
}

// maxUserIDBytes bounds the user id, which travels on in headers and logs.
const maxUserIDBytes = 256

// identity reads the caller out of verified claims.
func (v *Verifier) identity(claims jwt.MapClaims) (Identity, error) {
	uid, ok := userID(claims[v.cfg.UserClaim])
	if !ok {
		return anonymous, fail(Invalid, "the token's user id claim is missing or not a usable string or integer")
	}
	id := Identity{UserID: uid, Scopes: scopes(claims)}
	id.Subject, _ = claims["sub"].(string)
	if exp, err := claims.GetExpirationTime(); err == nil && exp != nil {
		id.ExpiresAt = exp.Time
	}
	return id, nil
}

// userID reads a user id claim: a string, or an integer (some providers
// issue numeric ids), as its decimal digits. The id must be printable ASCII
// without spaces, at most maxUserIDBytes long: it is forwarded in headers
// and written to logs.
func userID(claim any) (string, bool) {
	var s string
	switch x := claim.(type) {
	case string:
		s = x
	case json.Number:
		if i, err := x.Int64(); err == nil {
			s = strconv.FormatInt(i, 10)
		} else if f, err := x.Float64(); err == nil && f == math.Trunc(f) && math.Abs(f) < 1<<53 {
			s = strconv.FormatInt(int64(f), 10)
		} else {
			return "", false
		}
	default:
		return "", false
	}
	if s == "" || len(s) > maxUserIDBytes {
		return "", false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return "", false
		}
	}
	return s, true
}

// scopes reads scope and scp, each a space-separated string or an array of
// strings (OAuth 2.0 uses the first, Okta and Entra ID the second), in
// order and without duplicates.
func scopes(claims jwt.MapClaims) []string {
	var out []string
	add := func(s string) {
		for _, f := range strings.Fields(s) {
			if !slices.Contains(out, f) {
				out = append(out, f)
			}
		}
	}
	for _, name := range [...]string{"scope", "scp"} {
		switch x := claims[name].(type) {
		case string:
			add(x)
		case []any:
			for _, e := range x {
				if s, ok := e.(string); ok {
					add(s)
				}
			}
		}
	}
	return out
}
