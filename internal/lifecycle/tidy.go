package lifecycle

import (
	"os"

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
	name := m.path("recovery", rec.Account, ".token")
	if tok, ok := m.readRecovery(rec.Account); ok && tok == sec.Password {
		os.Remove(name)
		tidied = true
	}
	return tidied
}

// HasLeftovers reports, without reading any secret, whether a rotation left
// a journal or a recovery file for account (so that Tidy has work to do).
func (m *Manager) HasLeftovers(account string) bool {
	for _, p := range []string{m.path("rotation", account, ".pending"), m.path("recovery", account, ".token")} {
		if _, err := os.Stat(p); err == nil {
			return true
		}
	}
	return false
}
