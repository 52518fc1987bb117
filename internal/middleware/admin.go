package middleware

import (
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/eventms/gateway/internal/httpjson"
	"github.com/eventms/gateway/internal/identity"
)

// Admin guards an operator's route (the response cache's purge): with
// authentication on, a valid bearer token holding Scope; else Token as the
// bearer (ADMIN_TOKEN; the scheme's case does not matter, RFC 9110 §11.1). It answers the refusal itself, in REST's error
// body: 401 with WWW-Authenticate for missing or bad credentials, 403 for
// a token without the scope.
type Admin struct {
	// Verifier checks tokens; nil: authentication is off and Token guards.
	Verifier *identity.Verifier
	// Scope is the scope an operator's token must hold (AUTH_ADMIN_SCOPE).
	Scope string
	// Token is the shared bearer while authentication is off; compared in
	// constant time.
	Token string
}

// Enabled reports whether the guard can admit anybody: without a verifier
// and without a token the route must not be served at all.
func (a Admin) Enabled() bool { return a.Verifier != nil || a.Token != "" }

// Allow reports whether r may proceed, having answered it when not.
func (a Admin) Allow(w http.ResponseWriter, r *http.Request) bool {
	if a.Verifier != nil {
		id, err := a.Verifier.Authenticate(r, identity.Required)
		switch {
		case err != nil:
			w.Header().Set("WWW-Authenticate", identity.Challenge(err))
			httpjson.Error(w, http.StatusUnauthorized, "Unauthorized", "a bearer token with the "+a.Scope+" scope is required")
			return false
		case !id.HasScope(a.Scope):
			httpjson.Error(w, http.StatusForbidden, "Forbidden", "this needs the "+a.Scope+" scope")
			return false
		}
		return true
	}
	scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if a.Token == "" || !strings.EqualFold(scheme, "Bearer") || subtle.ConstantTimeCompare([]byte(token), []byte(a.Token)) != 1 {
		w.Header().Set("WWW-Authenticate", `Bearer realm="eventgw-admin"`)
		httpjson.Error(w, http.StatusUnauthorized, "Unauthorized", "Authorization: Bearer <ADMIN_TOKEN> is required")
		return false
	}
	return true
}
