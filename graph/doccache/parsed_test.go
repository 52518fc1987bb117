package doccache

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

func TestTheParsedCacheIsBoundedInBytes(t *testing.T) {
	schema := loadSchema(t)
	ctx := context.Background()
	query := func(i, n int) string {
		return fmt.Sprintf(`{ user(id: "%d-%s") { id } }`, i, strings.Repeat("x", n))
	}
	const budget, perDocument = 4 << 20, 256 << 10
	c := NewParsed(Limits{MaxBytes: budget, MaxEntryBytes: perDocument})

	// The audit's queries: each over the limit for one document, none kept.
	for i := range 20 {
		q := query(i, 900<<10)
		c.Add(ctx, q, parse(t, schema, q))
	}
	if c.Len() != 0 || c.Bytes() != 0 {
		t.Errorf("%d documents of 900 KB kept (%d bytes); want none", c.Len(), c.Bytes())
	}
	// Documents within the limit fill the cache to its budget and no more;
	// the most recent are kept.
	var last string
	for i := range 40 {
		last = query(100+i, 200<<10)
		c.Add(ctx, last, parse(t, schema, last))
	}
	if c.Bytes() > budget || c.Bytes() < budget-perDocument {
		t.Errorf("%d bytes held; want the budget of %d nearly full and not exceeded", c.Bytes(), budget)
	}
	if doc, ok := c.Get(ctx, last); !ok || doc == nil {
		t.Error("the last document added was evicted")
	}
	if _, ok := c.Get(ctx, query(100, 200<<10)); ok {
		t.Error("the first document added is still held")
	}
}
