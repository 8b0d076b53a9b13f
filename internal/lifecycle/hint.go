package lifecycle

import (
	"github.com/glpat-dev/git-credential-glpat/internal/hostarg"
	"github.com/glpat-dev/git-credential-glpat/internal/store"
)

// LoginCommand is the command that logs rec's account in again. It always
// names the account (--username): on a host with several accounts a bare
// `login HOST` would store one person's token under another's account.
func (m *Manager) LoginCommand(rec *store.Record) string {
	return "git-credential-glpat login " + hostOf(rec) + " --username " + rec.Username
}

// hostOf is rec's host as every command prints it (hostarg.Format).
func hostOf(rec *store.Record) string { return hostarg.Format(rec.Protocol, rec.Host) }
