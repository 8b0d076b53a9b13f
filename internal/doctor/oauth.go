package doctor

import (
	"time"

	"github.com/glpat-dev/git-credential-glpat/internal/account"
	"github.com/glpat-dev/git-credential-glpat/internal/config"
	"github.com/glpat-dev/git-credential-glpat/internal/hostarg"
	"github.com/glpat-dev/git-credential-glpat/internal/lifecycle"
)

// oauthCheck reports an OAuth credential (login --oauth): its refresh
// token alive, the config able to refresh it, its last refresh.
func oauthCheck(en account.Entry, cfg *config.Config) Check {
	host := hostarg.Format(en.Protocol, en.Host)
	c := Check{Name: "OAuth login " + host + " (" + en.Username + ")"}
	login := "run `" + loginCommand(en) + "`"
	access := "the access token"
	if en.AccessExpiry != nil {
		access += " (until " + en.AccessExpiry.Local().Format(time.Kitchen) + ")"
	}
	switch st := en.Token.State; {
	case st == lifecycle.Revoked:
		c.Status, c.Detail, c.Fix = StatusFail, "the login has ended: "+en.Problem, login
	case cfg.Host(en.Host).OAuthClientID == "":
		c.Status = StatusFail
		c.Detail = "the config names no oauth_client_id under [hosts.\"" + en.Host + "\"], so " + access + " cannot be refreshed"
		c.Fix = "put the application's Application ID back as oauth_client_id under [hosts.\"" + en.Host + "\"] in the config file"
	case en.RecoveryFile != "":
		c.Status, c.Detail = StatusWarn, en.Problem
		c.Fix = "see the keychain check above; the next git command for " + host + " stores it"
	case st == lifecycle.HeldBack:
		c.Status, c.Detail = StatusWarn, en.Problem
		c.Fix = "check the repository's URL and your access to it on " + host
	case en.RotationFailed:
		c.Status, c.Detail = StatusWarn, en.Problem
		c.Fix = "run `git-credential-glpat rotate " + host + " --force` and read what it says"
	case en.SecretMissing:
		c.Status, c.Detail, c.Fix = StatusFail, en.Problem, login
	case en.SecretError != "":
		c.Status = StatusWarn
		c.Detail = "its secret cannot be read: " + en.SecretError
		c.Fix = "see the keychain check above; nothing is lost while it cannot be read"
	case en.APIError != "":
		c.Status = StatusWarn
		c.Detail = "could not ask GitLab about it: " + en.APIError
		c.Fix = "check the network, and api_url and ca_file for " + host + " in the config file"
	case st == lifecycle.DueForRotation:
		c.Status, c.Detail = StatusOK, access+" is due for a refresh: the next git command on "+host+" refreshes it"
	default:
		c.Status, c.Detail = StatusOK, access+" is refreshed before it expires, once for every git process"
	}
	return c
}
