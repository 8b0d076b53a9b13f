package main

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glpat-dev/git-credential-glpat/internal/gitlabtest"
)

// TestGitStoreOfATokenMakesItManaged: a token typed at Git's prompt and
// stored by Git becomes a managed token; erase after a 401 removes it.
func TestGitStoreOfATokenMakesItManaged(t *testing.T) {
	g := newGitLabWorld(t, "")
	tok, id := g.gl.CreateToken(gitlabtest.TokenSpec{Scopes: []string{"api"}, ExpiresAt: gitlabtest.DateOf(today().AddDate(0, 0, 60))})
	in := "protocol=http\nhost=" + g.host + "\nusername=alice\npassword=" + tok + "\n"
	if out, errOut, err := g.run(in, binPath, "store"); err != nil || out != "" || errOut != "" {
		t.Fatalf("store: %v, stdout %q, stderr %q", err, out, errOut)
	}
	var entries []map[string]any
	js, _, _ := g.run("", binPath, "status", "--json", "--offline")
	if err := json.Unmarshal([]byte(js), &entries); err != nil || len(entries) != 1 {
		t.Fatalf("status --json: %v\n%s", err, js)
	}
	if entries[0]["managed"] != true || entries[0]["token_id"] != float64(id) {
		t.Errorf("status after git stored a token: %v, want managed with token id %d", entries[0], id)
	}
	// Git stores back the credential it used after every success: that
	// must not turn it into a plain one.
	out, _ := g.get()
	if password(out) != tok || !strings.Contains(out, "password_expiry_utc=") {
		t.Fatalf("get = %q, want the token with its expiry", out)
	}
	g.run(in, binPath, "store")
	js, _, _ = g.run("", binPath, "status", "--json", "--offline")
	if !strings.Contains(js, `"managed": true`) {
		t.Errorf("after git stored the same token again, status = %s", js)
	}
	// Git saw a 401 and rejects the credential. GitLab still accepts it:
	// kept, said once; the refusal was about the repository, so it is
	// still handed to Git (SPEC: erase).
	if _, errOut, err := g.run(in, binPath, "erase"); err != nil || !strings.Contains(errOut, "GitLab still accepts it") {
		t.Fatalf("erase: %v %q", err, errOut)
	}
	if out, _ := g.get(); password(out) != tok {
		t.Errorf("get after erase = %s, want the token", fingerprintOf(password(out)))
	}
}

// TestTLSWithCAFile: the API is reached over TLS, trusted only through the
// ca_file of the host's config.
func TestTLSWithCAFile(t *testing.T) {
	w := newWorld(t)
	gl := gitlabtest.NewTLS(t)
	u, _ := url.Parse(gl.URL)
	ca := filepath.Join(w.dir, "ca.pem")
	gl.WriteCA(ca)
	tok, _ := gl.CreateToken(gitlabtest.TokenSpec{Scopes: []string{"api"}, ExpiresAt: gitlabtest.DateOf(today().AddDate(0, 0, 60))})
	cfgPath := filepath.Join(w.dir, "config.toml")

	os.WriteFile(cfgPath, []byte(fmt.Sprintf("[hosts.%q]\napi_url = %q\n", u.Host, gl.APIURL())), 0o600)
	_, errOut, err := w.run(tok+"\n", binPath, "login", u.Host, "--token-stdin")
	if err == nil || !strings.Contains(errOut, "certificate") {
		t.Errorf("login to a self-signed server without ca_file: err %v, stderr %q; want a certificate error", err, errOut)
	}

	os.WriteFile(cfgPath, []byte(fmt.Sprintf("[hosts.%q]\napi_url = %q\nca_file = %q\n", u.Host, gl.APIURL(), ca)), 0o600)
	out, errOut, err := w.run(tok+"\n", binPath, "login", u.Host, "--token-stdin")
	if err != nil || !strings.Contains(out, "Logged in") {
		t.Fatalf("login with ca_file: %v\n%s\n%s", err, out, errOut)
	}
	out, errOut, _ = w.run("protocol=https\nhost="+u.Host+"\n", binPath, "get")
	if password(out) != tok || errOut != "" {
		t.Errorf("get over TLS: %q %q", out, errOut)
	}
}

