// Package identity says who is calling: it verifies bearer JWTs against an
// identity provider's keys (a JWK Set, fetched from AUTH_JWKS_URL or
// discovered from AUTH_ISSUER's /.well-known/openid-configuration) and
// carries the caller's Identity in the request context. Both front doors
// authenticate through one Verifier (Authenticate for HTTP, AuthenticateToken
// with TokenFromInitPayload for a WebSocket's connection_init); Challenge
// writes the RFC 6750 WWW-Authenticate of a 401.
//
// # Libraries, and what is ours
//
// Tokens are parsed and checked by github.com/golang-jwt/jwt/v5: the most
// used Go JWT library, with no dependencies of its own, an explicit list of
// accepted algorithms, an injectable clock and leeway for exp/nbf/iat, and
// signing methods that refuse a key of the wrong type (an RSA public key is
// never an HMAC secret). JWKs are decoded and validated by
// github.com/MicahParks/jwkset (the key store under keyfunc/v3, by the same
// author): RSA, EC and OKP keys, curve points checked.
//
// What is written here, and why: the fetch schedule of the JWK Set
// (refresh.go, with Status). The ready-made refreshers did not fit:
// keyfunc/jwkset's HTTP storage makes a request with an unknown key id wait
// on a rate limiter (up to a minute) instead of failing at once, starts a
// goroutine that Close cannot wait for, reads only the wall clock (so the
// refresh window cannot be tested exactly), and says nothing of its last
// success; lestrrat-go/jwx's jwk.Cache (httprc) has the same gaps for
// unknown key ids and readiness, and brings a much larger dependency tree.
// Ours fetches once per RefreshInterval in the background, lets an unknown
// key id start at most one fetch per RefreshRateLimit (callers in the
// meantime join the fetch in flight or are refused at once), keeps the last
// good keys through failures, reports them in Status for /readyz, and stops
// and waits for everything in Close. Also ours: the checks around the
// library — the size limit before any parsing, key type against algorithm
// family before the signature, the user id and scope claims.
//
// Nothing here logs. An error for the caller is an *Error whose
// Description never holds the token, a claim's value or key material;
// background fetch errors reach Config.OnFetch and Status.
package identity
