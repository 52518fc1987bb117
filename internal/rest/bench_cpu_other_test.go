//go:build !unix

package rest_test

import "time"

// processCPU cannot be read here: the benchmarks report no cpu-ns/op.
func processCPU() time.Duration { return 0 }
