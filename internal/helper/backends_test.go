package helper

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"testing"

	"github.com/glpat-dev/git-credential-glpat/internal/agefile"
	"github.com/glpat-dev/git-credential-glpat/internal/backend"
	"github.com/glpat-dev/git-credential-glpat/internal/config"
	"github.com/glpat-dev/git-credential-glpat/internal/kernelkeyring"
	"github.com/glpat-dev/git-credential-glpat/internal/secrets"
)

var keyringSeq atomic.Int64

// openBackend opens kind as the program does, with a kernel keyring of
// this test's own that is destroyed when it ends; it skips when keyctl
// cannot be used here (kernelkeyring's TestKeyctlIsAvailable fails then).
func openBackend(t *testing.T, kind config.Backend) secrets.Store {
	name := fmt.Sprintf("git-credential-glpat-helpertest-%d-%d", os.Getpid(), keyringSeq.Add(1))
	k := &kernelkeyring.Keyring{Name: name}
	if _, err := k.Probe(context.Background()); err != nil {
		t.Skipf("keyctl is not usable here, so the %s backend cannot be tested: %v", kind, err)
	}
	t.Cleanup(func() {
		if err := k.Destroy(context.Background()); err != nil {
			t.Errorf("destroy test keyring: %v", err)
		}
	})
	s, err := backend.Open(kind, t.TempDir(), backend.WithKernelKeyringName(name))
	if err != nil {
		t.Fatal(err)
	}
	if f, ok := s.(*agefile.File); ok {
		f.WorkFactor = 10 // scrypt's default costs a second per Init
		if err := f.Init(context.Background(), "correct horse battery staple", 0); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// TestConformanceEncryptedFile runs Git's helper semantics against the
// encrypted-file backend, unlocked.
func TestConformanceEncryptedFile(t *testing.T) {
	testConformance(t, func(t *testing.T) secrets.Store { return openBackend(t, config.BackendEncryptedFile) })
}

// TestConformanceKernelKeyring runs Git's helper semantics against the
// kernel keyring backend.
func TestConformanceKernelKeyring(t *testing.T) {
	testConformance(t, func(t *testing.T) secrets.Store { return openBackend(t, config.BackendKernel) })
}
