package doctor

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

func (w *gitWorld) git() ExecGit { return ExecGit{Dir: w.home, Env: w.env} }

func (w *gitWorld) writeConfig(content string) {
	w.t.Helper()
	if err := os.WriteFile(filepath.Join(w.home, ".gitconfig"), []byte(content), 0o600); err != nil {
		w.t.Fatal(err)
	}
}

// asked runs `git credential fill` for t and returns the helpers git
// asked, in order.
func (w *gitWorld) asked(t target) []string {
	w.t.Helper()
	os.Remove(w.log)
	in := "protocol=" + t.protocol + "\nhost=" + t.host + "\n"
	if t.username != "" {
		in += "username=" + t.username + "\n"
	}
	if t.path != "" {
		in += "path=" + t.path + "\n"
	}
	cmd := exec.Command("git", "credential", "fill")
	cmd.Dir = w.home
	cmd.Env = append(os.Environ(), w.env...)
	cmd.Stdin = strings.NewReader(in)
	cmd.Run() // fails: nobody answers and prompts are off
	b, _ := os.ReadFile(w.log)
	return strings.Fields(string(b))
}

// TestResolveHelpersAgreesWithGit replays git's helper lookup over config
// files that exercise every rule (scheme, host case, wildcards, ports,
// users, paths, escapes, scheme-less keys, empty values) and compares the
// list with the helpers the real git asks.
func TestResolveHelpersAgreesWithGit(t *testing.T) {
	w := newGitWorld(t)
	out, err := w.git().Git(context.Background(), "version")
	if err != nil {
		t.Fatal(err)
	}
	v, _ := parseGitVersion(string(out))
	partial := v.atLeast(gitPartialMajor, gitPartialMinor)

	gl := target{protocol: "https", host: "gitlab.com"}
	tests := []struct {
		name    string
		config  string
		targets []target
	}{
		{"generic then host", "[credential]\n\thelper = a\n[credential \"https://gitlab.com\"]\n\thelper = b\n",
			[]target{gl, {protocol: "https", host: "example.com"}}},
		{"reset then ours", "[credential]\n\thelper = a\n[credential \"https://gitlab.com\"]\n\thelper =\n\thelper = glpat\n",
			[]target{gl, {protocol: "https", host: "other.org"}}},
		{"reset after ours", "[credential \"https://gitlab.com\"]\n\thelper = glpat\n[credential]\n\thelper =\n\thelper = c\n",
			[]target{gl}},
		{"scheme-less host", "[credential \"gitlab.com\"]\n\thelper = a\n[credential \"GitLab.com\"]\n\thelper = b\n",
			[]target{gl, {protocol: "http", host: "gitlab.com"}, {protocol: "https", host: "gitlab.com:8443"}}},
		{"host case and trailing slash", "[credential \"HTTPS://GitLab.COM/\"]\n\thelper = a\n",
			[]target{gl}},
		{"scheme must match", "[credential \"http://gitlab.com\"]\n\thelper = a\n[credential \"https://gitlab.com\"]\n\thelper = b\n",
			[]target{gl, {protocol: "http", host: "gitlab.com"}}},
		{"wildcard label", "[credential \"https://*.example.com\"]\n\thelper = a\n[credential \"https://gitlab.*.com\"]\n\thelper = b\n",
			[]target{{protocol: "https", host: "gitlab.example.com"}, {protocol: "https", host: "a.b.example.com"}, {protocol: "https", host: "example.com"}}},
		{"ports", "[credential \"https://gitlab.com:443\"]\n\thelper = a\n[credential \"https://gitlab.example.com:8443\"]\n\thelper = b\n[credential \"https://gitlab.example.com\"]\n\thelper = c\n",
			[]target{gl, {protocol: "https", host: "gitlab.example.com:8443"}, {protocol: "https", host: "gitlab.example.com"}}},
		{"user in key", "[credential \"https://alice@gitlab.com\"]\n\thelper = a\n[credential \"https://gitlab.com\"]\n\thelper = b\n",
			[]target{gl, {protocol: "https", host: "gitlab.com", username: "alice"}, {protocol: "https", host: "gitlab.com", username: "bob"}}},
		{"path prefix", "[credential \"https://gitlab.com/group\"]\n\thelper = a\n[credential \"https://gitlab.com/gr\"]\n\thelper = b\n[credential \"https://gitlab.com/gr%6Fup/app.git\"]\n\thelper = c\n",
			[]target{gl, {protocol: "https", host: "gitlab.com", path: "group/app.git"}, {protocol: "https", host: "gitlab.com", path: "groupie/x.git"}}},
		{"scheme-less path and user", "[credential \"gitlab.com/group/app.git\"]\n\thelper = a\n[credential \"alice@gitlab.com\"]\n\thelper = b\n",
			[]target{gl, {protocol: "https", host: "gitlab.com", path: "group/app.git"}, {protocol: "https", host: "gitlab.com", username: "alice"}}},
		{"scheme only", "[credential \"https://\"]\n\thelper = a\n[credential \"*\"]\n\thelper = b\n",
			[]target{gl, {protocol: "http", host: "gitlab.com"}}},
		{"dots in path", "[credential \"https://gitlab.com/x/../group/./\"]\n\thelper = a\n",
			[]target{gl, {protocol: "https", host: "gitlab.com", path: "group/app.git"}}},
		{"bad port falls back to partial", "[credential \"https://gitlab.com:0\"]\n\thelper = a\n[credential \"https://gitlab.com:99999\"]\n\thelper = b\n",
			[]target{gl, {protocol: "https", host: "gitlab.com:0"}}},
		{"absolute path and shell helpers", "[credential]\n\thelper = a\n[credential \"https://gitlab.com\"]\n\thelper = \"!f() { git credential-b \\\"$@\\\"; }; f\"\n",
			[]target{gl}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w.writeConfig(tt.config)
			entries, err := listCredentialConfig(context.Background(), w.git(), partial)
			if err != nil {
				t.Fatal(err)
			}
			for _, tg := range tt.targets {
				want := w.asked(tg)
				l := resolveHelpers(entries, tg, partial)
				var got []string
				for _, h := range l.helpers {
					got = append(got, helperName(h.value))
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

// TestListCredentialConfigScopes reads scopes and origins from the real git,
// including command-line config and values without "=".
func TestListCredentialConfigScopes(t *testing.T) {
	w := newGitWorld(t)
	w.writeConfig("[credential]\n\thelper = a\n[credential \"https://gitlab.com\"]\n\thelper =\n\tusername = alice\n")
	g := w.git()
	g.Env = append(slices.Clip(g.Env), "GIT_CONFIG_COUNT=1", "GIT_CONFIG_KEY_0=credential.helper", "GIT_CONFIG_VALUE_0=c")
	entries, err := listCredentialConfig(context.Background(), g, true)
	if err != nil {
		t.Fatal(err)
	}
	gitconfig := "file:" + filepath.Join(w.home, ".gitconfig")
	want := []configEntry{
		{scope: "global", origin: gitconfig, key: "credential.helper", value: "a"},
		{scope: "global", origin: gitconfig, key: "credential.https://gitlab.com.helper", value: ""},
		{scope: "global", origin: gitconfig, key: "credential.https://gitlab.com.username", value: "alice"},
		{scope: "command", origin: "command line:", key: "credential.helper", value: "c"},
	}
	if !slices.Equal(entries, want) {
		t.Errorf("entries:\n got %+v\nwant %+v", entries, want)
	}

	w.writeConfig("[credential]\n\thelper\n")
	entries, err = listCredentialConfig(context.Background(), w.git(), true)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || !entries[0].noValue {
		t.Errorf("a bare key: got %+v, want one entry with noValue", entries)
	}
	if l := resolveHelpers(entries, target{protocol: "https", host: "gitlab.com"}, true); len(l.broken) != 1 {
		t.Errorf("a bare helper key: got %d broken, want 1", len(l.broken))
	}

	w.writeConfig("")
	entries, err = listCredentialConfig(context.Background(), w.git(), true)
	if err != nil || len(entries) != 0 {
		t.Errorf("no credential config: got %+v, %v; want nothing and no error", entries, err)
	}

	w.writeConfig("[credential\n")
	if _, err := listCredentialConfig(context.Background(), w.git(), true); err == nil || !strings.Contains(err.Error(), "bad config") {
		t.Errorf("a broken config file: got %v, want git's \"bad config\" error", err)
	}
}
