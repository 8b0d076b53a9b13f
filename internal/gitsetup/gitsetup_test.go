package gitsetup

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// testEnv points git at a private global config in a temp dir, so tests
// never read or write the real user's files.
type testEnv struct {
	t      *testing.T
	dir    string
	global string // GIT_CONFIG_GLOBAL
	opts   Options
}

func newTestEnv(t *testing.T) *testEnv {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	dir := t.TempDir()
	e := &testEnv{t: t, dir: dir, global: filepath.Join(dir, "gitconfig")}
	t.Setenv("HOME", filepath.Join(dir, "home"))
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(dir, "home", ".config"))
	t.Setenv("GIT_CONFIG_GLOBAL", e.global)
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	t.Setenv("GIT_TERMINAL_PROMPT", "0")
	t.Setenv("GIT_CONFIG_COUNT", "")
	t.Setenv("GIT_CONFIG_PARAMETERS", "")
	if err := os.MkdirAll(filepath.Join(dir, "home"), 0o700); err != nil {
		t.Fatal(err)
	}
	e.opts = Options{
		Binary:   filepath.Join(dir, "bin", "git-credential-glpat"),
		StateDir: filepath.Join(dir, "state"),
	}
	return e
}

// git runs git and returns its trimmed stdout.
func (e *testEnv) git(args ...string) string {
	e.t.Helper()
	out, err := exec.Command("git", args...).Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		e.t.Fatalf("git %s: %v %s", strings.Join(args, " "), err, stderr)
	}
	return strings.TrimRight(string(out), "\n")
}

// getAll returns the values of key in the global config, in order.
func (e *testEnv) getAll(key string) []string {
	e.t.Helper()
	out, err := exec.Command("git", "config", "--global", "-z", "--get-all", key).Output()
	if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() == 1 {
		return nil
	}
	if err != nil {
		e.t.Fatalf("git config --get-all %s: %v", key, err)
	}
	vals := strings.Split(string(out), "\x00")
	return vals[:len(vals)-1]
}

func (e *testEnv) writeGlobal(content string) {
	e.t.Helper()
	if err := os.WriteFile(e.global, []byte(content), 0o644); err != nil {
		e.t.Fatal(err)
	}
}

func (e *testEnv) readGlobal() string {
	e.t.Helper()
	data, err := os.ReadFile(e.global)
	if err != nil {
		e.t.Fatal(err)
	}
	return string(data)
}

func (e *testEnv) setup(hosts ...Host) []Change {
	e.t.Helper()
	changes, err := Setup(context.Background(), e.opts, hosts)
	if err != nil {
		e.t.Fatalf("Setup: %v", err)
	}
	return changes
}

func (e *testEnv) undo(hosts ...Host) []Change {
	e.t.Helper()
	changes, err := Undo(context.Background(), e.opts, hosts)
	if err != nil {
		e.t.Fatalf("Undo: %v", err)
	}
	return changes
}

var gitlab = Host{Host: "gitlab.com"}

const helperKeyGitLab = "credential.https://gitlab.com.helper"

func actions(changes []Change) []Action {
	var a []Action
	for _, c := range changes {
		a = append(a, c.Action)
	}
	return a
}

func TestSetupWritesResetThenHelper(t *testing.T) {
	e := newTestEnv(t)
	changes := e.setup(gitlab)
	want := []Change{{
		URL: "https://gitlab.com", Key: helperKeyGitLab, Action: Added,
		Values: []string{"", e.opts.Binary}, File: e.global,
	}}
	if !reflect.DeepEqual(changes, want) {
		t.Errorf("Setup changes =\n%+v\nwant\n%+v", changes, want)
	}
	if got := e.getAll(helperKeyGitLab); !slices.Equal(got, []string{"", e.opts.Binary}) {
		t.Errorf("helpers = %q, want [\"\" %q]", got, e.opts.Binary)
	}
	// The record is private.
	for path, wantMode := range map[string]os.FileMode{e.opts.StateDir: 0o700, filepath.Join(e.opts.StateDir, stateFileName): 0o600} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != wantMode {
			t.Errorf("%s mode = %04o, want %04o", path, fi.Mode().Perm(), wantMode)
		}
	}
	// No temp files are left beside it.
	if files, _ := os.ReadDir(e.opts.StateDir); len(files) != 1 {
		t.Errorf("state dir holds %d files, want 1", len(files))
	}
}

