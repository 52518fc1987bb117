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

// InlineDefer decides, before parsing, what of a document's @defer gqlgen
// may see. Documents without "@defer" cost a substring search.
//
// A client that cannot take incremental delivery (a request that accepts
// neither multipart/mixed nor text/event-stream) gets the complete result
// in one answer: every @defer is removed, so
// deferred fragments are executed inline. Without it gqlgen answers such a
// request with the initial part and "hasNext": true, and the rest is never
// sent. Operations over a WebSocket are answered complete too, in one
// message: their deadline would otherwise end a deferred part that gqlgen
// then waits for forever (see Streams.deferred), and a subscription
// protocol's client takes one complete result as well as parts.
//
// A client that can gets its deferred fragments flattened: a @defer inside
// a deferred fragment (directly, or through any number of named fragments)
// is removed, so its fields arrive with the enclosing deferred part. gqlgen
// (v0.17.98) never completes a nested deferred fragment: the answer stops
// after its first part and the request hangs past its deadline. Delivering
// a nested fragment with its parent is what the incremental delivery RFC
// allows a server to do (a @defer is a hint); no data is lost. A named
// fragment spread both inside and outside a deferred fragment is flattened
// for both: fragment definitions are shared by their spreads.
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
	if !strings.Contains(p.Query, "@defer") {
		return nil
	}
	doc, err := parser.ParseQuery(&ast.Source{Input: p.Query})
	if err != nil {
		return nil // gqlgen reports it, with its own message
	}
	w := deferWalk{frags: doc.Fragments, all: !incremental(p), seen: map[string]bool{}}
	for _, op := range doc.Operations {
		w.walk(op.SelectionSet, false)
	}
	if w.all { // also fragments no operation spreads: validation would refuse them either way
		for _, f := range doc.Fragments {
			w.walk(f.SelectionSet, false)
		}
	}
	if !w.changed {
		return nil
	}
	var b strings.Builder
	formatter.NewFormatter(&b).FormatQueryDocument(doc)
	p.Query = b.String()
	return nil
}

// incremental reports whether the request's transport delivers parts.
func incremental(p *graphql.RawParams) bool {
	if strings.EqualFold(p.Headers.Get("Upgrade"), "websocket") {
		return false
	}
	accept := p.Headers.Get("Accept")
	return strings.Contains(accept, "multipart/mixed") || strings.Contains(accept, "text/event-stream")
}

// deferWalk removes @defer: all of them, or (flattening) those inside a
// deferred fragment. Each named fragment is walked at most once per
// context (inside a deferred fragment or not), so the walk is linear in
// the document, whatever its spreads expand to.
type deferWalk struct {
	frags   ast.FragmentDefinitionList
	all     bool
	seen    map[string]bool // fragment name + context already walked
	changed bool
}

func (w *deferWalk) walk(set ast.SelectionSet, inDefer bool) {
	for _, sel := range set {
		switch sel := sel.(type) {
		case *ast.Field:
			w.walk(sel.SelectionSet, inDefer)
		case *ast.InlineFragment:
			deferred := w.strip(&sel.Directives, inDefer)
			w.walk(sel.SelectionSet, inDefer || deferred)
		case *ast.FragmentSpread:
			deferred := w.strip(&sel.Directives, inDefer)
			w.fragment(sel.Name, inDefer || deferred)
		}
	}
}

func (w *deferWalk) fragment(name string, inDefer bool) {
	key := name
	if inDefer {
		key += "\x00deferred"
	}
	if w.seen[key] {
		return
	}
	w.seen[key] = true
	if f := w.frags.ForName(name); f != nil {
		w.walk(f.SelectionSet, inDefer)
	}
}

// strip removes the @defer of list when the walk removes every @defer or
// when it is nested in a deferred fragment, and reports whether the
// selection stays deferred.
func (w *deferWalk) strip(list *ast.DirectiveList, inDefer bool) (deferred bool) {
	if list.ForName("defer") == nil {
		return false
	}
	if !w.all && !inDefer {
		return true
	}
	*list = without(*list, "defer")
	w.changed = true
	return false
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
	accept := oc.Headers.Get("Accept")
	if strings.Contains(accept, "text/event-stream") || strings.Contains(accept, "subscriptionSpec") ||
		strings.EqualFold(oc.Headers.Get("Upgrade"), "websocket") {
		return nil
	}
	err := gqlerror.Errorf("subscriptions need a stream: a WebSocket (graphql-transport-ws), SSE (Accept: text/event-stream) " +
		"or Apollo's multipart subscriptions (Accept: multipart/mixed;subscriptionSpec=1.0)")
	errcode.Set(err, CodeSubscriptionTransport)
	return err
}
