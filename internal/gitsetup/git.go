package gitsetup

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/glpat-dev/git-credential-glpat/internal/gitconfig"
)

// gitRunner runs git for setup: any error is a gitsetup error.
type gitRunner struct {
	r gitconfig.Runner
}

func (g *gitRunner) run(ctx context.Context, args ...string) ([]byte, error) {
	out, err := g.r.Git(ctx, args...)
	if err != nil {
		return nil, fmt.Errorf("gitsetup: %w", err)
	}
	return out, nil
}

// checkVersion makes sure git has `git config --fixed-value`, which removes
// a value without reading it as a regular expression
// (https://git-scm.com/docs/git-config#Documentation/git-config.txt---fixed-value).
func (g *gitRunner) checkVersion(ctx context.Context) error {
	out, err := g.run(ctx, "version")
	if err != nil {
		return err
	}
	name := strings.TrimSpace(string(out))
	v, ok := gitconfig.ParseVersion(name)
	if !ok {
		return fmt.Errorf("gitsetup: cannot read the git version from %q", name)
	}
	if min := gitconfig.FixedValue; !v.AtLeast(min) {
		return fmt.Errorf("gitsetup: %s is too old: setup needs git %d.%d or later", name, min[0], min[1])
	}
	return nil
}

type entryList []gitconfig.Entry

// globalEntries lists the credential.* values of the global config, in the
// order git reads them when it looks for a helper: $XDG_CONFIG_HOME/git/config
// and then ~/.gitconfig, or only $GIT_CONFIG_GLOBAL when that is set
// (https://git-scm.com/docs/git-config#FILES), with the files they include.
// `git config --global` alone is not enough: before git 2.46 it reads only
// one of the two files, while lookups read both; so setup keeps the global
// scope of what git lists for lookups.
func (g *gitRunner) globalEntries(ctx context.Context) (entryList, error) {
	all, err := gitconfig.ListCredential(ctx, g.r, true)
	if err != nil {
		return nil, fmt.Errorf("gitsetup: %w", err)
	}
	var list entryList
	for _, e := range all {
		if e.Scope == "global" {
			list = append(list, e)
		}
	}
	return list, nil
}

// of returns the entries of key, in order.
func (l entryList) of(key string) []gitconfig.Entry {
	var out []gitconfig.Entry
	for _, e := range l {
		if e.Key == key {
			out = append(out, e)
		}
	}
	return out
}

// values returns the values of key, in order, as `git config --get-all` does.
func (l entryList) values(key string) []string {
	var out []string
	for _, e := range l.of(key) {
		out = append(out, e.Value)
	}
	return out
}

// helperWarning says what is wrong when git, reading the global config,
// would ask another helper than this one for h's URL, or not this one; ""
// when all is well. With useHttpPath, git also sends the repository path,
// and keys under a path of the host count too.
func (l entryList) helperWarning(h Host, helper string) string {
	protocol, host, _ := strings.Cut(h.URL(), "://")
	t := gitconfig.Target{Protocol: protocol, Host: host}
	targets := []gitconfig.Target{t}
	if h.UseHTTPPath {
		for _, n := range gitconfig.NarrowerTargets(l, t, true) {
			if n.Username == "" {
				targets = append(targets, n)
			}
		}
	}
	// Setup needs git 2.30, which matches partial URLs like "gitlab.com".
	for _, t := range targets {
		hl := gitconfig.Helpers(l, t, true)
		switch {
		case len(hl.Broken) > 0:
			e := hl.Broken[0]
			return fmt.Sprintf("git stops at %s (in %s) with \"missing value\" for %s; give it a value or remove it", e.Key, e.File(), t)
		case !slices.ContainsFunc(hl.Helpers, func(e gitconfig.Entry) bool { return e.Value == helper }) && hl.Reset != nil:
			return fmt.Sprintf("git does not ask this helper for %s: %s (in %s) comes after the lines setup added and clears them; remove it",
				t, hl.Reset.KeyValue(), hl.Reset.File())
		}
		for _, e := range hl.Helpers {
			if e.Value != helper {
				fix, _ := LaterHelperFix(e, h.URL())
				return fmt.Sprintf("git still asks %s (in %s) for %s; %s", e.KeyValue(), e.File(), t, fix)
			}
		}
	}
	return ""
}

