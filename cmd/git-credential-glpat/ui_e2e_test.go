package main

import (
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/glpat-dev/git-credential-glpat/internal/gitlabtest"
)

// TestHelpOnEveryCommand: -h prints the command's usage with examples and
// exits 0; a mistyped command at a terminal gets a hint.
func TestHelpOnEveryCommand(t *testing.T) {
	w := newWorld(t)
	for _, cmd := range []string{"login", "logout", "status", "rotate", "setup"} {
		out, _, err := w.run("", binPath, cmd, "-h")
		if err != nil || !strings.Contains(out, "Usage: git-credential-glpat "+cmd) || !strings.Contains(out, "Examples:") {
			t.Errorf("%s -h: %v\n%s", cmd, err, out)
		}
	}
	out, _, err := w.run("", binPath, "help")
	if err != nil || !strings.Contains(out, "Commands:") {
		t.Errorf("help: %v %q", err, out)
	}
}

// underTerminal runs a command with a pseudo-terminal as its stdin and
// stdout (util-linux script), as a person at a terminal would.
func (w *world) underTerminal(t *testing.T, extraEnv []string, args ...string) string {
	t.Helper()
	cmdline := binPath + " " + strings.Join(args, " ")
	cmd := exec.Command("script", "-qec", cmdline, "/dev/null")
	cmd.Env = append(w.env[:len(w.env):len(w.env)], extraEnv...)
	cmd.Dir = w.dir
	out, _ := cmd.CombinedOutput()
	return string(out)
}

func TestStatusColourOnlyOnATerminal(t *testing.T) {
	if _, err := exec.LookPath("script"); err != nil {
		t.Fatal("util-linux script is needed for a pseudo-terminal")
	}
	g := newGitLabWorld(t, "")
	tok, _ := g.gl.CreateToken(gitlabtest.TokenSpec{Scopes: []string{"api"}, ExpiresAt: gitlabtest.DateOf(today().AddDate(0, 0, 200))})
	g.login(tok)
	if out := g.underTerminal(t, []string{"TERM=xterm"}, "status", "--offline"); !strings.Contains(out, "\x1b[32m") {
		t.Errorf("status on a terminal has no colour:\n%q", out)
	}
	if out := g.underTerminal(t, []string{"TERM=xterm", "NO_COLOR=1"}, "status", "--offline"); strings.Contains(out, "\x1b[") {
		t.Errorf("status with NO_COLOR has escape sequences:\n%q", out)
	}
	if out, _, _ := g.run("", binPath, "status", "--offline"); strings.Contains(out, "\x1b[") {
		t.Errorf("status into a pipe has escape sequences:\n%q", out)
	}
	out, _, _ := g.run("", binPath, "status", "--offline")
	if !strings.Contains(out, "in 199 days") || !strings.Contains(out, "1 credential stored; nothing needs action") {
		t.Errorf("status lacks the relative expiry or the summary:\n%s", out)
	}
}

// TestNeverHangAnIDE: with no terminal and GIT_TERMINAL_PROMPT=0, a get
// that cannot answer (dead token, GitLab unreachable) falls through at once.
func TestNeverHangAnIDE(t *testing.T) {
	g := newGitLabWorld(t, "")
	tok, id := g.gl.CreateToken(gitlabtest.TokenSpec{Scopes: []string{"api"}, ExpiresAt: gitlabtest.DateOf(today().AddDate(0, 0, 5))})
	g.login(tok)
	g.gl.Revoke(id)
	start := time.Now()
	cmd := exec.Command("git", "-c", "credential.helper="+binPath, "credential", "fill")
	cmd.Env = append(g.env, "GIT_TERMINAL_PROMPT=0", "GIT_ASKPASS=", "SSH_ASKPASS=")
	cmd.Stdin = strings.NewReader("protocol=http\nhost=" + g.host + "\n")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Errorf("fill succeeded with a revoked token: %s", out)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("fill took %v, want it to fall through at once", d)
	}
	if !strings.Contains(string(out), "login http://"+g.host) {
		t.Errorf("no one-line reason in %q", out)
	}
}

// TestUnknownCommandAtATerminal: a person who mistypes a command at a
// terminal gets the error with the nearest command and a one-line pointer
// to the usage (exit 2), not the whole usage above the hint.
func TestUnknownCommandAtATerminal(t *testing.T) {
	w := newWorld(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"stauts"}, `unknown command "stauts" (did you mean status?)`},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
	} {
		cmd := exec.Command("script", "-qec", binPath+" "+strings.Join(tc.args, " "), "/dev/null")
		cmd.Env = w.env
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 2 {
			t.Errorf("%v: exit %v, want 2", tc.args, err)
		}
		lines := strings.Split(strings.TrimSpace(strings.ReplaceAll(string(out), "\r", "")), "\n")
		if !strings.Contains(lines[0], tc.want) || len(lines) != 2 || !strings.Contains(lines[1], "git-credential-glpat help") || strings.Contains(string(out), "Usage") {
			t.Errorf("%v: want %q and a one-line pointer to help, got:\n%s", tc.args, tc.want, out)
		}
	}
}

// TestMistypedCommandFromAScript: Git sends a bare operation word and never
// flags, so a word that comes with flags, or one close to a command, is a
// person's typo even without a terminal (a crontab line): one line with the
// nearest command, exit 2. Only what Git may send stays silent.
func TestMistypedCommandFromAScript(t *testing.T) {
	w := newWorld(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"rotat", "--all"}, `unknown command "rotat" (did you mean rotate?)`},
		{[]string{"stauts", "--json"}, `unknown command "stauts" (did you mean status?)`},
		{[]string{"logut", "--revoke"}, `unknown command "logut" (did you mean logout?)`},
		{[]string{"rotat"}, `unknown command "rotat" (did you mean rotate?)`},
		{[]string{"stat"}, `unknown command "stat" (did you mean status?)`},
		{[]string{"frobnicate", "--all"}, `unknown command "frobnicate"`},
		{[]string{"--all"}, `unknown command "--all"`},
	} {
		out, errOut, err := w.run("", binPath, tc.args...)
		if exitCode(err) != 2 || out != "" || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v from a script: exit %d, stdout %q, stderr %q; want exit 2 and one line with %q", tc.args, exitCode(err), out, errOut, tc.want)
		}
	}
	// What Git sends, or may send one day, is ignored in silence: bare
	// words, and words nearer to Git's own operations than to a command.
	for _, op := range []string{"frobnicate", "capability", "list", "set", "restore", "gets"} {
		out, errOut, err := w.run("protocol=https\nhost=example.com\n", binPath, op)
		if err != nil || out != "" || errOut != "" {
			t.Errorf("%s from Git: exit %d, stdout %q, stderr %q; want silence and exit 0", op, exitCode(err), out, errOut)
		}
	}
}
