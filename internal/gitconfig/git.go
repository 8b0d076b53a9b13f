// Package gitconfig owns git's rules for its config and credential URLs: it runs git, reads its version and credential.* keys, and works out which helpers git asks for a URL, as git's urlmatch.c and credential.c do.
package gitconfig

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

// Runner runs git with args and returns what it printed on stdout. A git
// that exits with a non-zero status returns a *Error; a git that cannot be
// started returns an error that errors.Is exec.ErrNotFound when it is not
// installed.
type Runner interface {
	Git(ctx context.Context, args ...string) ([]byte, error)
}

// Exec runs the real git.
type Exec struct {
	// Path is the git program; "git", looked up in PATH, when empty.
	Path string
	// Dir is the directory git runs in; the current directory when empty.
	// Inside a repository, git also reads that repository's config.
	Dir string
	// Env is added to this process's environment for git; tests use it.
	Env []string
}

// Git runs git.
func (g Exec) Git(ctx context.Context, args ...string) ([]byte, error) {
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
		return stdout.Bytes(), &Error{Args: args, ExitCode: exit.ExitCode(), Stderr: strings.TrimSpace(stderr.String())}
	}
	return nil, fmt.Errorf("git %s: %w", strings.Join(args, " "), err)
}

// Error is a git command that exited with a non-zero status.
type Error struct {
	Args     []string
	ExitCode int
	Stderr   string // what git printed on stderr, trimmed
}

func (e *Error) Error() string {
	msg := e.Stderr
	if msg == "" {
		msg = "exit status " + strconv.Itoa(e.ExitCode)
	}
	msg, _, _ = strings.Cut(msg, "\n")
	return "git " + strings.Join(e.Args, " ") + ": " + msg
}

// noMatch reports whether err is `git config`'s exit status 1 with nothing
// on stderr: the key or pattern asked for is not set.
func noMatch(err error) bool {
	var ge *Error
	return errors.As(err, &ge) && ge.ExitCode == 1 && ge.Stderr == ""
}

// Version is git's version as major.minor.patch.
type Version [3]int

// Versions of git whose features this program's setup and lookups depend
// on (https://github.com/git/git/tree/master/Documentation/RelNotes).
var (
	// Git 2.26 matches credential.<url> keys whose <url> is not a full
	// URL, and has `git config --show-scope`.
	PartialURLs = Version{2, 26}
	// Git 2.30 has `git config --fixed-value`, which removes a value
	// without reading it as a regular expression.
	FixedValue = Version{2, 30}
)

// AtLeast reports whether v is o or newer.
func (v Version) AtLeast(o Version) bool {
	for i := range v {
		if v[i] != o[i] {
			return v[i] > o[i]
		}
	}
	return true
}

// versionRE reads "git version 2.45.1", "git version 2.39.3 (Apple Git-146)"
// and "git version 2.45.1.windows.1".
var versionRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^git version (\d+)\.(\d+)(?:\.(\d+))?`) }) // compiled on use: not on the get path

// ParseVersion reads the output of `git version`.
func ParseVersion(out string) (Version, bool) {
	m := versionRE().FindStringSubmatch(strings.TrimSpace(out))
	if m == nil {
		return Version{}, false
	}
	var v Version
	for i := range 3 {
		v[i], _ = strconv.Atoi(m[i+1])
	}
	return v, true
}