func TestSetupTwiceChangesNothing(t *testing.T) {
	e := newTestEnv(t)
	e.writeGlobal("[user]\n\tname = A\n")
	e.setup(gitlab, Host{Host: "gitlab.example.com:8443"})
	before := e.readGlobal()
	stateBefore, _ := os.ReadFile(filepath.Join(e.opts.StateDir, stateFileName))
	changes := e.setup(gitlab, Host{Host: "gitlab.example.com:8443"})
	if got := actions(changes); !slices.Equal(got, []Action{Unchanged, Unchanged}) {
		t.Errorf("second Setup actions = %v, want [unchanged unchanged]", got)
	}
	if after := e.readGlobal(); after != before {
		t.Errorf("second Setup changed the config:\n%s\nwas\n%s", after, before)
	}
	if stateAfter, _ := os.ReadFile(filepath.Join(e.opts.StateDir, stateFileName)); !bytes.Equal(stateAfter, stateBefore) {
		t.Errorf("second Setup rewrote the record")
	}
}

func TestSetupHostCaseIsOneKey(t *testing.T) {
	e := newTestEnv(t)
	e.setup(Host{Host: "GitLab.COM", Protocol: "HTTPS"})
	if got := actions(e.setup(gitlab)); !slices.Equal(got, []Action{Unchanged}) {
		t.Errorf("Setup(gitlab.com) after Setup(GitLab.COM) = %v, want unchanged", got)
	}
}

func TestSetupAppendsAfterExistingHelpers(t *testing.T) {
	e := newTestEnv(t)
	e.writeGlobal("[credential \"https://gitlab.com\"]\n\thelper = osxkeychain\n")
	e.setup(gitlab)
	want := []string{"osxkeychain", "", e.opts.Binary}
	if got := e.getAll(helperKeyGitLab); !slices.Equal(got, want) {
		t.Errorf("helpers = %q, want %q", got, want)
	}
}

func TestUndoRemovesOnlyWhatSetupWrote(t *testing.T) {
	e := newTestEnv(t)
	original := "[credential]\n\thelper = cache\n[credential \"https://gitlab.com\"]\n\thelper = osxkeychain\n\tusername = alice\n"
	e.writeGlobal(original)
	e.setup(gitlab)
	// The user adds a helper after ours.
	e.git("config", "--global", "--add", helperKeyGitLab, "store")
	changes := e.undo(gitlab)
	want := []Change{{
		URL: "https://gitlab.com", Key: helperKeyGitLab, Action: Removed,
		Values: []string{"", e.opts.Binary}, File: e.global,
	}}
	if !reflect.DeepEqual(changes, want) {
		t.Errorf("Undo changes =\n%+v\nwant\n%+v", changes, want)
	}
	if got := e.getAll(helperKeyGitLab); !slices.Equal(got, []string{"osxkeychain", "store"}) {
		t.Errorf("helpers after undo = %q, want [osxkeychain store]", got)
	}
	if got := e.getAll("credential.helper"); !slices.Equal(got, []string{"cache"}) {
		t.Errorf("credential.helper after undo = %q, want [cache]", got)
	}
	// Undo again: nothing recorded any more.
	if got := actions(e.undo(gitlab)); !slices.Equal(got, []Action{NotSetUp}) {
		t.Errorf("second Undo = %v, want [not set up]", got)
	}
}

