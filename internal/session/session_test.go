package session

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/glpat-dev/git-credential-glpat/internal/backend"
	"github.com/glpat-dev/git-credential-glpat/internal/config"
	"github.com/glpat-dev/git-credential-glpat/internal/credential"
	"github.com/glpat-dev/git-credential-glpat/internal/filelock"
	"github.com/glpat-dev/git-credential-glpat/internal/keyringtest"
	"github.com/glpat-dev/git-credential-glpat/internal/store"
)

func TestMain(m *testing.M) { os.Exit(keyringtest.Main(m)) }

// open opens a session on a fresh state directory and config, with the
// real (private) keyring under a service name of the test's own.
func open(t *testing.T, dir string) *Session {
	t.Helper()
	s, err := Open(Options{
		StateDir:   filepath.Join(dir, "state"),
		ConfigPath: filepath.Join(dir, "config.toml"),
		Writes:     true,
		Backend:    []backend.Option{backend.WithKeychainService(fmt.Sprintf("git-credential-glpat-sessiontest-%d", os.Getpid()))},
	})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func TestOpenHoldsTheBackendLockUntilClose(t *testing.T) {
	keyringtest.Require(t)
	dir := t.TempDir()
	s := open(t, dir)
	if s.Kind != config.BackendKeyring {
		t.Errorf("Kind = %q, want %q (no config file)", s.Kind, config.BackendKeyring)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.Store.Secrets.Set(ctx, "acct", "secret"); err != nil {
		t.Fatalf("Set: %v", err)
	}
	t.Cleanup(func() { s.Store.Secrets.Delete(context.Background(), "acct") })
	if got, err := s.Store.Secrets.Get(ctx, "acct"); err != nil || got != "secret" {
		t.Fatalf("Get = %q, %v; want the secret", got, err)
	}
	// Another command may run beside it (shared); a migrate may not.
	other := open(t, dir)
	other.Close()
	lock := filepath.Join(dir, "state", LockName)
	short, cancelShort := context.WithTimeout(ctx, 200*time.Millisecond)
	_, err := filelock.Acquire(short, lock)
	cancelShort()
	if !errors.Is(err, filelock.ErrTimeout) {
		t.Fatalf("exclusive lock while a session is open: %v, want a timeout", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	l, err := filelock.Acquire(ctx, lock)
	if err != nil {
		t.Fatalf("exclusive lock after Close: %v", err)
	}
	l.Unlock()
}

func TestHoldExclusivelyRefusesAConfigSwitchedMeanwhile(t *testing.T) {
	keyringtest.Require(t)
	dir := t.TempDir()
	s := open(t, dir)
	defer s.Close()
	if _, err := s.Accounts(); err != nil {
		t.Fatalf("Accounts: %v", err)
	}
	if err := config.SetBackend(s.ConfigPath, config.BackendKernel); err != nil {
		t.Fatal(err)
	}
	err := s.HoldExclusively(context.Background(), nil)
	if err == nil || !strings.Contains(err.Error(), "another migrate ran meanwhile") {
		t.Fatalf("HoldExclusively = %v, want the config switched meanwhile", err)
	}
}

// TestAccountsChangesNothing: the account services are queries of the
// session: the store says what it will not serve (Options.Notice) from
// Open on, whether or not Accounts was asked for, and the doctor's service
// (which reports it in its checks) says nothing besides.
func TestAccountsChangesNothing(t *testing.T) {
	keyringtest.Require(t)
	dir := t.TempDir()
	var notices []error
	s, err := Open(Options{
		StateDir:   filepath.Join(dir, "state"),
		ConfigPath: filepath.Join(dir, "config.toml"),
		Writes:     true,
		Backend:    []backend.Option{backend.WithKeychainService(fmt.Sprintf("git-credential-glpat-sessiontest-%d", os.Getpid()))},
		Notice:     func(err error) { notices = append(notices, err) },
	})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	// A record planted in another host's file: never served, and said.
	index := filepath.Join(dir, "state", "index")
	os.MkdirAll(index, 0o700)
	os.WriteFile(filepath.Join(index, "https_a.example.json"), []byte(`{"version": 2, "records": [
 {"account": "https://u@evil.example", "protocol": "https", "host": "evil.example", "username": "u", "stored_at": "2026-01-01T00:00:00Z"}]}`), 0o600)
	find := func(st *store.Store) {
		if recs, err := st.Find(&credential.Credential{Protocol: "https", Host: "a.example"}); err != nil || len(recs) != 0 {
			t.Fatalf("Find = %v, %v; want nothing served", recs, err)
		}
	}

	find(s.Store)
	if len(notices) != 1 {
		t.Errorf("before Accounts: %d notices, want 1", len(notices))
	}
	doctor := s.AccountsForDoctor()
	if _, err := s.Accounts(); err != nil {
		t.Fatal(err)
	}
	find(doctor.Store)
	find(s.Store)
	if len(notices) != 2 {
		t.Errorf("after Accounts and the doctor's: %d notices, want 2 (the doctor's store says nothing)", len(notices))
	}
	var inconsistent *store.InconsistentError
	for _, n := range notices {
		if !errors.As(n, &inconsistent) {
			t.Errorf("notice %v, want a *store.InconsistentError", n)
		}
	}
}
