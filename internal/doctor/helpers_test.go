package doctor

import (
	"errors"
	"io/fs"
	"strings"
	"testing"
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

func TestNormalizeURL(t *testing.T) {
	tests := []struct {
		name, in string
		globs    bool
		want     normURL
		ok       bool
	}{
		{"plain", "https://gitlab.com", false, normURL{scheme: "https", host: "gitlab.com", path: "/"}, true},
		{"case and default port", "HTTPS://GitLab.com:0443/", false, normURL{scheme: "https", host: "gitlab.com", path: "/"}, true},
		{"other port", "https://h:08443/a/b/", false, normURL{scheme: "https", host: "h", port: "8443", path: "/a/b/"}, true},
		{"user and password", "https://al%69ce:pw@h/", false, normURL{scheme: "https", hasUser: true, user: "alice", host: "h", path: "/"}, true},
		{"escaped reserved stays escaped", "https://h/a%2fb", false, normURL{scheme: "https", host: "h", path: "/a%2Fb"}, true},
		{"unsafe gets escaped", "https://h/a b", false, normURL{scheme: "https", host: "h", path: "/a%20b"}, true},
		{"dot segments", "https://h/a/./b/../c", false, normURL{scheme: "https", host: "h", path: "/a/c"}, true},
		{"query kept", "https://h/p?x=1", false, normURL{scheme: "https", host: "h", path: "/p?x=1"}, true},
		{"glob allowed", "https://*.h.com", true, normURL{scheme: "https", host: "*.h.com", path: "/"}, true},
		{"glob refused", "https://*.h.com", false, normURL{}, false},
		{"no scheme", "gitlab.com", false, normURL{}, false},
		{"no host", "https://", false, normURL{}, false},
		{"port zero", "https://h:0", false, normURL{}, false},
		{"port too big", "https://h:65536", false, normURL{}, false},
		{"bad escape", "https://h/%zz", false, normURL{}, false},
		{"dot dot above root", "https://h/..", false, normURL{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := normalizeURL(tt.in, tt.globs)
			if ok != tt.ok || (ok && got != tt.want) {
				t.Errorf("normalizeURL(%q) = %+v, %v; want %+v, %v", tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestNarrower(t *testing.T) {
	gl := target{protocol: "https", host: "gitlab.com"}
	tests := []struct {
		name, context string
		want          target
		ok            bool
	}{
		{"applies to all", "https://gitlab.com", gl, false},
		{"generic", "", gl, false},
		{"another host", "https://example.com/group", gl, false},
		{"user", "https://alice@gitlab.com", target{protocol: "https", host: "gitlab.com", username: "alice"}, true},
		{"path", "https://gitlab.com/group/", target{protocol: "https", host: "gitlab.com", path: "group"}, true},
		{"scheme-less path", "gitlab.com/group/app.git", target{protocol: "https", host: "gitlab.com", path: "group/app.git"}, true},
		{"scheme-less user", "bob@gitlab.com", target{protocol: "https", host: "gitlab.com", username: "bob"}, true},
		{"other scheme", "http://gitlab.com/group", gl, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := narrower(tt.context, gl, true)
			if ok != tt.ok || got != tt.want {
				t.Errorf("narrower(%q) = %+v, %v; want %+v, %v", tt.context, got, ok, tt.want, tt.ok)
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

func entry(scope, key, value string) configEntry {
	origin := "file:/home/a/.gitconfig"
	switch scope {
	case "system":
		origin = "file:/etc/gitconfig"
	case "local":
		origin = "file:.git/config"
	case "command":
		origin = "command line:"
	}
	return configEntry{scope: scope, origin: origin, key: key, value: value}
}

func TestCheckHelpers(t *testing.T) {
	const bin = "/home/a/.local/bin/git-credential-glpat"
	gl := target{protocol: "https", host: "gitlab.com"}
	reset := entry("global", "credential.https://gitlab.com.helper", "")
	ours := entry("global", "credential.https://gitlab.com.helper", bin)
	tests := []struct {
		name       string
		entries    []configEntry
		onPath     bool
		wantStatus string
		wantDetail []string
		wantFix    []string
	}{
		{"setup's lines", []configEntry{entry("system", "credential.helper", "manager"), reset, ours}, false,
			StatusOK, []string{"asks only git-credential-glpat", "git runs " + bin, "global, ~/.gitconfig"}, nil},
		{"nothing configured", nil, false,
			StatusFail, []string{"asks no credential helper for https://gitlab.com"}, []string{"git-credential-glpat setup gitlab.com"}},
		{"only another helper", []configEntry{entry("global", "credential.helper", "cache")}, false,
			StatusFail, []string{"git asks credential.helper=cache (global, ~/.gitconfig)", "never git-credential-glpat"}, []string{"setup gitlab.com"}},
		{"reset and nothing after", []configEntry{ours, entry("global", "credential.helper", "")}, false,
			StatusFail, []string{`credential.helper="" (global, ~/.gitconfig) clears the helpers before it`}, []string{"setup gitlab.com"}},
		{"another helper in front", []configEntry{entry("system", "credential.helper", "osxkeychain"), ours}, false,
			StatusWarn, []string{"osxkeychain (system, /etc/gitconfig) before git-credential-glpat", "stale or revoked token"}, []string{"setup gitlab.com", "empty credential.https://gitlab.com.helper"}},
		{"another helper after", []configEntry{reset, ours, entry("global", "credential.helper", "store")}, false,
			StatusWarn, []string{"also asks credential.helper=store", "copy of every token"}, []string{"setup gitlab.com"}},
		{"repository config after", []configEntry{reset, ours, entry("local", "credential.helper", "store")}, false,
			StatusWarn, []string{"store (local, .git/config) after"}, []string{"remove credential.helper from local, .git/config"}},
		{"asked twice", []configEntry{ours, entry("global", "credential.https://gitlab.com.helper", "glpat")}, true,
			StatusWarn, []string{"more than once"}, []string{"setup --undo gitlab.com"}},
		{"by name, on PATH", []configEntry{entry("global", "credential.helper", "glpat")}, true,
			StatusOK, []string{"git runs `git credential-glpat`, found at /usr/local/bin/git-credential-glpat"}, nil},
		{"by name, not on PATH", []configEntry{entry("global", "credential.helper", "glpat")}, false,
			StatusFail, []string{"is not on PATH"}, []string{"setup gitlab.com"}},
		{"moved binary", []configEntry{reset, entry("global", "credential.https://gitlab.com.helper", "/old/git-credential-glpat")}, false,
			StatusFail, []string{"/old/git-credential-glpat, which does not exist"}, []string{"setup gitlab.com"}},
		{"bare key", []configEntry{{scope: "global", origin: "file:/home/a/.gitconfig", key: "credential.helper", noValue: true}}, false,
			StatusFail, []string{"credential.helper (no value)", `"missing value"`}, []string{"give it a value or remove it from global, ~/.gitconfig"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := Env{
				Getenv: func(k string) string { return map[string]string{"HOME": "/home/a"}[k] },
				Stat:   fakeFS{bin: true}.stat,
				LookPath: func(string) (string, error) {
					if tt.onPath {
						return "/usr/local/bin/git-credential-glpat", nil
					}
					return "", errors.New("not found")
				},
				Binary: bin,
			}
			e := env.withDefaults()
			c := checkHelpers(e, resolveHelpers(tt.entries, gl, true), gl, "helpers", "gitlab.com")
			if c.Status != tt.wantStatus {
				t.Errorf("status = %q, want %q (detail: %s)", c.Status, tt.wantStatus, c.Detail)
			}
			for _, w := range tt.wantDetail {
				if !strings.Contains(c.Detail, w) {
					t.Errorf("detail %q\n does not say %q", c.Detail, w)
				}
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

func TestParseConfigList(t *testing.T) {
	tests := []struct {
		name      string
		out       string
		withScope bool
		want      []configEntry
		wantErr   bool
	}{
		{"with scope", "global\x00file:/h/.gitconfig\x00credential.helper\ncache\x00", true,
			[]configEntry{{scope: "global", origin: "file:/h/.gitconfig", key: "credential.helper", value: "cache"}}, false},
		{"without scope", "file:/h/.gitconfig\x00credential.helper\n\x00", false,
			[]configEntry{{origin: "file:/h/.gitconfig", key: "credential.helper", value: ""}}, false},
		{"bare key", "file:/h/.gitconfig\x00credential.helper\x00", false,
			[]configEntry{{origin: "file:/h/.gitconfig", key: "credential.helper", noValue: true}}, false},
		{"value with a line break", "global\x00file:/h\x00credential.helper\n!f() {\necho; }\x00", true,
			[]configEntry{{scope: "global", origin: "file:/h", key: "credential.helper", value: "!f() {\necho; }"}}, false},
		{"truncated", "global\x00file:/h\x00", true, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseConfigList(tt.out, tt.withScope)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("entry %d = %+v, want %+v", i, got[i], tt.want[i])
				}
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
