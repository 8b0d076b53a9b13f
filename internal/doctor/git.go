package doctor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// GitRunner runs git with args and returns what it printed on stdout. A
// git that exits with a non-zero status returns a *GitError; a git that
// cannot be started returns an error that errors.Is exec.ErrNotFound when
// it is not installed.
type GitRunner interface {
	Git(ctx context.Context, args ...string) ([]byte, error)
}

// ExecGit runs the real git.
type ExecGit struct {
	// Path is the git program; "git", looked up in PATH, when empty.
	Path string
	// Dir is the directory git runs in; the current directory when empty.
	// Inside a repository, git also reads that repository's config.
	Dir string
	// Env is added to this process's environment for git; tests use it.
	Env []string
}

// Git runs git.
func (g ExecGit) Git(ctx context.Context, args ...string) ([]byte, error) {
	path := g.Path
	if path == "" {
		path = "git"
	}
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Dir = g.Dir
	if g.Env != nil {
		cmd.Env = append(os.Environ(), g.Env...)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err == nil {
		return stdout.Bytes(), nil
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("git %s: %w", strings.Join(args, " "), ctx.Err())
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return stdout.Bytes(), &GitError{Args: args, ExitCode: exit.ExitCode(), Stderr: strings.TrimSpace(stderr.String())}
	}
	return nil, fmt.Errorf("git: %w", err)
}

// GitError is a git command that exited with a non-zero status.
type GitError struct {
	Args     []string
	ExitCode int
	Stderr   string // what git printed on stderr, trimmed
}

func (e *GitError) Error() string {
	msg := e.Stderr
	if msg == "" {
		msg = "exit status " + strconv.Itoa(e.ExitCode)
	}
	msg, _, _ = strings.Cut(msg, "\n")
	return "git " + strings.Join(e.Args, " ") + ": " + msg
}

// gitVersion is git's version as major.minor.patch.
type gitVersion [3]int

func (v gitVersion) atLeast(major, minor int) bool {
	return v[0] > major || v[0] == major && v[1] >= minor
}

func (v gitVersion) String() string { return fmt.Sprintf("%d.%d.%d", v[0], v[1], v[2]) }

// versionRE reads "git version 2.45.1", "git version 2.39.3 (Apple Git-146)"
// and "git version 2.45.1.windows.1".
var versionRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^git version (\d+)\.(\d+)(?:\.(\d+))?`) }) // compiled on use: not on the get path

func parseGitVersion(out string) (gitVersion, bool) {
	m := versionRE().FindStringSubmatch(strings.TrimSpace(out))
	if m == nil {
		return gitVersion{}, false
	}
	var v gitVersion
	for i := range 3 {
		v[i], _ = strconv.Atoi(m[i+1])
	}
	return v, true
}

// Git versions whose features this helper uses or whose absence a person
// notices (https://github.com/git/git/tree/master/Documentation/RelNotes).
const (
	// Git 2.40 reads password_expiry_utc from helpers, so it knows when
	// a token stops working.
	gitExpiryMajor, gitExpiryMinor = 2, 40
	// Git 2.41 sends helpers wwwauth[], the server's WWW-Authenticate
	// challenges.
	gitWWWAuthMajor, gitWWWAuthMinor = 2, 41
	// Git 2.30 has `git config --fixed-value`, which setup needs.
	gitSetupMajor, gitSetupMinor = 2, 30
	// Git 2.26 matches credential.<url> keys whose <url> is not a full
	// URL, and has `git config --show-scope`.
	gitPartialMajor, gitPartialMinor = 2, 26
)

func checkGit(ctx context.Context, env *Env) (Check, gitVersion, bool) {
	c := Check{Name: "git"}
	out, err := env.Git.Git(ctx, "version")
	switch {
	case errors.Is(err, exec.ErrNotFound):
		c.Status, c.Detail = StatusFail, "git is not on PATH"
		c.Fix = "install git (2.41 or later), or put it on PATH; git runs this helper, so nothing works without it"
		return c, gitVersion{}, false
	case err != nil:
		c.Status, c.Detail = StatusFail, "cannot run git: "+err.Error()
		c.Fix = "make `git version` work in this shell"
		return c, gitVersion{}, false
	}
	v, ok := parseGitVersion(string(out))
	if !ok {
		c.Status, c.Detail = StatusWarn, fmt.Sprintf("cannot read the git version from %q", firstLine(string(out)))
		c.Fix = "check that `git` runs the real git"
		return c, gitVersion{}, false
	}
	name := strings.TrimSpace(firstLine(string(out)))
	switch {
	case !v.atLeast(gitSetupMajor, gitSetupMinor):
		c.Status = StatusWarn
		c.Detail = name + " is older than 2.30: `git-credential-glpat setup` cannot write git's config with it (it needs `git config --fixed-value`), and git ignores password_expiry_utc (2.40+) and sends no wwwauth[] (2.41+)"
		c.Fix = "upgrade git to 2.41 or later"
	case !v.atLeast(gitExpiryMajor, gitExpiryMinor):
		// This helper never hands out an expired token itself, so an
		// older git loses little; it is worth knowing, not a problem.
		c.Status = StatusInfo
		c.Detail = name + " works; git 2.40+ would also read password_expiry_utc, so that git itself knows when a token stops working, and 2.41+ sends wwwauth[], the server's authentication challenges"
	case !v.atLeast(gitWWWAuthMajor, gitWWWAuthMinor):
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
