// Package gitsetup makes this program Git's only credential helper for GitLab hosts in the user's global git config, and undoes exactly that.
package gitsetup

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/glpat-dev/git-credential-glpat/internal/gitconfig"
)

// Host is a GitLab host to set up.
type Host struct {
	// Protocol is "https" (the default when empty) or "http".
	Protocol string
	// Host is Git's `host` attribute: a host name with ":port" if any.
	Host string
	// UseHTTPPath also sets credential.<url>.useHttpPath, so that Git sends
	// the repository path and accounts can be chosen by group
	// (https://git-scm.com/docs/gitcredentials#Documentation/gitcredentials.txt-useHttpPath).
	UseHTTPPath bool
}

// URL is the credential context the config lines are for, like
// "https://gitlab.com" (https://git-scm.com/docs/gitcredentials#_credential_contexts).
func (h Host) URL() string {
	p := h.Protocol
	if p == "" {
		p = "https"
	}
	return strings.ToLower(p) + "://" + strings.ToLower(h.Host)
}

func (h Host) check() error {
	switch strings.ToLower(h.Protocol) {
	case "", "https", "http":
	default:
		return fmt.Errorf("gitsetup: protocol %q is not https or http", h.Protocol)
	}
	if h.Host == "" {
		return errors.New("gitsetup: empty host")
	}
	for _, r := range h.Host {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune(".-_:[]", r)) {
			return fmt.Errorf("gitsetup: %q is not a host name", h.Host)
		}
	}
	return nil
}

// Options say which git to run, what to write and where to remember it.
type Options struct {
	// Git is the git program; "git" (looked up in PATH) when empty.
	Git string
	// Binary is the absolute path of this helper as it should appear in
	// the git config. Prefer the path users run (a package manager's
	// stable symlink) over the resolved target, which moves on upgrade.
	Binary string
	// StateDir is where setup records what it wrote, so that Undo removes
	// exactly that.
	StateDir string
}

// Action says what happened to one git config key.
type Action string

// The actions a Change reports.
const (
	Added       Action = "added"           // values were appended
	Unchanged   Action = "unchanged"       // the config already ended with them
	Removed     Action = "removed"         // values setup had written were removed
	AlreadyGone Action = "already removed" // setup had written values, and someone removed them
	NotSetUp    Action = "not set up"      // setup has no record of writing this key
	Replaced    Action = "replaced"        // values setup wrote earlier (Old) were removed, and Values added at the end
)

// Change describes what Setup or Undo did to one key, for main to print.
type Change struct {
	URL    string // credential context, like "https://gitlab.com"
	Key    string // git config key, like "credential.https://gitlab.com.helper"
	Action Action
	Values []string // values added or removed, in file order
	// Old are the values a Replaced change removed (setup's own earlier
	// pair: the program moved, or lines were added after it).
	Old  []string
	File string // config file written; empty when nothing was written
	// Warning is something a person should act on, such as another helper
	// that Git still asks; empty when all is well.
	Warning string
}

// HelperValue returns the credential.helper value that runs binary. Git
// runs a helper that is an absolute path through the shell, with the
// operation appended; a value starting with "!" is a shell snippet
// (https://git-scm.com/docs/gitcredentials#_custom_helpers). A path without
// shell metacharacters is written as is; any other path becomes
// !'<path>', because quoting alone would make it not start with "/", and
// Git would then run "git credential-'<path>'". On Windows the path uses
// forward slashes, which Git's shell leaves alone.
func HelperValue(binary string) (string, error) {
	if !filepath.IsAbs(binary) {
		return "", fmt.Errorf("gitsetup: helper path %q is not absolute", binary)
	}
	if strings.ContainsAny(binary, "\x00\n\r") {
		return "", fmt.Errorf("gitsetup: helper path %q contains a line break or NUL", binary)
	}
	p := filepath.ToSlash(binary)
	// The characters that make Git hand a command to the shell rather
	// than exec it (prepare_shell_cmd in Git's run-command.c): the shell
	// would split or expand them.
	if !strings.ContainsAny(p, "|&;<>()$`\\\"' \t*?[#~=%") {
		return p, nil
	}
	return "!'" + strings.ReplaceAll(p, "'", `'\''`) + "'", nil
}

