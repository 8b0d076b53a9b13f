package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/glpat-dev/git-credential-glpat/internal/gitlabtest"
)

func TestDoctor(t *testing.T) {
	g := newGitLabWorld(t, "")
	tok, id := g.gl.CreateToken(gitlabtest.TokenSpec{Scopes: []string{"api"}, ExpiresAt: gitlabtest.DateOf(today().AddDate(0, 0, 120))})
	g.login(tok)
	g.run("", binPath, "setup")

	type check struct{ Name, Status, Detail, Fix string }
	doctor := func() ([]check, error) {
		out, errOut, err := g.run("", binPath, "doctor", "--json")
		var checks []check
		if jerr := json.Unmarshal([]byte(out), &checks); jerr != nil {
			t.Fatalf("doctor --json: %v\n%s\n%s", jerr, out, errOut)
		}
		return checks, err
	}
	find := func(checks []check, prefix string) check {
		for _, c := range checks {
			if strings.HasPrefix(c.Name, prefix) {
				return c
			}
		}
		t.Fatalf("no check %q in %+v", prefix, checks)
		return check{}
	}
	checks, _ := doctor()
	for _, name := range []string{"git", "config", "keychain", "token http://" + g.host} {
		if c := find(checks, name); c.Status != "ok" && c.Status != "info" {
			t.Errorf("check %q = %+v, want ok", name, c)
		}
	}
	g.gl.Revoke(id)
	checks, err := doctor()
	if c := find(checks, "token http://"+g.host); c.Status != "fail" || c.Fix == "" {
		t.Errorf("revoked token: %+v, want fail with a fix", c)
	}
	if err == nil {
		t.Error("doctor exit 0 with a revoked token, want 1")
	}
	out, _, _ := g.run("", binPath, "doctor")
	if !strings.Contains(out, "git") || strings.Contains(out, tok) {
		t.Errorf("doctor text output:\n%s", out)
	}
}

func TestScheduleInstallRemove(t *testing.T) {
	w := newWorld(t)
	// Each test world shares the keyring session's private HOME; give
	// this one its own so that the unit files are ours alone.
	home := filepath.Join(w.dir, "home")
	os.MkdirAll(home, 0o700)
	w.env = append(w.env, "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"))
	// A systemctl of our own: this machine may or may not run a systemd
	// user manager. First none answers, as in a container.
	bin := filepath.Join(w.dir, "bin")
	os.Mkdir(bin, 0o700)
	fake := filepath.Join(bin, "systemctl")
	os.WriteFile(fake, []byte("#!/bin/sh\necho 'Failed to connect to bus: No medium found' >&2\nexit 1\n"), 0o700)
	w.env = append(w.env, "PATH="+bin+":"+os.Getenv("PATH"))
	out, errOut, err := w.run("", binPath, "schedule", "install")
	if exitCode(err) != 1 || !strings.Contains(errOut, "not active") || !strings.Contains(errOut, "systemctl --user enable --now") || !strings.Contains(errOut, "crontab") || strings.Contains(out, "ran systemctl") {
		t.Errorf("schedule install without a user manager: exit %d\n%s\n%s", exitCode(err), out, errOut)
	}
	// systemctl answers is-enabled from the unit files with no user
	// manager: doctor then gives what works here, a crontab line, not
	// schedule install again.
	os.WriteFile(fake, []byte("#!/bin/sh\ncase \"$2\" in\nis-enabled) echo disabled; exit 1;;\nis-system-running) echo offline; exit 1;;\nesac\n"+
		"echo 'Failed to connect to bus: No medium found' >&2\nexit 1\n"), 0o700)
	doc, _, _ := w.run("", binPath, "doctor")
	if doc = flat(doc); !strings.Contains(doc, "crontab -e") || !strings.Contains(doc, "rotate --all") || strings.Contains(doc, "schedule install` again") {
		t.Errorf("doctor where no user manager runs does not give the crontab line:\n%s", doc)
	}
	if out, _, _ := w.run("", binPath, "status", "--offline"); !strings.Contains(flat(out), "crontab line") {
		t.Errorf("status where no user manager runs does not point at the crontab line:\n%s", out)
	}
	// The timer was never enabled: removing it leaves nothing that could
	// run it, and says so (exit 0), rather than that it may still run.
	out, errOut, err = w.run("", binPath, "schedule", "remove")
	if err != nil || !strings.Contains(errOut, "never enabled") || strings.Contains(errOut, "may still run") {
		t.Errorf("schedule remove of a timer never enabled: exit %d\n%s\n%s", exitCode(err), out, errOut)
	}
	// Then one answers; enable makes the wants link, as systemctl does.
	wants := filepath.Join(home, ".config", "systemd", "user", "timers.target.wants")
	os.WriteFile(fake, []byte("#!/bin/sh\n[ \"$2\" = is-enabled ] && echo enabled\n"+
		"[ \"$2\" = enable ] && mkdir -p '"+wants+"' && ln -sf ../$4 '"+wants+"'/$4\n"+
		"[ \"$2\" = disable ] && rm -f '"+wants+"'/$4\nexit 0\n"), 0o700)
	out, errOut, err = w.run("", binPath, "schedule", "install")
	if err != nil {
		t.Fatalf("schedule install: %v\n%s\n%s", err, out, errOut)
	}
	timer := filepath.Join(home, ".config", "systemd", "user", "git-credential-glpat-rotate.timer")
	service := filepath.Join(home, ".config", "systemd", "user", "git-credential-glpat-rotate.service")
	for _, f := range []string{timer, service} {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("%s not written: %v", f, err)
		}
	}
	if b, _ := os.ReadFile(service); !strings.Contains(string(b), binPath) || !strings.Contains(string(b), "rotate --all") {
		t.Errorf("service unit does not run this binary's rotate --all:\n%s", b)
	}
	if out, _, _ := w.run("", binPath, "schedule", "status"); !strings.Contains(out, "systemd") {
		t.Errorf("schedule status after install: %q", out)
	}
	if out, _, _ := w.run("", binPath, "status", "--offline"); !strings.Contains(out, "scheduled rotation") {
		t.Errorf("status lacks the scheduled rotation line:\n%s", out)
	}
	if out, errOut, err := w.run("", binPath, "schedule", "remove"); err != nil || !strings.Contains(out, "ran systemctl --user disable") {
		t.Fatalf("schedule remove: %v\n%s\n%s", err, out, errOut)
	}
	for _, f := range []string{timer, service} {
		if _, err := os.Stat(f); err == nil {
			t.Errorf("%s left after remove", f)
		}
	}
	// A remove whose systemctl fails said "ran systemctl --user disable"
	// and exited 0, while a running user manager may still fire the timer.
	if _, errOut, err := w.run("", binPath, "schedule", "install"); err != nil {
		t.Fatalf("schedule install again: %v %s", err, errOut)
	}
	os.WriteFile(fake, []byte("#!/bin/sh\necho 'Failed to connect to bus: No medium found' >&2\nexit 1\n"), 0o700)
	out, errOut, err = w.run("", binPath, "schedule", "remove")
	if exitCode(err) != 1 || strings.Contains(out, "ran systemctl") || !strings.Contains(out, "tried systemctl --user disable --now") || !strings.Contains(errOut, "error: ") || !strings.Contains(errOut, "next login") {
		t.Errorf("schedule remove with a failing systemctl: exit %d\n%s\n%s", exitCode(err), out, errOut)
	}
	for _, f := range []string{timer, service} {
		if _, err := os.Stat(f); err == nil {
			t.Errorf("%s left after remove with a failing systemctl", f)
		}
	}
}

