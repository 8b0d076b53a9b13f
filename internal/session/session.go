// Package session opens what a command works with: the config, the backend lock, the secrets backend, the index, the lifecycle and the accounts.
package session

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/glpat-dev/git-credential-glpat/internal/account"
	"github.com/glpat-dev/git-credential-glpat/internal/agefile"
	"github.com/glpat-dev/git-credential-glpat/internal/backend"
	"github.com/glpat-dev/git-credential-glpat/internal/config"
	"github.com/glpat-dev/git-credential-glpat/internal/filelock"
	"github.com/glpat-dev/git-credential-glpat/internal/helper"
	"github.com/glpat-dev/git-credential-glpat/internal/lifecycle"
	"github.com/glpat-dev/git-credential-glpat/internal/secrets"
	"github.com/glpat-dev/git-credential-glpat/internal/store"
)

// Options say where and how a Session opens.
type Options struct {
	// StateDir and ConfigPath default to config.StateDir() and
	// config.ConfigPath().
	StateDir, ConfigPath string
	// Writes: the command may store something, so the state directory is
	// created first, and the backend lock is always held.
	Writes bool
	// Backend are the options every backend is opened with.
	Backend []backend.Option
	// Warn tells a person about what the lifecycle does on its own (and
	// about a config it cannot read); nil is silent.
	Warn func(format string, a ...any)
	// Notice tells a person what the store does on its own or will not
	// do (store.Store.Notice), in the caller's words; nil is silent.
	Notice func(error)
	// Hook is called at the named points of a rotation or a migrate (the
	// crash-safety tests kill the process there); nil does nothing.
	Hook func(point string)
}

// A Session is one command's view of the credentials. It holds the backend
// lock shared from Open until Close: see LockName.
type Session struct {
	StateDir   string
	ConfigPath string
	// Kind is the backend the config names; Store's secrets are in it.
	Kind  config.Backend
	Store *store.Store
	// BackendOptions open any backend the way the session's was opened.
	BackendOptions []backend.Option

	opts          Options
	config        func() (*config.Config, error)
	configWarning sync.Once
	lock          *filelock.Lock
	lockErr       error // why the session runs without the lock
}

// LockName, in the state directory, is held shared by every command that
// uses the secrets (from before it reads the config until it exits) and
// exclusively by migrate while it switches the config to the new backend
// and empties the old one. So no process reads the config before the switch
// and the old backend after it: such a process would take the secret it
// cannot find there for one a person deleted, and drop it from the index,
// or write a rotated token where nothing reads it any more.
const LockName = "backend.lock"

// lockWait bounds how long a command waits for a migrate to finish.
const lockWait = 30 * time.Second

// Open opens a session. The config file is read on first use only: a get
// for a plain credential never needs it.
func Open(o Options) (*Session, error) {
	var err error
	if o.StateDir == "" {
		if o.StateDir, err = config.StateDir(); err != nil {
			return nil, err
		}
	}
	if o.ConfigPath == "" {
		if o.ConfigPath, err = config.ConfigPath(); err != nil {
			return nil, err
		}
	}
	// Whoever may write the state or the config decides what is served
	// and where tokens go: every command refuses them. The config file is
	// checked as it is read (MayNameBackend, below, and Load).
	if err := config.CheckStateDir(o.StateDir); err != nil {
		return nil, err
	}
	if o.Writes {
		if err := config.EnsurePrivateDir(o.StateDir); err != nil {
			return nil, err
		}
	}
	s := &Session{StateDir: o.StateDir, ConfigPath: o.ConfigPath, opts: o}
	if err := s.holdLock(); err != nil {
		return nil, err
	}
	s.config = sync.OnceValues(func() (*config.Config, error) { return config.Load(o.ConfigPath) })
	// The backend is in the config file; most files do not name one, and
	// then a get does not parse TOML at all. A config that names one but
	// cannot be read stops here: never a silent fall back to the keychain.
	s.Kind = config.DefaultBackend
	if named, err := config.MayNameBackend(o.ConfigPath); err != nil {
		s.Close()
		return nil, err
	} else if named {
		cfg, err := s.config()
		if err != nil {
			s.Close()
			return nil, err
		}
		s.Kind = cfg.Backend
	}
	secretStore, err := backend.Open(s.Kind, o.StateDir, o.Backend...)
	if err != nil {
		s.Close()
		return nil, err
	}
	s.BackendOptions = o.Backend
	s.Store = &store.Store{Secrets: secretStore, Dir: filepath.Join(o.StateDir, "index"), APIURL: s.tokenAPIURL,
		Backend: string(s.Kind), Hook: o.Hook, Notice: o.Notice}
	return s, nil
}

// holdLock takes the backend lock shared. Where the lock file cannot be
// made (no state directory yet, or one this user cannot write) nothing can
// be stored either, and a read goes on without the lock: migrate, which
// creates the directory, has nothing to move.
func (s *Session) holdLock() error {
	ctx, cancel := context.WithTimeout(context.Background(), lockWait)
	l, err := filelock.AcquireShared(ctx, filepath.Join(s.StateDir, LockName))
	cancel()
	switch {
	case err == nil:
		s.lock = l
	case errors.Is(err, filelock.ErrTimeout):
		return errors.New("a git-credential-glpat migrate is moving the credentials to another backend; try again when it has finished")
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, fs.ErrPermission), errors.Is(err, syscall.EROFS):
		s.lockErr = err // migrate refuses to run without the lock, and says why
	default:
		return err
	}
	return nil
}

