package identity

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// Every mode against every kind of Authorization header.
func TestAuthenticateModes(t *testing.T) {
	keys(t)
	p := newIDP(t, rsa1)
	v := newTestVerifier(t, p, newClock(), Config{})
	valid := rsa1.sign(t, claims(p.srv.URL, nil))
	forged := forgedRSA1.sign(t, claims(p.srv.URL, nil))
	expired := rsa1.sign(t, claims(p.srv.URL, map[string]any{"exp": t0.Add(-time.Hour).Unix()}))

	headers := []struct {
		name   string
		values []string // Authorization header values; none: no header
	}{
		{"no header", nil},
		{"empty header", []string{""}},
		{"valid", []string{"Bearer " + valid}},
		{"valid, scheme in lower case", []string{"bearer " + valid}},
		{"valid, scheme in upper case, two spaces", []string{"BEARER  " + valid}},
		{"invalid: forged", []string{"Bearer " + forged}},
		{"invalid: expired", []string{"Bearer " + expired}},
		{"malformed: Basic", []string{"Basic dXNlcjpwYXNz"}},
		{"malformed: bare token", []string{valid}},
		{"malformed: scheme only", []string{"Bearer"}},
		{"malformed: scheme and space", []string{"Bearer "}},
		{"malformed: two tokens", []string{"Bearer " + valid + " " + valid}},
		{"malformed: not a JWT", []string{"Bearer abc.def"}},
		{"malformed: two headers", []string{"Bearer " + valid, "Bearer " + valid}},
	}
	// want per header, for Off, Optional, Required: "anon", "user", or a Kind.
	want := map[string][3]any{
		"no header":                   {"anon", "anon", Missing},
		"empty header":                {"anon", "anon", Missing},
		"valid":                       {"anon", "user", "user"},
		"valid, scheme in lower case": {"anon", "user", "user"},
		"valid, scheme in upper case, two spaces": {"anon", "user", "user"},
		"invalid: forged":                         {"anon", Invalid, Invalid},
		"invalid: expired":                        {"anon", Expired, Expired},
		"malformed: Basic":                        {"anon", Invalid, Invalid},
		"malformed: bare token":                   {"anon", Invalid, Invalid},
		"malformed: scheme only":                  {"anon", Invalid, Invalid},
		"malformed: scheme and space":             {"anon", Invalid, Invalid},
		"malformed: two tokens":                   {"anon", Invalid, Invalid},
		"malformed: not a JWT":                    {"anon", Invalid, Invalid},
		"malformed: two headers":                  {"anon", Invalid, Invalid},
	}
	for _, h := range headers {
		for i, mode := range []Mode{Off, Optional, Required} {
			t.Run(h.name+"/"+mode.String(), func(t *testing.T) {
				r := httptest.NewRequest("GET", "/graphql", nil)
				for _, val := range h.values {
					r.Header.Add("Authorization", val)
				}
				id, err := v.Authenticate(r, mode)
				switch w := want[h.name][i].(type) {
				case string:
					if err != nil {
						t.Fatalf("err %v, want %s", err, w)
					}
					if (w == "anon") != id.Anonymous || (w == "user" && id.UserID != "3") {
						t.Errorf("identity %+v, want %s", id, w)
					}
				case Kind:
					var e *Error
					if !errors.As(err, &e) || e.Kind != w {
						t.Fatalf("err %v, want %s", err, w)
					}
					if !id.Anonymous {
						t.Errorf("identity %+v with an error", id)
					}
					for _, val := range h.values {
						assertNothingLeaks(t, strings.TrimPrefix(val, "Bearer "), err)
					}
				}
			})
		}
	}
	// With authentication off there need not be a Verifier at all.
	var none *Verifier
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "Bearer "+forged)
	if id, err := none.Authenticate(r, Off); err != nil || !id.Anonymous {
		t.Errorf("nil verifier, mode off: %+v %v", id, err)
	}
	if _, err := none.Authenticate(r, Required); err == nil {
		t.Error("nil verifier, mode required: accepted")
	}
}

