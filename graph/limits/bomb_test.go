package limits_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
)

// normalQuery is what a client of this gateway typically sends.
const normalQuery = `query UserEvents($id: ID!) {
  user(id: $id) { id userName email events { id name details user { id userName } } }
  events { ...EventFields }
}
fragment EventFields on Event { id name userId details }`

// BenchmarkFragmentBomb answers the audit's fragment bomb at every size
// through the whole handler: parse, guard, validation, limits. Every bomb
// beyond the expansion limit is rejected by a linear count before
// validation, so their times stay flat however large the expansion; the
// smaller ones are validated and then rejected (or accepted) as any query.
func BenchmarkFragmentBomb(b *testing.B) {
	srv := newServer(b)
	b.Run("normal query", func(b *testing.B) { benchmarkQuery(b, srv, normalQuery) })
	for _, levels := range []int{6, 8, 12, 20} {
		for _, fanout := range []int{2, 10, 50} {
			b.Run(fmt.Sprintf("levels=%d/fanout=%d", levels, fanout), func(b *testing.B) {
				benchmarkQuery(b, srv, bomb(levels, fanout))
			})
		}
	}
}

// benchmarkQuery sends query once per iteration, each time followed by
// different whitespace so that the query cache never answers for the
// parser and validator. (A comment would do, but gqlparser counts comments
// against the token limit, and the documents benchmarked sit right at it.)
func benchmarkQuery(b *testing.B, srv http.Handler, query string) {
	b.Helper()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		body, err := json.Marshal(request{Query: query + cacheBuster(i), OperationName: firstOperation(query), Variables: map[string]any{"id": "u1"}})
		if err != nil {
			b.Fatal(err)
		}
		req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		srv.ServeHTTP(httptest.NewRecorder(), req)
		i++
	}
}

// cacheBuster spells i in insignificant characters: space, tab and comma.
func cacheBuster(i int) string {
	digits := []byte{'\n'}
	for ; i > 0; i /= 3 {
		digits = append(digits, " \t,"[i%3])
	}
	return string(digits)
}
