package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/glpat-dev/git-credential-glpat/internal/gitlabtest"
)

// TestLoginChecksTheAPIFirst: HTTPS assumed for an HTTP server, or a GitLab
// under a relative URL root: at a terminal login says so before asking for
// a token, and names --api-url (with http:// for the HTTP server); with
// --token-stdin it says it after.
func TestLoginChecksTheAPIFirst(t *testing.T) {
	w := newWorld(t)
	gl := gitlabtest.New(t)
	u, _ := url.Parse(gl.URL)
	s := w.interactive(t, "login", u.Host) // https://HOST/api/v4 of an http server
	code, out := s.wait()
	if code != 1 || strings.Contains(out, "input is hidden") || !strings.Contains(out, "plain http") || !strings.Contains(out, "--api-url http://"+u.Host+"/api/v4") {
		t.Errorf("login of an http host at a terminal: exit %d\n%s", code, out)
	}
	notGitLab := httptest.NewServer(http.NotFoundHandler()) // a GitLab under /gitlab
	t.Cleanup(notGitLab.Close)
	s = w.interactive(t, "login", u.Host, "--api-url", notGitLab.URL+"/api/v4")
	if code, out := s.wait(); code != 1 || strings.Contains(out, "input is hidden") || !strings.Contains(out, "--api-url") {
		t.Errorf("login with an API URL that is not GitLab's: exit %d\n%s", code, out)
	}
	tok, _ := gl.CreateToken(gitlabtest.TokenSpec{Scopes: []string{"api"}})
	_, errOut, err := w.run(tok+"\n", binPath, "login", u.Host, "--token-stdin")
	if exitCode(err) != 1 || !strings.Contains(errOut, "--api-url") {
		t.Errorf("login --token-stdin of an http host: exit %d\n%s", exitCode(err), errOut)
	}
}

// TestLoginWeb: --web opens the page that creates a least-privilege token
// (xdg-open here), or prints it when there is no browser, then waits at the
// hidden prompt.
func TestLoginWeb(t *testing.T) {
	g := newGitLabWorld(t, "")
	bin := filepath.Join(g.dir, "bin")
	os.Mkdir(bin, 0o700)
	opened := filepath.Join(g.dir, "opened")
	os.WriteFile(filepath.Join(bin, "xdg-open"), []byte("#!/bin/sh\necho \"$1\" >"+opened+"\n"), 0o700)
	g.env = append(g.env, "PATH="+bin+":"+os.Getenv("PATH"), "DISPLAY=:99")
	tok, _ := g.gl.CreateToken(gitlabtest.TokenSpec{Scopes: []string{"api"}, ExpiresAt: gitlabtest.DateOf(today().AddDate(0, 0, 90))})
	s := g.interactive(t, "login", g.host, "--web", "--username", "alice")
	s.expect("input is hidden")
	s.send(tok + "\r")
	code, out := s.wait()
	if code != 0 || !strings.Contains(out, "Logged in") || !strings.Contains(out, "Opened") {
		t.Errorf("login --web: exit %d\n%s", code, out)
	}
	b, _ := os.ReadFile(opened)
	if !strings.Contains(string(b), "/-/user_settings/personal_access_tokens?") || !strings.Contains(string(b), "scopes=read_repository%2Cwrite_repository%2Cself_rotate") {
		t.Errorf("xdg-open got %q", b)
	}
	// No graphical session: the URL is printed instead.
	g.env = append(g.env, "DISPLAY=", "WAYLAND_DISPLAY=")
	os.Remove(opened)
	s = g.interactive(t, "login", g.host, "--web", "--username", "alice")
	s.expect("input is hidden")
	s.send("\x04")
	_, out = s.wait()
	if !strings.Contains(out, "No browser") || !strings.Contains(out, "personal_access_tokens?") {
		t.Errorf("login --web without a browser does not print the page:\n%s", out)
	}
	if _, err := os.Stat(opened); err == nil {
		t.Error("xdg-open ran without a graphical session")
	}
}

