package main

import (
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/glpat-dev/git-credential-glpat/internal/gitlabtest"
)

// TestPassphraseStdinReadsEachOnce: --passphrase-stdin reads each
// passphrase once, one line each (as docker login --password-stdin does);
// a one-character passphrase is refused with the minimum stated; a bad
// --for names the flag and the accepted forms, a zero or negative one says
// it must be positive.
func TestPassphraseStdinReadsEachOnce(t *testing.T) {
	w := backendWorld(t, "encrypted-file")
	_, errOut, err := w.run("x\n", binPath, "init", "--passphrase-stdin")
	if exitCode(err) != 1 || !strings.Contains(errOut, "at least 8") || strings.Count(errOut, "\n") != 1 {
		t.Errorf("init with a one-character passphrase: exit %d, stderr %q", exitCode(err), errOut)
	}
	if _, errOut, err := w.run("first passphrase\n", binPath, "init", "--passphrase-stdin"); err != nil {
		t.Fatalf("init with one line: %v %s", err, errOut)
	}
	w.run("", binPath, "lock")
	if _, errOut, err := w.run("first passphrase\nsecond passphrase\n", binPath, "passphrase", "--passphrase-stdin"); err != nil {
		t.Fatalf("passphrase with old and new, one line each: %v %s", err, errOut)
	}
	if _, errOut, err := w.run("second passphrase\n", binPath, "unlock", "--passphrase-stdin"); err != nil {
		t.Errorf("unlock with the new passphrase: %v %s", err, errOut)
	}
	_, errOut, err = w.run("second passphrase\n", binPath, "unlock", "--passphrase-stdin", "--for", "12hours")
	if exitCode(err) != 2 || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, "--for") || !strings.Contains(errOut, "12h") || !strings.Contains(errOut, "7d") {
		t.Errorf("unlock --for 12hours: exit %d, stderr %q", exitCode(err), errOut)
	}
	// A zero or negative --for was "not a duration", which it is.
	for _, d := range []string{"0", "0s", "-1h"} {
		_, errOut, err = w.run("second passphrase\n", binPath, "unlock", "--passphrase-stdin", "--for", d)
		if exitCode(err) != 2 || strings.Count(errOut, "\n") != 1 || strings.Contains(errOut, "not a duration") || !strings.Contains(errOut, "--for") || !strings.Contains(errOut, "must be positive") || !strings.Contains(errOut, "12h") || !strings.Contains(errOut, "7d") {
			t.Errorf("unlock --for %s: exit %d, stderr %q", d, exitCode(err), errOut)
		}
	}
}

// TestFlagErrors: an unknown flag gets one line naming it and the nearest
// flag, exit 2, not Go's message plus the whole usage.
func TestFlagErrors(t *testing.T) {
	w := newWorld(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"status", "--jsn"}, "unknown flag --jsn (did you mean --json?)"},
		{[]string{"rotate", "--forse"}, "did you mean --force?"},
		{[]string{"login", "--usernme", "a"}, "did you mean --username?"},
		{[]string{"logout", "--revok"}, "did you mean --revoke?"},
		{[]string{"setup", "--frobnicate"}, "unknown flag --frobnicate"},
		{[]string{"login", "--username"}, "--username needs a value"},
	} {
		_, errOut, err := w.run("", binPath, tc.args...)
		if exitCode(err) != 2 || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, tc.want) || strings.Contains(errOut, "Usage") {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and one line with %q", tc.args, exitCode(err), errOut, tc.want)
		}
	}
}

// TestEveryCommandTakesHelp: -h on every command (completion and version
// too) prints its usage and exits 0; help COMMAND shows the same; -v is
// --version; every usage line lists every flag the command takes.
func TestEveryCommandTakesHelp(t *testing.T) {
	w := newWorld(t)
	// The flags each command takes, as it binds them.
	flagsOf := map[string][]string{}
	for _, c := range commands {
		if c.name == "help" {
			continue
		}
		flagsOf[c.name] = boundFlags(c.name)
	}
	for cmd, fl := range flagsOf {
		out, errOut, err := w.run("", binPath, cmd, "-h")
		if err != nil || !strings.Contains(out, "Usage: git-credential-glpat") || !strings.Contains(out, cmd) {
			t.Errorf("%s -h: %v\nstdout %q\nstderr %q", cmd, err, out, errOut)
			continue
		}
		usageLine := strings.SplitN(out, "\n\n", 2)[0]
		for _, f := range fl {
			if !strings.Contains(usageLine, f) {
				t.Errorf("%s -h: the usage lines lack %s:\n%s", cmd, f, usageLine)
			}
		}
		if help, _, err := w.run("", binPath, "help", cmd); err != nil || help != out {
			t.Errorf("help %s differs from %s -h: %v\n%s", cmd, cmd, err, help)
		}
	}
	v, _, err := w.run("", binPath, "-v")
	if err != nil || !strings.HasPrefix(v, "git-credential-glpat ") {
		t.Errorf("-v: %v %q", err, v)
	}
}