func TestUndoRestoresFileExactly(t *testing.T) {
	e := newTestEnv(t)
	original := "# my settings\n[user]\n\tname = A\n[credential \"https://gitlab.com\"]\n\tusername = alice\n"
	e.writeGlobal(original)
	e.setup(gitlab)
	e.undo(gitlab)
	if got := e.readGlobal(); got != original {
		t.Errorf("config after setup+undo:\n%s\nwant\n%s", got, original)
	}
}

func TestUndoAfterManualEdits(t *testing.T) {
	tests := []struct {
		name        string
		before      string                    // global config before setup
		edit        func(e *testEnv)          // the user's edit after setup
		wantValues  func(e *testEnv) []string // helper values after undo
		wantAction  Action
		wantWarning string // substring; empty: no warning
	}{
		{
			name:       "user removed the lines",
			edit:       func(e *testEnv) { e.git("config", "--global", "--unset-all", helperKeyGitLab) },
			wantValues: func(e *testEnv) []string { return nil },
			wantAction: AlreadyGone,
		},
		{
			name: "user put a helper between setup's lines",
			edit: func(e *testEnv) {
				e.git("config", "--global", "--unset-all", helperKeyGitLab)
				e.git("config", "--global", "--add", helperKeyGitLab, "")
				e.git("config", "--global", "--add", helperKeyGitLab, "cache")
				e.git("config", "--global", "--add", helperKeyGitLab, e.opts.Binary)
			},
			wantValues: func(e *testEnv) []string { return []string{"cache"} },
			wantAction: Removed,
		},
		{
			name:   "another tool's reset before ours",
			before: "[credential \"https://gitlab.com\"]\n\thelper = \n\thelper = !glab auth git-credential\n",
			edit:   func(e *testEnv) {},
			wantValues: func(e *testEnv) []string {
				return []string{"", "!glab auth git-credential"}
			},
			wantAction: Removed,
		},
		{
			name:   "another tool's reset after ours",
			before: "",
			edit: func(e *testEnv) {
				e.git("config", "--global", "--add", helperKeyGitLab, "")
				e.git("config", "--global", "--add", helperKeyGitLab, "manager")
			},
			wantValues: func(e *testEnv) []string { return []string{"", "manager"} },
			wantAction: Removed,
		},
		{
			name: "user removed only the path",
			edit: func(e *testEnv) {
				e.git("config", "--global", "--fixed-value", "--unset", helperKeyGitLab, e.opts.Binary)
			},
			wantValues:  func(e *testEnv) []string { return []string{""} },
			wantAction:  AlreadyGone,
			wantWarning: `credential.https://gitlab.com.helper still has an empty value ("") that setup may have written; check it with: git config --global --get-all credential.https://gitlab.com.helper`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t)
			e.writeGlobal(tt.before)
			e.setup(gitlab)
			tt.edit(e)
			changes := e.undo(gitlab)
			if len(changes) != 1 || changes[0].Action != tt.wantAction {
				t.Fatalf("Undo = %+v, want one %q change", changes, tt.wantAction)
			}
			if got := changes[0].Warning; tt.wantWarning == "" && got != "" || !strings.Contains(got, tt.wantWarning) {
				t.Errorf("warning = %q, want %q", got, tt.wantWarning)
			}
			if got, want := e.getAll(helperKeyGitLab), tt.wantValues(e); !slices.Equal(got, want) {
				t.Errorf("helpers after undo = %q, want %q", got, want)
			}
		})
	}
}

func TestUndoWithDuplicatesRestoresFileExactly(t *testing.T) {
	e := newTestEnv(t)
	original := "[credential \"https://gitlab.com\"]\n\thelper =\n\thelper = !glab auth git-credential\n\thelper = \"\" ; a comment\n[user]\n\tname = A\n"
	e.writeGlobal(original)
	e.setup(gitlab)
	e.undo(gitlab)
	if got := e.readGlobal(); got != original {
		t.Errorf("config after setup+undo:\n%q\nwant\n%q", got, original)
	}
	fi, err := os.Stat(e.global)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o644 {
		t.Errorf("mode after edit = %04o, want the original 0644", fi.Mode().Perm())
	}
	if _, err := os.Stat(e.global + ".lock"); err == nil {
		t.Errorf("lock file left behind")
	}
}

