package main

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestHotPathLinksNoHeavyPackages keeps packages whose init does work, or
// that only some commands need, out of the Linux binary: Go runs every
// linked package's init in every process, so each would be paid by every
// `git credential get` (bench/README.md has the measurements).
func TestHotPathLinksNoHeavyPackages(t *testing.T) {
	cmd := exec.Command("go", "list", "-deps", ".")
	cmd.Env = append(cmd.Environ(), "GOOS=linux", "GOARCH=amd64", "CGO_ENABLED=0")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	deps := strings.Fields(string(out))
	// Every call to GitLab goes through GitLab's client-go (SPEC: GitLab
	// hosts), with retries off (internal/gitlabapi's tests prove one
	// request per rotate). It brings go-retryablehttp, text/template and
	// log/slog with it; their cost is in bench/README.md.
	for _, want := range []string{"gitlab.com/gitlab-org/api/client-go"} {
		if !slices.Contains(deps, want) {
			t.Errorf("the binary does not link %s", want)
		}
	}
	for _, bad := range []string{
		"encoding/xml",             // a 250-entry map built at init; Windows' schtasks only
		"html/template",            // reflection on method names keeps all methods linked
		"net/http/pprof", "expvar", // init registers handlers and globals
		"github.com/glpat-dev/git-credential-glpat/internal/gitlabtest",
	} {
		for _, d := range deps {
			if d == bad || strings.HasPrefix(d, bad+"/") {
				t.Errorf("the binary links %s", d)
			}
		}
	}
}
