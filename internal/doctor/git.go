package doctor

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"

	"github.com/glpat-dev/git-credential-glpat/internal/gitconfig"
)

// Git versions whose features a person notices
// (https://github.com/git/git/tree/master/Documentation/RelNotes).
var (
	// Git 2.40 reads password_expiry_utc from helpers, so it knows when
	// a token stops working.
	gitExpiry = gitconfig.Version{2, 40}
	// Git 2.41 sends helpers wwwauth[], the server's WWW-Authenticate
	// challenges.
	gitWWWAuth = gitconfig.Version{2, 41}
)

func checkGit(ctx context.Context, env *Env) (Check, gitconfig.Version, bool) {
	c := Check{Name: "git"}
	out, err := env.Git.Git(ctx, "version")
	switch {
	case errors.Is(err, exec.ErrNotFound):
		c.Status, c.Detail = StatusFail, "git is not on PATH"
		c.Fix = "install git (2.41 or later), or put it on PATH; git runs this helper, so nothing works without it"
		return c, gitconfig.Version{}, false
	case err != nil:
		c.Status, c.Detail = StatusFail, "cannot run git: "+err.Error()
		c.Fix = "make `git version` work in this shell"
		return c, gitconfig.Version{}, false
	}
	v, ok := gitconfig.ParseVersion(string(out))
	if !ok {
		c.Status, c.Detail = StatusWarn, fmt.Sprintf("cannot read the git version from %q", firstLine(string(out)))
		c.Fix = "check that `git` runs the real git"
		return c, gitconfig.Version{}, false
	}
	name := strings.TrimSpace(firstLine(string(out)))
	switch {
	case !v.AtLeast(gitconfig.FixedValue):
		c.Status = StatusWarn
		c.Detail = name + " is older than 2.30: `git-credential-glpat setup` cannot write git's config with it (it needs `git config --fixed-value`), and git ignores password_expiry_utc (2.40+) and sends no wwwauth[] (2.41+)"
		c.Fix = "upgrade git to 2.41 or later"
	case !v.AtLeast(gitExpiry):
		// This helper never hands out an expired token itself, so an
		// older git loses little; it is worth knowing, not a problem.
		c.Status = StatusInfo
		c.Detail = name + " works; git 2.40+ would also read password_expiry_utc, so that git itself knows when a token stops working, and 2.41+ sends wwwauth[], the server's authentication challenges"
	case !v.AtLeast(gitWWWAuth):
		c.Status = StatusOK
		c.Detail = name + " reads password_expiry_utc; 2.41+ would also send wwwauth[], the server's authentication challenges"
	default:
		c.Status, c.Detail = StatusOK, name
	}
	return c, v, true
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}
