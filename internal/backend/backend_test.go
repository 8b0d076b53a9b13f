package backend

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/glpat-dev/git-credential-glpat/internal/agefile"
	"github.com/glpat-dev/git-credential-glpat/internal/config"
	"github.com/glpat-dev/git-credential-glpat/internal/kernelkeyring"
	"github.com/glpat-dev/git-credential-glpat/internal/keychain"
	"github.com/glpat-dev/git-credential-glpat/internal/keyringtest"
	"github.com/glpat-dev/git-credential-glpat/internal/secrets"
	"github.com/glpat-dev/git-credential-glpat/internal/secrets/secretstest"
)

func TestMain(m *testing.M) {
	// Worker processes inherit the private keyring session of the test
	// process that started them; they must not start one of their own.
	secretstest.ServeWorker(func(spec string) (secrets.Store, error) {
		f := strings.Split(spec, "|")
		return Open(config.Backend(f[0]), f[1], WithKeychainService(f[2]), WithKernelKeyringName(f[2]))
	})
	os.Exit(keyringtest.Main(m))
}

const passphrase = "correct horse battery staple"

var seq atomic.Int64

// testBackend is one backend, opened the way the program opens it but with
// names of its own, so that tests touch neither the user's keychain items
// nor the user's kernel keyring.
type testBackend struct {
	kind config.Backend
	dir  string
	name string // keychain service and kernel keyring name
	s    secrets.Store
}

func (b *testBackend) spec() string { return string(b.kind) + "|" + b.dir + "|" + b.name }

// openTest opens a fresh, empty backend of kind, ready to use (the
// encrypted file set up and unlocked). It skips tb when the backend cannot
// be used here: no gnome-keyring, or no keyctl.
func openTest(tb testing.TB, kind config.Backend) *testBackend {
	tb.Helper()
	b := &testBackend{kind: kind, dir: tb.TempDir(), name: fmt.Sprintf("git-credential-glpat-betest-%d-%d", os.Getpid(), seq.Add(1))}
	if kind == config.BackendKeyring {
		keyringtest.Require(tb)
	} else {
		k := &kernelkeyring.Keyring{Name: b.name}
		if _, err := k.Probe(context.Background()); err != nil {
			tb.Skipf("keyctl is not usable here, so the %s backend cannot be tested: %v", kind, err)
		}
		tb.Cleanup(func() {
			if err := k.Destroy(context.Background()); err != nil {
				tb.Errorf("destroy test keyring: %v", err)
			}
		})
	}
	s, err := Open(kind, b.dir, WithKeychainService(b.name), WithKernelKeyringName(b.name))
	if err != nil {
		tb.Fatal(err)
	}
	if f, ok := s.(*agefile.File); ok {
		f.WorkFactor = 10
		if err := f.Init(ctx(tb), passphrase, 0); err != nil {
			tb.Fatal(err)
		}
	}
	b.s = s
	return b
}

// kinds are the backends every test here runs against: all of them.
var kinds = config.Backends()

func ctx(tb testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	tb.Cleanup(cancel)
	return c
}

// The same contract, against each backend.
func TestConformance(t *testing.T) {
	for _, kind := range kinds {
		t.Run(string(kind), func(t *testing.T) {
			var opts []secretstest.Option
			if kind != config.BackendKernel { // the kernel's quota refuses large ones
				opts = append(opts, secretstest.HoldsLargeSecrets())
			}
			secretstest.Conformance(t, func(t *testing.T) secrets.Store { return openTest(t, kind).s }, opts...)
		})
	}
}

func TestConcurrentProcesses(t *testing.T) {
	for _, kind := range kinds {
		t.Run(string(kind), func(t *testing.T) {
			b := openTest(t, kind)
			secretstest.Processes(t, b.s, 4, 4, b.spec())
		})
	}
}

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		kind     config.Backend
		wantType string
		describe string
	}{
		{config.BackendKeyring, "*keychain.Keychain", "OS keychain ("},
		{config.BackendEncryptedFile, "*agefile.File", "encrypted file " + dir},
		{config.BackendKernel, "*kernelkeyring.Store", "kernel keyring (lost at reboot)"},
	} {
		s, err := Open(tc.kind, dir)
		if err != nil {
			t.Fatalf("Open(%s): %v", tc.kind, err)
		}
		if got := fmt.Sprintf("%T", s); got != tc.wantType {
			t.Errorf("Open(%s) is a %s, want %s", tc.kind, got, tc.wantType)
		}
		if got := Describe(s); !strings.HasPrefix(got, tc.describe) {
			t.Errorf("Describe(Open(%s)) = %q, want it to start %q", tc.kind, got, tc.describe)
		}
	}
	if kc, _ := Open(config.BackendKeyring, "", WithKeychainTimeout(time.Second)); kc.(*keychain.Keychain).Timeout != time.Second || kc.(*keychain.Keychain).Service != KeychainService {
		t.Errorf("keychain = %+v", kc)
	}
	if ks, _ := Open(config.BackendKernel, dir); ks.(*kernelkeyring.Store).Keyring.Name != kernelkeyring.DefaultName {
		t.Errorf("kernel keyring name = %q", ks.(*kernelkeyring.Store).Keyring.Name)
	}
	if _, err := Open("vault", dir); err == nil || !strings.Contains(err.Error(), `unknown backend "vault"`) {
		t.Errorf("Open(vault): err = %v", err)
	}
	if _, err := Open(config.BackendEncryptedFile, ""); err == nil {
		t.Error("Open(encrypted-file) without a state directory succeeded")
	}
}

