package lifecycle

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/glpat-dev/git-credential-glpat/internal/filelock"
	"github.com/glpat-dev/git-credential-glpat/internal/store"
)

// Tidy removes what a finished rotation left behind when its process died
// after the keychain write: a journal naming a token that is no longer the
// stored one, and a recovery file holding the token that is now stored (a
// copy of a secret outside the keychain has no reason to stay). It reports
// whether it removed anything. It never removes a recovery file whose token
// differs from the stored one: that may be the only copy.
func (m *Manager) Tidy(rec *store.Record, sec *store.Secret) bool {
	tidied := false
	if j, ok := m.readJournal(rec.Account); ok && journalFinished(rec, j) {
		m.removeJournal(rec.Account)
		tidied = true
	}
	name := m.RecoveryFile(rec.Account, false)
	if tok, ok := m.readRecovery(rec.Account); ok && tok == sec.Password {
		os.Remove(name)
		tidied = true
	}
	return tidied
}

// HasLeftovers reports, without reading any secret, whether a rotation left
// a journal or a recovery file for account (so that Tidy has work to do).
func (m *Manager) HasLeftovers(account string) bool {
	for _, p := range []string{m.path("rotation", account, ".pending"), m.RecoveryFile(account, false)} {
		if _, err := os.Stat(p); err == nil {
			return true
		}
	}
	return false
}

// Exclusive runs fn holding the rotation lock and the refresh locks of
// oauthAccounts, so that no rotation, nor a refresh of those accounts, runs
// meanwhile, and none that started before is left to store its new token
// afterwards. logout holds them: a rotation or refresh under way would
// otherwise store its new token after the account was forgotten (and, with
// --revoke, after the old one was revoked), so that a live token came back.
func (m *Manager) Exclusive(ctx context.Context, oauthAccounts []string, fn func() error) error {
	wait := m.LockWait
	if wait == 0 {
		wait = defaultLockWait
	}
	lctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	names := []string{m.lockPath(nil)}
	for _, a := range oauthAccounts {
		names = append(names, m.path("oauth", a, ".lock"))
	}
	for _, name := range names {
		if err := os.MkdirAll(filepath.Dir(name), 0o700); err != nil {
			return err
		}
		lock, err := filelock.Acquire(lctx, name)
		if err != nil {
			return fmt.Errorf("waiting for a rotation or refresh under way to finish: %w", err)
		}
		defer lock.Unlock()
	}
	return fn()
}

// RecoveredToken is the token a rotation of account left in its recovery
// file (its process died before the keychain took it, or the keychain
// refused it), if any. It may have been planted: GitLab decides what it is.
func (m *Manager) RecoveredToken(account string) (string, bool) {
	return m.readRecovery(account)
}

// RecoveredOAuthRefreshToken is the refresh token of the pair a refresh of
// account left in its recovery file, if any (see RecoveredToken).
func (m *Manager) RecoveredOAuthRefreshToken(account string) (string, bool) {
	p, ok := m.readOAuthRecovery(account)
	if !ok {
		return "", false
	}
	return p.Refresh, true
}

// Forget removes what rotations and refreshes of account left in the state
// dir, its journals and recovery files: logout forgets the account, and a
// recovery file no record names would keep a token on disk for good.
func (m *Manager) Forget(account string) {
	m.removeJournal(account)
	m.removeOAuthJournal(account)
	os.Remove(m.RecoveryFile(account, false))
	os.Remove(m.RecoveryFile(account, true))
}
