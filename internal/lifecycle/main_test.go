package lifecycle

import (
	"fmt"
	"os"
	"testing"

	"github.com/glpat-dev/git-credential-glpat/internal/keyringtest"
)

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		// A helper process of TestConcurrentProcessesRotateOnce: it uses
		// its parent's private keyring session.
		os.Exit(m.Run())
	}
	code := keyringtest.Main(m)
	if code == 0 {
		code = checkAllWarnings()
	}
	os.Exit(code)
}

// checkAllWarnings is the last word on secrets in messages: no warning or
// error of any test of this run holds a token value, whether a value the
// test saw or one shaped like a GitLab token that it never saw (such as the
// new token of a rotation whose answer was lost). Each world also checks
// its own warnings, so that a leak fails the test that caused it.
func checkAllWarnings() int {
	leaks.mu.Lock()
	defer leaks.mu.Unlock()
	bad := leakedIn(leaks.texts, leaks.tokens)
	for _, s := range bad {
		fmt.Fprintf(os.Stderr, "FAIL: a warning or error holds a token: %q\n", s)
	}
	if len(bad) > 0 {
		return 1
	}
	return 0
}
