package main

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/glpat-dev/git-credential-glpat/internal/gitlabtest"
)

// apiCalls counts every API call the fake GitLab saw.
func (g *gitlabWorld) apiCalls() int {
	n := 0
	for _, e := range []string{gitlabtest.EndpointSelf, gitlabtest.EndpointToken, gitlabtest.EndpointRevoke, gitlabtest.EndpointRotate, gitlabtest.EndpointUser} {
		n += g.gl.Calls(e)
	}
	return n
}

// erase sends Git's erase for the token, as Git does after its server
// refused it (credential_reject passes the password it used).
func (g *gitlabWorld) erase(tok string) (string, string) {
	g.t.Helper()
	out, errOut, _ := g.run("protocol=http\nhost="+g.host+"\nusername=alice\npassword="+tok+"\n", binPath, "erase")
	return out, errOut
}

// TestEraseOfARevokedTokenKeepsItListed: a token revoked on GitLab (in the
// UI, or by secret detection) stays listed as revoked after Git's erase,
// and one line says so.
func TestEraseOfARevokedTokenKeepsItListed(t *testing.T) {
	g := newGitLabWorld(t, "")
	tok, id := g.gl.CreateToken(gitlabtest.TokenSpec{Scopes: []string{"api"}, ExpiresAt: gitlabtest.DateOf(today().AddDate(0, 0, 100))})
	g.login(tok)
	g.gl.Revoke(id)
	before := g.apiCalls()
	out, errOut := g.erase(tok)
	if out != "" {
		t.Errorf("erase printed %q on stdout", out)
	}
	if n := g.apiCalls() - before; n != 1 || g.gl.Calls(gitlabtest.EndpointSelf) < 1 {
		t.Errorf("erase made %d API calls, want exactly one GET .../self", n)
	}
	if strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, "revoked") || !strings.Contains(errOut, "login http://"+g.host+" --username alice") {
		t.Errorf("erase stderr = %q, want one line saying it is revoked and how to log in", errOut)
	}
	st, _, err := g.run("", binPath, "status", "--offline")
	if err == nil || !strings.Contains(st, "revoked") {
		t.Errorf("status after the erase (exit %v) does not list the token as revoked:\n%s", err, st)
	}
	before = g.apiCalls()
	out, errOut = g.get()
	if out != "" || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, "login http://"+g.host+" --username alice") {
		t.Errorf("get: stdout %q stderr %q; want nothing and one line with login --username", out, errOut)
	}
	if n := g.apiCalls() - before; n != 0 {
		t.Errorf("get of a token known revoked made %d API calls", n)
	}
	// login replaces it.
	fresh, _ := g.gl.CreateToken(gitlabtest.TokenSpec{Scopes: []string{"api"}, ExpiresAt: gitlabtest.DateOf(today().AddDate(0, 0, 100))})
	g.login(fresh)
	if out, _ := g.get(); password(out) != fresh {
		t.Errorf("after login, get = %q", out)
	}
}

