package httpjson

import (
	"bytes"
	"encoding/json"
	"sort"
	"strconv"
	"unicode/utf8"
)

// InvalidUTF8 reports where a JSON document holds invalid UTF-8, as a path
// like "variables.input.name" or "tags[2]" (the empty path is the document
// itself), and whether it does. encoding/json silently replaces such bytes
// with U+FFFD, which would store something the client never sent; callers
// reject the request instead, naming the field. The common case, a valid
// document, costs one utf8.Valid scan.
func InvalidUTF8(doc []byte) (path string, found bool) {
	if utf8.Valid(doc) {
		return "", false
	}
	return findInvalid(bytes.TrimSpace(doc), ""), true
}

// findInvalid walks raw (known to hold invalid UTF-8) down to the smallest
// value that holds it. A document that does not parse is reported at path.
func findInvalid(raw []byte, path string) string {
	if len(raw) == 0 {
		return path
	}
	switch raw[0] {
	case '{':
		var obj map[string]json.RawMessage
		if json.Unmarshal(raw, &obj) != nil {
			return path
		}
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if !utf8.Valid(obj[k]) {
				return findInvalid(obj[k], join(path, k))
			}
		}
		// Only a key is invalid: it was replaced while decoding, so name the object.
	case '[':
		var arr []json.RawMessage
		if json.Unmarshal(raw, &arr) != nil {
			return path
		}
		for i, v := range arr {
			if !utf8.Valid(v) {
				return findInvalid(v, path+"["+strconv.Itoa(i)+"]")
			}
		}
	}
	return path
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