func TestUndoNeverSetUp(t *testing.T) {
	e := newTestEnv(t)
	e.writeGlobal("[credential \"https://gitlab.com\"]\n\thelper = \n\thelper = /somewhere/else\n")
	before := e.readGlobal()
	changes := e.undo(gitlab)
	want := []Change{{URL: "https://gitlab.com", Key: helperKeyGitLab, Action: NotSetUp}}
	if !reflect.DeepEqual(changes, want) {
		t.Errorf("Undo = %+v, want %+v", changes, want)
	}
	if e.readGlobal() != before {
		t.Errorf("Undo of nothing changed the config")
	}
	if _, err := os.Stat(e.opts.StateDir); err == nil {
		t.Errorf("Undo of nothing created the state dir")
	}
}

func TestUndoWithoutRecordWarnsAboutOurLines(t *testing.T) {
	e := newTestEnv(t)
	e.setup(gitlab)
	if err := os.RemoveAll(e.opts.StateDir); err != nil {
		t.Fatal(err)
	}
	changes := e.undo(gitlab)
	if len(changes) != 1 || changes[0].Action != NotSetUp || !strings.Contains(changes[0].Warning, "setup has no record of writing it") {
		t.Errorf("Undo without record = %+v, want not set up with a warning", changes)
	}
	if got := e.getAll(helperKeyGitLab); len(got) != 2 {
		t.Errorf("Undo without record removed values: %q left", got)
	}
}

func TestSetupPathWithSpaceRunsThroughGit(t *testing.T) {
	e := newTestEnv(t)
	bin := filepath.Join(e.dir, "my tools", "it's here", "git-credential-glpat")
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	script := "#!/bin/sh\n[ \"$1\" = get ] || exit 0\ncat >/dev/null\nprintf 'username=from-helper\\npassword=secret-from-helper\\n'\n"
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	e.opts.Binary = bin
	// A helper configured before setup must not be asked.
	e.writeGlobal("[credential]\n\thelper = \"!echo username=wrong; echo password=wrong; :\"\n")
	e.setup(gitlab)

	want := `!'` + filepath.Join(e.dir, "my tools") + `/it'\''s here/git-credential-glpat'`
	if got := e.getAll(helperKeyGitLab); !slices.Equal(got, []string{"", want}) {
		t.Fatalf("helpers = %q, want [\"\" %q]", got, want)
	}
	cmd := exec.Command("git", "credential", "fill")
	cmd.Stdin = strings.NewReader("protocol=https\nhost=gitlab.com\n\n")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git credential fill: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "username=from-helper\npassword=secret-from-helper\n") {
		t.Errorf("git credential fill output:\n%s\nwant the helper's username and password", out)
	}
	// The same setup a second time is recognised despite the quoting.
	if got := actions(e.setup(gitlab)); !slices.Equal(got, []Action{Unchanged}) {
		t.Errorf("second Setup = %v, want unchanged", got)
	}
}

func TestSetupUseHTTPPath(t *testing.T) {
	e := newTestEnv(t)
	h := Host{Host: "gitlab.com", UseHTTPPath: true}
	changes := e.setup(h)
	if got := actions(changes); !slices.Equal(got, []Action{Added, Added}) {
		t.Fatalf("Setup actions = %v, want [added added]", got)
	}
	if changes[1].Key != "credential.https://gitlab.com.usehttppath" || changes[1].File != e.global {
		t.Errorf("useHttpPath change = %+v", changes[1])
	}
	if got := e.git("config", "--global", "--get", "credential.https://gitlab.com.useHttpPath"); got != "true" {
		t.Errorf("useHttpPath = %q, want true", got)
	}
	if got := actions(e.setup(h)); !slices.Equal(got, []Action{Unchanged, Unchanged}) {
		t.Errorf("second Setup = %v, want unchanged twice", got)
	}
	hosts, err := SetUpHosts(e.opts)
	if err != nil || !reflect.DeepEqual(hosts, []Host{{Protocol: "https", Host: "gitlab.com", UseHTTPPath: true}}) {
		t.Errorf("SetUpHosts = %+v, %v", hosts, err)
	}
	if got := actions(e.undo(h)); !slices.Equal(got, []Action{Removed, Removed}) {
		t.Errorf("Undo = %v, want removed twice", got)
	}
	if got := e.getAll("credential.https://gitlab.com.usehttppath"); got != nil {
		t.Errorf("useHttpPath after undo = %q, want unset", got)
	}
}

