package doctor

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
)

// configEntry is one credential.* value as `git config --get-regexp` lists
// it, in the order Git reads it.
type configEntry struct {
	scope   string // "system", "global", "local", "worktree" or "command"; empty before git 2.26
	origin  string // where it is, like "file:/home/a/.gitconfig" or "command line:"
	key     string // as git prints it: section and name lower-case, the <url> as written
	value   string
	noValue bool // written as a bare key, without "="
}

// listCredentialConfig lists every credential.* value git reads here:
// system, global, repository (when run inside one) and command-line
// config, with includes followed.
func listCredentialConfig(ctx context.Context, git GitRunner, withScope bool) ([]configEntry, error) {
	args := []string{"config"}
	if withScope {
		args = append(args, "--show-scope")
	}
	args = append(args, "--show-origin", "-z", "--get-regexp", `^credential\.`)
	out, err := git.Git(ctx, args...)
	var ge *GitError
	if errors.As(err, &ge) && ge.ExitCode == 1 && ge.Stderr == "" {
		return nil, nil // no credential.* key at all
	}
	if err != nil {
		return nil, err
	}
	return parseConfigList(string(out), withScope)
}

// parseConfigList reads `git config [--show-scope] --show-origin -z`
// output: per value "[scope\0]origin\0key\nvalue\0", or "key\0" for a key
// without a value.
func parseConfigList(out string, withScope bool) ([]configEntry, error) {
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
	var entries []configEntry
	for i := 0; i < len(fields); i += per {
		var e configEntry
		f := fields[i : i+per]
		if withScope {
			e.scope, f = f[0], f[1:]
		}
		e.origin = f[0]
		var hasValue bool
		e.key, e.value, hasValue = strings.Cut(f[1], "\n")
		e.noValue = !hasValue
		entries = append(entries, e)
	}
	return entries, nil
}