// LaterHelperFix says what makes git stop asking e, a helper git asks for
// url (a credential context like "https://gitlab.com") after the lines
// setup writes for it; setup's warning and doctor's fix both say it. Setup
// moves its own lines past a later value of the key it writes, so there
// setup fixes it (setupFixes, and fix is ""); any other key comes after
// them for good: in the global config, where setup writes, it is removed
// or moved above them, and a repository's config is read after the global
// one, so there it can only be removed.
func LaterHelperFix(e gitconfig.Entry, url string) (fix string, setupFixes bool) {
	switch {
	case e.Scope == "global" && strings.EqualFold(e.Key, helperKey(strings.ToLower(url))):
		return "", true
	case e.Scope == "" || e.Scope == "global":
		return "remove it, or move it above the lines setup added", false
	}
	return "remove it", false
}

// splitKey splits a key setup writes, "credential.<url>.<name>".
func splitKey(key string) (url, name string, ok bool) {
	url, name, ok = gitconfig.SplitCredentialKey(key)
	return url, name, ok && url != ""
}

// add appends value to key in the global config.
func (g *gitRunner) add(ctx context.Context, key, value string) error {
	_, err := g.run(ctx, "config", "--global", "--add", key, value)
	return err
}

// removeRecorded removes what setup recorded writing to key from the
// config files in entries: the last occurrence of the last recorded value,
// then the last occurrence before it of the value before, and so on. If
// the last recorded value (for the helper pair, this program's path) is
// gone, nothing is removed: an earlier empty value alone cannot be told
// apart from one the user wrote. It returns the values removed, in file
// order, and the file they were in.
func (g *gitRunner) removeRecorded(ctx context.Context, entries entryList, key string, recorded []string) ([]string, string, error) {
	vals := entries.of(key)
	var picked []int
	end := len(vals)
	for k := len(recorded) - 1; k >= 0; k-- {
		i := end - 1
		for i >= 0 && vals[i].Value != recorded[k] {
			i--
		}
		if i < 0 {
			break
		}
		picked = append(picked, i)
		end = i
	}
	if len(picked) == 0 {
		return nil, "", nil
	}
	slices.Sort(picked)

	// Group by file: git config edits one file at a time.
	byFile := map[string][]int{}
	var files []string
	for _, i := range picked {
		f := vals[i].File()
		if _, ok := byFile[f]; !ok {
			files = append(files, f)
		}
		byFile[f] = append(byFile[f], i)
	}
	var removed []string
	for _, f := range files {
		// Positions among key's values in this file, and whether each
		// value is the only one of its kind there.
		var positions []int
		unique := true
		n := 0
		for i, e := range vals {
			if e.File() != f {
				continue
			}
			if slices.Contains(byFile[f], i) {
				positions = append(positions, n)
				count := 0
				for _, o := range vals {
					if o.File() == f && o.Value == e.Value {
						count++
					}
				}
				unique = unique && count == 1
			}
			n++
		}
		if unique {
			for _, i := range byFile[f] {
				if _, err := g.run(ctx, "config", "--file", f, "--fixed-value", "--unset", key, vals[i].Value); err != nil {
					return removed, f, err
				}
				removed = append(removed, vals[i].Value)
			}
			continue
		}
		// `git config --unset` refuses a value that occurs more than once
		// (another tool's empty helper, say), so edit the file directly.
		if err := g.removeEntries(ctx, f, key, positions); err != nil {
			return removed, f, err
		}
		for _, i := range byFile[f] {
			removed = append(removed, vals[i].Value)
		}
	}
	return removed, files[0], nil
}
