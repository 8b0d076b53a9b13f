package lifecycle

import (
	"github.com/glpat-dev/git-credential-glpat/internal/hostarg"
	"github.com/glpat-dev/git-credential-glpat/internal/store"
)

// LoginCommand is the command that logs rec's account in again (Login).
func (m *Manager) LoginCommand(rec *store.Record) string {
	return Login(hostarg.Host{Protocol: rec.Protocol, Name: rec.Host}, rec.Username, rec.OAuth != nil)
}

// Login is the login hint: the command that logs in to host (printed as
// every command prints it) as username, with GitLab's OAuth when oauth.
// Every message that tells a person to log in gives it. It names the
// account (--username) whenever it is known: on a host with several
// accounts a bare `login HOST` would store one person's token under
// another's account.
func Login(host hostarg.Host, username string, oauth bool) string {
	cmd := "git-credential-glpat login " + host.String()
	if username != "" {
		cmd += " --username " + username
	}
	if oauth {
		cmd += " --oauth"
	}
	return cmd
}

// hostOf is rec's host as every command prints it (hostarg.Format).
func hostOf(rec *store.Record) string { return hostarg.Format(rec.Protocol, rec.Host) }
