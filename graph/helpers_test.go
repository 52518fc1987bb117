package graph_test

import (
	"net/url"

	"github.com/eventms/gateway/internal/servicetest"
)

type (
	gqlError    = servicetest.GraphQLError
	gqlResponse = servicetest.Response
)

var (
	do            = servicetest.Do
	send          = servicetest.Send
	mustUnmarshal = servicetest.MustUnmarshal
	gqlBody       = servicetest.GraphQLBody
)

func urlEncode(s string) string { return url.QueryEscape(s) }
