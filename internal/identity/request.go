package identity

import (
	"context"
	"net/http"
	"strings"
)

// Authenticate says who sent r, by its Authorization header, under mode:
//
//   - Off: anonymous, whatever the header says (it is not read).
//   - Optional: no header (or an empty one, which Apollo Client sends when
//     it has no token) is anonymous; a header must carry a valid token.
//   - Required: no header is a Missing error; a header must carry a valid
//     token.
//
// The header must be "Bearer <token>" (the scheme in any case); another
// scheme, a missing token or more than one Authorization header is Invalid.
// Every error is an *Error, which Challenge turns into the 401's
// WWW-Authenticate. v may be nil when mode is Off.
func (v *Verifier) Authenticate(r *http.Request, mode Mode) (Identity, error) {
	if mode == Off {
		return anonymous, nil
	}
	values := r.Header.Values("Authorization")
	if len(values) > 1 {
		return anonymous, fail(Invalid, "the request has more than one Authorization header")
	}
	var header string
	if len(values) == 1 {
		header = values[0]
	}
	return v.authenticate(r.Context(), header, mode, false)
}

// AuthenticateToken is Authenticate for credentials that do not come in a
// header: a WebSocket's connection_init payload (see TokenFromInitPayload).
// raw is an Authorization value ("Bearer <token>") or a bare token; empty
// means none was sent.
func (v *Verifier) AuthenticateToken(ctx context.Context, raw string, mode Mode) (Identity, error) {
	return v.authenticate(ctx, raw, mode, true)
}

// TokenAuthenticator returns AuthenticateToken under mode, for the
// credentials of a WebSocket's connection_init; nil when v is nil
// (authentication off).
func (v *Verifier) TokenAuthenticator(mode Mode) func(ctx context.Context, raw string) (Identity, error) {
	if v == nil {
		return nil
	}
	return func(ctx context.Context, raw string) (Identity, error) { return v.AuthenticateToken(ctx, raw, mode) }
}

func (v *Verifier) authenticate(ctx context.Context, raw string, mode Mode, bareAllowed bool) (Identity, error) {
	if mode == Off {
		return anonymous, nil
	}
	raw = strings.TrimSpace(raw)
	if raw == "" {
		if mode == Required {
			return anonymous, fail(Missing, "a bearer token is required")
		}
		return anonymous, nil
	}
	token, ok := bearerToken(raw, bareAllowed)
	if !ok {
		return anonymous, fail(Invalid, `the credentials are not "Bearer <token>"`)
	}
	return v.Verify(ctx, token)
}

// bearerToken returns the token of "Bearer <token>" (RFC 6750, section
// 2.1: the scheme is case-insensitive), or, if bareAllowed, raw itself when
// it is a bare token (a JWT never holds a space).
func bearerToken(raw string, bareAllowed bool) (string, bool) {
	scheme, token, found := strings.Cut(raw, " ")
	if !found {
		return raw, bareAllowed
	}
	if !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimLeft(token, " ")
	if token == "" || strings.ContainsAny(token, " \t") {
		return "", false
	}
	return token, true
}

// TokenFromInitPayload returns the credentials a WebSocket client put in
// its connection_init payload, for AuthenticateToken: the value of an
// Authorization key in any case ({"Authorization": "Bearer …"}, as Apollo
// Client and urql are told to send it), of one inside a "headers" object
// (as some clients nest their HTTP headers), or a bare token under "token"
// or "authToken". It returns "" when there is none or it is not a string.
func TokenFromInitPayload(payload map[string]any) string {
	if s, ok := authorizationIn(payload); ok {
		return s
	}
	if headers, ok := payload["headers"].(map[string]any); ok {
		if s, ok := authorizationIn(headers); ok {
			return s
		}
	}
	for _, k := range [...]string{"token", "authToken"} {
		if s, ok := payload[k].(string); ok && s != "" {
			return s
		}
	}
	return ""
}

func authorizationIn(m map[string]any) (string, bool) {
	if s, ok := m["Authorization"].(string); ok {
		return s, true
	}
	for k, val := range m {
		if strings.EqualFold(k, "authorization") {
			s, ok := val.(string)
			return s, ok
		}
	}
	return "", false
}