// splitCredentialKey splits "credential.<url>.<name>"; url is empty for
// "credential.<name>". Git splits at the last dot, and so the <url> may
// hold dots.
func splitCredentialKey(key string) (url, name string, ok bool) {
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

// helperList is what Git makes of the config for one target.
type helperList struct {
	helpers []configEntry // in the order Git asks them
	reset   *configEntry  // the last empty value, which cleared the helpers before it
	broken  []configEntry // helper keys without a value: Git refuses to go on
}

// resolveHelpers replays credential_apply_config: every credential.<url>.helper
// whose <url> applies to t, in config order, an empty value clearing the
// list (https://git-scm.com/docs/gitcredentials#Documentation/gitcredentials.txt-helper).
func resolveHelpers(entries []configEntry, t target, partial bool) helperList {
	var l helperList
	for i := range entries {
		e := entries[i]
		url, name, ok := splitCredentialKey(e.key)
		if !ok || name != "helper" || !keyApplies(url, t, partial) {
			continue
		}
		switch {
		case e.noValue:
			l.broken = append(l.broken, e)
		case e.value == "":
			l.helpers, l.reset = nil, &entries[i]
		default:
			l.helpers = append(l.helpers, e)
		}
	}
	return l
}

// narrowerTargets returns, for the credential.<url> keys that apply only to
// some of t's URLs (those with a user name, or under a path), one target
// each, in config order, without repeats.
func narrowerTargets(entries []configEntry, t target, partial bool) []target {
	var out []target
	seen := map[target]bool{}
	for _, e := range entries {
		url, name, ok := splitCredentialKey(e.key)
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

// helperKind says whether a credential.helper value runs this program.
type helperKind int

const (
	otherHelper helperKind = iota
	glpatByName            // "glpat": Git runs `git credential-glpat`, found in PATH
	glpatByPath            // an absolute path (maybe in a "!" snippet) to git-credential-glpat
)

const programName = "git-credential-glpat"

// classifyHelper reads a helper value as Git runs it: "!cmd" is a shell
// command, an absolute path is run as is, and anything else NAME runs
// `git credential-NAME` (https://git-scm.com/docs/gitcredentials#_custom_helpers).
// It returns the program path for glpatByPath.
func classifyHelper(value string) (helperKind, string) {
	v := strings.TrimSpace(value)
	if cmd, ok := strings.CutPrefix(v, "!"); ok {
		word := firstShellWord(cmd)
		if isProgram(word) {
			if isAbsolutePath(word) {
				return glpatByPath, word
			}
			return glpatByName, word
		}
		return otherHelper, ""
	}
	if isAbsolutePath(v) {
		word := firstShellWord(v)
		if isProgram(word) {
			return glpatByPath, word
		}
		return otherHelper, ""
	}
	if firstShellWord(v) == "glpat" {
		return glpatByName, programName
	}
	return otherHelper, ""
}

// isProgram reports whether path names git-credential-glpat (with .exe on
// Windows). Case does not count: the file systems of Windows and macOS
// ignore it.
func isProgram(path string) bool {
	base := path[strings.LastIndexAny(path, `/\`)+1:]
	if strings.HasSuffix(strings.ToLower(base), ".exe") {
		base = base[:len(base)-4]
	}
	return strings.EqualFold(base, programName)
}

// isAbsolutePath is Git's is_absolute_path, on every platform: a leading
// slash, or (Git for Windows) a drive letter or a backslash.
func isAbsolutePath(p string) bool {
	if strings.HasPrefix(p, "/") || strings.HasPrefix(p, `\`) {
		return true
	}
	return len(p) >= 3 && isAlpha(p[0]) && p[1] == ':' && (p[2] == '/' || p[2] == '\\')
}

// firstShellWord returns the first word of a POSIX shell command line,
// with quotes and backslashes removed.
func firstShellWord(s string) string {
	s = strings.TrimLeft(s, " \t\n")
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case ' ', '\t', '\n', ';', '|', '&':
			return b.String()
		case '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				b.WriteString(s[i+1:])
				return b.String()
			}
			b.WriteString(s[i+1 : i+1+j])
			i += j + 1
		case '"':
			for i++; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("$`\"\\\n", s[i+1]) >= 0 {
					i++
				}
				b.WriteByte(s[i])
			}
		case '\\':
			if i+1 < len(s) {
				i++
				b.WriteByte(s[i])
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// describe names a config value and where it is, for a person:
// `credential.helper=cache (global, ~/.gitconfig)`.
func (e configEntry) describe(home string) string {
	kv := e.key + "=" + e.value
	if e.noValue {
		kv = e.key + " (no value)"
	} else if e.value == "" {
		kv = e.key + `=""`
	}
	return kv + " (" + e.where(home) + ")"
}

func (e configEntry) where(home string) string {
	origin := e.origin
	if f, ok := strings.CutPrefix(origin, "file:"); ok {
		origin = tildePath(f, home)
	} else {
		origin = strings.TrimSuffix(origin, ":")
	}
	if e.scope == "" || e.scope == "command" && origin == "command line" {
		return origin
	}
	return e.scope + ", " + origin
}

func tildePath(p, home string) string {
	if home == "" {
		return p
	}
	if rest, ok := strings.CutPrefix(p, home); ok && (rest == "" || rest[0] == '/' || rest[0] == '\\') {
		return "~" + rest
	}
	return p
}

// setupCanOverride reports whether e is in a file read before the global
// config that `setup` writes (the system or global config itself), so that
// setup's empty value clears it.
func (e configEntry) setupCanOverride() bool {
	return e.scope == "" || e.scope == "system" || e.scope == "global"
}

// checkHelpers says whether Git asks this helper, and only it, for t.
func checkHelpers(env *Env, l helperList, t target, name, setupHost string) Check {
	home := env.Getenv("HOME")
	c := Check{Name: name}
	url := t.protocol + "://" + t.host
	if t.username != "" {
		url = t.protocol + "://" + t.username + "@" + t.host
	}
	if t.path != "" {
		url += "/" + t.path
	}
	setupFix := "run `git-credential-glpat setup " + setupHost + "`: it writes an empty credential." + t.protocol + "://" + t.host + ".helper, which clears the helpers configured before it, then this program's absolute path"

	if len(l.broken) > 0 {
		c.Status = StatusFail
		c.Detail = fmt.Sprintf("%s has no value, so git stops with \"missing value\" on every credential lookup for %s", l.broken[0].describe(home), url)
		c.Fix = "give it a value or remove it from " + l.broken[0].where(home)
		return c
	}

	var ours []int
	for i, h := range l.helpers {
		if k, _ := classifyHelper(h.value); k != otherHelper {
			ours = append(ours, i)
		}
	}
	others := func(from, to int) []string {
		var s []string
		for _, h := range l.helpers[from:to] {
			if k, _ := classifyHelper(h.value); k == otherHelper {
				s = append(s, h.describe(home))
			}
		}
		return s
	}
	fixFor := func(from, to int) string {
		var files []string
		for _, h := range l.helpers[from:to] {
			if k, _ := classifyHelper(h.value); k == otherHelper && !h.setupCanOverride() {
				files = append(files, h.key+" from "+h.where(home))
			}
		}
		if len(files) > 0 {
			return "remove " + strings.Join(files, " and ") + "; then " + setupFix
		}
		return setupFix
	}

	if len(ours) == 0 {
		c.Status = StatusFail
		switch {
		case len(l.helpers) > 0:
			c.Detail = "git asks " + strings.Join(others(0, len(l.helpers)), ", ") + " for " + url + ", and never git-credential-glpat"
		case l.reset != nil:
			c.Detail = "git asks no credential helper for " + url + ": " + l.reset.describe(home) + " clears the helpers before it, and none follows"
		default:
			c.Detail = "git asks no credential helper for " + url + ", so git-credential-glpat never serves or rotates its token"
		}
		c.Fix = fixFor(0, len(l.helpers))
		return c
	}

	first, last := ours[0], ours[len(ours)-1]
	var problems []string
	var fix string
	if before := others(0, first); len(before) > 0 {
		problems = append(problems, "git asks "+strings.Join(before, ", ")+" before git-credential-glpat: it can hand git a stale or revoked token, and rotated tokens never reach git first")
		fix = fixFor(0, first)
	}
	if after := others(last+1, len(l.helpers)); len(after) > 0 {
		problems = append(problems, "git also asks "+strings.Join(after, ", ")+" after git-credential-glpat: git gives it a copy of every token it stores, outside the keychain, and it answers with an old token whenever git-credential-glpat has none")
		if fix == "" {
			fix = fixFor(last+1, len(l.helpers))
		}
	}
	if len(ours) > 1 {
		var where []string
		for _, i := range ours {
			where = append(where, l.helpers[i].describe(home))
		}
		problems = append(problems, "git asks git-credential-glpat more than once ("+strings.Join(where, ", ")+"), so it stores every token more than once")
		if fix == "" {
			fix = "remove all but the last of them, or run `git-credential-glpat setup --undo " + setupHost + "` and then `git-credential-glpat setup " + setupHost + "`"
		}
	}

	// Can git start it?
	h := l.helpers[last]
	kind, path := classifyHelper(h.value)
	var startable string
	switch kind {
	case glpatByName:
		p, err := env.LookPath(programName)
		if err != nil {
			c.Status = StatusFail
			c.Detail = h.describe(home) + " makes git run `git credential-glpat`, but " + programName + " is not on PATH"
			c.Fix = setupFix
			return c
		}
		startable = "git runs `git credential-glpat`, found at " + p + " (an IDE started with another PATH may not find it)"
	case glpatByPath:
		if _, err := env.Stat(path); err != nil {
			c.Status = StatusFail
			c.Detail = h.describe(home) + " names " + path + ", which does not exist (moved or uninstalled?)"
			c.Fix = setupFix
			return c
		}
		startable = "git runs " + path
		if env.Binary != "" && filepath.Clean(path) != filepath.Clean(env.Binary) {
			startable += " (this doctor is " + env.Binary + ")"
		}
	}

	if len(problems) > 0 {
		c.Status = StatusWarn
		c.Detail = strings.Join(problems, "; ")
		c.Fix = fix
		return c
	}
	c.Status = StatusOK
	c.Detail = "git asks only git-credential-glpat for " + url + "; " + startable + " (" + h.where(home) + ")"
	return c
}
