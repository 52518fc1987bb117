//go:build race

package apq_test

// attackScale divides the memory test's attack and its caches' budgets
// under the race detector, which makes lexing and decoding megabytes about
// twelve times slower; a fifth of the attack is still many times the slack
// the test allows.
const attackScale = 5
