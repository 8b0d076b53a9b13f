package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestReleaseBuildHasNoTestHooks builds the helper as a release is built
// and as the tests build it: only the tests' build knows the environment
// variables that crash it on purpose or rename its kernel keyring.
func TestReleaseBuildHasNoTestHooks(t *testing.T) {
	hooks := []string{"GLPAT_TEST_KILL_AT", "GLPAT_TEST_PANIC", "GLPAT_KERNEL_KEYRING"}
	release := filepath.Join(t.TempDir(), "release")
	build := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", release, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, c := range []struct {
		bin  string
		want bool
	}{{release, false}, {binPath, true}} {
		b, err := os.ReadFile(c.bin)
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range hooks {
			if got := bytes.Contains(b, []byte(h)); got != c.want {
				t.Errorf("%s holds %s: %v, want %v", filepath.Base(c.bin), h, got, c.want)
			}
		}
	}
}
