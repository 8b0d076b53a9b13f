package doctor

import (
	"errors"
	"io/fs"
	"strings"
	"testing"

	"github.com/glpat-dev/git-credential-glpat/internal/gitconfig"
)

func TestClassifyHelper(t *testing.T) {
	tests := []struct {
		name, value string
		want        helperKind
		wantPath    string
	}{
		{"short name", "glpat", glpatByName, programName},
		{"short name with args", "glpat --verbose", glpatByName, programName},
		{"absolute path", "/home/a/.local/bin/git-credential-glpat", glpatByPath, "/home/a/.local/bin/git-credential-glpat"},
		{"setup's quoted form", `!'/home/a/my bin/git-credential-glpat'`, glpatByPath, "/home/a/my bin/git-credential-glpat"},
		{"quoted with an apostrophe", `!'/home/o'\''b/git-credential-glpat'`, glpatByPath, "/home/o'b/git-credential-glpat"},
		{"double quoted", `!"/opt/x y/git-credential-glpat" --flag`, glpatByPath, "/opt/x y/git-credential-glpat"},
		{"windows path", "C:/Users/a/bin/git-credential-glpat.exe", glpatByPath, "C:/Users/a/bin/git-credential-glpat.exe"},
		{"windows backslashes, quoted", `'C:\Tools\GIT-CREDENTIAL-GLPAT.EXE'`, otherHelper, ""}, // not absolute: Git runs `git credential-'C:…'`
		{"windows backslashes in a snippet", `!'C:\Tools\GIT-CREDENTIAL-GLPAT.EXE'`, glpatByPath, `C:\Tools\GIT-CREDENTIAL-GLPAT.EXE`},
		{"shell snippet by name", "!git-credential-glpat", glpatByName, "git-credential-glpat"},
		{"another helper", "cache --timeout=300", otherHelper, ""},
		{"a lookalike", "/usr/bin/git-credential-glpat-old", otherHelper, ""},
		{"a lookalike name", "glpatx", otherHelper, ""},
		{"shell function", `!f() { echo password=x; }; f`, otherHelper, ""},
		{"manager", "manager", otherHelper, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, path := classifyHelper(tt.value)
			if got != tt.want || path != tt.wantPath {
				t.Errorf("classifyHelper(%q) = %v, %q; want %v, %q", tt.value, got, path, tt.want, tt.wantPath)
			}
		})
	}
}

// fakeFS answers Stat for the paths it holds.
type fakeFS map[string]bool

func (f fakeFS) stat(name string) (fs.FileInfo, error) {
	if f[name] {
		return nil, nil
	}
	return nil, &fs.PathError{Op: "stat", Path: name, Err: fs.ErrNotExist}
}

func entry(scope, key, value string) gitconfig.Entry {
	origin := "file:/home/a/.gitconfig"
	switch scope {
	case "system":
		origin = "file:/etc/gitconfig"
	case "local":
		origin = "file:.git/config"
	case "command":
		origin = "command line:"
	}
	return gitconfig.Entry{Scope: scope, Origin: origin, Key: key, Value: value}
}