// TestCommandsParseOnlyTheirOwnFlags: a command that shares its usage and
// its run with others (lock with init, unlock and passphrase) takes only
// the flags it binds itself: another's is an unknown flag, one line, exit
// 2, as its usage and its completion say.
func TestCommandsParseOnlyTheirOwnFlags(t *testing.T) {
	w := newWorld(t)
	for _, c := range commands {
		own := boundFlags(c.name)
		others := slices.Compact(slices.Sorted(slices.Values(boundFlags(sharing(c)...))))
		for _, f := range others {
			if slices.Contains(own, f) {
				continue
			}
			_, errOut, err := w.run("", binPath, c.name, f)
			want := c.name + ": unknown flag " + f
			if exitCode(err) != 2 || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, want) {
				t.Errorf("%s %s: exit %d, stderr %q; want exit 2 and one line with %q", c.name, f, exitCode(err), errOut, want)
			}
		}
	}
}

// TestGetHelpAtATerminalDoesNotWait: get -h prints its usage and exits
// without reading stdin.
func TestGetHelpAtATerminalDoesNotWait(t *testing.T) {
	w := newWorld(t)
	s := w.interactive(t, "get", "-h")
	code, out := s.wait()
	if code != 0 || !strings.Contains(out, "Usage: git-credential-glpat get") {
		t.Errorf("get -h at a terminal: exit %d\n%s", code, out)
	}
}

// TestCtrlDAtTheHiddenPromptCancels: Ctrl-D at login's token prompt ends
// login without storing anything, and says so.
func TestCtrlDAtTheHiddenPromptCancels(t *testing.T) {
	g := newGitLabWorld(t, "")
	s := g.interactive(t, "login", g.host)
	s.expect("input is hidden")
	s.send("\x04")
	code, out := s.wait()
	if code != 1 || !strings.Contains(out, "cancelled") || strings.Contains(out, "error") {
		t.Errorf("Ctrl-D: exit %d\n%s", code, out)
	}
	// Ctrl-C at the hidden prompt: interrupted, exit 130.
	s = g.interactive(t, "login", g.host)
	s.expect("input is hidden")
	s.send("glpat-half-typed\x03")
	code, out = s.wait()
	if code != 130 || !strings.Contains(out, "interrupted") || strings.Contains(out, "half-typed") {
		t.Errorf("Ctrl-C: exit %d\n%s", code, out)
	}
}

// TestRotateOfATokenThatCannotRotateItself reports that as its state, not
// "failed".
func TestRotateOfATokenThatCannotRotateItself(t *testing.T) {
	g := newGitLabWorld(t, "")
	tok, _ := g.gl.CreateToken(gitlabtest.TokenSpec{Scopes: []string{"read_repository", "write_repository"}, ExpiresAt: gitlabtest.DateOf(today().AddDate(0, 0, 100))})
	g.login(tok)
	out, errOut, err := g.run("", binPath, "rotate", g.host, "--force")
	if exitCode(err) != 1 || !strings.Contains(out, "cannot rotate itself (needs self_rotate or api)") || strings.Contains(out, "failed") {
		t.Errorf("rotate: exit %d\nstdout %s\nstderr %s", exitCode(err), out, errOut)
	}
}

// TestInitAtATerminalAsksTwice: a person at a terminal types a new
// passphrase twice (a typo would lock them out); nothing is echoed.
func TestInitAtATerminalAsksTwice(t *testing.T) {
	w := backendWorld(t, "encrypted-file")
	s := w.interactive(t, "init")
	s.expect("New passphrase (input is hidden): ")
	s.send("terminal passphrase\r")
	s.expect("Repeat the new passphrase (input is hidden): ")
	s.send("terminal passphrase\r")
	code, out := s.wait()
	if code != 0 || strings.Contains(out, "terminal passphrase") {
		t.Fatalf("init at a terminal: exit %d\n%s", code, out)
	}
	w.run("", binPath, "lock")
	if _, errOut, err := w.run("terminal passphrase\n", binPath, "unlock", "--passphrase-stdin"); err != nil {
		t.Errorf("unlock with the passphrase typed at init: %v %s", err, errOut)
	}
}