// TestEraseOfATokenGitLabStillAccepts: Git's server refused a token that
// GitLab still accepts, or that GitLab could not be asked about. One API
// call, one line, and the token is kept. Accepted, the refusal is about the
// repository (a project or group token on a project its bot cannot read):
// it stays served for the others, held back from the refused repository
// alone when Git says which (useHttpPath). Not asked: it may be dead, so it
// is not handed to Git again during the back-off (no ban loop).
func TestEraseOfATokenGitLabStillAccepts(t *testing.T) {
	for _, tc := range []struct {
		name, path, want string
		fault            func(g *gitlabWorld)
		heldBack         bool // from every repository
	}{
		{"accepted", "", "still handed to Git for the others", func(*gitlabWorld) {}, false},
		{"accepted, path known", "other/secret.git", "not handed to Git for other/secret.git", func(*gitlabWorld) {}, false},
		{"gitlab answers garbage", "", "could not be asked", func(g *gitlabWorld) { g.gl.Garbage(gitlabtest.EndpointSelf, true) }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newGitLabWorld(t, "")
			tok, _ := g.gl.CreateToken(gitlabtest.TokenSpec{Scopes: []string{"api"}, ExpiresAt: gitlabtest.DateOf(today().AddDate(0, 0, 100))})
			g.login(tok)
			tc.fault(g)
			before := g.apiCalls()
			req := "protocol=http\nhost=" + g.host + "\nusername=alice\npassword=" + tok + "\n"
			if tc.path != "" {
				req += "path=" + tc.path + "\n"
			}
			_, errOut, _ := g.run(req, binPath, "erase")
			if n := g.apiCalls() - before; n != 1 {
				t.Errorf("erase made %d API calls, want one", n)
			}
			if strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, tc.want) {
				t.Errorf("erase stderr = %q, want one line with %q", errOut, tc.want)
			}
			out, errOut := g.get()
			if served := password(out) == tok; served == tc.heldBack || errOut != "" {
				t.Errorf("get without a path: served %v, stderr %q; want served %v, silent (said once at erase)", served, errOut, !tc.heldBack)
			}
			if tc.path != "" {
				out, _, _ := g.run("protocol=http\nhost="+g.host+"\npath="+tc.path+"\n", binPath, "get")
				if password(out) != "" {
					t.Errorf("get for the refused repository served the token")
				}
				out, _, _ = g.run("protocol=http\nhost="+g.host+"\npath=acme/app.git\n", binPath, "get")
				if password(out) != tok {
					t.Errorf("get for another repository did not serve the token")
				}
			}
			st, _, _ := g.run("", binPath, "status", "--offline")
			if !strings.Contains(st, "alice") {
				t.Errorf("status no longer lists the token:\n%s", st)
			}
		})
	}
}

// TestEraseOfAPlainCredentialIsUnchanged: no API call, gone at once.
func TestEraseOfAPlainCredentialIsUnchanged(t *testing.T) {
	g := newGitLabWorld(t, "")
	g.run("protocol=https\nhost=plain.example\nusername=u\npassword=p\n", binPath, "store")
	before := g.apiCalls()
	out, errOut, err := g.run("protocol=https\nhost=plain.example\nusername=u\npassword=p\n", binPath, "erase")
	if err != nil || out != "" || errOut != "" {
		t.Errorf("erase: %v %q %q", err, out, errOut)
	}
	if n := g.apiCalls() - before; n != 0 {
		t.Errorf("plain erase made %d API calls", n)
	}
	if out, _, _ := g.run("protocol=https\nhost=plain.example\n", binPath, "get"); out != "" {
		t.Errorf("get after erase = %q", out)
	}
}

// TestEraseOfATokenGitLabCallsExpired: GitLab's clock says the token has
// expired (ours does not yet): listed as expired, not revoked.
func TestEraseOfATokenGitLabCallsExpired(t *testing.T) {
	w := newWorld(t)
	var mu sync.Mutex
	offset := time.Duration(0)
	gl := gitlabtest.New(t, gitlabtest.WithClock(func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return time.Now().Add(offset)
	}))
	u, _ := url.Parse(gl.URL)
	os.WriteFile(filepath.Join(w.dir, "config.toml"), []byte(fmt.Sprintf("[hosts.%q]\napi_url = %q\n", u.Host, gl.APIURL())), 0o600)
	g := &gitlabWorld{world: w, gl: gl, host: u.Host}
	tok, _ := gl.CreateToken(gitlabtest.TokenSpec{Scopes: []string{"api"}, ExpiresAt: gitlabtest.DateOf(today().AddDate(0, 0, 100))})
	g.login(tok)
	mu.Lock()
	offset = 101 * 24 * time.Hour
	mu.Unlock()
	_, errOut := g.erase(tok)
	if !strings.Contains(errOut, "expired") {
		t.Errorf("erase stderr = %q", errOut)
	}
	js, _, _ := g.run("", binPath, "status", "--offline", "--json")
	if !strings.Contains(js, `"state": "expired"`) {
		t.Errorf("status --json after GitLab called it expired:\n%s", js)
	}
}