// TestCompletionOffersEachHostOnce: a host with two accounts was offered
// twice. The bash script, as the binary prints it, completes `status ` from
// the binary's own status.
func TestCompletionOffersEachHostOnce(t *testing.T) {
	w := newWorld(t)
	w.run("protocol=https\nhost=a.example\nusername=u\npassword=p\n", binPath, "store")
	w.run("protocol=https\nhost=a.example\nusername=v\npassword=p\n", binPath, "store")
	w.run("protocol=https\nhost=b.example:8443\nusername=u\npassword=p\n", binPath, "store")
	out, errOut, err := w.run("", binPath, "completion", "bash")
	if err != nil {
		t.Fatalf("completion bash: %v %s", err, errOut)
	}
	script := filepath.Join(w.dir, "c.bash")
	os.WriteFile(script, []byte(out), 0o600)
	code := `source "$1" || exit 3
COMP_WORDS=(git-credential-glpat status "")
COMP_CWORD=2
COMP_LINE="git-credential-glpat status "
COMP_POINT=${#COMP_LINE}
COMPREPLY=()
_git_credential_glpat
printf '%s\n' "${COMPREPLY[@]}"
`
	w.env = append(w.env, "PATH="+filepath.Dir(binPath)+string(os.PathListSeparator)+os.Getenv("PATH"))
	out, errOut, err = w.run("", "bash", "--norc", "--noprofile", "-c", code, "bash", script)
	if got := strings.Fields(out); err != nil || !slices.Equal(got, []string{"a.example", "b.example:8443"}) {
		t.Errorf("bash completes `status ` with %q (%v %s), want each host once", got, err, errOut)
	}
}

func TestCompletion(t *testing.T) {
	w := newWorld(t)
	for _, sh := range []string{"bash", "zsh", "fish"} {
		out, errOut, err := w.run("", binPath, "completion", sh)
		if err != nil || !strings.Contains(out, "rotate") || !strings.Contains(out, "token-stdin") {
			t.Errorf("completion %s: %v %q", sh, err, errOut)
		}
		if sh == "bash" {
			f := filepath.Join(w.dir, "c.bash")
			os.WriteFile(f, []byte(out), 0o600)
			if msg, err := exec.Command("bash", "-n", f).CombinedOutput(); err != nil {
				t.Errorf("bash -n: %v %s", err, msg)
			}
		}
	}
	if _, _, err := w.run("", binPath, "completion", "tcsh"); err == nil {
		t.Error("completion tcsh succeeded")
	}
}