func TestSetupKeepsUsersOwnUseHTTPPath(t *testing.T) {
	e := newTestEnv(t)
	e.writeGlobal("[credential \"https://gitlab.com\"]\n\tuseHttpPath = yes\n")
	h := Host{Host: "gitlab.com", UseHTTPPath: true}
	if got := actions(e.setup(h)); !slices.Equal(got, []Action{Added, Unchanged}) {
		t.Errorf("Setup = %v, want [added unchanged]", got)
	}
	e.undo(h)
	if got := e.getAll("credential.https://gitlab.com.usehttppath"); !slices.Equal(got, []string{"yes"}) {
		t.Errorf("useHttpPath after undo = %q, want the user's [yes]", got)
	}
}

func TestSetupWarnsAboutLaterHelper(t *testing.T) {
	e := newTestEnv(t)
	// git adds to the existing [credential "https://gitlab.com"] section,
	// which comes before the generic helper: Git will still ask "store".
	e.writeGlobal("[credential \"https://gitlab.com\"]\n\tusername = alice\n[credential]\n\thelper = store\n")
	changes := e.setup(gitlab)
	want := "git still asks credential.helper=store (in " + e.global + ") for https://gitlab.com; remove it, or move it above the lines setup added"
	if len(changes) != 1 || changes[0].Warning != want {
		t.Errorf("Setup = %+v\nwant warning %q", changes, want)
	}
	// Without the later helper there is nothing to warn about.
	e2 := newTestEnv(t)
	e2.writeGlobal("[credential]\n\thelper = store\n")
	if changes := e2.setup(gitlab); changes[0].Warning != "" {
		t.Errorf("Setup after an earlier helper warned: %q", changes[0].Warning)
	}
}

func TestSetupAgainAfterLaterLines(t *testing.T) {
	e := newTestEnv(t)
	e.setup(gitlab)
	// Another tool takes over after our lines.
	e.git("config", "--global", "--add", helperKeyGitLab, "")
	e.git("config", "--global", "--add", helperKeyGitLab, "manager")
	changes := e.setup(gitlab)
	if got := actions(changes); !slices.Equal(got, []Action{Replaced}) {
		t.Fatalf("Setup = %v, want one change of the key: [replaced]", got)
	}
	if pair := []string{"", e.opts.Binary}; !slices.Equal(changes[0].Values, pair) || !slices.Equal(changes[0].Old, pair) {
		t.Errorf("replaced %q with %q, want the same pair moved to the end", changes[0].Old, changes[0].Values)
	}
	if got, want := e.getAll(helperKeyGitLab), []string{"", "manager", "", e.opts.Binary}; !slices.Equal(got, want) {
		t.Errorf("helpers = %q, want %q", got, want)
	}
	e.undo(gitlab)
	if got, want := e.getAll(helperKeyGitLab), []string{"", "manager"}; !slices.Equal(got, want) {
		t.Errorf("helpers after undo = %q, want %q", got, want)
	}
}

func TestSetupWarnsAboutLaterReset(t *testing.T) {
	e := newTestEnv(t)
	e.writeGlobal("[credential \"https://gitlab.com\"]\n\tusername = alice\n[credential]\n\thelper =\n")
	changes := e.setup(gitlab)
	want := `git does not ask this helper for https://gitlab.com: credential.helper="" (in ` + e.global + `) comes after the lines setup added and clears them; remove it`
	if len(changes) != 1 || changes[0].Warning != want {
		t.Errorf("Setup = %+v\nwant warning %q", changes, want)
	}
}

