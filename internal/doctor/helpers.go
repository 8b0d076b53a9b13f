package doctor

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/glpat-dev/git-credential-glpat/internal/gitconfig"
	"github.com/glpat-dev/git-credential-glpat/internal/gitsetup"
)

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
	return len(p) >= 3 && (p[0]|0x20 >= 'a' && p[0]|0x20 <= 'z') && p[1] == ':' && (p[2] == '/' || p[2] == '\\')
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
func describe(e gitconfig.Entry, home string) string {
	if e.NoValue {
		return e.Key + " (no value, " + where(e, home) + ")"
	}
	return e.KeyValue() + " (" + where(e, home) + ")"
}

func where(e gitconfig.Entry, home string) string {
	origin := strings.TrimSuffix(e.Origin, ":")
	if f := e.File(); f != "" {
		origin = tildePath(f, home)
	}
	if e.Scope == "" || e.Scope == "command" && origin == "command line" {
		return origin
	}
	return e.Scope + ", " + origin
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
func setupCanOverride(e gitconfig.Entry) bool {
	return e.Scope == "" || e.Scope == "system" || e.Scope == "global"
}

// laterFix is what makes git stop asking the other helpers of later, which
// come after this program's lines for t: setup's own advice
// (gitsetup.LaterHelperFix), so that following it never ends in setup
// answering "unchanged".
func laterFix(later []gitconfig.Entry, t gitconfig.Target, setupFix, home string) string {
	var fixes []string
	bySetup := false
	for _, h := range later {
		if k, _ := classifyHelper(h.Value); k != otherHelper {
			continue
		}
		fix, setupFixes := gitsetup.LaterHelperFix(h, t.Protocol+"://"+t.Host)
		if setupFixes {
			bySetup = true
			continue
		}
		fixes = append(fixes, "for "+describe(h, home)+": "+fix)
	}
	if bySetup {
		fixes = append(fixes, setupFix)
	}
	return strings.Join(fixes, "; ")
}

// checkHelpers says whether Git asks this helper, and only it, for t.
func checkHelpers(env *Env, l gitconfig.HelperList, t gitconfig.Target, name, setupHost string) Check {
	home := env.Getenv("HOME")
	c := Check{Name: name}
	url := t.String()
	setupFix := "run `git-credential-glpat setup " + setupHost + "`: it writes an empty credential." + t.Protocol + "://" + t.Host + ".helper, which clears the helpers configured before it, then this program's absolute path"

	if len(l.Broken) > 0 {
		c.Status = StatusFail
		c.Detail = fmt.Sprintf("%s has no value, so git stops with \"missing value\" on every credential lookup for %s", describe(l.Broken[0], home), url)
		c.Fix = "give it a value or remove it from " + where(l.Broken[0], home)
		return c
	}

	var ours []int
	for i, h := range l.Helpers {
		if k, _ := classifyHelper(h.Value); k != otherHelper {
			ours = append(ours, i)
		}
	}
	others := func(from, to int) []string {
		var s []string
		for _, h := range l.Helpers[from:to] {
			if k, _ := classifyHelper(h.Value); k == otherHelper {
				s = append(s, describe(h, home))
			}
		}
		return s
	}
	fixFor := func(from, to int) string {
		var files []string
		for _, h := range l.Helpers[from:to] {
			if k, _ := classifyHelper(h.Value); k == otherHelper && !setupCanOverride(h) {
				files = append(files, h.Key+" from "+where(h, home))
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
		case len(l.Helpers) > 0:
			c.Detail = "git asks " + strings.Join(others(0, len(l.Helpers)), ", ") + " for " + url + ", and never git-credential-glpat"
		case l.Reset != nil:
			c.Detail = "git asks no credential helper for " + url + ": " + describe(*l.Reset, home) + " clears the helpers before it, and none follows"
		default:
			c.Detail = "git asks no credential helper for " + url + ", so git-credential-glpat never serves or rotates its token"
		}
		c.Fix = fixFor(0, len(l.Helpers))
		return c
	}

	first, last := ours[0], ours[len(ours)-1]
	var problems []string
	var fix string
	if before := others(0, first); len(before) > 0 {
		problems = append(problems, "git asks "+strings.Join(before, ", ")+" before git-credential-glpat: it can hand git a stale or revoked token, and rotated tokens never reach git first")
		fix = fixFor(0, first)
	}
	if after := others(last+1, len(l.Helpers)); len(after) > 0 {
		problems = append(problems, "git also asks "+strings.Join(after, ", ")+" after git-credential-glpat: git gives it a copy of every token it stores, outside the keychain, and it answers with an old token whenever git-credential-glpat has none")
		if fix == "" {
			fix = laterFix(l.Helpers[last+1:], t, setupFix, home)
		}
	}
	if len(ours) > 1 {
		var places []string
		for _, i := range ours {
			places = append(places, describe(l.Helpers[i], home))
		}
		problems = append(problems, "git asks git-credential-glpat more than once ("+strings.Join(places, ", ")+"), so it stores every token more than once")
		if fix == "" {
			fix = "remove all but the last of them, or run `git-credential-glpat setup --undo " + setupHost + "` and then `git-credential-glpat setup " + setupHost + "`"
		}
	}

	// Can git start it?
	h := l.Helpers[last]
	kind, path := classifyHelper(h.Value)
	var startable string
	switch kind {
	case glpatByName:
		p, err := env.LookPath(programName)
		if err != nil {
			c.Status = StatusFail
			c.Detail = describe(h, home) + " makes git run `git credential-glpat`, but " + programName + " is not on PATH"
			c.Fix = setupFix
			return c
		}
		startable = "git runs `git credential-glpat`, found at " + p + " (an IDE started with another PATH may not find it)"
	case glpatByPath:
		if _, err := env.Stat(path); err != nil {
			c.Status = StatusFail
			c.Detail = describe(h, home) + " names " + path + ", which does not exist (moved or uninstalled?)"
			c.Fix = setupFix
			return c
		}
		startable = "git runs " + path
		if env.Binary != "" && filepath.Clean(path) != filepath.Clean(env.Binary) {
			startable += ", and this doctor is " + env.Binary
		}
	}

	if len(problems) > 0 {
		c.Status = StatusWarn
		c.Detail = strings.Join(problems, "; ")
		c.Fix = fix
		return c
	}
	c.Status = StatusOK
	c.Detail = "git asks only git-credential-glpat for " + url + " (" + where(h, home) + "); " + startable
	return c
}
