package helper

import (
	"fmt"
	"os"
	"sync/atomic"
	"testing"

	"github.com/glpat-dev/git-credential-glpat/internal/keychain"
	"github.com/glpat-dev/git-credential-glpat/internal/keyringtest"
	"github.com/glpat-dev/git-credential-glpat/internal/secrets"
)

func TestMain(m *testing.M) { os.Exit(keyringtest.Main(m)) }

var serviceSeq atomic.Int64

// TestConformanceKeychain runs Git's helper semantics against a real
// gnome-keyring on a private session bus; each case gets its own service
// name so that cases cannot see each other's items.
func TestConformanceKeychain(t *testing.T) {
	keyringtest.Require(t)
	testConformance(t, func(t *testing.T) secrets.Store {
		return keychain.New(fmt.Sprintf("glpat-test-%d", serviceSeq.Add(1)))
	})
}
