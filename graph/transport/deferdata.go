package transport

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// object is a JSON object that keeps its keys' order (the GraphQL spec
// orders a response's keys as the query selects them), with its values
// left encoded until they are needed.
type object struct {
	keys []string
	vals map[string]json.RawMessage
}

func parseObject(raw json.RawMessage) (*object, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, fmt.Errorf("not a JSON object")
	}
	o := &object{vals: map[string]json.RawMessage{}}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := t.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		o.set(key, v)
	}
	return o, nil
}

func newObject() *object { return &object{vals: map[string]json.RawMessage{}} }

func (o *object) set(key string, v json.RawMessage) {
	if _, ok := o.vals[key]; !ok {
		o.keys = append(o.keys, key)
	}
	o.vals[key] = v
}

func (o *object) remove(key string) (json.RawMessage, bool) {
	v, ok := o.vals[key]
	if ok {
		delete(o.vals, key)
		o.keys = slices.DeleteFunc(o.keys, func(k string) bool { return k == key })
	}
	return v, ok
}

// MarshalJSON implements json.Marshaler, in the keys' order.
func (o *object) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range o.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		b.Write(o.vals[k])
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// heldPart is what a deferred fragment holds at one place of the answer:
// the values its only-deferred keys had in gqlgen's first part.
type heldPart struct {
	path []any // the object's path, list indices included
	data *object
}

// take removes keys from every object pattern leads to in raw (through
// lists at any depth) and returns raw without them and what it removed,
// per object.
func take(raw json.RawMessage, pattern, keys []string) (json.RawMessage, []heldPart, error) {
	var held []heldPart
	out, err := takeValue(raw, pattern, keys, nil, &held)
	return out, held, err
}

func takeValue(raw json.RawMessage, pattern, keys []string, path []any, held *[]heldPart) (json.RawMessage, error) {
	trimmed := bytes.TrimSpace(raw)
	switch {
	case len(trimmed) == 0 || trimmed[0] == 'n':
		return raw, nil
	case trimmed[0] == '[':
		var items []json.RawMessage
		if err := json.Unmarshal(trimmed, &items); err != nil {
			return nil, err
		}
		for i := range items {
			v, err := takeValue(items[i], pattern, keys, append(slices.Clip(path), i), held)
			if err != nil {
				return nil, err
			}
			items[i] = v
		}
		return json.Marshal(items)
	case trimmed[0] != '{':
		return raw, nil
	}
	o, err := parseObject(trimmed)
	if err != nil {
		return nil, err
	}
	if len(pattern) == 0 {
		part := heldPart{path: slices.Clone(path), data: newObject()}
		for _, k := range keys {
			if v, ok := o.remove(k); ok {
				part.data.set(k, v)
			}
		}
		*held = append(*held, part)
		return o.MarshalJSON()
	}
	child, ok := o.vals[pattern[0]]
	if !ok {
		return raw, nil
	}
	v, err := takeValue(child, pattern[1:], keys, append(slices.Clip(path), pattern[0]), held)
	if err != nil {
		return nil, err
	}
	o.vals[pattern[0]] = v
	return o.MarshalJSON()
}

// pathKey is a path as a map key.
func pathKey(path []any) string {
	var b strings.Builder
	for _, p := range path {
		switch p := p.(type) {
		case string:
			b.WriteString(p)
		case int:
			b.WriteString(strconv.Itoa(p))
		default:
			fmt.Fprint(&b, p)
		}
		b.WriteByte(0)
	}
	return b.String()
}