// Close releases the backend lock.
func (s *Session) Close() error {
	if s.lock == nil {
		return nil
	}
	err := s.lock.Unlock()
	s.lock = nil
	return err
}

// Config is the config file, read once.
func (s *Session) Config() (*config.Config, error) { return s.config() }

// ConfigReported says that the caller reports the config's error itself:
// the lifecycle no longer warns about it.
func (s *Session) ConfigReported() { s.configWarning.Do(func() {}) }

// OpenBackend opens another backend than the config's, with the session's
// options (init before a migrate, migrate's sources).
func (s *Session) OpenBackend(kind config.Backend) (secrets.Store, error) {
	return backend.Open(kind, s.StateDir, s.BackendOptions...)
}

// CheckSecrets says whether the session's backend can be read now
// (backend.Check), within checkTimeout.
func (s *Session) CheckSecrets(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	return backend.Check(ctx, s.Store.Secrets)
}

// checkTimeout bounds CheckSecrets.
const checkTimeout = 10 * time.Second

// EncryptedFile is the encrypted-file backend: the session's, or, when the
// config names another backend, one opened all the same, so that it can be
// set up (or unlocked) before migrate --to encrypted-file moves the
// credentials into it. That is the one way to switch.
func (s *Session) EncryptedFile() (*agefile.File, error) {
	if f, ok := s.Store.Secrets.(*agefile.File); ok {
		return f, nil
	}
	b, err := s.OpenBackend(config.BackendEncryptedFile)
	if err != nil {
		return nil, err
	}
	return b.(*agefile.File), nil
}

// tokenAPIURL is where a managed token of host is sent: from the config,
// never from the state directory. A config that cannot be read gives the
// derived https://HOST/api/v4 (the lifecycle warns about the config).
func (s *Session) tokenAPIURL(host string) string {
	cfg, err := s.config()
	if err != nil {
		cfg = config.Default()
	}
	return cfg.TokenAPIURL(host)
}

// Lifecycle is the token lifecycle over the session's store, with each
// host's settings from the config.
func (s *Session) Lifecycle() *lifecycle.Manager {
	return &lifecycle.Manager{
		Store:    s.Store,
		StateDir: s.StateDir,
		Warn:     s.opts.Warn,
		Hook:     s.opts.Hook,
		Settings: func(rec *store.Record) lifecycle.Settings {
			cfg, err := s.config()
			if err != nil {
				// Rotate with the defaults rather than let the token
				// expire, and say why.
				s.configWarning.Do(func() {
					if s.opts.Warn != nil {
						s.opts.Warn("%v; using the default settings", err)
					}
				})
				cfg = config.Default()
			}
			return lifecycle.HostSettings(cfg.Host(rec.Host))
		},
	}
}

// Accounts is the account service of the interactive commands; the config
// must load.
func (s *Session) Accounts() (*account.Service, error) {
	cfg, err := s.config()
	if err != nil {
		return nil, err
	}
	return &account.Service{Store: s.Store, Config: cfg, ConfigPath: s.ConfigPath, Lifecycle: s.Lifecycle()}, nil
}

// AccountsForDoctor is the account service for the doctor, which reports
// a config that does not load itself (once: the lifecycle does not warn
// about it) and checks the rest with the default settings.
func (s *Session) AccountsForDoctor() *account.Service {
	cfg, err := s.config()
	if err != nil {
		cfg = config.Default()
		s.ConfigReported()
	}
	// The doctor's checks say what the store does not serve: its view of
	// the store tells nothing besides.
	quiet := *s.Store
	quiet.Notice = nil
	lc := s.Lifecycle()
	lc.Store = &quiet
	return &account.Service{Store: &quiet, Config: cfg, ConfigPath: s.ConfigPath, Lifecycle: lc}
}

// Helper is Git's credential helper over the session.
func (s *Session) Helper() *helper.Helper {
	return &helper.Helper{Store: s.Store, Warn: s.opts.Warn, Config: s.config, Lifecycle: s.Lifecycle()}
}

// HoldExclusively turns the session's backend lock exclusive (migrate),
// calling waiting when other commands hold it, and checks that the config
// still names the backend this session opened: the lock was given up for a
// moment, and another migrate may have switched it meanwhile.
func (s *Session) HoldExclusively(ctx context.Context, waiting func(max time.Duration)) error {
	if s.lock == nil {
		return fmt.Errorf("cannot take the backend lock: %v", s.lockErr)
	}
	lctx, cancel := context.WithTimeout(ctx, time.Second)
	err := s.lock.Exclusive(lctx)
	cancel()
	if errors.Is(err, filelock.ErrTimeout) {
		if waiting != nil {
			waiting(migrateLockWait)
		}
		lctx, cancel := context.WithTimeout(ctx, migrateLockWait)
		err = s.lock.Exclusive(lctx)
		cancel()
		if errors.Is(err, filelock.ErrTimeout) {
			return fmt.Errorf("other git-credential-glpat commands kept using the credentials for %s (a login or unlock waiting at its prompt?)", migrateLockWait)
		}
	}
	if err != nil {
		return err
	}
	cfg, err := config.Load(s.ConfigPath)
	if err != nil {
		return err
	}
	if cfg.Backend != s.Kind {
		return fmt.Errorf("the config now names backend %q: another migrate ran meanwhile", cfg.Backend)
	}
	return nil
}

// migrateLockWait bounds how long migrate waits for the commands that are
// using the secrets to finish.
const migrateLockWait = time.Minute