func TestRotateCommand(t *testing.T) {
	g := newGitLabWorld(t, "")
	tok, id := g.gl.CreateToken(gitlabtest.TokenSpec{Scopes: []string{"self_rotate", "read_repository"}, ExpiresAt: gitlabtest.DateOf(today().AddDate(0, 0, 200))})
	g.login(tok)
	out, _, err := g.run("", binPath, "rotate", "--all")
	if err != nil || !strings.Contains(out, "not due") || g.gl.Calls(gitlabtest.EndpointRotate) != 0 {
		t.Fatalf("rotate --all of a token 200 days from expiry: %v %q, %d rotate calls", err, out, g.gl.Calls(gitlabtest.EndpointRotate))
	}
	out, errOut, err := g.run("", binPath, "rotate", g.host, "--force", "--json")
	if err != nil {
		t.Fatalf("rotate --force: %v %s %s", err, out, errOut)
	}
	var res []map[string]any
	if json.Unmarshal([]byte(out), &res); len(res) != 1 || res[0]["outcome"] != "rotated" {
		t.Fatalf("rotate --force --json = %s", out)
	}
	if !g.gl.Token(id).Revoked {
		t.Error("old token not revoked after a forced rotation")
	}
	got, _ := g.get()
	if st, ok := g.gl.TokenByValue(password(got)); !ok || !st.Active || st.RotatedFrom != id {
		t.Errorf("get after rotate serves %v, want the new token", st)
	}
}