func TestCheckHelpers(t *testing.T) {
	const bin = "/home/a/.local/bin/git-credential-glpat"
	gl := gitconfig.Target{Protocol: "https", Host: "gitlab.com"}
	reset := entry("global", "credential.https://gitlab.com.helper", "")
	ours := entry("global", "credential.https://gitlab.com.helper", bin)
	tests := []struct {
		name       string
		entries    []gitconfig.Entry
		onPath     bool
		wantStatus string
		wantDetail []string
		wantFix    []string
	}{
		{"setup's lines", []gitconfig.Entry{entry("system", "credential.helper", "manager"), reset, ours}, false,
			StatusOK, []string{"asks only git-credential-glpat", "git runs " + bin, "global, ~/.gitconfig"}, nil},
		{"nothing configured", nil, false,
			StatusFail, []string{"asks no credential helper for https://gitlab.com"}, []string{"git-credential-glpat setup gitlab.com"}},
		{"only another helper", []gitconfig.Entry{entry("global", "credential.helper", "cache")}, false,
			StatusFail, []string{"git asks credential.helper=cache (global, ~/.gitconfig)", "never git-credential-glpat"}, []string{"setup gitlab.com"}},
		{"reset and nothing after", []gitconfig.Entry{ours, entry("global", "credential.helper", "")}, false,
			StatusFail, []string{`credential.helper="" (global, ~/.gitconfig) clears the helpers before it`}, []string{"setup gitlab.com"}},
		{"another helper in front", []gitconfig.Entry{entry("system", "credential.helper", "osxkeychain"), ours}, false,
			StatusWarn, []string{"osxkeychain (system, /etc/gitconfig) before git-credential-glpat", "stale or revoked token"}, []string{"setup gitlab.com", "empty credential.https://gitlab.com.helper"}},
		{"another helper after", []gitconfig.Entry{reset, ours, entry("global", "credential.helper", "store")}, false,
			StatusWarn, []string{"also asks credential.helper=store", "copy of every token"}, []string{"for credential.helper=store (global, ~/.gitconfig): remove it, or move it above the lines setup added"}},
		{"another helper after, on setup's key", []gitconfig.Entry{reset, ours, entry("global", "credential.https://gitlab.com.helper", "store")}, false,
			StatusWarn, []string{"also asks credential.https://gitlab.com.helper=store"}, []string{"setup gitlab.com"}},
		{"repository config after", []gitconfig.Entry{reset, ours, entry("local", "credential.helper", "store")}, false,
			StatusWarn, []string{"store (local, .git/config) after"}, []string{"for credential.helper=store (local, .git/config): remove it"}},
		{"asked twice", []gitconfig.Entry{ours, entry("global", "credential.https://gitlab.com.helper", "glpat")}, true,
			StatusWarn, []string{"more than once"}, []string{"setup --undo gitlab.com"}},
		{"by name, on PATH", []gitconfig.Entry{entry("global", "credential.helper", "glpat")}, true,
			StatusOK, []string{"git runs `git credential-glpat`, found at /usr/local/bin/git-credential-glpat"}, nil},
		{"by path, not this doctor's", []gitconfig.Entry{reset, entry("global", "credential.https://gitlab.com.helper", "/opt/git-credential-glpat")}, false,
			StatusOK, []string{"git runs /opt/git-credential-glpat", "this doctor is " + bin}, nil},
		{"by name, not on PATH", []gitconfig.Entry{entry("global", "credential.helper", "glpat")}, false,
			StatusFail, []string{"is not on PATH"}, []string{"setup gitlab.com"}},
		{"moved binary", []gitconfig.Entry{reset, entry("global", "credential.https://gitlab.com.helper", "/old/git-credential-glpat")}, false,
			StatusFail, []string{"/old/git-credential-glpat, which does not exist"}, []string{"setup gitlab.com"}},
		{"bare key", []gitconfig.Entry{{Scope: "global", Origin: "file:/home/a/.gitconfig", Key: "credential.helper", NoValue: true}}, false,
			StatusFail, []string{"credential.helper (no value, global, ~/.gitconfig)", `"missing value"`}, []string{"give it a value or remove it from global, ~/.gitconfig"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := Env{
				Getenv: func(k string) string { return map[string]string{"HOME": "/home/a"}[k] },
				Stat:   fakeFS{bin: true, "/opt/git-credential-glpat": true}.stat,
				LookPath: func(string) (string, error) {
					if tt.onPath {
						return "/usr/local/bin/git-credential-glpat", nil
					}
					return "", errors.New("not found")
				},
				Binary: bin,
			}
			e := env.withDefaults()
			c := checkHelpers(e, gitconfig.Helpers(tt.entries, gl, true), gl, "helpers", "gitlab.com")
			if c.Status != tt.wantStatus {
				t.Errorf("status = %q, want %q (detail: %s)", c.Status, tt.wantStatus, c.Detail)
			}
			for _, w := range tt.wantDetail {
				if !strings.Contains(c.Detail, w) {
					t.Errorf("detail %q\n does not say %q", c.Detail, w)
				}
			}
			if strings.Contains(c.Detail, ") (") || strings.Contains(c.Fix, ") (") {
				t.Errorf("two parentheses in a row:\n%s\n%s", c.Detail, c.Fix)
			}
			for _, w := range tt.wantFix {
				if !strings.Contains(c.Fix, w) {
					t.Errorf("fix %q\n does not say %q", c.Fix, w)
				}
			}
			if tt.wantStatus == StatusOK && c.Fix != "" {
				t.Errorf("an ok check has a fix: %q", c.Fix)
			}
		})
	}
}

func TestFirstShellWord(t *testing.T) {
	tests := []struct{ in, want string }{
		{"abc def", "abc"},
		{"  'a b'c d", "a bc"},
		{`"a \"b\" \$c"`, `a "b" $c`},
		{`a\ b c`, "a b"},
		{"x;y", "x"},
		{"'unterminated", "unterminated"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := firstShellWord(tt.in); got != tt.want {
			t.Errorf("firstShellWord(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestTildePath(t *testing.T) {
	tests := []struct{ p, home, want string }{
		{"/home/a/.gitconfig", "/home/a", "~/.gitconfig"},
		{"/home/ab/.gitconfig", "/home/a", "/home/ab/.gitconfig"},
		{"/etc/gitconfig", "/home/a", "/etc/gitconfig"},
		{"/home/a/.gitconfig", "", "/home/a/.gitconfig"},
	}
	for _, tt := range tests {
		if got := tildePath(tt.p, tt.home); got != tt.want {
			t.Errorf("tildePath(%q, %q) = %q, want %q", tt.p, tt.home, got, tt.want)
		}
	}
}
