// Package config reads the TOML config file and names the directories the helper keeps its files in.
package config

import (
	"errors"
	"github.com/glpat-dev/git-credential-glpat/internal/safefile"
	"io/fs"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Backend names a secret storage backend.
type Backend string

// The storage backends. Nothing ever falls back from one to another on its own.
const (
	BackendKeyring       Backend = "keyring"        // the OS keychain (default)
	BackendEncryptedFile Backend = "encrypted-file" // an age-encrypted file
	BackendKernel        Backend = "kernel"         // the Linux kernel's persistent keyring
)

// backends are the storage backends, the default first: the one list of
// their names (backend.Open has one row for each, and its test holds it to
// this list).
var backends = []Backend{BackendKeyring, BackendEncryptedFile, BackendKernel}

// Backends are the storage backends the config may name, the default
// first.
func Backends() []Backend { return slices.Clone(backends) }

// Defaults, used for whatever the config file does not set.
const (
	DefaultBackend      = BackendKeyring
	DefaultRotateBefore = Duration(30 * Day)
	DefaultLifetime     = Duration(90 * Day)
	DefaultAutoRotate   = true
)

// MaxLifetime is the longest lifetime GitLab gives a personal access token
// (https://docs.gitlab.com/user/profile/personal_access_tokens/#access-token-expiration).
const MaxLifetime = Duration(365 * Day)

// maxFileSize bounds the config file read on every git fetch: anything
// larger is not a hand-written config file.
const maxFileSize = 1 << 20

// Config is the parsed config file with defaults applied. The zero value is
// not useful; use Load or Default.
type Config struct {
	// Path is the file the config was loaded from; it need not exist.
	Path string

	Backend      Backend
	RotateBefore Duration // rotate when less than this is left
	Lifetime     Duration // expiry given to a rotated token
	AutoRotate   bool     // rotate inside `get`; false: only `rotate` rotates

	hosts map[string]HostConfig // by lower-cased host key
}

// Account is one [[hosts."…".accounts]] entry: the user to log in as for
// repositories under Paths.
type Account struct {
	Username string
	// Paths are namespace prefixes like "acme" or "acme/team", stored
	// without leading or trailing slashes.
	Paths []string
}

// HostConfig is the configuration that applies to one host, with per-host
// overrides applied over the global settings.
type HostConfig struct {
	// Host is the host key as the config file writes it, or the host asked
	// for when the config does not name it.
	Host string
	// APIURL is the configured api_url without a trailing slash, or empty
	// when the config sets none; Config.APIURL applies the default.
	APIURL   string
	Username string // default account on this host; empty when unset
	CAFile   string // extra CA certificates (PEM); empty when unset
	// OAuthClientID is the Application ID of the OAuth application a
	// person registered on this GitLab for login --oauth; empty when
	// unset. The helper ships none.
	OAuthClientID string

	RotateBefore Duration
	Lifetime     Duration
	AutoRotate   bool
	// Known reports whether the config file has a table for this host.
	// (Beside AutoRotate, so that the two share a word: the struct fits
	// 128 bytes, the most a map keeps inline, and reading a config costs
	// no allocation per host for it; TestHostConfigFitsInAMapSlot.)
	Known bool

	Accounts []Account
}

// Error is a problem with the config file. Line is 0 when the problem is
// not on one line (an unreadable file, say).
type Error struct {
	File string
	Line int
	// Key is the dotted TOML key the problem is about, like
	// `hosts."gitlab.com".lifetime`; empty for syntax errors.
	Key string
	Msg string
	// Err is what failed, when the problem is not in the file's content
	// (a *safefile.NotPrivateError, say).
	Err error
}

func (e *Error) Unwrap() error { return e.Err }

func (e *Error) Error() string {
	if e.Line > 0 {
		return "config: " + e.File + ":" + strconv.Itoa(e.Line) + ": " + e.Msg
	}
	return "config: " + e.File + ": " + e.Msg
}

// Default returns the configuration used when there is no config file.
func Default() *Config {
	return &Config{
		Backend:      DefaultBackend,
		RotateBefore: DefaultRotateBefore,
		Lifetime:     DefaultLifetime,
		AutoRotate:   DefaultAutoRotate,
	}
}

// Load reads the config file at path. A missing file means all defaults.
// Every problem is reported as an *Error naming the file and, when it can,
// the line and key: unknown keys are errors, so that a typo cannot silently
// switch rotation off.
//
// Load runs on every git fetch and push, so it reads the file once and does
// nothing else expensive; finding line numbers only happens for errors.
func Load(path string) (*Config, error) {
	c := Default()
	c.Path = path
	// Bounded in time, never a FIFO or a device (get reads this file), and
	// private: api_url decides where tokens are sent.
	data, err := safefile.ReadPrivate(path, maxFileSize)
	if errors.Is(err, fs.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return nil, readError(path, err)
	}
	if err := c.parse(data); err != nil {
		return nil, err
	}
	return c, nil
}

// readError is the *Error for a config file at path that
// safefile.ReadPrivate did not read.
func readError(path string, err error) *Error {
	e := &Error{File: path, Err: err}
	var np *safefile.NotPrivateError
	switch {
	case errors.As(err, &np) && np.Path == path:
		e.Msg = np.Problem + "; run " + np.Fix
	case errors.As(err, &np):
		e.Msg = np.Error() // a directory or symlink on the way, or the file a link names
	case errors.Is(err, safefile.ErrTooLarge):
		e.Msg = "file is larger than 1 MiB; this is not a config file"
	case errors.Is(err, safefile.ErrNotRegular):
		e.Msg = "is not a regular file; remove it"
		if fi, serr := os.Stat(path); serr == nil && fi.IsDir() {
			e.Msg = "is a directory, not a file"
		}
	default:
		e.Msg = "cannot read: " + errText(err)
	}
	return e
}

// errText is err's text without the path that *fs.PathError repeats.
func errText(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// Host returns the settings for host, the Git `host` attribute including
// any ":port". Host keys are compared case-insensitively, as host names are;
// anything else must match exactly, so "gitlab.com." (a fully qualified
// name, which a TLS certificate may not cover) is a different host from
// "gitlab.com".
func (c *Config) Host(host string) HostConfig {
	if h, ok := c.hosts[strings.ToLower(host)]; ok {
		return h
	}
	return HostConfig{Host: host, RotateBefore: c.RotateBefore, Lifetime: c.Lifetime, AutoRotate: c.AutoRotate}
}

// Hosts returns the host keys the config file names, as written, sorted.
func (c *Config) Hosts() []string {
	names := make([]string, 0, len(c.hosts))
	for _, h := range c.hosts {
		names = append(names, h.Host)
	}
	sort.Strings(names)
	return names
}

// AccountFor returns the username to use on host for the repository at
// path (Git's `path` attribute, like "acme/team/app.git"; Git only sends it
// with credential.useHttpPath). The account whose path prefix matches the
// most leading path segments wins; a prefix matches whole segments only, so
// "acme" matches "acme/app.git" but not "acmex/app.git". Segments compare
// case-insensitively, because GitLab finds groups and projects by path
// regardless of case, so "ACME/app.git" is the same repository. Without a
// matching account the host's username applies; ok is false when there is
// neither.
func (c *Config) AccountFor(host, path string) (username string, ok bool) {
	h := c.hosts[strings.ToLower(host)]
	path = strings.Trim(path, "/")
	best := -1
	for _, a := range h.Accounts {
		for _, p := range a.Paths {
			if n := strings.Count(p, "/") + 1; n > best && hasPathPrefix(path, p) {
				best, username = n, a.Username
			}
		}
	}
	if best >= 0 {
		return username, true
	}
	return h.Username, h.Username != ""
}

// hasPathPrefix reports whether prefix is path or a leading run of its segments.
func hasPathPrefix(path, prefix string) bool {
	if len(path) < len(prefix) || !strings.EqualFold(path[:len(prefix)], prefix) {
		return false
	}
	return len(path) == len(prefix) || path[len(prefix)] == '/'
}
