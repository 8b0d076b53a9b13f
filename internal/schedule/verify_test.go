package schedule

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// manPage is the man page that the units' Documentation= names.
const manPage = "../../doc/git-credential-glpat.1"

// TestSystemdAnalyzeVerify writes the units with Install into a temporary
// home and has systemd itself check them: syntax, known keys, a calendar
// spec it can parse, an executable ExecStart (the program path has a space,
// to check the quoting) and a Documentation= man page that exists. A unit
// with a typo must fail the same check, or the check proves nothing.
func TestSystemdAnalyzeVerify(t *testing.T) {
	sa, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed (Debian: apt-get install systemd)")
	}
	dir := t.TempDir()
	// A space, "%" and "$" in the path: systemd must find the file
	// through the quoting and escaping.
	bin := filepath.Join(dir, "my tools", "100%", "$HOME", "git-credential-glpat")
	if err := os.MkdirAll(filepath.Dir(bin), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, []byte("#!/bin/sh\nexit 0\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	o := Options{
		Binary: bin, GOOS: "linux", Home: filepath.Join(dir, "home"), UID: os.Getuid(),
		Env: []string{"GLPAT_STATE_DIR=" + filepath.Join(dir, "state 100%")},
		Run: &fakeRunner{answers: map[string]answer{"systemctl": {err: errExit1}}},
	}
	if _, err := Install(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	units := unitDir(o)

	// systemd-analyze runs `man` for Documentation=man:…; give it ours.
	manDir := filepath.Join(dir, "man")
	page, err := os.ReadFile(manPage)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(manDir, "man1"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(manDir, "man1", "git-credential-glpat.1"), page, 0o600); err != nil {
		t.Fatal(err)
	}
	runtimeDir := filepath.Join(dir, "run")
	if err := os.Mkdir(runtimeDir, 0o700); err != nil {
		t.Fatal(err)
	}
	args := []string{"verify", "--user"}
	if _, err := exec.LookPath("man"); err != nil {
		args = append(args, "--man=no") // the man page itself is checked in doc/
	}
	verify := func(files ...string) (string, error) {
		cmd := exec.Command(sa, append(args, files...)...)
		cmd.Env = append(os.Environ(),
			"HOME="+o.Home, "XDG_CONFIG_HOME="+filepath.Join(o.Home, ".config"),
			"XDG_RUNTIME_DIR="+runtimeDir, "MANPATH="+manDir, "SYSTEMD_PAGER=", "SYSTEMD_COLORS=0")
		out, err := cmd.CombinedOutput()
		return strings.TrimSpace(string(out)), err
	}

	timer, service := filepath.Join(units, timerUnit), filepath.Join(units, serviceUnit)
	if out, err := verify(timer, service); err != nil || out != "" {
		t.Errorf("systemd-analyze verify %s %s: %v\n%s", timer, service, err, out)
	}

	// The control: a typo in the timer must be caught.
	broken := filepath.Join(dir, "broken", timerUnit)
	data, _ := os.ReadFile(timer)
	data = []byte(strings.Replace(string(data), "OnCalendar=daily", "OnCalendar=dialy", 1))
	if err := os.MkdirAll(filepath.Dir(broken), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(broken, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "broken", serviceUnit), mustRead(t, service), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := verify(broken, filepath.Join(dir, "broken", serviceUnit))
	if err == nil || !strings.Contains(out, "dialy") {
		t.Errorf("systemd-analyze verify accepted a broken timer (err %v):\n%s", err, out)
	}
}

func mustRead(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
