package agefile

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/glpat-dev/git-credential-glpat/internal/kernelkeyring"
	"github.com/glpat-dev/git-credential-glpat/internal/secrets"
	"github.com/glpat-dev/git-credential-glpat/internal/secrets/secretstest"
)

var keyringSeq atomic.Int64

// kernelCache returns a kernel keyring of a name used by this test only,
// destroyed when it ends, or skips tb when keyctl cannot be used here (the
// kernelkeyring package's TestKeyctlIsAvailable fails for that).
func kernelCache(tb testing.TB) *kernelkeyring.Keyring {
	tb.Helper()
	k := &kernelkeyring.Keyring{
		Name:     fmt.Sprintf("git-credential-glpat-agetest-%d-%d", os.Getpid(), keyringSeq.Add(1)),
		LockFile: filepath.Join(tb.TempDir(), "keyring.lock"),
	}
	if _, err := k.Probe(context.Background()); err != nil {
		tb.Skipf("keyctl is not usable here, so this test cannot run: %v", err)
	}
	tb.Cleanup(func() {
		if err := k.Destroy(context.Background()); err != nil {
			tb.Errorf("destroy test keyring: %v", err)
		}
	})
	return k
}

func TestConformanceKernelCache(t *testing.T) {
	secretstest.Conformance(t, func(t *testing.T) secrets.Store { return newFile(t, kernelCache(t)) }, secretstest.HoldsLargeSecrets())
}

// Several processes share the file and the identity unlocked in the
// kernel keyring.
func TestConcurrentProcesses(t *testing.T) {
	k := kernelCache(t)
	f := newFile(t, k)
	secretstest.Processes(t, f, 6, 5, f.Dir+"|"+k.Name)
}

func TestLockedUnderConcurrentGetsKernelCache(t *testing.T) {
	testLockedConcurrentGets(t, newFile(t, kernelCache(t)))
}

// An unlock with a timeout ends by itself: the kernel drops the key.
func TestUnlockExpires(t *testing.T) {
	f := newFile(t, kernelCache(t))
	mustSet(t, f, "a", "secret")
	if err := f.Unlock(ctx(t), passphrase, time.Second); err != nil {
		t.Fatal(err)
	}
	mustGet(t, f, "a", "secret")
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := f.Get(ctx(t), "a")
		if errors.Is(err, ErrLocked) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still unlocked 5s after an unlock for 1s: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Unlocking again without a timeout clears it.
	if err := f.Unlock(ctx(t), passphrase, 0); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	mustGet(t, f, "a", "secret")
}

func TestLockDropsTheKernelKey(t *testing.T) {
	k := kernelCache(t)
	f := newFile(t, k)
	names, err := k.Descriptions(ctx(t))
	if err != nil || len(names) != 1 {
		t.Fatalf("after Init the keyring holds %q, %v; want the identity", names, err)
	}
	r, _ := f.recipient()
	if names[0] != cachePrefix+r.String() {
		t.Errorf("cached identity is named %q, want %q", names[0], cachePrefix+r.String())
	}
	if err := f.Lock(ctx(t)); err != nil {
		t.Fatal(err)
	}
	if names, err := k.Descriptions(ctx(t)); err != nil || len(names) != 0 {
		t.Errorf("after Lock the keyring holds %q, %v; want nothing", names, err)
	}
}

func BenchmarkGetKernelCache(b *testing.B) {
	benchmarkGet(b, newFile(b, kernelCache(b)))
}
