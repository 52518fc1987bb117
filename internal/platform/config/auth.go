package config

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/eventms/gateway/internal/identity"
	"github.com/eventms/gateway/internal/platform/envvar"
)

// Auth configures who is calling: bearer token authentication (package
// identity), what the gateway does with the caller's identity, and the
// client-awareness headers. See docs/security.md.
//
//	AUTH_MODE                       Mode                 dev off / prod must be set   off | optional | required
//	AUTH_JWKS_URL                   JWKSURL              (empty)   the identity provider's JWK Set
//	AUTH_ISSUER                     Issuer               (empty)   iss must equal it; without AUTH_JWKS_URL the JWK Set is discovered from its /.well-known/openid-configuration
//	AUTH_AUDIENCE                   Audience             (empty)   aud must contain it
//	AUTH_USER_CLAIM                 UserClaim            sub       the claim holding the Event API user id
//	AUTH_ALGORITHMS                 Algorithms           RS256,ES256,PS256   asymmetric only: never none or HS*
//	AUTH_LEEWAY                     Leeway               30s       clock skew allowed on exp, nbf and iat
//	AUTH_MAX_TOKEN_BYTES            MaxTokenBytes        8192      longer tokens are refused before parsing
//	AUTH_JWKS_REFRESH_INTERVAL      RefreshInterval      15m       background refresh of the JWK Set
//	AUTH_JWKS_MIN_REFRESH_INTERVAL  RefreshRateLimit     10s       at most one fetch per this window for unknown key ids
//	AUTH_VERIFIED_TOKENS            VerifiedTokens       10000     tokens whose verification is remembered until exp or the next JWK Set fetch; 0: off
//	AUTH_DEV_KEY                    DevKey               (empty)   development only: a PEM private key (path or inline) whose tokens are trusted (cmd/devtoken)
//	AUTH_ADMIN_SCOPE                AdminScope           events:admin   the scope that may act for any user
//	AUTH_FORWARD                    Forward              none      header | token | none: the caller's identity to the Event API
//	AUTH_FORWARD_HEADER             ForwardHeader        X-User-Id the header carrying the user id with AUTH_FORWARD=header
//	CLIENT_NAME_HEADER              ClientNameHeader     apollographql-client-name
//	CLIENT_VERSION_HEADER           ClientVersionHeader  apollographql-client-version
type Auth struct {
	Mode             identity.Mode
	JWKSURL          string
	Issuer           string
	Audience         string
	UserClaim        string
	Algorithms       []string
	Leeway           time.Duration // zero: none
	MaxTokenBytes    int
	RefreshInterval  time.Duration
	RefreshRateLimit time.Duration
	VerifiedTokens   int // 0: off
	// DevKey may hold inline PEM: never log it (IsInlinePEM tells).
	DevKey              string
	AdminScope          string
	Forward             string
	ForwardHeader       string
	ClientNameHeader    string
	ClientVersionHeader string
}

// VerifierConfig is the identity.Config of these settings, to which the
// wiring adds its hooks (OnFetch).
func (a Auth) VerifierConfig() identity.Config {
	leeway := a.Leeway
	if leeway == 0 {
		leeway = -1 // identity.Config reads zero as its default
	}
	verified := a.VerifiedTokens
	if verified == 0 {
		verified = -1 // off; identity.Config reads zero as its default
	}
	return identity.Config{
		VerifiedTokens:   verified,
		JWKSURL:          a.JWKSURL,
		Issuer:           a.Issuer,
		Audience:         a.Audience,
		UserClaim:        a.UserClaim,
		Algorithms:       a.Algorithms,
		Leeway:           leeway,
		MaxTokenBytes:    a.MaxTokenBytes,
		RefreshInterval:  a.RefreshInterval,
		RefreshRateLimit: a.RefreshRateLimit,
		DevKey:           a.DevKey,
	}
}

