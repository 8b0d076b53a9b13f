package keychain

import (
	"errors"
	"os"
	"testing"

	"github.com/glpat-dev/git-credential-glpat/internal/keyringtest"
	"github.com/glpat-dev/git-credential-glpat/internal/secrets"
)

// childEnv, when set, makes this test binary a child that runChild started:
// it runs one test in the environment its parent made for it, with no
// session of its own.
const childEnv = "GLPAT_KEYCHAIN_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(m.Run())
	}
	os.Exit(keyringtest.Main(m))
}

// testService keeps the tests' items apart from anything else in the
// (private) keyring.
const testService = "git-credential-glpat-test"

// kinds names the sentinels that err errors.Is, in a fixed order, for
// got/want comparisons.
func kinds(err error) []string {
	var got []string
	for _, k := range []struct {
		name string
		err  error
	}{
		{"ErrNotFound", secrets.ErrNotFound},
		{"ErrLocked", secrets.ErrLocked},
		{"ErrUnavailable", secrets.ErrUnavailable},
		{"ErrTimeout", secrets.ErrTimeout},
		{"ErrNoSessionBus", ErrNoSessionBus},
		{"ErrNoSecretService", ErrNoSecretService},
	} {
		if errors.Is(err, k.err) {
			got = append(got, k.name)
		}
	}
	return got
}
