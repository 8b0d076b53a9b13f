package gitsetup

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// minGit is the oldest git with `git config --fixed-value`, which removes a
// value without reading it as a regular expression
// (https://git-scm.com/docs/git-config#Documentation/git-config.txt---fixed-value).
var minGit = [2]int{2, 30}

type gitRunner struct {
	path string
}

// run runs git with args and returns its stdout. An exit status of 1 is
// returned as errNoMatch: git config uses it for "no such key".
func (g *gitRunner) run(ctx context.Context, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, g.path, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err == nil {
		return stdout.Bytes(), nil
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("gitsetup: git %s: %w", strings.Join(args, " "), ctx.Err())
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == 1 && stderr.Len() == 0 {
		return nil, errNoMatch
	}
	msg := strings.TrimSpace(stderr.String())
	if msg == "" {
		msg = err.Error()
	}
	msg, _, _ = strings.Cut(msg, "\n")
	return nil, fmt.Errorf("gitsetup: git %s: %s", strings.Join(args, " "), msg)
}

var errNoMatch = errors.New("no match")

var versionRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^git version (\d+)\.(\d+)`) }) // compiled on use: not on the get path

func (g *gitRunner) checkVersion(ctx context.Context) error {
	out, err := g.run(ctx, "version")
	if err != nil {
		return err
	}
	m := versionRE().FindSubmatch(out)
	if m == nil {
		return fmt.Errorf("gitsetup: cannot read the git version from %q", strings.TrimSpace(string(out)))
	}
	major, _ := strconv.Atoi(string(m[1]))
	minor, _ := strconv.Atoi(string(m[2]))
	if major < minGit[0] || major == minGit[0] && minor < minGit[1] {
		return fmt.Errorf("gitsetup: %s is too old: setup needs git %d.%d or later", strings.TrimSpace(string(out)), minGit[0], minGit[1])
	}
	return nil
}

// entry is one credential.* value in the global git config.
type entry struct {
	file  string // the config file it is in
	key   string // as git prints it: section and name lower-case
	value string
}

func (e entry) describe() string {
	if e.value == "" {
		return e.key + `=""`
	}
	return e.key + "=" + e.value
}

type entryList []entry

// globalEntries lists the credential.* values of the global git config
// files, in the order Git reads them when it looks for a helper:
// $XDG_CONFIG_HOME/git/config and then ~/.gitconfig, or only
// $GIT_CONFIG_GLOBAL when that is set (https://git-scm.com/docs/git-config#FILES).
// `git config --global` alone is not enough: before git 2.46 it reads only
// one of the two files, while lookups read both.
func (g *gitRunner) globalEntries(ctx context.Context) (entryList, error) {
	var list entryList
	for _, file := range globalFiles() {
		if _, err := os.Stat(file); errors.Is(err, fs.ErrNotExist) {
			continue
		}
		out, err := g.run(ctx, "config", "--file", file, "-z", "--get-regexp", `^credential\.`)
		if errors.Is(err, errNoMatch) {
			continue
		}
		if err != nil {
			return nil, err
		}
		// With -z each value is "<key>\n<value>\0", or "<key>\0" for a
		// key without "=".
		for _, kv := range strings.Split(string(out), "\x00") {
			if kv == "" {
				continue
			}
			key, value, _ := strings.Cut(kv, "\n")
			list = append(list, entry{file: file, key: key, value: value})
		}
	}
	return list, nil
}

// globalFiles are the files Git reads as global config, in order.
func globalFiles() []string {
	if f, ok := os.LookupEnv("GIT_CONFIG_GLOBAL"); ok {
		return []string{f}
	}
	home := os.Getenv("HOME")
	if home == "" {
		home, _ = os.UserHomeDir()
	}
	xdg := os.Getenv("XDG_CONFIG_HOME")
	if xdg == "" {
		xdg = filepath.Join(home, ".config")
	}
	return []string{filepath.Join(xdg, "git", "config"), filepath.Join(home, ".gitconfig")}
}

// of returns the entries of key, in order.
func (l entryList) of(key string) []entry {
	var out []entry
	for _, e := range l {
		if e.key == key {
			out = append(out, e)
		}
	}
	return out
}

// values returns the values of key, in order, as `git config --get-all` does.
func (l entryList) values(key string) []string {
	var out []string
	for _, e := range l.of(key) {
		out = append(out, e.value)
	}
	return out
}

// helperWarning replays how Git builds the helper list for h's URL from
// the global config (every matching credential.<url>.helper in order, an
// empty value clearing the list; https://git-scm.com/docs/gitcredentials#_configuration_options)
// and says what is wrong when the list is not just our helper. URL
// patterns are matched as Git does for the common forms: generic,
// scheme://host[:port][/path], host only, and "*" in host labels.
func (l entryList) helperWarning(h Host, helper string) string {
	url := h.URL()
	protocol, host, _ := strings.Cut(url, "://")
	var list []entry
	var lastReset entry
	for _, e := range l {
		sub, name, ok := splitCredentialKey(e.key)
		if !ok || name != "helper" || !matchesContext(sub, protocol, host, h.UseHTTPPath) {
			continue
		}
		if e.value == "" {
			list, lastReset = nil, e
			continue
		}
		list = append(list, e)
	}
	if !slices.ContainsFunc(list, func(e entry) bool { return e.value == helper }) {
		return fmt.Sprintf("git does not ask this helper for %s: %s (in %s) comes after the lines setup added and clears them; remove it",
			url, lastReset.describe(), lastReset.file)
	}
	for _, e := range list {
		if e.value != helper {
			return fmt.Sprintf("git still asks %s (in %s) for %s; remove it, or move it above the lines setup added",
				e.describe(), e.file, url)
		}
	}
	return ""
}

// splitCredentialKey splits "credential.<sub>.<name>" (sub may hold dots,
// or be absent as in "credential.helper").
func splitCredentialKey(key string) (sub, name string, ok bool) {
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

// splitKey splits a key setup writes, "credential.<url>.<name>".
func splitKey(key string) (url, name string, ok bool) {
	url, name, ok = splitCredentialKey(key)
	return url, name, ok && url != ""
}

// matchesContext reports whether the credential context pattern sub
// applies to protocol://host. Path-scoped patterns apply only when Git
// sends paths (useHttpPath); they are then counted as matching, since they
// apply to some repositories.
func matchesContext(sub, protocol, host string, withPath bool) bool {
	if sub == "" {
		return true
	}
	rest := sub
	if scheme, r, ok := strings.Cut(sub, "://"); ok {
		if !strings.EqualFold(scheme, protocol) {
			return false
		}
		rest = r
	}
	hostPart, p, hasPath := strings.Cut(rest, "/")
	if hasPath && strings.Trim(p, "/") != "" && !withPath {
		return false
	}
	if i := strings.LastIndexByte(hostPart, '@'); i >= 0 {
		hostPart = hostPart[i+1:]
	}
	return hostsMatch(hostPart, host, protocol)
}

// hostsMatch compares hosts as Git's urlmatch does: case-insensitively,
// with the protocol's default port implied, and "*" matching within one
// label (https://git-scm.com/docs/git-config#Documentation/git-config.txt-httplturlgt).
func hostsMatch(pattern, host, protocol string) bool {
	defaultPort := map[string]string{"https": ":443", "http": ":80"}[strings.ToLower(protocol)]
	pattern = strings.TrimSuffix(strings.ToLower(pattern), defaultPort)
	host = strings.TrimSuffix(strings.ToLower(host), defaultPort)
	pl, hl := strings.Split(pattern, "."), strings.Split(host, ".")
	if len(pl) != len(hl) {
		return false
	}
	for i := range pl {
		if ok, err := path.Match(pl[i], hl[i]); !ok || err != nil {
			return false
		}
	}
	return true
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
		for i >= 0 && vals[i].value != recorded[k] {
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
		f := vals[i].file
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
			if e.file != f {
				continue
			}
			if slices.Contains(byFile[f], i) {
				positions = append(positions, n)
				count := 0
				for _, o := range vals {
					if o.file == f && o.value == e.value {
						count++
					}
				}
				unique = unique && count == 1
			}
			n++
		}
		if unique {
			for _, i := range byFile[f] {
				if _, err := g.run(ctx, "config", "--file", f, "--fixed-value", "--unset", key, vals[i].value); err != nil {
					return removed, f, err
				}
				removed = append(removed, vals[i].value)
			}
			continue
		}
		// `git config --unset` refuses a value that occurs more than once
		// (another tool's empty helper, say), so edit the file directly.
		if err := g.removeEntries(ctx, f, key, positions); err != nil {
			return removed, f, err
		}
		for _, i := range byFile[f] {
			removed = append(removed, vals[i].value)
		}
	}
	return removed, files[0], nil
}
