package identity_test

import (
	"fmt"

	"github.com/eventms/gateway/internal/identity"
)

// A 401's WWW-Authenticate: a bare challenge when credentials are missing,
// invalid_token with the reason when they were refused.
func ExampleChallenge() {
	fmt.Println(identity.Challenge(&identity.Error{Kind: identity.Missing, Description: "a bearer token is required"}))
	fmt.Println(identity.Challenge(&identity.Error{Kind: identity.Expired, Description: "the token has expired"}))
	// Output:
	// Bearer realm="eventgw"
	// Bearer error="invalid_token", error_description="the token has expired"
}

// What graphql-ws clients put in connection_init, as AuthenticateToken
// takes it.
func ExampleTokenFromInitPayload() {
	fmt.Println(identity.TokenFromInitPayload(map[string]any{"Authorization": "Bearer eyJhbGciOi..."})) // Apollo Client, urql
	fmt.Println(identity.TokenFromInitPayload(map[string]any{"headers": map[string]any{"authorization": "Bearer eyJ..."}}))
	fmt.Println(identity.TokenFromInitPayload(map[string]any{"token": "eyJ..."}))
	fmt.Printf("%q\n", identity.TokenFromInitPayload(map[string]any{}))
	// Output:
	// Bearer eyJhbGciOi...
	// Bearer eyJ...
	// eyJ...
	// ""
}
