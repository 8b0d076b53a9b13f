package schedule

import (
	"context"
	"encoding/xml"
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/glpat-dev/git-credential-glpat/internal/schedule/taskxml"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// fakeRunner answers commands from a table keyed by the command line (or
// a prefix of it) and records every call. Unknown commands fail as a
// missing program would.
type fakeRunner struct {
	answers map[string]answer
	calls   []string
}

type answer struct {
	out string
	err error
}

var errExit1 = errors.New("exit status 1")

func (f *fakeRunner) Run(_ context.Context, name string, args ...string) ([]byte, error) {
	line := commandLine(name, args)
	f.calls = append(f.calls, line)
	best := ""
	for k := range f.answers {
		if strings.HasPrefix(line, k) && len(k) > len(best) {
			best = k
		}
	}
	if best == "" {
		return nil, &exec.Error{Name: name, Err: exec.ErrNotFound}
	}
	a := f.answers[best]
	return []byte(a.out), a.err
}

// goldenOptions are fixed options, so that the golden files do not depend
// on the machine. The paths have a space, "%" and "$" to exercise quoting.
func goldenOptions(goos string) Options {
	o := Options{
		Binary: "/home/alice/my tools/100%/$HOME/git-credential-glpat",
		GOOS:   goos,
		Home:   "/home/alice",
		UID:    501,
		Env:    []string{"GLPAT_STATE_DIR=/home/alice/state dir", "GLPAT_CONFIG=/home/alice/glpat \"x\".toml"},
	}
	switch goos {
	case "darwin":
		o.Binary = "/Users/alice/bin/git-credential-glpat"
		o.Home = "/Users/alice"
		o.Env = []string{"GLPAT_STATE_DIR=/Users/alice/state & more"}
	case "windows":
		o.Binary = `C:\Users\Alice\AppData\Local\Programs\git-credential-glpat\git-credential-glpat.exe`
		o.Home = `C:\Users\Alice`
	}
	return o
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs from the golden file:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func TestGoldenFiles(t *testing.T) {
	service, timer := systemdUnits(goldenOptions("linux"))
	tests := []struct {
		name string
		got  []byte
	}{
		{"systemd/" + serviceUnit, service},
		{"systemd/" + timerUnit, timer},
		{"launchd/" + Name + ".plist", launchdPlist(goldenOptions("darwin"))},
		{"schtasks/create.args", []byte(strings.Join(schtasksCreate(goldenOptions("windows")), "\n") + "\n")},
		{"cron/crontab.line", []byte(CrontabLine(goldenOptions("linux")) + "\n")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { golden(t, tt.name, tt.got) })
	}
}

func TestSystemdQuoting(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/usr/bin/git-credential-glpat", "/usr/bin/git-credential-glpat"},
		{"/a b/x", `"/a b/x"`},
		{"/100%/x", "/100%%/x"},
		{"/$HOME/x", "/$HOME/x"},
		{`/a"b\c/x`, `"/a\"b\\c/x"`},
		{"/a;b", `"/a;b"`},
	}
	for _, tt := range tests {
		if got := systemdExecPath(tt.in); got != tt.want {
			t.Errorf("systemdExecPath(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
	if got, want := systemdEnvAssignment("K", `a "b" 5% $x`), `"K=a \"b\" 5%% $x"`; got != want {
		t.Errorf("systemdEnvAssignment = %s, want %s", got, want)
	}
}

func TestShellQuote(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/usr/bin/x", "/usr/bin/x"},
		{"/a b", "'/a b'"},
		{"o'b", `'o'\''b'`},
		{"50%", `'50\%'`},
		{"", "''"},
	}
	for _, tt := range tests {
		if got := shellQuote(tt.in); got != tt.want {
			t.Errorf("shellQuote(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

// TestCrontabLineRunsInShell runs the crontab line's command through sh
// with a stand-in program, to check that quoting gives it the right
// arguments and environment.
func TestCrontabLineRunsInShell(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no /bin/sh")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "my tools", "o'b", "git-credential-glpat")
	out := filepath.Join(dir, "out")
	if err := os.MkdirAll(filepath.Dir(bin), 0o700); err != nil {
		t.Fatal(err)
	}
	script := "#!/bin/sh\nprintf '%s|' \"$GLPAT_STATE_DIR\" \"$@\" > '" + out + "'\n"
	if err := os.WriteFile(bin, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	o := Options{Binary: bin, Env: []string{"GLPAT_STATE_DIR=/s t/a'te"}}
	line := CrontabLine(o)
	fields := strings.SplitN(line, " ", 6)
	if got := strings.Join(fields[:5], " "); got != "0 12 * * *" {
		t.Errorf("schedule fields = %q, want \"0 12 * * *\"", got)
	}
	// cron turns "\%" into "%"; there is none here.
	if err := exec.Command("/bin/sh", "-c", fields[5]).Run(); err != nil {
		t.Fatalf("sh -c %q: %v", fields[5], err)
	}
	got, _ := os.ReadFile(out)
	if want := "/s t/a'te|rotate|--all|"; string(got) != want {
		t.Errorf("the program got %q, want %q", got, want)
	}
}

func TestPlistIsWellFormed(t *testing.T) {
	o := goldenOptions("darwin")
	o.Binary = "/Users/a & b/<bin>/git-credential-glpat"
	var doc struct {
		Dict struct {
			Keys    []string `xml:"key"`
			Strings []string `xml:"string"`
			Arrays  []struct {
				Strings []string `xml:"string"`
			} `xml:"array"`
		} `xml:"dict"`
	}
	if err := xml.Unmarshal(launchdPlist(o), &doc); err != nil {
		t.Fatalf("the plist is not well-formed XML: %v", err)
	}
	wantKeys := []string{"Label", "ProgramArguments", "EnvironmentVariables", "RunAtLoad", "StartCalendarInterval", "ProcessType", "StandardOutPath", "StandardErrorPath"}
	if !slices.Equal(doc.Dict.Keys, wantKeys) {
		t.Errorf("keys = %q, want %q", doc.Dict.Keys, wantKeys)
	}
	if len(doc.Dict.Arrays) != 1 || !slices.Equal(doc.Dict.Arrays[0].Strings, []string{o.Binary, "rotate", "--all"}) {
		t.Errorf("ProgramArguments = %+v, want the program, rotate, --all", doc.Dict.Arrays)
	}
	if len(doc.Dict.Strings) == 0 || doc.Dict.Strings[0] != Name {
		t.Errorf("Label = %q, want %q", doc.Dict.Strings, Name)
	}
}

// linuxOptions points everything at a temporary directory.
func linuxOptions(t *testing.T, r Runner) Options {
	home := t.TempDir()
	return Options{Binary: "/usr/local/bin/git-credential-glpat", GOOS: "linux", Home: home, UID: 1000, Run: r}
}

func fileMode(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

func TestSystemdInstallStatusRemove(t *testing.T) {
	r := &fakeRunner{answers: map[string]answer{
		"systemctl --user daemon-reload":              {},
		"systemctl --user enable --now " + timerUnit:  {out: "Created symlink …\n"},
		"systemctl --user is-enabled " + timerUnit:    {out: "enabled\n"},
		"systemctl --user disable --now " + timerUnit: {out: "Removed …\n"},
		"systemctl --user is-system-running":          {out: "running\n"},
	}}
	o := linuxOptions(t, r)
	dir := filepath.Join(o.Home, ".config", "systemd", "user")
	// Someone else's unit in the same directory must survive.
	other := filepath.Join(dir, "other.timer")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(other, []byte("[Timer]\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	res, err := Install(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	wantFiles := []string{filepath.Join(dir, serviceUnit), filepath.Join(dir, timerUnit)}
	if !slices.Equal(res.Files, wantFiles) || !res.Active || res.Scheduler != "systemd" {
		t.Errorf("install: %+v; want files %q, active", res, wantFiles)
	}
	wantCalls := []string{"systemctl --user daemon-reload", "systemctl --user enable --now " + timerUnit}
	if !slices.Equal(r.calls, wantCalls) || !slices.Equal(res.Commands, wantCalls) {
		t.Errorf("install ran %q (reported %q), want %q", r.calls, res.Commands, wantCalls)
	}
	service, timer := systemdUnits(o)
	for i, want := range [][]byte{service, timer} {
		if got, _ := os.ReadFile(wantFiles[i]); string(got) != string(want) {
			t.Errorf("%s:\n%s\nwant\n%s", wantFiles[i], got, want)
		}
		if m := fileMode(t, wantFiles[i]); m != 0o600 {
			t.Errorf("%s has mode %o, want 600", wantFiles[i], m)
		}
	}

	st, err := Query(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Installed || st.State != "enabled" || !st.Current || !st.Active() {
		t.Errorf("status after install: %+v; want installed, enabled, current", st)
	}
	if want := "scheduled rotation: systemd user timer " + timerUnit + " in " + dir + ", enabled"; st.Line() != want {
		t.Errorf("Line() = %q, want %q", st.Line(), want)
	}

	// The program moved: status says so, installing again fixes it.
	moved := o
	moved.Binary = "/opt/glpat/git-credential-glpat"
	if st, _ := Query(context.Background(), moved); st.Current || !strings.Contains(st.Detail, "install` again") {
		t.Errorf("status for a moved program: %+v; want not current, saying to install again", st)
	}
	if _, err := Install(context.Background(), moved); err != nil {
		t.Fatal(err)
	}
	if st, _ := Query(context.Background(), moved); !st.Current {
		t.Errorf("status after installing again: %+v; want current", st)
	}

	r.calls = nil
	res, err = Remove(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	wantCalls = []string{"systemctl --user disable --now " + timerUnit, "systemctl --user daemon-reload"}
	if !slices.Equal(r.calls, wantCalls) {
		t.Errorf("remove ran %q, want %q", r.calls, wantCalls)
	}
	if !slices.Equal(res.Files, wantFiles) {
		t.Errorf("remove removed %q, want %q", res.Files, wantFiles)
	}
	for _, f := range wantFiles {
		if exists(f) {
			t.Errorf("%s is still there", f)
		}
	}
	if !exists(other) {
		t.Errorf("remove deleted someone else's unit %s", other)
	}
	if st, _ := Query(context.Background(), o); st.Installed || st.Line() != "scheduled rotation: not installed (git-credential-glpat schedule install)" {
		t.Errorf("status after remove: %+v (%q)", st, st.Line())
	}

	// Removing again does nothing and says so.
	r.calls = nil
	res, err = Remove(context.Background(), o)
	if err != nil || len(r.calls) != 0 || len(res.Files) != 0 || len(res.Notes) != 1 || !strings.Contains(res.Notes[0], "not installed") {
		t.Errorf("second remove: %+v, %v, ran %q; want nothing done and a note", res, err, r.calls)
	}
}

// TestSystemdWithoutUserManager is the container and CI case: systemctl
// --user cannot connect. The files are written, the note says how to
// enable them later and gives a crontab line; remove cleans up by itself.
func TestSystemdWithoutUserManager(t *testing.T) {
	noBus := answer{out: "Failed to connect to bus: No medium found\n", err: errExit1}
	tests := []struct {
		name    string
		answers map[string]answer
	}{
		{"no user bus", map[string]answer{"systemctl": noBus}},
		{"no systemctl", map[string]answer{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &fakeRunner{answers: tt.answers}
			o := linuxOptions(t, r)
			res, err := Install(context.Background(), o)
			if err != nil {
				t.Fatal(err)
			}
			if res.Active || len(res.Files) != 2 {
				t.Errorf("install: %+v; want two files, not active", res)
			}
			notes := strings.Join(res.Notes, "\n")
			for _, w := range []string{"systemctl --user daemon-reload && systemctl --user enable --now " + timerUnit, "crontab -e", "0 12 * * * DBUS_SESSION_BUS_ADDRESS='unix:path=/run/user/1000/bus' /usr/local/bin/git-credential-glpat rotate --all", "while you are logged in", "migrate --to kernel"} {
				if !strings.Contains(notes, w) {
					t.Errorf("notes do not say %q:\n%s", w, notes)
				}
			}
			if tt.name == "no user bus" && !strings.Contains(notes, "No medium found") {
				t.Errorf("notes do not quote systemctl's reason:\n%s", notes)
			}
			if len(r.calls) != 1 {
				t.Errorf("ran %q; want to stop after the first failing systemctl", r.calls)
			}

			st, err := Query(context.Background(), o)
			if err != nil || !st.Installed || st.State != "unknown" || !st.Active() || !strings.Contains(st.Detail, "cannot say") {
				t.Errorf("status: %+v, %v; want installed, state unknown", st, err)
			}

			// A user who enabled it by hand, then lost the user manager.
			link := wantsLink(o)
			if err := os.MkdirAll(filepath.Dir(link), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(filepath.Join(unitDir(o), timerUnit), link); err != nil {
				t.Fatal(err)
			}
			if st, _ := Query(context.Background(), o); st.State != "enabled" {
				t.Errorf("status with the wants link: state %q, want enabled", st.State)
			}
			res, err = Remove(context.Background(), o)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Files) != 3 || exists(link) || exists(filepath.Join(unitDir(o), timerUnit)) {
				t.Errorf("remove: %+v; want the link and both units gone", res)
			}
			if !strings.Contains(strings.Join(res.Notes, " "), "could not disable") {
				t.Errorf("remove notes %q do not say systemctl failed", res.Notes)
			}
			// A user manager out of reach may still fire the timer; with
			// no systemctl at all, none does.
			if res.Active != (tt.name == "no user bus") || !slices.Equal(res.Failed, []bool{true}) {
				t.Errorf("remove: active %v, failed %v; want active only with a user bus out of reach, the one systemctl failed", res.Active, res.Failed)
			}
		})
	}
}

func TestSystemdRemoveKeepsForeignLink(t *testing.T) {
	r := &fakeRunner{answers: map[string]answer{"systemctl": {err: errExit1}}}
	o := linuxOptions(t, r)
	link := wantsLink(o)
	if err := os.MkdirAll(filepath.Dir(link), 0o700); err != nil {
		t.Fatal(err)
	}
	// A link of that name that points elsewhere is not ours.
	if err := os.Symlink("/etc/systemd/user/something-else.timer", link); err != nil {
		t.Fatal(err)
	}
	if _, err := Install(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if _, err := Remove(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if !exists(link) {
		t.Errorf("remove deleted a link that points at another unit")
	}
}

func TestSystemdXDGConfigHome(t *testing.T) {
	r := &fakeRunner{answers: map[string]answer{"systemctl": {}}}
	o := linuxOptions(t, r)
	o.ConfigHome = filepath.Join(t.TempDir(), "xdg")
	res, err := Install(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(o.ConfigHome, "systemd", "user", timerUnit)
	if !slices.Contains(res.Files, want) {
		t.Errorf("files %q, want %s", res.Files, want)
	}
	if exists(filepath.Join(o.Home, ".config")) {
		t.Errorf("wrote under ~/.config although XDG_CONFIG_HOME is set")
	}
}

// TestLaunchdRemoveLeftLoaded: a bootout that fails while the agent is
// still loaded leaves it running, which Remove reports as still active.
func TestLaunchdRemoveLeftLoaded(t *testing.T) {
	r := &fakeRunner{answers: map[string]answer{"launchctl bootout": {err: errExit1, out: "Boot-out failed: 5: Input/output error"}, "launchctl bootstrap": {}, "launchctl print": {}}}
	o := Options{Binary: "/usr/local/bin/git-credential-glpat", GOOS: "darwin", Home: t.TempDir(), UID: 501, Run: r}
	if _, err := Install(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	res, err := Remove(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Active || !slices.Equal(res.Failed, []bool{true}) || !strings.Contains(strings.Join(res.Notes, " "), "launchctl bootout gui/501/"+Name) {
		t.Errorf("remove with a failed bootout of a loaded agent: %+v", res)
	}
}

func TestLaunchd(t *testing.T) {
	tests := []struct {
		name       string
		answers    map[string]answer
		wantActive bool
		wantNote   string
		wantState  string
	}{
		{"loads", map[string]answer{"launchctl bootout": {err: errExit1, out: "Boot-out failed: 3: No such process"}, "launchctl bootstrap": {}, "launchctl print": {}}, true, "daily at 12:00", "loaded"},
		{"over SSH", map[string]answer{"launchctl": {err: errExit1, out: "Bootstrap failed: 125: Domain does not support specified action"}}, false, "launchctl bootstrap gui/501 ", "not loaded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &fakeRunner{answers: tt.answers}
			o := Options{Binary: "/usr/local/bin/git-credential-glpat", GOOS: "darwin", Home: t.TempDir(), UID: 501, Run: r}
			res, err := Install(context.Background(), o)
			if err != nil {
				t.Fatal(err)
			}
			plist := filepath.Join(o.Home, "Library", "LaunchAgents", Name+".plist")
			wantCalls := []string{"launchctl bootout gui/501/" + Name, "launchctl bootstrap gui/501 " + plist}
			if !slices.Equal(r.calls, wantCalls) {
				t.Errorf("ran %q, want %q", r.calls, wantCalls)
			}
			if res.Active != tt.wantActive || !strings.Contains(strings.Join(res.Notes, " "), tt.wantNote) {
				t.Errorf("install: %+v; want active %v and a note saying %q", res, tt.wantActive, tt.wantNote)
			}
			// The first bootout only clears an agent loaded before: its
			// "No such process" is no failure to report ("tried").
			if len(res.Failed) != 2 || res.Failed[0] || res.Failed[1] == tt.wantActive {
				t.Errorf("install: failed %v; want [false %v]", res.Failed, !tt.wantActive)
			}
			if got, _ := os.ReadFile(plist); string(got) != string(launchdPlist(o)) || fileMode(t, plist) != 0o600 {
				t.Errorf("%s: wrong content or mode", plist)
			}
			st, err := Query(context.Background(), o)
			if err != nil || !st.Installed || st.State != tt.wantState || !st.Current {
				t.Errorf("status: %+v, %v; want installed, %s, current", st, err, tt.wantState)
			}

			r.calls = nil
			wantCalls = []string{"launchctl bootout gui/501/" + Name}
			if tt.wantActive {
				r.answers["launchctl bootout"] = answer{} // loaded now
			} else {
				wantCalls = append(wantCalls, "launchctl print gui/501/"+Name)
			}
			res, err = Remove(context.Background(), o)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(r.calls, wantCalls) || exists(plist) || !slices.Equal(res.Files, []string{plist}) || res.Active || !slices.Equal(res.Failed, []bool{!tt.wantActive}) {
				t.Errorf("remove: %+v, ran %q; want %q and the plist gone, nothing left loaded", res, r.calls, wantCalls)
			}
			if st, _ := Query(context.Background(), o); st.Installed {
				t.Errorf("status after remove: %+v", st)
			}
		})
	}
}

func utf16LE(s string) string {
	b := []byte{0xff, 0xfe}
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u), byte(u>>8))
	}
	return string(b)
}

func TestSchtasks(t *testing.T) {
	// Only Windows builds link the XML reader (taskxml_other.go).
	defer func(f func([]byte) (bool, string, string, error)) { readTaskXML = f }(readTaskXML)
	readTaskXML = taskxml.Decode
	o := goldenOptions("windows")
	taskXMLFor := func(cmd, enabled string) string {
		return `<?xml version="1.0" encoding="UTF-16"?>
<Task version="1.2" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">
  <Settings><Enabled>` + enabled + `</Enabled></Settings>
  <Actions Context="Author"><Exec><Command>"` + cmd + `"</Command><Arguments>rotate --all</Arguments></Exec></Actions>
</Task>`
	}
	tests := []struct {
		name        string
		query       answer
		wantState   string
		wantCurrent bool
	}{
		{"current, UTF-16", answer{out: utf16LE(taskXMLFor(o.Binary, "true"))}, "enabled", true},
		{"current, UTF-8", answer{out: taskXMLFor(o.Binary, "true")}, "enabled", true},
		{"disabled", answer{out: taskXMLFor(o.Binary, "false")}, "disabled", true},
		{"moved program", answer{out: taskXMLFor(`C:\old\git-credential-glpat.exe`, "true")}, "enabled", false},
		{"unreadable XML", answer{out: "garbage"}, "unknown", false},
		{"no Enabled element", answer{out: strings.Replace(taskXMLFor(o.Binary, "true"), "<Settings><Enabled>true</Enabled></Settings>", "", 1)}, "enabled", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &fakeRunner{answers: map[string]answer{"schtasks /Query /TN " + Name + " /XML": tt.query}}
			o.Run = r
			st, err := Query(context.Background(), o)
			if err != nil || !st.Installed || st.State != tt.wantState || st.Current != tt.wantCurrent {
				t.Errorf("status: %+v, %v; want state %q, current %v", st, err, tt.wantState, tt.wantCurrent)
			}
		})
	}

	t.Run("install and remove", func(t *testing.T) {
		r := &fakeRunner{answers: map[string]answer{"schtasks": {out: "SUCCESS"}}}
		o := goldenOptions("windows")
		o.Env = []string{"GLPAT_STATE_DIR=D:\\state"}
		o.Run = r
		res, err := Install(context.Background(), o)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.calls) != 1 || !strings.HasPrefix(r.calls[0], "schtasks /Create /F /SC DAILY /ST 12:00 /TN "+Name+" /TR ") || !res.Active || len(res.Files) != 0 {
			t.Errorf("install: %+v, ran %q", res, r.calls)
		}
		if !strings.Contains(strings.Join(res.Notes, " "), "setx") {
			t.Errorf("notes %q do not say how to pass GLPAT_STATE_DIR", res.Notes)
		}
		r.calls = nil
		if _, err := Remove(context.Background(), o); err != nil {
			t.Fatal(err)
		}
		want := []string{"schtasks /Query /TN " + Name, "schtasks /Delete /F /TN " + Name}
		if !slices.Equal(r.calls, want) {
			t.Errorf("remove ran %q, want %q", r.calls, want)
		}
	})

	t.Run("not installed", func(t *testing.T) {
		r := &fakeRunner{answers: map[string]answer{"schtasks": {err: errExit1, out: "ERROR: The system cannot find the file specified."}}}
		o := goldenOptions("windows")
		o.Run = r
		if st, err := Query(context.Background(), o); err != nil || st.Installed {
			t.Errorf("status: %+v, %v; want not installed", st, err)
		}
		res, err := Remove(context.Background(), o)
		if err != nil || len(r.calls) != 2 || !strings.Contains(strings.Join(res.Notes, ""), "not installed") {
			t.Errorf("remove: %+v, %v, ran %q; want only the query and a note", res, err, r.calls)
		}
		if _, err := Install(context.Background(), o); err == nil || !strings.Contains(err.Error(), "cannot find the file") {
			t.Errorf("install with failing schtasks: err = %v, want schtasks's message", err)
		}
	})
}

func TestSchtasksStatusWithoutXMLReader(t *testing.T) {
	defer func(f func([]byte) (bool, string, string, error)) { readTaskXML = f }(readTaskXML)
	readTaskXML = nil // as in every build but Windows
	r := &fakeRunner{answers: map[string]answer{"schtasks": {out: "<Task/>"}}}
	o := goldenOptions("windows")
	o.Run = r
	if _, err := Query(context.Background(), o); err == nil || !strings.Contains(err.Error(), "only into Windows") || len(r.calls) != 0 {
		t.Errorf("status without the reader: err = %v, ran %q; want a plain error and no schtasks call", err, r.calls)
	}
}

// TestXMLEscapeMatchesEncodingXML holds xmlEscape to encoding/xml's
// EscapeText, which it stands in for.
func TestXMLEscapeMatchesEncodingXML(t *testing.T) {
	for _, s := range []string{"", "plain", `/Users/a & b/<bin>/"x" 'y'`, "tab\tnl\ncr\r", "\x00\x01\x1f", "\xff\xfe", "é€😀", "\uFFFD", "\uFFFE\uFFFF", "\U0010FFFF", "a\xc3"} {
		var want strings.Builder
		xml.EscapeText(&want, []byte(s))
		if got := xmlEscape(s); got != want.String() {
			t.Errorf("xmlEscape(%q) = %q, want %q", s, got, want.String())
		}
	}
}

func FuzzXMLEscape(f *testing.F) {
	f.Add(`a & <b> "c" 'd'` + "\t\n\r\x00\xff")
	f.Fuzz(func(t *testing.T, s string) {
		var want strings.Builder
		xml.EscapeText(&want, []byte(s))
		if got := xmlEscape(s); got != want.String() {
			t.Errorf("xmlEscape(%q) = %q, want %q", s, got, want.String())
		}
	})
}

func TestBadOptions(t *testing.T) {
	r := &fakeRunner{}
	tests := []struct {
		name string
		o    Options
		want string
	}{
		{"relative program", Options{Binary: "git-credential-glpat", GOOS: "linux", Home: "/h", Run: r}, "not absolute"},
		{"windows path on linux", Options{Binary: `C:\x.exe`, GOOS: "linux", Home: "/h", Run: r}, "not absolute"},
		{"line break", Options{Binary: "/a\nb", GOOS: "linux", Home: "/h", Run: r}, "line break"},
		{"no home", Options{Binary: "/a", GOOS: "linux", Run: r}, "no home"},
		{"no runner", Options{Binary: "/a", GOOS: "linux", Home: "/h"}, "no command runner"},
		{"bad env", Options{Binary: "/a", GOOS: "linux", Home: "/h", Run: r, Env: []string{"NOVALUE"}}, "bad environment"},
		{"unsupported system", Options{Binary: "/usr/local/bin/git-credential-glpat", GOOS: "freebsd", Home: "/h", Run: r}, "crontab"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, f := range []func(context.Context, Options) (*Result, error){Install, Remove} {
				if _, err := f(context.Background(), tt.o); err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Errorf("err = %v, want it to say %q", err, tt.want)
				}
			}
			if _, err := Query(context.Background(), tt.o); err == nil {
				t.Errorf("Query: no error")
			}
			if len(r.calls) != 0 {
				t.Errorf("ran %q with bad options", r.calls)
			}
		})
	}
	o := Options{Binary: "/usr/local/bin/git-credential-glpat", GOOS: "freebsd", Home: "/h", Run: r}
	if _, err := Install(context.Background(), o); err == nil || !strings.Contains(err.Error(), "0 12 * * * /usr/local/bin/git-credential-glpat rotate --all") {
		t.Errorf("install on freebsd: err = %v, want the crontab line", err)
	}
}

func TestDefaultOptions(t *testing.T) {
	t.Setenv("GLPAT_STATE_DIR", "/srv/state")
	t.Setenv("GLPAT_CONFIG", "")
	t.Setenv("XDG_CONFIG_HOME", "relative/ignored")
	o, err := DefaultOptions("/usr/bin/git-credential-glpat")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(o.Env, "GLPAT_STATE_DIR=/srv/state") || slices.ContainsFunc(o.Env, func(s string) bool { return strings.HasPrefix(s, "GLPAT_CONFIG=") }) {
		t.Errorf("Env = %q, want GLPAT_STATE_DIR and no empty GLPAT_CONFIG", o.Env)
	}
	if o.ConfigHome != "" {
		t.Errorf("ConfigHome = %q from a relative XDG_CONFIG_HOME, want empty", o.ConfigHome)
	}
	if o.GOOS != runtime.GOOS || o.Run == nil || o.Home == "" {
		t.Errorf("DefaultOptions = %+v", o)
	}
}

// TestSystemdRemoveOfATimerNeverEnabled: where no systemd user manager
// runs, install writes the units but cannot enable the timer; remove then
// knows it was never enabled (no wants link) and says so, rather than that
// the job may still run.
func TestSystemdRemoveOfATimerNeverEnabled(t *testing.T) {
	r := &fakeRunner{answers: map[string]answer{"systemctl": {out: "Failed to connect to bus: No medium found\n", err: errExit1}}}
	o := linuxOptions(t, r)
	if _, err := Install(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	res, err := Remove(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	notes := strings.Join(res.Notes, " ")
	if res.Active || len(res.Files) != 2 || !strings.Contains(notes, "never enabled") || strings.Contains(notes, "to stop it now") {
		t.Errorf("remove: %+v; want not active, both units removed, a note that it was never enabled", res)
	}
}

// TestSystemdStatusWithoutUserManager: the timer's files are there but no
// user manager runs to fire it (systemctl answers is-enabled from the
// files, nothing else): status says so and gives the crontab line that
// works here instead.
func TestSystemdStatusWithoutUserManager(t *testing.T) {
	noBus := answer{out: "Failed to connect to bus: No medium found\n", err: errExit1}
	r := &fakeRunner{answers: map[string]answer{
		"systemctl": noBus,
		"systemctl --user is-enabled " + timerUnit: {out: "disabled\n", err: errExit1},
		"systemctl --user is-system-running":       {out: "offline\n", err: errExit1},
	}}
	o := linuxOptions(t, r)
	if st, err := Query(context.Background(), o); err != nil || st.NoScheduler == "" || st.Crontab != CrontabLine(o) {
		t.Errorf("status before install: %+v, %v; want the reason no scheduler runs and the crontab line", st, err)
	}
	if _, err := Install(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	st, err := Query(context.Background(), o)
	if err != nil || st.Active() || !strings.Contains(st.NoScheduler, "no systemd user manager") || st.Crontab != CrontabLine(o) {
		t.Errorf("status: %+v, %v; want not active, no user manager, the crontab line", st, err)
	}
	if l := st.Line(); !strings.Contains(l, "no systemd user manager") || !strings.Contains(l, "crontab line") || strings.Contains(l, "schedule install") {
		t.Errorf("Line() = %q; want the reason and where the crontab line is, not schedule install", l)
	}
	// With a user manager, nothing of the sort.
	r.answers["systemctl --user is-system-running"] = answer{out: "running\n"}
	if st, _ := Query(context.Background(), o); st.NoScheduler != "" {
		t.Errorf("status with a user manager: %+v; want no NoScheduler", st)
	}
}

// TestCrontabLineReachesTheSessionBus: on Linux the crontab line gives the
// job the address of the desktop session's bus, where the OS keychain
// answers (cron starts jobs with almost no environment).
func TestCrontabLineReachesTheSessionBus(t *testing.T) {
	o := linuxOptions(t, nil)
	if line := CrontabLine(o); !strings.Contains(line, " DBUS_SESSION_BUS_ADDRESS='unix:path=/run/user/1000/bus' ") {
		t.Errorf("crontab line %q lacks the session bus address", line)
	}
	o.GOOS = "freebsd"
	if line := CrontabLine(o); strings.Contains(line, "DBUS") {
		t.Errorf("crontab line %q names a logind bus on %s", line, o.GOOS)
	}
}
