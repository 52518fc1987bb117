package trusted_test

import (
	"fmt"

	"github.com/eventms/gateway/graph/trusted"
)

// A manifest with a document that does not validate is refused whole, with
// the file, the operation and the GraphQL error named.
func ExampleParseManifest() {
	_, err := trusted.ParseManifest("persisted-documents.json",
		[]byte(`{"a1": "query Mine { user(id: \"1\") { userName } }", "b2": "query Ages { users { age } }"}`), schema())
	fmt.Println(err)
	// Output:
	// trusted documents persisted-documents.json: operation "b2" (Ages): does not validate against the schema: line 1, column 22: Cannot query field "age" on type "User".
}