// TestLoginSaysWhatHappens: a token already due says when it rotates; a
// least-privilege token stored as oauth2 says why and how to name one.
func TestLoginSaysWhatHappens(t *testing.T) {
	w := newWorld(t)
	gl := gitlabtest.New(t)
	u, _ := url.Parse(gl.URL)
	os.WriteFile(filepath.Join(w.dir, "config.toml"), []byte(fmt.Sprintf("[hosts.%q]\napi_url = %q\n", u.Host, gl.APIURL())), 0o600)
	least := []string{"read_repository", "write_repository", "self_rotate"}
	tok, _ := gl.CreateToken(gitlabtest.TokenSpec{Scopes: least, ExpiresAt: gitlabtest.DateOf(today().AddDate(0, 0, 10))})
	out, errOut, err := w.run(tok+"\n", binPath, "login", u.Host, "--token-stdin")
	if err != nil {
		t.Fatalf("login: %v %s", err, errOut)
	}
	if !strings.Contains(out, "rotation due now") || !strings.Contains(out, "next git command") {
		t.Errorf("login of a due token does not say when it rotates:\n%s", out)
	}
	if !strings.Contains(out, "as oauth2") || !strings.Contains(out, "GET /user") || !strings.Contains(out, "--username U") {
		t.Errorf("login as oauth2 is not explained:\n%s", out)
	}
}

// TestLogoutRevokeAsks: more than one token to revoke: at a terminal
// logout lists them and asks; a script needs --yes.
func TestLogoutRevokeAsks(t *testing.T) {
	g, alice, carol := twoAccountWorld(t)
	ids := func() (int, int) {
		a, _ := g.gl.TokenByValue(alice)
		c, _ := g.gl.TokenByValue(carol)
		return a.ID, c.ID
	}
	aid, cid := ids()
	_, errOut, err := g.run("", binPath, "logout", g.host, "--revoke")
	if exitCode(err) != 2 || !strings.Contains(errOut, "--yes") || g.gl.Token(aid).Revoked || g.gl.Token(cid).Revoked {
		t.Errorf("logout --revoke of two tokens without a terminal: exit %d %q", exitCode(err), errOut)
	}
	s := g.interactive(t, "logout", g.host, "--revoke")
	s.expect("[y/N]")
	s.send("n\r")
	code, out := s.wait()
	if code != 1 || !strings.Contains(out, "alice") || !strings.Contains(out, "carol") || g.gl.Token(aid).Revoked {
		t.Errorf("answering n: exit %d\n%s", code, out)
	}
	s = g.interactive(t, "logout", g.host, "--revoke")
	s.expect("[y/N]")
	s.send("y\r")
	if code, out := s.wait(); code != 0 || !g.gl.Token(aid).Revoked || !g.gl.Token(cid).Revoked {
		t.Errorf("answering y: exit %d\n%s", code, out)
	}
}

func TestLogoutRevokeYes(t *testing.T) {
	g, alice, carol := twoAccountWorld(t)
	if out, errOut, err := g.run("", binPath, "logout", g.host, "--revoke", "--yes"); err != nil {
		t.Fatalf("logout --revoke --yes: %v %s %s", err, out, errOut)
	}
	for _, tok := range []string{alice, carol} {
		if st, _ := g.gl.TokenByValue(tok); !st.Revoked {
			t.Errorf("token %d not revoked", st.ID)
		}
	}
}

