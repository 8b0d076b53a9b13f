package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// ourInitBudget is what the package initialisation of all our packages
// together may allocate: a few sentinel errors. Go runs every linked
// package's init in every process, before a get reads its first byte, so
// a regexp compiled, a map literal built or a logger made at init is paid
// by every git command (a compiled regexp alone is a few KB, and about
// 0.03 ms on the benchmark's machine). Make such values when first used.
const ourInitBudget = 1024 // bytes

// TestOurPackageInitDoesNoWork counts what our packages' init allocate
// (GODEBUG=inittrace=1 reports it per package): a count, not a timing.
func TestOurPackageInitDoesNoWork(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(binPath, "get")
	cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1",
		"GLPAT_STATE_DIR="+filepath.Join(dir, "state"), "GLPAT_CONFIG="+filepath.Join(dir, "config.toml"))
	cmd.Stdin = strings.NewReader("protocol=https\nhost=nothing.example\n")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("get: %v\n%s", err, stderr.String())
	}
	const ours = "github.com/glpat-dev/git-credential-glpat/"
	total, seen := 0, 0
	var report []string
	for _, line := range strings.Split(stderr.String(), "\n") {
		// init internal/bytealg @0.008 ms, 0 ms clock, 0 bytes, 0 allocs
		var pkg, at string
		var clock float64
		var bytes, allocs int
		if _, err := fmt.Sscanf(line, "init %s %s ms, %g ms clock, %d bytes, %d allocs", &pkg, &at, &clock, &bytes, &allocs); err != nil {
			continue
		}
		seen++
		if strings.HasPrefix(pkg, ours) || pkg == "main" {
			total += bytes
			report = append(report, fmt.Sprintf("%s: %d bytes, %d allocs", strings.TrimPrefix(pkg, ours), bytes, allocs))
		}
	}
	if seen == 0 {
		t.Fatalf("no inittrace lines in stderr:\n%s", stderr.String())
	}
	if total > ourInitBudget {
		t.Errorf("our packages' init allocate %d bytes, more than %d: build such values when first used\n%s", total, ourInitBudget, strings.Join(report, "\n"))
	}
}