// Setup makes the helper at opts.Binary the only credential helper Git
// asks for each host. For each host it appends to the global git config
//
//	credential.<url>.helper = ""          (an empty value clears the helpers configured before it)
//	credential.<url>.helper = <binary>
//
// so that helpers such as osxkeychain, manager or store, configured
// earlier, are not asked and cannot hand out a stale token
// (https://git-scm.com/docs/gitcredentials#Documentation/gitcredentials.txt-helper).
// A host whose helper list already ends with that pair is left alone, so
// running Setup twice changes nothing. A pair Setup wrote before that is
// no longer last (the program moved, or lines were added after it) is
// removed before the pair is added again. What is written is recorded in
// opts.StateDir for Undo.
//
// git config appends to the last existing [credential "<url>"] section,
// which may come before a later [credential] section; when Git would still
// ask another helper for the host (or a later empty value clears ours),
// the Change carries a Warning saying which line to move.
func Setup(ctx context.Context, opts Options, hosts []Host) ([]Change, error) {
	g, st, helper, err := start(ctx, opts, hosts)
	if err != nil {
		return nil, err
	}
	var changes []Change
	for _, h := range hosts {
		c, err := setupHost(ctx, g, st, h, helper)
		changes = append(changes, c...)
		if err != nil {
			return changes, err
		}
	}
	return changes, nil
}

// Undo removes what Setup wrote for each host, and nothing else: values the
// user added before or after are kept, and a value Setup wrote that was
// since removed by hand is reported as already gone. A host Setup has no
// record of is reported as not set up, and nothing is touched.
//
// Values are removed with `git config --fixed-value --unset`. When the same
// value appears more than once in the file (another tool's empty helper
// value, say), git cannot remove just one of them; Undo then edits the file
// itself, under git's lock, and only after git confirms that the edited file
// reads exactly as before minus those values.
func Undo(ctx context.Context, opts Options, hosts []Host) ([]Change, error) {
	g, st, _, err := start(ctx, opts, hosts)
	if err != nil {
		return nil, err
	}
	var changes []Change
	for _, h := range hosts {
		c, err := undoHost(ctx, g, st, h, opts.Binary)
		changes = append(changes, c...)
		if err != nil {
			return changes, err
		}
	}
	return changes, nil
}

// SetUpHosts lists the hosts Setup has a record of writing lines for, so
// that an undo without arguments can undo them all.
func SetUpHosts(opts Options) ([]Host, error) {
	st, err := loadState(opts.StateDir)
	if err != nil {
		return nil, err
	}
	var hosts []Host
	index := map[string]int{}
	for _, e := range st.Entries {
		url, name, ok := splitKey(e.Key)
		protocol, host, isURL := strings.Cut(url, "://")
		if !ok || !isURL {
			continue
		}
		i, seen := index[url]
		if !seen {
			i = len(hosts)
			index[url] = i
			hosts = append(hosts, Host{Protocol: protocol, Host: host})
		}
		if name == "usehttppath" {
			hosts[i].UseHTTPPath = true
		}
	}
	return hosts, nil
}

func start(ctx context.Context, opts Options, hosts []Host) (*gitRunner, *state, string, error) {
	helper, err := HelperValue(opts.Binary)
	if err != nil {
		return nil, nil, "", err
	}
	if opts.StateDir == "" {
		return nil, nil, "", errors.New("gitsetup: no state directory")
	}
	for _, h := range hosts {
		if err := h.check(); err != nil {
			return nil, nil, "", err
		}
	}
	g := &gitRunner{r: gitconfig.Exec{Path: opts.Git}}
	if err := g.checkVersion(ctx); err != nil {
		return nil, nil, "", err
	}
	st, err := loadState(opts.StateDir)
	if err != nil {
		return nil, nil, "", err
	}
	return g, st, helper, nil
}

func helperKey(url string) string      { return "credential." + url + ".helper" }
func useHTTPPathKey(url string) string { return "credential." + url + ".usehttppath" }