func TestStatusTable(t *testing.T) {
	g := newGitLabWorld(t, "")
	tok, _ := g.gl.CreateToken(gitlabtest.TokenSpec{Name: "laptop", Scopes: []string{"read_repository"}, ExpiresAt: gitlabtest.DateOf(today().AddDate(0, 0, 12))})
	g.login(tok)
	g.run("protocol=https\nhost=example.org\nusername=bob\npassword=hunter2\n", binPath, "store")
	out, _, err := g.run("", binPath, "status")
	if err == nil {
		t.Errorf("status exit 0 with a token that cannot rotate and expires in 12 days; want 1 (needs action)")
	}
	// The table fits 100 columns: scopes and the days left are
	// abbreviated when the full forms would not fit.
	for _, want := range []string{"HOST", "laptop", "read_repo", "(11d)", "example.org", "bob", "plain", "cannot rotate itself", "2 credentials stored; 1 problem needs action"} {
		if !strings.Contains(flat(out), want) {
			t.Errorf("status output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, tok) || strings.Contains(out, "hunter2") {
		t.Error("status prints a secret")
	}
}

func TestLogoutRevoke(t *testing.T) {
	g := newGitLabWorld(t, "")
	tok, id := g.gl.CreateToken(gitlabtest.TokenSpec{Scopes: []string{"api"}, ExpiresAt: gitlabtest.DateOf(today().AddDate(0, 0, 60))})
	g.login(tok)
	out, errOut, err := g.run("", binPath, "logout", g.host, "--revoke")
	if err != nil || !strings.Contains(out, "revoked and forgot") {
		t.Fatalf("logout --revoke: %v %q %q", err, out, errOut)
	}
	if !g.gl.Token(id).Revoked {
		t.Error("token still active on GitLab after logout --revoke")
	}
	if got, _ := g.get(); got != "" {
		t.Errorf("get after logout = %q", got)
	}
}

// TestLogoutRevokeOfADeadToken: logout --revoke said "revoked and forgot"
// of a token already known dead, which it did not send to GitLab, and of
// one GitLab refused (401) as already revoked.
func TestLogoutRevokeOfADeadToken(t *testing.T) {
	for _, known := range []bool{true, false} {
		g := newGitLabWorld(t, "")
		tok, id := g.gl.CreateToken(gitlabtest.TokenSpec{Scopes: []string{"api"}, ExpiresAt: gitlabtest.DateOf(today().AddDate(0, 0, 60))})
		g.login(tok)
		g.gl.Revoke(id)
		if known {
			// rotate asks GitLab, which says revoked: known dead.
			if out, errOut, _ := g.run("", binPath, "rotate", g.host, "--force"); !strings.Contains(out+errOut, "dead") {
				t.Fatalf("rotate of a revoked token:\n%s%s", out, errOut)
			}
		}
		before := g.gl.Calls(gitlabtest.EndpointRevoke)
		out, errOut, err := g.run("", binPath, "logout", g.host, "--revoke")
		sent := g.gl.Calls(gitlabtest.EndpointRevoke) - before
		want := "forgot the credential of alice on http://" + g.host + " (not sent to GitLab: GitLab says the token was revoked)"
		if !known {
			want = "forgot the credential of alice on http://" + g.host + " (GitLab says it was already revoked)"
		}
		if err != nil || strings.Contains(out, "revoked and forgot") || !strings.Contains(out, want) || sent != map[bool]int{true: 0, false: 1}[known] {
			t.Errorf("logout --revoke of a dead token (known dead: %v): %v, %d revoke call(s)\n%s%s\nwant %q", known, err, sent, out, errOut, want)
		}
		if got, _ := g.get(); got != "" {
			t.Errorf("get after logout = %q", got)
		}
	}
}

// TestProjectAccessToken: a project access token (a bot user's) is
// recognised at login and rotates through the project's self-rotate endpoint.
func TestProjectAccessToken(t *testing.T) {
	g := newGitLabWorld(t, "")
	repo := g.gl.CreateRepo("acme/app")
	tok, id := g.gl.CreateToken(gitlabtest.TokenSpec{Kind: gitlabtest.ProjectToken, OwnerID: repo.ID,
		Scopes: []string{"api"}, ExpiresAt: gitlabtest.DateOf(today().AddDate(0, 0, 5))})
	out, errOut, err := g.run(tok+"\n", binPath, "login", g.host, "--token-stdin")
	if err != nil || !strings.Contains(out, fmt.Sprintf("project access token of project %d", repo.ID)) {
		t.Fatalf("login of a project token: %v\n%s\n%s", err, out, errOut)
	}
	got, _ := g.get()
	st, ok := g.gl.TokenByValue(password(got))
	if !ok || !st.Active || st.RotatedFrom != id || st.Kind != gitlabtest.ProjectToken {
		t.Errorf("after get, token %v; want the rotated project token", st)
	}
}

// TestGitStoringARotatedTokenKeepsItsSuccessor: git stores the token it
// used after its push, and another process may have rotated it meanwhile;
// that revoked token must not replace the live successor.
func TestGitStoringARotatedTokenKeepsItsSuccessor(t *testing.T) {
	g := newGitLabWorld(t, "")
	old, _ := g.gl.CreateToken(gitlabtest.TokenSpec{Scopes: []string{"api"}, ExpiresAt: gitlabtest.DateOf(today().AddDate(0, 0, 100))})
	g.login(old)
	if out, errOut, err := g.run("", binPath, "rotate", g.host, "--force"); err != nil {
		t.Fatalf("rotate: %v %s %s", err, out, errOut)
	}
	successor, _ := g.get()
	g.run("protocol=http\nhost="+g.host+"\nusername=alice\npassword="+old+"\n", binPath, "store")
	if got, _ := g.get(); password(got) != password(successor) || password(got) == old {
		t.Errorf("after git stored the rotated-away token, get serves %s; want the successor %s",
			fingerprintOf(password(got)), fingerprintOf(password(successor)))
	}
}

// TestMigrateWithABrokenConfigChangesNothing: the config is switched at
// the end of a migration, so it must load before anything moves.
func TestMigrateWithABrokenConfigChangesNothing(t *testing.T) {
	w := newWorld(t)
	w.run("protocol=https\nhost=m.example\nusername=u\npassword=p\n", binPath, "store")
	cfg := filepath.Join(w.dir, "config.toml")
	broken := "rotate_befor = \"10d\"\n"
	os.WriteFile(cfg, []byte(broken), 0o600)
	_, errOut, err := w.run("", binPath, "migrate", "--to", "kernel")
	if err == nil || !strings.Contains(errOut, "rotate_befor") {
		t.Errorf("migrate with a broken config: %v %q", err, errOut)
	}
	if b, _ := os.ReadFile(cfg); string(b) != broken {
		t.Errorf("config changed to %q", b)
	}
	if out, _, _ := w.run("protocol=https\nhost=m.example\n", binPath, "get"); out != "username=u\npassword=p\n" {
		t.Errorf("get after the refused migration = %q", out)
	}
}
