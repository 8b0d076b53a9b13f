package main

import (
	"strings"
	"testing"
	"time"

	"github.com/glpat-dev/git-credential-glpat/internal/gitlabtest"
)

// TestLoginAccountQuestionIsNotOverwritten: a person takes their time to
// answer which account; the "checking the token" progress line must not be
// written after the question (where the answer is typed) and then erased
// with it.
func TestLoginAccountQuestionIsNotOverwritten(t *testing.T) {
	g, _, _ := twoAccountWorld(t)
	least := []string{"read_repository", "write_repository", "self_rotate"}
	carol2, _ := g.gl.CreateToken(gitlabtest.TokenSpec{Username: "carol", Scopes: least, ExpiresAt: gitlabtest.DateOf(today().AddDate(0, 0, 90))})
	s := g.interactive(t, "login", g.host)
	s.expect("input is hidden")
	s.send(carol2 + "\r")
	s.expect("? [carol] ")
	time.Sleep(time.Second) // a person reading the question (longer than the progress delay)
	before := s.output()
	s.send("\r")
	code, out := s.wait()
	if code != 0 || !strings.Contains(out, "as carol") {
		t.Fatalf("exit %d\n%s", code, out)
	}
	if q := before[strings.Index(before, "? [carol] "):]; strings.Contains(q, "checking the token") {
		t.Errorf("the progress line was written after the account question:\n%q", q)
	}
}

// TestLoginWebAndTokenStdinExclude: --web with --token-stdin is a usage
// error that names both flags, not "use --token-stdin".
func TestLoginWebAndTokenStdinExclude(t *testing.T) {
	g := newGitLabWorld(t, "")
	s := g.interactive(t, "login", g.host, "--web", "--token-stdin")
	code, out := s.wait()
	if code != 2 || !strings.Contains(out, "--web") || strings.Contains(out, "use --token-stdin") {
		t.Errorf("login --web --token-stdin: exit %d\n%s", code, out)
	}
}

// TestLogoutOfAnUnknownAccountNamesIt: logout --username with a name the
// host does not have (a typo) says that account has nothing, not that the
// host has nothing, while other accounts are stored there.
func TestLogoutOfAnUnknownAccountNamesIt(t *testing.T) {
	g, alice, _ := twoAccountWorld(t)
	_, errOut, err := g.run("", binPath, "logout", g.host, "--username", "alcie")
	if err != nil || !strings.Contains(errOut, "alcie") || strings.Contains(errOut, "nothing is stored for "+g.host+"\n") {
		t.Errorf("logout --username alcie: %v\n%s", err, errOut)
	}
	if got := g.passwordOf("alice"); got != alice {
		t.Errorf("alice's token was touched")
	}
}

// TestLoginOtherUserErrorReadsOnce: the refusal to store a token under
// another GitLab user's account says it once, names both users, and the
// command to run is a hint line.
func TestLoginOtherUserErrorReadsOnce(t *testing.T) {
	g, alice, _ := twoAccountWorld(t)
	_, errOut, err := g.run(alice+"\n", binPath, "login", g.host, "--token-stdin", "--username", "carol")
	lines := strings.Split(strings.TrimSpace(errOut), "\n")
	if exitCode(err) != 1 || len(lines) != 2 || strings.Count(errOut, "another GitLab user") > 1 ||
		!strings.HasPrefix(lines[0], "git-credential-glpat: error: ") || !strings.Contains(lines[0], "the account carol on "+g.host+" holds a token of another GitLab user (") ||
		!strings.HasPrefix(lines[1], "git-credential-glpat: hint: run git-credential-glpat login "+g.host+" --username alice") {
		t.Errorf("exit %d\n%s", exitCode(err), errOut)
	}
}

// TestLoginAccountQuestionCtrlCAndCtrlD: Ctrl-C at the account question
// stops login (exit 130) as it does at the token prompt, and Ctrl-D
// cancels it with the same words; nothing is stored either way.
func TestLoginAccountQuestionCtrlCAndCtrlD(t *testing.T) {
	g, alice, carol := twoAccountWorld(t)
	for _, c := range []struct {
		key, want string
		code      int
	}{{"\x03", "interrupted; nothing was changed", 130}, {"\x04", "cancelled; nothing was changed", 1}} {
		tok, _ := g.gl.CreateToken(gitlabtest.TokenSpec{Username: "carol", Scopes: []string{"api"}, ExpiresAt: gitlabtest.DateOf(today().AddDate(0, 0, 90))})
		s := g.interactive(t, "login", g.host)
		s.expect("input is hidden")
		s.send(tok + "\r")
		s.expect("? [carol] ")
		s.send(c.key)
		code, out := s.wait() // before the fix Ctrl-C was ignored: this timed out
		if code != c.code || !strings.Contains(out, c.want) || strings.Contains(out, "error: cancelled") {
			t.Errorf("%q at the account question: exit %d\n%s", c.key, code, out)
		}
	}
	if g.passwordOf("alice") != alice || g.passwordOf("carol") != carol {
		t.Error("an account changed")
	}
}