func setupHost(ctx context.Context, g *gitRunner, st *state, h Host, helper string) ([]Change, error) {
	url := h.URL()
	key := helperKey(url)
	want := []string{"", helper}
	var changes []Change

	entries, err := g.globalEntries(ctx)
	if err != nil {
		return nil, err
	}
	main := Change{URL: url, Key: key, Action: Unchanged, Values: want}
	if !endsWith(entries.values(key), want) {
		var old []string
		// Setup ran before, but its pair is no longer last (the program
		// moved, or lines were added after it): remove the old pair rather
		// than leave it behind, where Undo could not find it.
		if rec := st.find(url, "helper"); rec != nil {
			removed, file, err := g.removeRecorded(ctx, entries, key, rec.Values)
			if err != nil {
				return changes, err
			}
			if len(removed) > 0 {
				old = removed
				// Until the new pair is written, what was done is a removal.
				changes = append(changes, Change{URL: url, Key: key, Action: Removed, Values: removed, File: file})
			}
		}
		// Record before writing: a record of lines that were never
		// written only makes Undo report them as already gone, while
		// lines written without a record could never be undone.
		st.put(key, want)
		if err := st.save(); err != nil {
			return changes, err
		}
		if err := g.add(ctx, key, ""); err != nil {
			return changes, err
		}
		if err := g.add(ctx, key, helper); err != nil {
			// Do not leave a lone reset that silences the user's helpers.
			if entries, lerr := g.globalEntries(ctx); lerr == nil {
				_, _, _ = g.removeRecorded(ctx, entries, key, []string{""})
			}
			return changes, err
		}
		main.Action = Added
		if old != nil {
			// One key, one line: the removal and the addition are one
			// replacement.
			changes = changes[:0]
			main.Action, main.Old = Replaced, old
		}
	}

	var httpPath *Change
	if h.UseHTTPPath {
		c, err := setupUseHTTPPath(ctx, g, st, url)
		if err != nil {
			return append(changes, main), err
		}
		httpPath = &c
	}

	// Say where the lines are, and whether Git will still ask another helper.
	entries, err = g.globalEntries(ctx)
	if err != nil {
		return append(changes, main), err
	}
	if vals := entries.of(key); (main.Action == Added || main.Action == Replaced) && len(vals) > 0 {
		main.File = vals[len(vals)-1].File()
	}
	if vals := entries.of(useHTTPPathKey(url)); httpPath != nil && httpPath.Action == Added && len(vals) > 0 {
		httpPath.File = vals[len(vals)-1].File()
	}
	main.Warning = entries.helperWarning(h, helper)
	changes = append(changes, main)
	if httpPath != nil {
		changes = append(changes, *httpPath)
	}
	return changes, nil
}

func setupUseHTTPPath(ctx context.Context, g *gitRunner, st *state, url string) (Change, error) {
	key := useHTTPPathKey(url)
	entries, err := g.globalEntries(ctx)
	if err != nil {
		return Change{}, err
	}
	if vals := entries.values(key); len(vals) > 0 && isTrue(vals[len(vals)-1]) {
		return Change{URL: url, Key: key, Action: Unchanged, Values: []string{vals[len(vals)-1]}}, nil
	}
	st.put(key, []string{"true"})
	if err := st.save(); err != nil {
		return Change{}, err
	}
	if err := g.add(ctx, key, "true"); err != nil {
		return Change{}, err
	}
	return Change{URL: url, Key: key, Action: Added, Values: []string{"true"}}, nil
}

func undoHost(ctx context.Context, g *gitRunner, st *state, h Host, binary string) ([]Change, error) {
	url := h.URL()
	var changes []Change
	for _, name := range []string{"helper", "usehttppath"} {
		key := "credential." + url + "." + name
		rec := st.find(url, name)
		if rec == nil {
			if name == "helper" {
				c := Change{URL: url, Key: key, Action: NotSetUp}
				entries, err := g.globalEntries(ctx)
				if err != nil {
					return changes, err
				}
				if helper, err := HelperValue(binary); err == nil && slices.Contains(entries.values(key), helper) {
					c.Warning = fmt.Sprintf("%s names this helper, but setup has no record of writing it; remove it with: git config --global --edit", key)
				}
				changes = append(changes, c)
			}
			continue
		}
		entries, err := g.globalEntries(ctx)
		if err != nil {
			return changes, err
		}
		removed, file, err := g.removeRecorded(ctx, entries, key, rec.Values)
		if err != nil {
			return changes, err
		}
		c := Change{URL: url, Key: key, Action: Removed, Values: removed, File: file}
		if len(removed) == 0 {
			c.Action = AlreadyGone
			c.Values = rec.Values
		}
		if len(removed) < len(rec.Values) {
			// What is left may be ours (an empty value whose partner was
			// removed by hand) or the user's: only a person can tell.
			left := entries.values(key)
			for _, v := range removed {
				if i := slices.Index(left, v); i >= 0 {
					left = slices.Delete(left, i, i+1)
				}
			}
			for _, v := range rec.Values {
				if slices.Contains(left, v) {
					c.Warning = fmt.Sprintf("%s still has %s that setup may have written; check it with: git config --global --get-all %s", key, quoteValue(v), key)
					break
				}
			}
		}
		changes = append(changes, c)
		st.remove(key)
		if err := st.save(); err != nil {
			return changes, err
		}
	}
	return changes, nil
}

// quoteValue shows a config value in a message.
func quoteValue(v string) string {
	if v == "" {
		return `an empty value ("")`
	}
	return fmt.Sprintf("the value %q", v)
}

// isTrue reports whether Git reads v as true
// (https://git-scm.com/docs/git-config#Documentation/git-config.txt-boolean).
func isTrue(v string) bool {
	switch strings.ToLower(v) {
	case "true", "yes", "on", "1":
		return true
	}
	return false
}

func endsWith(vals, suffix []string) bool {
	return len(vals) >= len(suffix) && slices.Equal(vals[len(vals)-len(suffix):], suffix)
}
