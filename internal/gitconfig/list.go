package gitconfig

import (
	"context"
	"fmt"
	"strings"
)

// Entry is one value as `git config -z --show-origin` lists it, in the
// order git reads it.
type Entry struct {
	Scope   string // "system", "global", "local", "worktree" or "command"; empty when not asked for
	Origin  string // where it is, like "file:/home/a/.gitconfig" or "command line:"
	Key     string // as git prints it: section and name lower-case, the <url> as written
	Value   string
	NoValue bool // written as a bare key, without "="
}

// File is the config file the entry is in; empty for one from the
// command line.
func (e Entry) File() string {
	f, _ := strings.CutPrefix(e.Origin, "file:")
	if f == e.Origin {
		return ""
	}
	return f
}

// KeyValue shows the entry for a person: `credential.helper=cache`,
// `credential.helper=""` or `credential.helper (no value)`.
func (e Entry) KeyValue() string {
	switch {
	case e.NoValue:
		return e.Key + " (no value)"
	case e.Value == "":
		return e.Key + `=""`
	}
	return e.Key + "=" + e.Value
}

// ListCredential lists every credential.* value git reads where r runs:
// system, global, repository (when run inside one) and command-line
// config, with includes followed. withScope asks git for each value's
// scope (git 2.26 and later).
func ListCredential(ctx context.Context, r Runner, withScope bool) ([]Entry, error) {
	args := []string{"config"}
	if withScope {
		args = append(args, "--show-scope")
	}
	args = append(args, "--show-origin", "-z", "--get-regexp", `^credential\.`)
	return list(ctx, r, withScope, args)
}

// ListFile lists the values of one config file whose keys match the
// regular expression pattern, or all of them when pattern is empty.
func ListFile(ctx context.Context, r Runner, file, pattern string) ([]Entry, error) {
	args := []string{"config", "--file", file, "--show-origin", "-z", "--list"}
	if pattern != "" {
		args[len(args)-1] = "--get-regexp"
		args = append(args, pattern)
	}
	return list(ctx, r, false, args)
}

func list(ctx context.Context, r Runner, withScope bool, args []string) ([]Entry, error) {
	out, err := r.Git(ctx, args...)
	if noMatch(err) {
		return nil, nil // no such key at all
	}
	if err != nil {
		return nil, err
	}
	return parseList(string(out), withScope)
}

// parseList reads `git config [--show-scope] --show-origin -z` output: per
// value "[scope\0]origin\0key\nvalue\0", or "key\0" for a key without a
// value.
func parseList(out string, withScope bool) ([]Entry, error) {
	fields := strings.Split(out, "\x00")
	if n := len(fields); n > 0 && fields[n-1] == "" {
		fields = fields[:n-1]
	}
	per := 2
	if withScope {
		per = 3
	}
	if len(fields)%per != 0 {
		return nil, fmt.Errorf("cannot read the output of git config: %d fields, not a multiple of %d", len(fields), per)
	}
	var entries []Entry
	for i := 0; i < len(fields); i += per {
		var e Entry
		f := fields[i : i+per]
		if withScope {
			e.Scope, f = f[0], f[1:]
		}
		e.Origin = f[0]
		var hasValue bool
		e.Key, e.Value, hasValue = strings.Cut(f[1], "\n")
		e.NoValue = !hasValue
		entries = append(entries, e)
	}
	return entries, nil
}

// SplitCredentialKey splits "credential.<url>.<name>"; url is empty for
// "credential.<name>". Git splits at the last dot, and so the <url> may
// hold dots.
func SplitCredentialKey(key string) (url, name string, ok bool) {
	rest, ok := strings.CutPrefix(key, "credential.")
	if !ok {
		return "", "", false
	}
	i := strings.LastIndexByte(rest, '.')
	if i < 0 {
		return "", rest, true
	}
	return rest[:i], rest[i+1:], true
}

// HelperList is what git makes of the config for one target.
type HelperList struct {
	Helpers []Entry // in the order git asks them
	Reset   *Entry  // the last empty value, which cleared the helpers before it
	Broken  []Entry // helper keys without a value: git refuses to go on
}

// Helpers replays credential_apply_config: every credential.<url>.helper
// whose <url> applies to t, in config order, an empty value clearing the
// list (https://git-scm.com/docs/gitcredentials#Documentation/gitcredentials.txt-helper).
// partial says whether git matches partial URLs like "gitlab.com" (2.26+).
func Helpers(entries []Entry, t Target, partial bool) HelperList {
	var l HelperList
	for i := range entries {
		e := entries[i]
		url, name, ok := SplitCredentialKey(e.Key)
		if !ok || name != "helper" || !KeyApplies(url, t, partial) {
			continue
		}
		switch {
		case e.NoValue:
			l.Broken = append(l.Broken, e)
		case e.Value == "":
			l.Helpers, l.Reset = nil, &entries[i]
		default:
			l.Helpers = append(l.Helpers, e)
		}
	}
	return l
}

// NarrowerTargets returns, for the credential.<url>.helper keys that apply
// only to some of t's URLs (those with a user name, or under a path), one
// target each, in config order, without repeats.
func NarrowerTargets(entries []Entry, t Target, partial bool) []Target {
	var out []Target
	seen := map[Target]bool{}
	for _, e := range entries {
		url, name, ok := SplitCredentialKey(e.Key)
		if !ok || name != "helper" {
			continue
		}
		if n, ok := narrower(url, t, partial); ok && !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}