// loadAuth reads the Auth settings and reports what is wrong with them.
// Production must choose AUTH_MODE explicitly (off included) and may not
// set AUTH_DEV_KEY.
func loadAuth(r *envvar.Reader, prod bool) Auth {
	a := Auth{
		JWKSURL:             r.Str("AUTH_JWKS_URL", ""),
		Issuer:              r.Str("AUTH_ISSUER", ""),
		Audience:            r.Str("AUTH_AUDIENCE", ""),
		UserClaim:           r.Str("AUTH_USER_CLAIM", identity.DefaultUserClaim),
		Algorithms:          algorithms(r),
		Leeway:              r.Duration("AUTH_LEEWAY", identity.DefaultLeeway, 0, 5*time.Minute),
		MaxTokenBytes:       r.Integer("AUTH_MAX_TOKEN_BYTES", identity.DefaultMaxTokenBytes, 512, 1<<20),
		RefreshInterval:     r.Duration("AUTH_JWKS_REFRESH_INTERVAL", identity.DefaultRefreshInterval, time.Second, 7*24*time.Hour),
		RefreshRateLimit:    r.Duration("AUTH_JWKS_MIN_REFRESH_INTERVAL", identity.DefaultRefreshRateLimit, 100*time.Millisecond, time.Hour),
		VerifiedTokens:      r.Integer("AUTH_VERIFIED_TOKENS", identity.DefaultVerifiedTokens, 0, 10_000_000),
		DevKey:              r.Str("AUTH_DEV_KEY", ""),
		AdminScope:          r.Str("AUTH_ADMIN_SCOPE", "events:admin"),
		Forward:             r.OneOf("AUTH_FORWARD", "none", "header", "token", "none"),
		ForwardHeader:       headerName(r, "AUTH_FORWARD_HEADER", "X-User-Id"),
		ClientNameHeader:    headerName(r, "CLIENT_NAME_HEADER", "apollographql-client-name"),
		ClientVersionHeader: headerName(r, "CLIENT_VERSION_HEADER", "apollographql-client-version"),
	}
	if _, set := r.Raw("AUTH_MODE"); !set && prod {
		// Production runs without authentication only by a deliberate choice.
		r.Fail("AUTH_MODE", "", "off, optional or required, set explicitly when APP_ENV=production (off must be a deliberate choice, never a default)")
	}
	a.Mode, _ = identity.ParseMode(r.OneOf("AUTH_MODE", "off", "off", "optional", "required"))
	a.checkKeySource(r, prod)
	if a.RefreshRateLimit > a.RefreshInterval {
		r.Fail("AUTH_JWKS_MIN_REFRESH_INTERVAL", a.RefreshRateLimit.String(), fmt.Sprintf("at most AUTH_JWKS_REFRESH_INTERVAL (%s)", a.RefreshInterval))
	}
	if strings.ContainsAny(a.AdminScope, " \t") {
		r.Fail("AUTH_ADMIN_SCOPE", a.AdminScope, "one scope, without spaces")
	}
	return a
}

// checkKeySource checks where the keys come from: the URLs, the
// development key, and that a mode other than off has at least one.
func (a *Auth) checkKeySource(r *envvar.Reader, prod bool) {
	if a.JWKSURL != "" {
		if !isHTTPURL(a.JWKSURL) {
			r.Fail("AUTH_JWKS_URL", a.JWKSURL, "an http:// or https:// URL with a host")
		} else if prod && strings.HasPrefix(a.JWKSURL, "http://") {
			r.Warn("AUTH_JWKS_URL is plain http: the keys that decide who is calling could be altered on the way; use https")
		}
	} else if a.Issuer != "" && !isHTTPURL(a.Issuer) {
		r.Fail("AUTH_ISSUER", a.Issuer, "an http:// or https:// URL to discover the JWK Set from (its /.well-known/openid-configuration), or set AUTH_JWKS_URL")
	}
	if a.DevKey != "" {
		shown := a.DevKey
		if identity.IsInlinePEM(shown) {
			shown = "(inline PEM)"
		}
		if prod {
			r.Fail("AUTH_DEV_KEY", shown, "unset when APP_ENV=production: the development key is for trying authentication locally, never for production")
		} else if dev, err := identity.LoadDevKey(a.DevKey); err != nil {
			r.Fail("AUTH_DEV_KEY", shown, "a PEM private key, a file's path or inline ("+err.Error()+")")
		} else if !slices.Contains(a.Algorithms, dev.Algorithm) {
			r.Fail("AUTH_DEV_KEY", shown, fmt.Sprintf("a key whose algorithm (%s) AUTH_ALGORITHMS accepts", dev.Algorithm))
		} else if a.Mode == identity.Off {
			r.Warn("AUTH_DEV_KEY is set but AUTH_MODE is off: no token is checked")
		}
	}
	if a.Mode != identity.Off && a.JWKSURL == "" && a.Issuer == "" && (prod || a.DevKey == "") {
		want := "off, or AUTH_JWKS_URL or AUTH_ISSUER set as well"
		if !prod {
			want += " (or AUTH_DEV_KEY, in development)"
		}
		r.Fail("AUTH_MODE", a.Mode.String(), want)
	}
}

// algorithms reads AUTH_ALGORITHMS, canonical and without duplicates.
func algorithms(r *envvar.Reader) []string {
	raw := r.Str("AUTH_ALGORITHMS", strings.Join(identity.DefaultAlgorithms, ","))
	var out []string
	for _, a := range r.List("AUTH_ALGORITHMS", raw) {
		canonical, err := identity.CheckAlgorithm(a)
		if err != nil {
			r.Fail("AUTH_ALGORITHMS", raw, "a comma-separated list of asymmetric algorithms ("+err.Error()+")")
			return identity.DefaultAlgorithms
		}
		if !slices.Contains(out, canonical) {
			out = append(out, canonical)
		}
	}
	if len(out) == 0 {
		r.Fail("AUTH_ALGORITHMS", raw, "at least one of "+strings.Join(identity.SupportedAlgorithms, ", "))
		return identity.DefaultAlgorithms
	}
	return out
}

// headerName reads an HTTP header name (an RFC 9110 token).
func headerName(r *envvar.Reader, name, def string) string {
	v := r.Str(name, def)
	for _, c := range v {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("!#$%&'*+-.^_`|~", c)) {
			r.Fail(name, v, "an HTTP header name (letters, digits and !#$%&'*+-.^_`|~)")
			return def
		}
	}
	return v
}

func isHTTPURL(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}