func TestTokenFromInitPayloadAndAuthenticateToken(t *testing.T) {
	keys(t)
	p := newIDP(t, rsa1)
	v := newTestVerifier(t, p, newClock(), Config{})
	valid := rsa1.sign(t, claims(p.srv.URL, nil))
	tests := []struct {
		name    string
		payload map[string]any
		want    string // TokenFromInitPayload
	}{
		{"Apollo and urql: Authorization", map[string]any{"Authorization": "Bearer " + valid}, "Bearer " + valid},
		{"lower-case key", map[string]any{"authorization": "Bearer " + valid}, "Bearer " + valid},
		{"any case", map[string]any{"AUTHORIZATION": "Bearer " + valid}, "Bearer " + valid},
		{"nested headers", map[string]any{"headers": map[string]any{"Authorization": "Bearer " + valid}}, "Bearer " + valid},
		{"bare token", map[string]any{"token": valid}, valid},
		{"authToken", map[string]any{"authToken": valid}, valid},
		{"Authorization wins", map[string]any{"Authorization": "Bearer " + valid, "token": "other"}, "Bearer " + valid},
		{"not a string", map[string]any{"Authorization": 42}, ""},
		{"empty payload", map[string]any{}, ""},
		{"nil payload", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := TokenFromInitPayload(tt.payload)
			if got != tt.want {
				t.Fatalf("TokenFromInitPayload = %q, want %q", got, tt.want)
			}
			id, err := v.AuthenticateToken(context.Background(), got, Required)
			if tt.want == "" {
				var e *Error
				if !errors.As(err, &e) || e.Kind != Missing {
					t.Errorf("no credentials, required: %v", err)
				}
				if id, err := v.AuthenticateToken(context.Background(), got, Optional); err != nil || !id.Anonymous {
					t.Errorf("no credentials, optional: %+v %v", id, err)
				}
				return
			}
			if err != nil || id.UserID != "3" {
				t.Errorf("AuthenticateToken: %+v %v", id, err)
			}
		})
	}
	for _, bad := range []string{"Basic x", "Bearer", "Bearer " + valid + " x", "garbage"} {
		var e *Error
		if _, err := v.AuthenticateToken(context.Background(), bad, Optional); !errors.As(err, &e) || e.Kind != Invalid {
			t.Errorf("%q: %v, want Invalid", bad, err)
		}
	}
}

func TestChallenge(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{nil, `Bearer realm="eventgw"`},
		{&Error{Kind: Missing, Description: "a bearer token is required"}, `Bearer realm="eventgw"`},
		{&Error{Kind: Invalid, Description: "the token's signature is invalid"}, `Bearer error="invalid_token", error_description="the token's signature is invalid"`},
		{&Error{Kind: Expired, Description: "the token has expired"}, `Bearer error="invalid_token", error_description="the token has expired"`},
		{fmt.Errorf("graphql: %w", &Error{Kind: Expired, Description: "the token has expired"}), `Bearer error="invalid_token", error_description="the token has expired"`},
		{&Error{Kind: Invalid, Description: "a \"quoted\"\r\nX-Injected: 1 \\ é"}, `Bearer error="invalid_token", error_description="a ?quoted???X-Injected: 1 ? ?"`},
		{errors.New("something else"), `Bearer error="invalid_token"`},
	}
	for _, tt := range tests {
		if got := Challenge(tt.err); got != tt.want {
			t.Errorf("Challenge(%v) = %s, want %s", tt.err, got, tt.want)
		}
	}
}

func TestIdentityInContext(t *testing.T) {
	ctx := context.Background()
	if id := From(ctx); !id.Anonymous || id.Authenticated() || id.HasScope("events:admin") {
		t.Errorf("no identity in context: %+v, want anonymous", id)
	}
	want := Identity{UserID: "3", Scopes: []string{"events:admin"}}
	got := From(WithIdentity(ctx, want))
	if got.UserID != "3" || !got.Authenticated() || !got.HasScope("events:admin") {
		t.Errorf("From = %+v", got)
	}
	// An anonymous identity never has a scope, whatever it holds.
	if (Identity{Anonymous: true, Scopes: []string{"events:admin"}}).HasScope("events:admin") {
		t.Error("anonymous with a scope")
	}
}

func TestParseMode(t *testing.T) {
	for s, want := range map[string]Mode{"off": Off, "Optional": Optional, " REQUIRED ": Required} {
		if m, err := ParseMode(s); err != nil || m != want {
			t.Errorf("ParseMode(%q) = %v, %v", s, m, err)
		}
	}
	if _, err := ParseMode("on"); err == nil || !strings.Contains(err.Error(), "want off, optional or required") {
		t.Errorf("ParseMode(on): %v", err)
	}
	if Required.String() != "required" || Mode(9).String() != "Mode(9)" {
		t.Error("Mode.String")
	}
}

// The verified token is kept for AUTH_FORWARD=token, but printing or
// encoding an Identity never shows it.
func TestIdentityKeepsTheTokenOutOfSight(t *testing.T) {
	keys(t)
	p := newIDP(t, rsa1)
	v := newTestVerifier(t, p, newClock(), Config{})
	tok := rsa1.sign(t, claims(p.srv.URL, nil))
	id, err := v.Verify(context.Background(), tok)
	if err != nil || id.Token() != tok {
		t.Fatalf("Token() after Verify: %v", err)
	}
	b, _ := json.Marshal(id)
	for _, s := range []string{fmt.Sprintf("%+v", id), fmt.Sprintf("%#v", id), fmt.Sprint(id), string(b)} {
		if strings.Contains(s, tok[len(tok)-20:]) {
			t.Errorf("printed identity shows the token: %s", s)
		}
	}
	if From(context.Background()).Token() != "" {
		t.Error("anonymous identity with a token")
	}
}
