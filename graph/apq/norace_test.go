//go:build !race

package apq_test

// attackScale: the memory test sends the audit's whole attack, to caches
// of the default budgets.
const attackScale = 1
