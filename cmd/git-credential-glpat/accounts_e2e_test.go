package main

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glpat-dev/git-credential-glpat/internal/gitlabtest"
)

// twoAccountWorld is a fake GitLab host whose config names alice as the
// default account, with alice (user 1) and carol (another GitLab user)
// logged in.
func twoAccountWorld(t *testing.T) (g *gitlabWorld, alice, carol string) {
	t.Helper()
	w := newWorld(t)
	gl := gitlabtest.New(t)
	u, _ := url.Parse(gl.URL)
	cfg := fmt.Sprintf("[hosts.%q]\napi_url = %q\nusername = \"alice\"\n", u.Host, gl.APIURL())
	if err := os.WriteFile(filepath.Join(w.dir, "config.toml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	g = &gitlabWorld{world: w, gl: gl, host: u.Host}
	exp := gitlabtest.DateOf(today().AddDate(0, 0, 200))
	least := []string{"read_repository", "write_repository", "self_rotate"}
	alice, _ = gl.CreateToken(gitlabtest.TokenSpec{Username: "alice", Scopes: least, ExpiresAt: exp})
	carol, _ = gl.CreateToken(gitlabtest.TokenSpec{Username: "carol", Scopes: least, ExpiresAt: exp})
	g.mustLogin(alice, "as alice")
	g.mustLogin(carol, "as carol", "--username", "carol")
	return g, alice, carol
}

func (g *gitlabWorld) mustLogin(tok, want string, args ...string) {
	g.t.Helper()
	out, errOut, err := g.run(tok+"\n", binPath, append([]string{"login", g.host, "--token-stdin"}, args...)...)
	if err != nil || !strings.Contains(out, want) {
		g.t.Fatalf("login %v: %v\nstdout %s\nstderr %s", args, err, out, errOut)
	}
}

func (g *gitlabWorld) passwordOf(user string) string {
	g.t.Helper()
	out, _, _ := g.run("protocol=http\nhost="+g.host+"\nusername="+user+"\n", binPath, "get")
	return password(out)
}

// TestLoginNeverReplacesAnotherUsersToken: doctor's fix for carol used to
// say `login HOST`, which stored carol's new token as alice (the config's
// default account), though GitLab reports another owner for it.
func TestLoginNeverReplacesAnotherUsersToken(t *testing.T) {
	g, alice, _ := twoAccountWorld(t)
	least := []string{"read_repository", "write_repository", "self_rotate"}
	exp := gitlabtest.DateOf(today().AddDate(0, 0, 200))

	// carol's new token, no --username: stored under carol, its owner's
	// account (same GitLab user id), not under the config's alice.
	carol2, _ := g.gl.CreateToken(gitlabtest.TokenSpec{Username: "carol", Scopes: least, ExpiresAt: exp})
	g.mustLogin(carol2, "as carol")
	if got := g.passwordOf("alice"); got != alice {
		t.Errorf("alice's token was replaced by %s", fingerprintOf(got))
	}
	if got := g.passwordOf("carol"); got != carol2 {
		t.Errorf("carol's account holds %s, want the new token", fingerprintOf(got))
	}

	// dave's token: no account of his, the default account is alice's
	// (another GitLab user) and GET /user is refused to this token. Refused,
	// naming the accounts and --username.
	dave, _ := g.gl.CreateToken(gitlabtest.TokenSpec{Username: "dave", Scopes: least, ExpiresAt: exp})
	out, errOut, err := g.run(dave+"\n", binPath, "login", g.host, "--token-stdin")
	if err == nil || strings.Contains(out, "Logged in") {
		t.Errorf("login of another user's token into alice's account succeeded: %s", out)
	}
	for _, want := range []string{"alice", "carol", "--username"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("refusal lacks %q:\n%s", want, errOut)
		}
	}
	// Explicitly into alice's account: refused too.
	if _, errOut, err := g.run(dave+"\n", binPath, "login", g.host, "--token-stdin", "--username", "alice"); err == nil {
		t.Errorf("login --username alice of dave's token succeeded")
	} else if !strings.Contains(errOut, "another GitLab user") {
		t.Errorf("refusal does not say why: %s", errOut)
	}
	if got := g.passwordOf("alice"); got != alice {
		t.Errorf("alice's token was replaced by %s", fingerprintOf(got))
	}
	// Under a new name of its own: fine.
	g.mustLogin(dave, "as dave", "--username", "dave")
}

// TestLoginAsksForTheAccountAtATerminal: several accounts on the host, no
// --username, a person at the terminal: login asks which one.
func TestLoginAsksForTheAccountAtATerminal(t *testing.T) {
	g, alice, carol := twoAccountWorld(t)
	least := []string{"read_repository", "write_repository", "self_rotate"}
	carol2, _ := g.gl.CreateToken(gitlabtest.TokenSpec{Username: "carol", Scopes: least, ExpiresAt: gitlabtest.DateOf(today().AddDate(0, 0, 90))})
	s := g.interactive(t, "login", g.host)
	s.expect("input is hidden")
	s.send(carol2 + "\r")
	s.expect("alice, carol")
	s.send("\r") // the offered default: carol, the token's owner
	code, out := s.wait()
	if code != 0 || !strings.Contains(out, "as carol") {
		t.Fatalf("exit %d\n%s", code, out)
	}
	if strings.Contains(out, carol2) {
		t.Error("the token was echoed")
	}
	if got := g.passwordOf("alice"); got != alice {
		t.Errorf("alice's token was replaced")
	}
	if got := g.passwordOf("carol"); got == carol || got != carol2 {
		t.Errorf("carol's account was not updated")
	}
}

// TestHintsNameTheAccount: with two accounts on a host, every hint that
// names a command for one of them gives its --username.
func TestHintsNameTheAccount(t *testing.T) {
	g, _, carol := twoAccountWorld(t)
	st, _ := g.gl.TokenByValue(carol)
	g.gl.Revoke(st.ID)
	// Git's server refuses it, Git erases it, GitLab says revoked.
	g.run("protocol=http\nhost="+g.host+"\nusername=carol\npassword="+carol+"\n", binPath, "erase")
	_, errOut, _ := g.run("protocol=http\nhost="+g.host+"\nusername=carol\n", binPath, "get")
	if !strings.Contains(errOut, "login http://"+g.host+" --username carol") {
		t.Errorf("get's hint lacks --username carol: %q", errOut)
	}
	out, _, _ := g.run("", binPath, "status")
	if !strings.Contains(out, "login http://"+g.host+" --username carol") {
		t.Errorf("status's hint lacks --username carol:\n%s", out)
	}
	out, _, _ = g.run("", binPath, "doctor")
	if !strings.Contains(flat(out), "login http://"+g.host+" --username carol") {
		t.Errorf("doctor's fix lacks --username carol:\n%s", out)
	}
}

// TestWrongUserHintNamesTheAccount: a login refused because the account
// holds another GitLab user's token names the account to use when it is
// known: the account that holds a token of this token's user, else the
// user GitLab names for the token.
func TestWrongUserHintNamesTheAccount(t *testing.T) {
	g, _, _ := twoAccountWorld(t)
	exp := gitlabtest.DateOf(today().AddDate(0, 0, 200))
	carol2, _ := g.gl.CreateToken(gitlabtest.TokenSpec{Username: "carol", Scopes: []string{"read_repository", "self_rotate"}, ExpiresAt: exp})
	_, errOut, err := g.run(carol2+"\n", binPath, "login", g.host, "--token-stdin", "--username", "alice")
	if err == nil || !strings.Contains(errOut, "login "+g.host+" --username carol") || strings.Contains(errOut, "NAME") {
		t.Errorf("carol's token into alice's account: want a hint with --username carol, got:\n%s", errOut)
	}
	// dave may read his user (api): his name is the account to add.
	dave, _ := g.gl.CreateToken(gitlabtest.TokenSpec{Username: "dave", Scopes: []string{"api"}, ExpiresAt: exp})
	_, errOut, err = g.run(dave+"\n", binPath, "login", g.host, "--token-stdin", "--username", "alice")
	if err == nil || !strings.Contains(errOut, "login "+g.host+" --username dave") || strings.Contains(errOut, "NAME") {
		t.Errorf("dave's token into alice's account: want a hint with --username dave, got:\n%s", errOut)
	}
}

// TestLoginSaysWhichAccountAnswers: a login that adds a second account to
// a host says which account git gets from now on, and how to choose; when
// the new account takes over requests another account answered (the most
// recently stored wins), stderr warns. What it says is what get does.
func TestLoginSaysWhichAccountAnswers(t *testing.T) {
	g := newGitLabWorld(t, "")
	exp := gitlabtest.DateOf(today().AddDate(0, 0, 200))
	alice, _ := g.gl.CreateToken(gitlabtest.TokenSpec{Username: "alice", Scopes: []string{"api"}, ExpiresAt: exp})
	out, errOut, err := g.run(alice+"\n", binPath, "login", g.host, "--token-stdin")
	if err != nil || !strings.Contains(out, "as alice") || errOut != "" || strings.Contains(out, "answers") {
		t.Fatalf("the first login: %v\nstdout %s\nstderr %s", err, out, errOut)
	}
	// Another user's narrow token, which may not read its user: oauth2.
	bob, _ := g.gl.CreateToken(gitlabtest.TokenSpec{Username: "bob", Scopes: []string{"read_repository", "write_repository", "self_rotate"}, ExpiresAt: exp})
	out, errOut, err = g.run(bob+"\n", binPath, "login", g.host, "--token-stdin")
	if err != nil || !strings.Contains(out, "as oauth2") {
		t.Fatalf("the second login: %v\nstdout %s\nstderr %s", err, out, errOut)
	}
	if got := g.bareGet(); got != bob {
		t.Fatalf("get after the second login answers %s, want oauth2's token (the most recently stored)", fingerprintOf(got))
	}
	warn, report := flat(errOut), flat(out)
	for _, want := range []string{"warning: oauth2 now answers git for http://" + g.host, "in place of alice", `username = "alice"`, "paths", "--username"} {
		if !strings.Contains(warn, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	for _, want := range []string{"accounts", "alice, oauth2", "oauth2 answers", "alice@" + g.host} {
		if !strings.Contains(report, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}

	// Following the advice: the config's username keeps alice.
	cfg := filepath.Join(g.dir, "config.toml")
	b, _ := os.ReadFile(cfg)
	os.WriteFile(cfg, []byte(strings.Replace(string(b), "api_url", "username = \"alice\"\napi_url", 1)), 0o600)
	if got := g.bareGet(); got != alice {
		t.Errorf("get with username = alice in the config answers %s, want alice's token", fingerprintOf(got))
	}
	// Now a third account: it answers only what names it; nothing is
	// taken from alice, so no warning.
	carol, _ := g.gl.CreateToken(gitlabtest.TokenSpec{Username: "carol", Scopes: []string{"api"}, ExpiresAt: exp})
	out, errOut, err = g.run(carol+"\n", binPath, "login", g.host, "--token-stdin", "--username", "carol")
	if err != nil || strings.Contains(errOut, "warning") {
		t.Fatalf("the third login: %v\nstdout %s\nstderr %s", err, out, errOut)
	}
	for _, want := range []string{"alice answers", "the config's username", "carol answers only", "carol@" + g.host} {
		if !strings.Contains(flat(out), want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	if got := g.bareGet(); got != alice {
		t.Errorf("get after carol's login answers %s, want alice's token", fingerprintOf(got))
	}
}

// bareGet is the password get answers for the host when git names no
// account.
func (g *gitlabWorld) bareGet() string {
	g.t.Helper()
	out, _ := g.get()
	return password(out)
}
