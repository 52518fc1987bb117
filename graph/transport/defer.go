package transport

import (
	"context"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/formatter"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
)

// InlineDefer gives a client that cannot take incremental delivery the
// complete result in one answer: before parsing, it removes @defer from the
// document of a request that accepts neither multipart/mixed nor
// text/event-stream (and is not a WebSocket), so deferred fragments are
// executed inline. Without it gqlgen answers such a request with the
// initial part and "hasNext": true, and the rest is never sent. Documents
// without "@defer" cost a substring search.
type InlineDefer struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
} = InlineDefer{}

// ExtensionName implements graphql.HandlerExtension.
func (InlineDefer) ExtensionName() string { return "InlineDefer" }

// Validate implements graphql.HandlerExtension.
func (InlineDefer) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationParameters implements graphql.OperationParameterMutator.
func (InlineDefer) MutateOperationParameters(_ context.Context, p *graphql.RawParams) *gqlerror.Error {
	if !strings.Contains(p.Query, "@defer") || incremental(p) {
		return nil
	}
	doc, err := parser.ParseQuery(&ast.Source{Input: p.Query})
	if err != nil {
		return nil // gqlgen reports it, with its own message
	}
	for _, op := range doc.Operations {
		undefer(op.SelectionSet)
	}
	for _, f := range doc.Fragments {
		undefer(f.SelectionSet)
	}
	var b strings.Builder
	formatter.NewFormatter(&b).FormatQueryDocument(doc)
	p.Query = b.String()
	return nil
}

// incremental reports whether the request's transport delivers parts.
func incremental(p *graphql.RawParams) bool {
	accept := p.Headers.Get("Accept")
	return strings.Contains(accept, "multipart/mixed") || strings.Contains(accept, "text/event-stream") ||
		strings.EqualFold(p.Headers.Get("Upgrade"), "websocket")
}

// undefer removes @defer from every fragment in set. Fragment definitions
// are visited once each by the caller, so this is linear in the document.
func undefer(set ast.SelectionSet) {
	for _, sel := range set {
		switch sel := sel.(type) {
		case *ast.Field:
			undefer(sel.SelectionSet)
		case *ast.InlineFragment:
			sel.Directives = without(sel.Directives, "defer")
			undefer(sel.SelectionSet)
		case *ast.FragmentSpread:
			sel.Directives = without(sel.Directives, "defer")
		}
	}
}

func without(list ast.DirectiveList, name string) ast.DirectiveList {
	out := list[:0]
	for _, d := range list {
		if d.Name != name {
			out = append(out, d)
		}
	}
	return out
}

// CodeSubscriptionTransport refuses a subscription sent over plain HTTP.
const CodeSubscriptionTransport = "SUBSCRIPTION_NEEDS_STREAM"

// StreamsOnly refuses, before execution, a subscription that did not come
// over a WebSocket or SSE (Accept: text/event-stream): over a plain POST
// gqlgen would answer with the first event only (or null when none came
// before the deadline), and over multipart the request deadline would cut
// the stream off without a word.
type StreamsOnly struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = StreamsOnly{}

func init() { errcode.RegisterErrorType(CodeSubscriptionTransport, errcode.KindProtocol) }

// ExtensionName implements graphql.HandlerExtension.
func (StreamsOnly) ExtensionName() string { return "StreamsOnly" }

// Validate implements graphql.HandlerExtension.
func (StreamsOnly) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationContext implements graphql.OperationContextMutator.
func (StreamsOnly) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil || oc.Operation.Operation != ast.Subscription {
		return nil
	}
	if strings.Contains(oc.Headers.Get("Accept"), "text/event-stream") || strings.EqualFold(oc.Headers.Get("Upgrade"), "websocket") {
		return nil
	}
	err := gqlerror.Errorf("subscriptions need a stream: a WebSocket (graphql-transport-ws) or SSE (Accept: text/event-stream)")
	errcode.Set(err, CodeSubscriptionTransport)
	return err
}
