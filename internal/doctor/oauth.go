package doctor

import (
	"github.com/glpat-dev/git-credential-glpat/internal/account"
	"github.com/glpat-dev/git-credential-glpat/internal/config"
)

// oauthCheck reports an OAuth credential (login --oauth): the verdict
// every command gives it.
func oauthCheck(en account.Entry, cfg *config.Config) Check {
	c := verdictCheck("OAuth login "+en.Host+" ("+en.Username+")", en)
	if c.Status == StatusOK && c.Detail == "" {
		c.Detail = "the access token is refreshed before it expires, once for every git process"
	}
	return c
}
