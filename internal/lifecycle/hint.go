package lifecycle

import "github.com/glpat-dev/git-credential-glpat/internal/store"

// LoginCommand is the command that logs rec's account in again. It always
// names the account (--username): on a host with several accounts a bare
// `login HOST` would store one person's token under another's account.
func (m *Manager) LoginCommand(rec *store.Record) string {
	return "git-credential-glpat login " + rec.Host + " --username " + rec.Username
}
