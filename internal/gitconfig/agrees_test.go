package gitconfig

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// gitWorld is a private git setup: its own HOME, no system config, and
// helpers git-credential-<name> on PATH that write their name to a log and
// answer nothing.
type gitWorld struct {
	t    *testing.T
	home string
	log  string
	env  []string
}

func newGitWorld(t *testing.T) *gitWorld {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	dir := t.TempDir()
	w := &gitWorld{t: t, home: filepath.Join(dir, "home"), log: filepath.Join(dir, "asked.log")}
	bin := filepath.Join(dir, "bin")
	for _, d := range []string{w.home, bin} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"a", "b", "c", "d", "glpat"} {
		script := "#!/bin/sh\necho " + name + " >> '" + w.log + "'\ncat >/dev/null\n"
		if err := os.WriteFile(filepath.Join(bin, "git-credential-"+name), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	w.env = []string{
		"HOME=" + w.home,
		"XDG_CONFIG_HOME=" + filepath.Join(w.home, ".config"),
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL=" + filepath.Join(w.home, ".gitconfig"),
		"GIT_TERMINAL_PROMPT=0",
		"GIT_ASKPASS=",
		"SSH_ASKPASS=",
		"PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH"),
		"GIT_CONFIG_COUNT=0",
	}
	return w
}

func (w *gitWorld) git() Exec { return Exec{Dir: w.home, Env: w.env} }

func (w *gitWorld) writeConfig(content string) {
	w.t.Helper()
	if err := os.WriteFile(filepath.Join(w.home, ".gitconfig"), []byte(content), 0o600); err != nil {
		w.t.Fatal(err)
	}
}

// asked runs `git credential fill` for t and returns the helpers git
// asked, in order.
func (w *gitWorld) asked(t Target) []string {
	w.t.Helper()
	os.Remove(w.log)
	in := "protocol=" + t.Protocol + "\nhost=" + t.Host + "\n"
	if t.Username != "" {
		in += "username=" + t.Username + "\n"
	}
	if t.Path != "" {
		in += "path=" + t.Path + "\n"
	}
	cmd := exec.Command("git", "credential", "fill")
	cmd.Dir = w.home
	cmd.Env = append(os.Environ(), w.env...)
	cmd.Stdin = strings.NewReader(in)
	cmd.Run() // fails: nobody answers and prompts are off
	b, _ := os.ReadFile(w.log)
	return strings.Fields(string(b))
}

