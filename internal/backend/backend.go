// Package backend opens the secret storage backend that the config names (the OS keychain, an encrypted file or the kernel keyring) and moves secrets from one backend to another.
//
// The rest of the program talks to a secrets.Store and does not know which
// backend is behind it. Nothing here ever falls back from one backend to
// another: a backend that cannot be reached fails its calls with an error
// that errors.Is secrets.ErrUnavailable and says what failed.
package backend

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/glpat-dev/git-credential-glpat/internal/agefile"
	"github.com/glpat-dev/git-credential-glpat/internal/config"
	"github.com/glpat-dev/git-credential-glpat/internal/kernelkeyring"
	"github.com/glpat-dev/git-credential-glpat/internal/keychain"
	"github.com/glpat-dev/git-credential-glpat/internal/secrets"
)

// KeychainService names the application in the OS keychain's items.
const KeychainService = "git-credential-glpat"

// keyringLockFile, in the state directory, serialises the creation of our
// kernel keyring across processes (see kernelkeyring.Keyring.LockFile).
const keyringLockFile = "kernel-keyring.lock"

// Lister is a secrets.Store that can list the accounts it holds. The
// encrypted file and the kernel keyring can; the OS keychain cannot, and
// the store's index (store.Store.List) names what it holds.
type Lister interface {
	List(ctx context.Context) ([]string, error)
}

// Describer is a secrets.Store that can name itself for a person.
type Describer interface {
	Describe() string
}

// Checker is a secrets.Store that can say whether it can answer now,
// without changing anything.
type Checker interface {
	Check(ctx context.Context) error
}

// Option changes how Open opens a backend.
type Option func(*options)

type options struct {
	keychainService string
	keychainTimeout time.Duration
	keyringName     string
}

// WithKeychainTimeout bounds every call to the OS keychain (the
// GLPAT_KEYCHAIN_TIMEOUT setting); zero keeps keychain.DefaultTimeout.
func WithKeychainTimeout(d time.Duration) Option {
	return func(o *options) { o.keychainTimeout = d }
}

// WithKeychainService sets the keychain's service name, for tests that
// must not see each other's items.
func WithKeychainService(name string) Option {
	return func(o *options) { o.keychainService = name }
}

// WithKernelKeyringName sets the name of our keyring in the kernel, for
// tests that must not touch the real one.
func WithKernelKeyringName(name string) Option {
	return func(o *options) { o.keyringName = name }
}

// Open returns the backend kind, keeping its files (if it has any) in
// stateDir. It reaches nothing: a backend that cannot be used fails its
// first call (Check says so without changing anything).
//
//   - keyring: the OS keychain, keychain.New("git-credential-glpat").
//   - encrypted-file: an *agefile.File in stateDir whose identity is
//     unlocked into the kernel keyring.
//   - kernel: a *kernelkeyring.Store, lost at reboot.
func Open(kind config.Backend, stateDir string, opts ...Option) (secrets.Store, error) {
	o := options{keychainService: KeychainService, keyringName: kernelkeyring.DefaultName}
	for _, opt := range opts {
		opt(&o)
	}
	k, ok := table[kind]
	if !ok {
		return nil, fmt.Errorf("backend: unknown backend %q (want one of %q)", kind, config.Backends())
	}
	if k.inStateDir && stateDir == "" {
		return nil, fmt.Errorf("backend: %s: no state directory", kind)
	}
	return k.open(stateDir, o), nil
}

// kind is one storage backend: how it opens.
type kind struct {
	// inStateDir: it keeps files (or a lock) in the state directory.
	inStateDir bool
	open       func(stateDir string, o options) secrets.Store
}

// table has the storage backends, one row for each that config.Backends
// names (TestEveryBackendOpens holds them together): adding a backend is a
// name there and a row here. Its store names itself (Describer) for status
// and doctor, and migrate, completion and the config's check take their
// names from config.Backends.
var table = map[config.Backend]kind{
	config.BackendKeyring: {open: func(_ string, o options) secrets.Store {
		kc := keychain.New(o.keychainService)
		if o.keychainTimeout > 0 {
			kc.Timeout = o.keychainTimeout
		}
		return kc
	}},
	config.BackendEncryptedFile: {inStateDir: true, open: func(stateDir string, o options) secrets.Store {
		return agefile.New(stateDir, o.kernelKeyring(stateDir))
	}},
	config.BackendKernel: {inStateDir: true, open: func(stateDir string, o options) secrets.Store {
		return &kernelkeyring.Store{Keyring: o.kernelKeyring(stateDir), Prefix: o.keyringName + ":"}
	}},
}

// kernelKeyring is our keyring in the kernel, whose creation is serialised
// by a lock file in stateDir.
func (o options) kernelKeyring(stateDir string) *kernelkeyring.Keyring {
	return &kernelkeyring.Keyring{Name: o.keyringName, LockFile: filepath.Join(stateDir, keyringLockFile)}
}

// Describe names s for status and doctor, such as "kernel keyring (lost at
// reboot)": the store's own Describe.
func Describe(s secrets.Store) string {
	if d, ok := s.(Describer); ok {
		return d.Describe()
	}
	return fmt.Sprintf("%T", s)
}

// Ready is the word status and doctor give s when Check found that it
// answers: "unlocked" for a backend that is locked until a person unlocks
// it (the encrypted file), else "answers".
func Ready(s secrets.Store) string {
	if _, ok := s.(interface {
		Unlocked(context.Context) (bool, error)
	}); ok {
		return "unlocked"
	}
	return "answers"
}

// checkAccount is the account Check asks the OS keychain for; it is never
// stored.
const checkAccount = "git-credential-glpat-check"

// Check reports whether s can answer a Get now, changing nothing: its error
// errors.Is secrets.ErrUnavailable, secrets.ErrLocked or secrets.ErrTimeout
// and says what is wrong. The OS keychain is asked for an account that does
// not exist.
func Check(ctx context.Context, s secrets.Store) error {
	if c, ok := s.(Checker); ok {
		return c.Check(ctx)
	}
	if _, err := s.Get(ctx, checkAccount); err != nil && !errors.Is(err, secrets.ErrNotFound) {
		return err
	}
	return nil
}
