//go:build !unix

package servicetest

import "time"

// processCPU cannot be read here: benchmarks report no cpu-ns/op.
func processCPU() time.Duration { return 0 }