// TestEveryBackendOpens: each backend the config may name opens, and names
// itself for status and doctor; nothing else opens.
func TestEveryBackendOpens(t *testing.T) {
	dir := t.TempDir()
	for _, b := range config.Backends() {
		s, err := Open(b, dir)
		if err != nil {
			t.Errorf("Open(%s): %v", b, err)
			continue
		}
		if _, ok := s.(Describer); !ok {
			t.Errorf("Open(%s) is a %T, which does not name itself (Describer)", b, s)
		}
	}
	if len(table) != len(config.Backends()) {
		t.Errorf("%d backends open, the config names %d", len(table), len(config.Backends()))
	}
}

// A backend that cannot answer says so; nothing falls back to another one.
func TestNoFallback(t *testing.T) {
	s, err := Open(config.BackendEncryptedFile, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	_, getErr := s.Get(ctx(t), "https://alice@gitlab.com")
	for name, err := range map[string]error{
		"Get":   getErr,
		"Set":   s.Set(ctx(t), "https://alice@gitlab.com", "glpat-x"),
		"Check": Check(ctx(t), s),
	} {
		if !errors.Is(err, secrets.ErrUnavailable) || !strings.Contains(err.Error(), "run git-credential-glpat init") {
			t.Errorf("%s on an encrypted file not set up: %v, want ErrUnavailable", name, err)
		}
	}
}

func TestCheck(t *testing.T) {
	for _, kind := range kinds {
		t.Run(string(kind), func(t *testing.T) {
			b := openTest(t, kind)
			if err := Check(ctx(t), b.s); err != nil {
				t.Errorf("Check: %v", err)
			}
			if f, ok := b.s.(*agefile.File); ok {
				f.Lock(ctx(t))
				if err := Check(ctx(t), b.s); !errors.Is(err, secrets.ErrLocked) {
					t.Errorf("Check of a locked file: %v, want ErrLocked", err)
				}
			}
		})
	}
}

// Every secret moves from each backend to each other one, unchanged, and
// leaves the old one.
func TestMigrateBetweenRealBackends(t *testing.T) {
	secret := func(a string) string { return `{"password":"glpat-` + a + `","username":"u"}` }
	accounts := []string{"https://a@gitlab.com", "https://b@gitlab.com", "https://c@example.com:8443/group", "https://d@gitlab.com"}
	for _, from := range kinds {
		for _, to := range kinds {
			if from == to {
				continue
			}
			t.Run(string(from)+" to "+string(to), func(t *testing.T) {
				src, dst := openTest(t, from), openTest(t, to)
				for _, a := range accounts {
					if err := src.s.Set(ctx(t), a, secret(a)); err != nil {
						t.Fatal(err)
					}
				}
				names, err := Accounts(ctx(t), src.s, accounts[:2])
				if err != nil {
					t.Fatal(err)
				}
				if from != config.BackendKeyring && !slices.Equal(names, accounts) {
					t.Errorf("Accounts = %q, want the index's and the backend's: %q", names, accounts)
				}
				res, err := Migrate(ctx(t), src.s, dst.s, accounts)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(res.Moved, accounts) {
					t.Errorf("Moved = %q", res.Moved)
				}
				for _, a := range accounts {
					if got, err := dst.s.Get(ctx(t), a); err != nil || got != secret(a) {
						t.Errorf("new backend: Get(%s) = %q, %v", a, got, err)
					}
					if _, err := src.s.Get(ctx(t), a); !errors.Is(err, secrets.ErrNotFound) {
						t.Errorf("old backend: Get(%s): %v, want ErrNotFound", a, err)
					}
				}
			})
		}
	}
}

// Two handles on one backend are refused: copying each secret onto itself
// and then deleting it would lose everything.
func TestMigrateRefusesTheSameBackend(t *testing.T) {
	for _, kind := range kinds {
		t.Run(string(kind), func(t *testing.T) {
			b := openTest(t, kind)
			again, err := Open(kind, b.dir, WithKeychainService(b.name), WithKernelKeyringName(b.name))
			if err != nil {
				t.Fatal(err)
			}
			if err := b.s.Set(ctx(t), "a", "secret"); err != nil {
				t.Fatal(err)
			}
			if _, err := Migrate(ctx(t), b.s, again, []string{"a"}); err == nil || !strings.Contains(err.Error(), "same storage") {
				t.Errorf("Migrate onto itself: err = %v", err)
			}
			if got, err := b.s.Get(ctx(t), "a"); err != nil || got != "secret" {
				t.Errorf("after: Get = %q, %v", got, err)
			}
			if l, ok := b.s.(Lister); ok {
				if got, _ := l.List(ctx(t)); !slices.Equal(got, []string{"a"}) {
					t.Errorf("after: List = %q (a probe left behind?)", got)
				}
			}
		})
	}
}

// BenchmarkGet compares the in-process cost of one Get of a token-sized
// secret in each backend.
func BenchmarkGet(b *testing.B) {
	secret := `{"password":"glpat-` + strings.Repeat("x", 20) + `","username":"alice","stored_at":"2026-01-01T00:00:00Z"}`
	for _, kind := range kinds {
		b.Run(string(kind), func(b *testing.B) {
			tb := openTest(b, kind)
			for i := range 10 {
				if err := tb.s.Set(ctx(b), fmt.Sprintf("https://user%d@gitlab.example.com", i), secret); err != nil {
					b.Fatal(err)
				}
			}
			if err := tb.s.Set(ctx(b), "https://alice@gitlab.com", secret); err != nil {
				b.Fatal(err)
			}
			c := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := tb.s.Get(c, "https://alice@gitlab.com"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