// TestHelpersAgreesWithGit replays git's helper lookup over config
// files that exercise every rule (scheme, host case, wildcards, ports,
// users, paths, escapes, scheme-less keys, empty values) and compares the
// list with the helpers the real git asks.
func TestHelpersAgreesWithGit(t *testing.T) {
	w := newGitWorld(t)
	out, err := w.git().Git(context.Background(), "version")
	if err != nil {
		t.Fatal(err)
	}
	v, _ := ParseVersion(string(out))
	partial := v.AtLeast(PartialURLs)

	gl := Target{Protocol: "https", Host: "gitlab.com"}
	tests := []struct {
		name    string
		config  string
		targets []Target
	}{
		{"generic then host", "[credential]\n\thelper = a\n[credential \"https://gitlab.com\"]\n\thelper = b\n",
			[]Target{gl, {Protocol: "https", Host: "example.com"}}},
		{"reset then ours", "[credential]\n\thelper = a\n[credential \"https://gitlab.com\"]\n\thelper =\n\thelper = glpat\n",
			[]Target{gl, {Protocol: "https", Host: "other.org"}}},
		{"reset after ours", "[credential \"https://gitlab.com\"]\n\thelper = glpat\n[credential]\n\thelper =\n\thelper = c\n",
			[]Target{gl}},
		{"scheme-less host", "[credential \"gitlab.com\"]\n\thelper = a\n[credential \"GitLab.com\"]\n\thelper = b\n",
			[]Target{gl, {Protocol: "http", Host: "gitlab.com"}, {Protocol: "https", Host: "gitlab.com:8443"}}},
		{"host case and trailing slash", "[credential \"HTTPS://GitLab.COM/\"]\n\thelper = a\n",
			[]Target{gl}},
		{"scheme must match", "[credential \"http://gitlab.com\"]\n\thelper = a\n[credential \"https://gitlab.com\"]\n\thelper = b\n",
			[]Target{gl, {Protocol: "http", Host: "gitlab.com"}}},
		{"wildcard label", "[credential \"https://*.example.com\"]\n\thelper = a\n[credential \"https://gitlab.*.com\"]\n\thelper = b\n",
			[]Target{{Protocol: "https", Host: "gitlab.example.com"}, {Protocol: "https", Host: "a.b.example.com"}, {Protocol: "https", Host: "example.com"}}},
		{"ports", "[credential \"https://gitlab.com:443\"]\n\thelper = a\n[credential \"https://gitlab.example.com:8443\"]\n\thelper = b\n[credential \"https://gitlab.example.com\"]\n\thelper = c\n",
			[]Target{gl, {Protocol: "https", Host: "gitlab.example.com:8443"}, {Protocol: "https", Host: "gitlab.example.com"}}},
		{"user in key", "[credential \"https://alice@gitlab.com\"]\n\thelper = a\n[credential \"https://gitlab.com\"]\n\thelper = b\n",
			[]Target{gl, {Protocol: "https", Host: "gitlab.com", Username: "alice"}, {Protocol: "https", Host: "gitlab.com", Username: "bob"}}},
		{"path prefix", "[credential \"https://gitlab.com/group\"]\n\thelper = a\n[credential \"https://gitlab.com/gr\"]\n\thelper = b\n[credential \"https://gitlab.com/gr%6Fup/app.git\"]\n\thelper = c\n",
			[]Target{gl, {Protocol: "https", Host: "gitlab.com", Path: "group/app.git"}, {Protocol: "https", Host: "gitlab.com", Path: "groupie/x.git"}}},
		{"scheme-less path and user", "[credential \"gitlab.com/group/app.git\"]\n\thelper = a\n[credential \"alice@gitlab.com\"]\n\thelper = b\n",
			[]Target{gl, {Protocol: "https", Host: "gitlab.com", Path: "group/app.git"}, {Protocol: "https", Host: "gitlab.com", Username: "alice"}}},
		{"scheme only", "[credential \"https://\"]\n\thelper = a\n[credential \"*\"]\n\thelper = b\n",
			[]Target{gl, {Protocol: "http", Host: "gitlab.com"}}},
		{"dots in path", "[credential \"https://gitlab.com/x/../group/./\"]\n\thelper = a\n",
			[]Target{gl, {Protocol: "https", Host: "gitlab.com", Path: "group/app.git"}}},
		{"bad port falls back to partial", "[credential \"https://gitlab.com:0\"]\n\thelper = a\n[credential \"https://gitlab.com:99999\"]\n\thelper = b\n",
			[]Target{gl, {Protocol: "https", Host: "gitlab.com:0"}}},
		{"absolute path and shell helpers", "[credential]\n\thelper = a\n[credential \"https://gitlab.com\"]\n\thelper = \"!f() { git credential-b \\\"$@\\\"; }; f\"\n",
			[]Target{gl}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w.writeConfig(tt.config)
			entries, err := ListCredential(context.Background(), w.git(), partial)
			if err != nil {
				t.Fatal(err)
			}
			for _, tg := range tt.targets {
				want := w.asked(tg)
				l := Helpers(entries, tg, partial)
				var got []string
				for _, h := range l.Helpers {
					got = append(got, helperName(h.Value))
				}
				if !slices.Equal(got, want) {
					t.Errorf("helpers for %+v:\n got %q\nwant %q (what git asked)", tg, got, want)
				}
			}
		})
	}
}

// helperName maps a helper value of the test configs to the name its
// script logs.
func helperName(v string) string {
	if strings.HasPrefix(v, "!") {
		// The only shell helper in the tests calls git credential-b.
		return "b"
	}
	return v
}

// TestListCredentialScopes reads scopes and origins from the real git,
// including command-line config and values without "=".
func TestListCredentialScopes(t *testing.T) {
	w := newGitWorld(t)
	w.writeConfig("[credential]\n\thelper = a\n[credential \"https://gitlab.com\"]\n\thelper =\n\tusername = alice\n")
	g := w.git()
	g.Env = append(slices.Clip(g.Env), "GIT_CONFIG_COUNT=1", "GIT_CONFIG_KEY_0=credential.helper", "GIT_CONFIG_VALUE_0=c")
	entries, err := ListCredential(context.Background(), g, true)
	if err != nil {
		t.Fatal(err)
	}
	cfg := "file:" + filepath.Join(w.home, ".gitconfig")
	want := []Entry{
		{Scope: "global", Origin: cfg, Key: "credential.helper", Value: "a"},
		{Scope: "global", Origin: cfg, Key: "credential.https://gitlab.com.helper", Value: ""},
		{Scope: "global", Origin: cfg, Key: "credential.https://gitlab.com.username", Value: "alice"},
		{Scope: "command", Origin: "command line:", Key: "credential.helper", Value: "c"},
	}
	if !slices.Equal(entries, want) {
		t.Errorf("entries:\n got %+v\nwant %+v", entries, want)
	}

	w.writeConfig("[credential]\n\thelper\n")
	entries, err = ListCredential(context.Background(), w.git(), true)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || !entries[0].NoValue {
		t.Errorf("a bare key: got %+v, want one entry with noValue", entries)
	}
	if l := Helpers(entries, Target{Protocol: "https", Host: "gitlab.com"}, true); len(l.Broken) != 1 {
		t.Errorf("a bare helper key: got %d broken, want 1", len(l.Broken))
	}

	w.writeConfig("")
	entries, err = ListCredential(context.Background(), w.git(), true)
	if err != nil || len(entries) != 0 {
		t.Errorf("no credential config: got %+v, %v; want nothing and no error", entries, err)
	}

	w.writeConfig("[credential\n")
	if _, err := ListCredential(context.Background(), w.git(), true); err == nil || !strings.Contains(err.Error(), "bad config") {
		t.Errorf("a broken config file: got %v, want git's \"bad config\" error", err)
	}
}