// TestArgumentErrors: every command says what is wrong with its arguments
// in the style of its flag errors: one line "COMMAND: what is wrong (what
// it takes, or the nearest word)", exit 2, no usage.
func TestArgumentErrors(t *testing.T) {
	w := newWorld(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"completion"}, "completion: missing the shell (bash, zsh or fish)"},
		{[]string{"completion", "bsh"}, `completion: unknown shell "bsh" (did you mean bash?)`},
		{[]string{"completion", "powershell"}, `completion: unknown shell "powershell" (bash, zsh or fish)`},
		{[]string{"completion", "bash", "zsh"}, `completion: unexpected argument "zsh"`},
		{[]string{"schedule"}, "schedule: missing the action (install, remove or status)"},
		{[]string{"schedule", "instal"}, `schedule: unknown action "instal" (did you mean install?)`},
		{[]string{"schedule", "install", "remove"}, `schedule: unexpected argument "remove"`},
		{[]string{"migrate"}, "migrate: missing --to BACKEND (keyring, encrypted-file or kernel)"},
		{[]string{"migrate", "--to", "keyrng"}, `migrate: unknown backend "keyrng" for --to (did you mean keyring?)`},
		{[]string{"migrate", "--to", "vault"}, `migrate: unknown backend "vault" for --to (keyring, encrypted-file or kernel)`},
		{[]string{"migrate", "--to", "kernel", "now"}, `migrate: unexpected argument "now"`},
		{[]string{"version", "x"}, `version: unexpected argument "x"`},
		{[]string{"doctor", "x"}, `doctor: unexpected argument "x"`},
		{[]string{"lock", "x"}, `lock: unexpected argument "x"`},
		{[]string{"help", "status", "x"}, `help: unexpected argument "x"`},
		{[]string{"status", "a.example", "b.example"}, `status: unexpected argument "b.example" (status takes one HOST)`},
		{[]string{"status", "a.example/x"}, `status: "a.example/x" is not a host name`},
		{[]string{"rotate", "a.example", "--all"}, "rotate: give a HOST or --all, not both"},
	} {
		out, errOut, err := w.run("", binPath, tc.args...)
		if exitCode(err) != 2 || out != "" || strings.Count(errOut, "\n") != 1 || !strings.HasPrefix(errOut, "git-credential-glpat: error: "+tc.want) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 2 and the one line %q", tc.args, exitCode(err), out, errOut, tc.want)
		}
	}
}

// TestNewPassphraseAtATerminalIsAskedAgain: a new passphrase that is too
// short, or repeated differently, is asked for again at a terminal (three
// tries in all), as passwd(1) does, instead of ending the command.
func TestNewPassphraseAtATerminalIsAskedAgain(t *testing.T) {
	w := backendWorld(t, "encrypted-file")
	s := w.interactive(t, "init")
	s.expect("New passphrase (input is hidden): ")
	s.send("short\r")
	s.expect("too short (5 characters)")
	s.expect("New passphrase (input is hidden): ")
	s.send("terminal passphrase\r")
	s.expect("Repeat the new passphrase (input is hidden): ")
	s.send("terminal passphrose\r")
	s.expect("the two passphrases differ")
	s.expect("New passphrase (input is hidden): ")
	s.send("terminal passphrase\r")
	s.expect("Repeat the new passphrase")
	s.send("terminal passphrase\r")
	code, out := s.wait()
	if code != 0 || strings.Contains(out, "terminal passphrase") || strings.Count(out, "New passphrase") != 3 {
		t.Fatalf("init with a third try that is right: exit %d\n%s", code, out)
	}
	w.run("", binPath, "lock")
	if _, errOut, err := w.run("terminal passphrase\n", binPath, "unlock", "--passphrase-stdin"); err != nil {
		t.Errorf("unlock with the passphrase of the third try: %v %s", err, errOut)
	}

	w = backendWorld(t, "encrypted-file")
	s = w.interactive(t, "init")
	for range 3 {
		s.expect("New passphrase (input is hidden): ")
		s.send("short\r")
		s.expect("too short")
	}
	code, out = s.wait()
	if code != 1 || strings.Count(out, "New passphrase") != 3 || !strings.Contains(out, "nothing was changed") {
		t.Errorf("init with three short tries: exit %d, want 1 after three prompts\n%s", code, out)
	}
}

// TestUnknownOperationWithStdinDevNull: /dev/null is a character device but
// not a terminal; a program that runs the helper with stdin from /dev/null
// gets the silence of gitcredentials(7), not the usage and exit 2.
func TestUnknownOperationWithStdinDevNull(t *testing.T) {
	w := newWorld(t)
	cmd := exec.Command(binPath, "futureop")
	cmd.Env = w.env
	out, err := cmd.CombinedOutput() // stdin nil: /dev/null
	if err != nil || len(out) != 0 {
		t.Errorf("futureop </dev/null: %v\n%s", err, out)
	}
}