// TestLoginAPIURLIsKeptForRotation: GitLab under a relative URL root, over
// TLS, so the derived https://HOST/api/v4 reaches the server but not its
// API. login --api-url checks the token at the given URL and writes it into
// the host's table of the config (which has one, for ca_file): a get with
// rotation due then rotates there, not at the derived URL (which answers
// GitLab's 404 page).
func TestLoginAPIURLIsKeptForRotation(t *testing.T) {
	w := newWorld(t)
	gl := gitlabtest.NewTLS(t, gitlabtest.WithRelativeURLRoot("/gitlab"))
	u, _ := url.Parse(gl.URL)
	ca := filepath.Join(w.dir, "ca.pem")
	gl.WriteCA(ca)
	cfgPath := filepath.Join(w.dir, "config.toml")
	cfg := fmt.Sprintf("rotate_before = \"30d\"\n\n[hosts.%q]\nca_file = %q\n", u.Host, ca)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	tok, id := gl.CreateToken(gitlabtest.TokenSpec{Scopes: []string{"api"}, ExpiresAt: gitlabtest.DateOf(today().AddDate(0, 0, 10))})
	out, errOut, err := w.run(tok+"\n", binPath, "login", u.Host, "--token-stdin", "--username", "alice", "--api-url", gl.APIURL()+"/")
	if err != nil || !strings.Contains(out, "Logged in") {
		t.Fatalf("login: %v\n%s\n%s", err, out, errOut)
	}
	if !strings.Contains(out, "api_url") || !strings.Contains(out, cfgPath) {
		t.Errorf("login does not say it wrote api_url into %s:\n%s", cfgPath, out)
	}
	data, _ := os.ReadFile(cfgPath)
	want := fmt.Sprintf("rotate_before = \"30d\"\n\n[hosts.%q]\napi_url = %q\nca_file = %q\n", u.Host, gl.APIURL(), ca)
	if string(data) != want {
		t.Errorf("config after login:\n%s\nwant:\n%s", data, want)
	}
	out, errOut, _ = w.run("protocol=https\nhost="+u.Host+"\n", binPath, "get")
	st, ok := gl.TokenByValue(password(out))
	if !ok || !st.Active || st.RotatedFrom != id {
		t.Fatalf("get served %s (stderr %q), want the successor of token %d", fingerprintOf(password(out)), errOut, id)
	}
	// Said once, already in the config: a second login writes nothing.
	out, _, err = w.run(password(out)+"\n", binPath, "login", u.Host, "--token-stdin", "--username", "alice", "--api-url", gl.APIURL())
	if err != nil || strings.Contains(out, "api_url") {
		t.Errorf("second login: %v, output mentions api_url again:\n%s", err, out)
	}
	if again, _ := os.ReadFile(cfgPath); string(again) != want {
		t.Errorf("second login changed the config:\n%s", again)
	}
}

// TestLoginAPIURLRefusedWhenTheConfigCannotBeWritten: a host table that
// is an inline table cannot take another line (a [hosts."HOST"] header
// would define it twice): login refuses in one line and stores nothing,
// and the config is as it was.
func TestLoginAPIURLRefusedWhenTheConfigCannotBeWritten(t *testing.T) {
	w := newWorld(t)
	gl := gitlabtest.New(t)
	u, _ := url.Parse(gl.URL)
	cfgPath := filepath.Join(w.dir, "config.toml")
	cfg := fmt.Sprintf("[hosts]\n%q = { username = \"alice\" }\n", u.Host)
	os.WriteFile(cfgPath, []byte(cfg), 0o600)
	tok, _ := gl.CreateToken(gitlabtest.TokenSpec{Scopes: []string{"api"}, ExpiresAt: gitlabtest.DateOf(today().AddDate(0, 0, 100))})
	stdout, stderr, err := w.run(tok+"\n", binPath, "login", u.Host, "--token-stdin", "--api-url", gl.APIURL())
	if exitCode(err) != 1 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "api_url") || !strings.Contains(stderr, "nothing was stored") {
		t.Fatalf("login with a config it cannot edit: %v\nstdout %s\nstderr %s", err, stdout, stderr)
	}
	if data, _ := os.ReadFile(cfgPath); string(data) != cfg {
		t.Errorf("the config changed:\n%s", data)
	}
	// The error names the user's file, not a scratch file of the check,
	// and nothing is left beside the config.
	if strings.Contains(stderr, ".config-check") || !strings.Contains(stderr, cfgPath+":") {
		t.Errorf("the error does not name the config file:\n%s", stderr)
	}
	if ents, _ := os.ReadDir(w.dir); slices.ContainsFunc(ents, func(e os.DirEntry) bool { return strings.HasPrefix(e.Name(), ".config") }) {
		t.Errorf("a scratch file is left in %s", w.dir)
	}
	out, _, _ := w.run("", binPath, "status", "--offline", "--json")
	if strings.Contains(out, u.Host) {
		t.Errorf("the token was stored all the same:\n%s", out)
	}
}
