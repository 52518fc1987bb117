package transport

import (
	"encoding/json"
	"slices"
	"strconv"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// deferShaper turns gqlgen's parts of a deferred answer into the parts the
// client's incremental delivery format wants, exactly: the first part
// without a deferred fragment's fields (gqlgen writes a deferred field with
// a resolver as null there, and a plain field at once), each fragment's
// part with all of them, every fragment answered before hasNext is false.
//
// Two formats:
//   - deferSpec=20220824 (Apollo Client's Defer20220824Handler, urql): the
//     first part {data, hasNext}, later parts {incremental: [{data, path,
//     label, errors}], hasNext};
//   - incrementalSpec=v0.2 (graphql-js 17.0.0-alpha.9, Apollo Client 4's
//     GraphQL17Alpha9Handler, Apollo Server 5.1): the first part {data,
//     pending: [{id, path, label}], hasNext}, later parts {incremental:
//     [{id, data, errors}], completed: [{id}], hasNext}.
type deferShaper struct {
	plan      *deferPlan
	v02       bool
	instances []*deferInstance
}

// deferInstance is one deferred fragment group at one place of the answer.
type deferInstance struct {
	id    string
	group *deferGroup
	path  []any
	data  *object // what it holds so far
	done  bool
}

// initial shapes gqlgen's first part; more is whether parts follow.
func (s *deferShaper) initial(resp *graphql.Response) (payload any, more bool, err error) {
	data := resp.Data
	for _, g := range s.plan.groups {
		if len(g.keys) == 0 {
			continue
		}
		var held []heldPart
		if data, held, err = take(data, g.pattern, g.keys); err != nil {
			return nil, false, err
		}
		for _, h := range held {
			s.instances = append(s.instances, &deferInstance{id: strconv.Itoa(len(s.instances)), group: g, path: h.path, data: h.data})
		}
	}
	more = (resp.HasNext != nil && *resp.HasNext) || len(s.instances) > 0
	first := struct {
		Data       json.RawMessage `json:"data"`
		Errors     gqlerror.List   `json:"errors,omitempty"`
		Pending    []pendingItem   `json:"pending,omitempty"`
		HasNext    bool            `json:"hasNext"`
		Extensions map[string]any  `json:"extensions,omitempty"`
	}{Data: data, Errors: resp.Errors, HasNext: more, Extensions: resp.Extensions}
	if s.v02 {
		first.Pending = []pendingItem{}
		for _, in := range s.instances {
			first.Pending = append(first.Pending, pendingItem{ID: in.id, Path: in.path, Label: in.group.label})
		}
	}
	return first, more, nil
}

// next shapes a later part of gqlgen's. gqlgen's last part (hasNext false)
// also answers every fragment gqlgen had nothing to resolve for.
func (s *deferShaper) next(resp *graphql.Response) (payload any, more bool, err error) {
	last := resp.HasNext == nil || !*resp.HasNext
	var answered []*deferInstance
	if len(resp.Data) > 0 && string(resp.Data) != "null" {
		got, err := parseObject(resp.Data)
		if err != nil {
			return nil, false, err
		}
		for _, in := range s.instances {
			if in.done || in.group.label != resp.Label || pathKey(in.path) != pathKey(anyPath(resp.Path)) {
				continue
			}
			for _, k := range got.keys {
				if slices.Contains(in.group.keys, k) {
					in.data.set(k, got.vals[k])
				}
			}
			in.done = true
			answered = append(answered, in)
		}
	}
	if last {
		for _, in := range s.instances {
			if !in.done {
				in.done = true
				answered = append(answered, in)
			}
		}
	}
	return s.shape(answered, resp.Errors, !last), !last, nil
}

// rest answers the fragments still held when gqlgen sent no later part.
func (s *deferShaper) rest() any {
	var answered []*deferInstance
	for _, in := range s.instances {
		if !in.done {
			in.done = true
			answered = append(answered, in)
		}
	}
	return s.shape(answered, nil, false)
}

func (s *deferShaper) shape(answered []*deferInstance, errs gqlerror.List, more bool) any {
	if s.v02 {
		p := v02Part{HasNext: more, Incremental: []v02Item{}, Completed: []completedItem{}}
		for i, in := range answered {
			item := v02Item{ID: in.id, Data: in.data}
			if i == 0 {
				item.Errors = errs
			}
			p.Incremental = append(p.Incremental, item)
			p.Completed = append(p.Completed, completedItem{ID: in.id})
		}
		return p
	}
	p := legacyPart{HasNext: more, Incremental: []legacyItem{}}
	for i, in := range answered {
		item := legacyItem{Data: in.data, Path: in.path, Label: in.group.label}
		if i == 0 {
			item.Errors = errs
		}
		p.Incremental = append(p.Incremental, item)
	}
	return p
}

type pendingItem struct {
	ID    string `json:"id"`
	Path  []any  `json:"path"`
	Label string `json:"label,omitempty"`
}

type completedItem struct {
	ID string `json:"id"`
}

type v02Item struct {
	ID     string        `json:"id"`
	Data   *object       `json:"data"`
	Errors gqlerror.List `json:"errors,omitempty"`
}

type v02Part struct {
	Incremental []v02Item       `json:"incremental"`
	Completed   []completedItem `json:"completed"`
	HasNext     bool            `json:"hasNext"`
}

type legacyItem struct {
	Data   *object       `json:"data"`
	Path   []any         `json:"path"`
	Label  string        `json:"label,omitempty"`
	Errors gqlerror.List `json:"errors,omitempty"`
}

type legacyPart struct {
	Incremental []legacyItem `json:"incremental"`
	HasNext     bool         `json:"hasNext"`
}

// anyPath is gqlgen's path as take writes paths: names as strings,
// indices as ints.
func anyPath(p ast.Path) []any {
	out := make([]any, len(p))
	for i, e := range p {
		switch e := e.(type) {
		case ast.PathName:
			out[i] = string(e)
		case ast.PathIndex:
			out[i] = int(e)
		}
	}
	return out
}
