package doctor

import (
	"github.com/glpat-dev/git-credential-glpat/internal/account"
	"github.com/glpat-dev/git-credential-glpat/internal/config"
	"github.com/glpat-dev/git-credential-glpat/internal/hostarg"
)

// oauthCheck reports an OAuth credential (login --oauth): the verdict
// every command gives it.
func oauthCheck(en account.Entry, cfg *config.Config) Check {
	c := verdictCheck("OAuth login "+hostarg.Format(en.Protocol, en.Host)+" ("+en.Username+")", en)
	if c.Status == StatusOK && c.Detail == "" {
		c.Detail = "the access token is refreshed before it expires, once for every git process"
	}
	return c
}