func TestSetupReplacesMovedBinary(t *testing.T) {
	e := newTestEnv(t)
	old := e.opts.Binary
	e.setup(gitlab)
	e.opts.Binary = filepath.Join(e.dir, "new", "git-credential-glpat")
	changes := e.setup(gitlab)
	if got := actions(changes); !slices.Equal(got, []Action{Replaced}) {
		t.Fatalf("Setup after move = %v, want one change of the key: [replaced]", got)
	}
	if !slices.Equal(changes[0].Old, []string{"", old}) || !slices.Equal(changes[0].Values, []string{"", e.opts.Binary}) {
		t.Errorf("replaced %q with %q, want the old pair with the new", changes[0].Old, changes[0].Values)
	}
	if got := e.getAll(helperKeyGitLab); !slices.Equal(got, []string{"", e.opts.Binary}) {
		t.Errorf("helpers = %q, want only the new pair", got)
	}
	e.undo(gitlab)
	if got := e.getAll(helperKeyGitLab); got != nil {
		t.Errorf("helpers after undo = %q, want none", got)
	}
}

func TestSetupInXDGGlobalFile(t *testing.T) {
	e := newTestEnv(t)
	// With no GIT_CONFIG_GLOBAL and no ~/.gitconfig, git writes to
	// $XDG_CONFIG_HOME/git/config when that exists.
	t.Setenv("GIT_CONFIG_GLOBAL", "")
	os.Unsetenv("GIT_CONFIG_GLOBAL")
	xdg := filepath.Join(e.dir, "home", ".config", "git", "config")
	if err := os.MkdirAll(filepath.Dir(xdg), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(xdg, []byte("[user]\n\tname = A\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	changes := e.setup(gitlab)
	if changes[0].File != xdg {
		t.Errorf("Setup wrote %q, want %q", changes[0].File, xdg)
	}
	// Now ~/.gitconfig appears, so git's --global writes go there; undo
	// must still remove the lines from the file they are in.
	if err := os.WriteFile(filepath.Join(e.dir, "home", ".gitconfig"), []byte("[core]\n\tpager = less\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	changes = e.undo(gitlab)
	if len(changes) != 1 || changes[0].Action != Removed || changes[0].File != xdg {
		t.Errorf("Undo = %+v, want removed from %s", changes, xdg)
	}
	if data, _ := os.ReadFile(xdg); string(data) != "[user]\n\tname = A\n" {
		t.Errorf("XDG config after undo = %q", data)
	}
}

func TestUndoThroughSymlink(t *testing.T) {
	e := newTestEnv(t)
	target := filepath.Join(e.dir, "dotfiles", "gitconfig")
	if err := os.MkdirAll(filepath.Dir(target), 0o700); err != nil {
		t.Fatal(err)
	}
	original := "[credential \"https://gitlab.com\"]\n\thelper = \n\thelper = other\n"
	if err := os.WriteFile(target, []byte(original), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, e.global); err != nil {
		t.Fatal(err)
	}
	e.setup(gitlab)
	e.undo(gitlab) // duplicates of "": the direct edit
	if fi, err := os.Lstat(e.global); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("global config is no longer a symlink")
	}
	if data, _ := os.ReadFile(target); string(data) != original {
		t.Errorf("target after undo = %q, want %q", data, original)
	}
}

func TestHelperValue(t *testing.T) {
	tests := []struct{ name, in, want, wantErr string }{
		{"plain", "/usr/local/bin/git-credential-glpat", "/usr/local/bin/git-credential-glpat", ""},
		{"space", "/opt/my tools/git-credential-glpat", "!'/opt/my tools/git-credential-glpat'", ""},
		{"single quote", "/opt/it's/x", `!'/opt/it'\''s/x'`, ""},
		{"dollar", "/opt/$HOME/x", "!'/opt/$HOME/x'", ""},
		{"tilde", "/home/a/~bin/x", "!'/home/a/~bin/x'", ""},
		{"relative", "bin/git-credential-glpat", "", `gitsetup: helper path "bin/git-credential-glpat" is not absolute`},
		{"newline", "/opt/a\nb", "", `gitsetup: helper path "/opt/a\nb" contains a line break or NUL`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := HelperValue(tt.in)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Errorf("HelperValue(%q) = %q, %v; want error %s", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("HelperValue(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestBadInput(t *testing.T) {
	e := newTestEnv(t)
	tests := []struct {
		name    string
		opts    func(o *Options)
		host    Host
		wantErr string
	}{
		{"ssh protocol", nil, Host{Protocol: "ssh", Host: "gitlab.com"}, `gitsetup: protocol "ssh" is not https or http`},
		{"empty host", nil, Host{}, "gitsetup: empty host"},
		{"host with path", nil, Host{Host: "gitlab.com/x"}, `gitsetup: "gitlab.com/x" is not a host name`},
		{"no state dir", func(o *Options) { o.StateDir = "" }, gitlab, "gitsetup: no state directory"},
		{"relative binary", func(o *Options) { o.Binary = "glpat" }, gitlab, `gitsetup: helper path "glpat" is not absolute`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := e.opts
			if tt.opts != nil {
				tt.opts(&opts)
			}
			for name, f := range map[string]func(context.Context, Options, []Host) ([]Change, error){"Setup": Setup, "Undo": Undo} {
				if _, err := f(context.Background(), opts, []Host{tt.host}); err == nil || err.Error() != tt.wantErr {
					t.Errorf("%s: %v, want %s", name, err, tt.wantErr)
				}
			}
		})
	}
	if _, err := os.Stat(e.global); err == nil {
		t.Errorf("bad input wrote the git config")
	}
}

func TestGitTooOld(t *testing.T) {
	e := newTestEnv(t)
	fake := filepath.Join(e.dir, "old-git")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\necho 'git version 2.29.3'\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	e.opts.Git = fake
	_, err := Setup(context.Background(), e.opts, []Host{gitlab})
	if want := "gitsetup: git version 2.29.3 is too old: setup needs git 2.30 or later"; err == nil || err.Error() != want {
		t.Errorf("Setup with old git: %v, want %s", err, want)
	}
}

func TestGitMissing(t *testing.T) {
	e := newTestEnv(t)
	e.opts.Git = filepath.Join(e.dir, "no-such-git")
	_, err := Setup(context.Background(), e.opts, []Host{gitlab})
	if err == nil || !strings.HasPrefix(err.Error(), "gitsetup: git version: ") {
		t.Errorf("Setup without git: %v, want a gitsetup: git version error", err)
	}
}

func TestDamagedRecord(t *testing.T) {
	e := newTestEnv(t)
	if err := os.MkdirAll(e.opts.StateDir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(e.opts.StateDir, stateFileName)
	if err := os.WriteFile(path, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Undo(context.Background(), e.opts, []Host{gitlab})
	if err == nil || !strings.HasPrefix(err.Error(), "gitsetup: "+path+" is damaged") {
		t.Errorf("Undo with damaged record: %v", err)
	}
}

func TestSetupWarnsAboutIncludedHelper(t *testing.T) {
	e := newTestEnv(t)
	// A helper in a file the global config includes, after setup's lines:
	// git reads it as global config, and setup must too.
	extra := filepath.Join(e.dir, "extra.gitconfig")
	if err := os.WriteFile(extra, []byte("[credential]\n\thelper = store\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e.setup(gitlab)
	e.git("config", "--global", "include.path", extra)
	changes := e.setup(gitlab)
	want := "git still asks credential.helper=store (in " + extra + ") for https://gitlab.com; remove it, or move it above the lines setup added"
	if len(changes) != 1 || changes[0].Warning != want {
		t.Errorf("Setup = %+v\nwant warning %q", changes, want)
	}
}