// TestKeyAppliesAgreesWithGit holds KeyApplies against the real git for
// one credential.<pattern>.helper at a time, over patterns from git's
// urlmatch.c and its tests (t0110-urlmatch-normalization.sh, t1300's
// urlmatch tests, t0300-credentials.sh) and the cases setup must get
// right, and targets with and without a port, user and path.
func TestKeyAppliesAgreesWithGit(t *testing.T) {
	w := newGitWorld(t)
	patterns := []string{
		"https://gitlab.com", "https://gitlab.com/", "HTTPS://GitLab.COM", "https://gitlab.com.", "https://gitlab.com..",
		"https://.gitlab.com", "https://gitlab.%63om", "https://%67itlab.com", "https://gitlab%2ecom", "https://gitlab.com:443",
		"https://gitlab.com:0443", "https://gitlab.com:", "https://gitlab.com:8443", "https://gitlab.com:0", "https://gitlab.com:99999",
		"https://user@gitlab.com", "https://alice@gitlab.com", "https://al%69ce@gitlab.com", "https://alice:pw@gitlab.com", "https://@gitlab.com",
		"https://gitl?b.com", "https://[a-z]itlab.com", "https://git*.com", "https://*.com", "https://*.gitlab.com", "https://*.*", "https://*",
		"https://gitlab.com/.", "https://gitlab.com/x/..", "https://gitlab.com/..", "https://gitlab.com/%2e", "https://gitlab.com/group",
		"https://gitlab.com/group/", "https://gitlab.com/gr%6fup", "https://gitlab.com/group/app.git", "https://gitlab.com/gr",
		"https://gitlab.com?x", "https://gitlab.com#x", "https://gitlab.com/%zz", "https://gitlab.com/a b", "https://", "http://gitlab.com",
		"gitlab.com", "GitLab.com", "gitlab.com:443", "gitlab.com/group", "alice@gitlab.com", "https://[::1]:8443", "https://[::1]",
		"https://[::1]:08443/", "[::1]:8443", "https://*:8443", "*",
	}
	targets := []Target{
		{Protocol: "https", Host: "gitlab.com"},
		{Protocol: "http", Host: "gitlab.com"},
		{Protocol: "https", Host: "gitlab.com:8443"},
		{Protocol: "https", Host: "gitlab.com", Username: "alice"},
		{Protocol: "https", Host: "gitlab.com", Path: "group/app.git"},
		{Protocol: "https", Host: "[::1]:8443"},
	}
	for _, pat := range patterns {
		w.writeConfig("[credential \"" + pat + "\"]\n\thelper = a\n")
		entries, err := ListCredential(context.Background(), w.git(), true)
		if err != nil {
			t.Fatal(err)
		}
		for _, tg := range targets {
			gitAsks := slices.Equal(w.asked(tg), []string{"a"})
			if got := len(Helpers(entries, tg, true).Helpers) == 1; got != gitAsks {
				t.Errorf("credential.%s.helper for %s: KeyApplies says %v, git credential fill says %v", pat, tg, got, gitAsks)
			}
			// `git config --get-urlmatch` uses urlmatch.c alone, without
			// credential.c's partial URLs.
			out, _ := w.git().Git(context.Background(), "config", "--get-urlmatch", "credential.helper", tg.String())
			if got, git := KeyApplies(pat, tg, false), strings.TrimSpace(string(out)) == "a"; got != git {
				t.Errorf("credential.%s.helper for %s without partial URLs: KeyApplies says %v, git config --get-urlmatch says %v", pat, tg, got, git)
			}
		}
	}
}
