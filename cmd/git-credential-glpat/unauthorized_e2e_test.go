package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/glpat-dev/git-credential-glpat/internal/gitlabtest"
)

// editToken changes the managed record of the world's one account in the
// index, as time passing (or a state-dir writer) would.
func (g *gitlabWorld) editToken(edit func(tok map[string]any)) {
	g.t.Helper()
	idx := filepath.Join(g.dir, "state", "index", "http_"+strings.ReplaceAll(g.host, ":", "%3A")+".json")
	data, err := os.ReadFile(idx)
	if err != nil {
		g.t.Fatal(err)
	}
	var f map[string]any
	if err := json.Unmarshal(data, &f); err != nil {
		g.t.Fatal(err)
	}
	recs, _ := f["records"].([]any)
	if len(recs) != 1 {
		g.t.Fatalf("index holds %d records, want 1: %s", len(recs), data)
	}
	tok, ok := recs[0].(map[string]any)["token"].(map[string]any)
	if !ok {
		g.t.Fatalf("the record is not a managed token: %s", data)
	}
	edit(tok)
	data, _ = json.Marshal(f)
	if err := os.WriteFile(idx, data, 0o600); err != nil {
		g.t.Fatal(err)
	}
}

// storedToken returns the managed record's token metadata as the index
// holds it (nil when the record is a plain credential).
func (g *gitlabWorld) storedToken() map[string]any {
	g.t.Helper()
	idx := filepath.Join(g.dir, "state", "index", "http_"+strings.ReplaceAll(g.host, ":", "%3A")+".json")
	data, err := os.ReadFile(idx)
	if err != nil {
		g.t.Fatal(err)
	}
	var f struct {
		Records []struct {
			Token map[string]any `json:"token"`
		} `json:"records"`
	}
	if err := json.Unmarshal(data, &f); err != nil || len(f.Records) != 1 {
		g.t.Fatalf("index: %v, %s", err, data)
	}
	return f.Records[0].Token
}

// TestProxy401DuringADueCheckKeepsTheToken: a gateway or maintenance page
// that answers the check of a due token with GitLab's bare 401 for a
// moment does not make the token dead: it is GitLab's answer for a token it
// does not know, but anyone in front of GitLab can give it. The token is
// served while its expiry allows, never sent to rotate on that answer, and
// rotated once GitLab answers again.
func TestProxy401DuringADueCheckKeepsTheToken(t *testing.T) {
	g := newGitLabWorld(t, "")
	tok, _ := g.gl.CreateToken(gitlabtest.TokenSpec{Scopes: []string{"api"}, ExpiresAt: gitlabtest.DateOf(today().AddDate(0, 0, 10))})
	g.login(tok)

	g.gl.ProxyUnauthorized(true)
	out, errOut := g.get()
	if password(out) != tok {
		t.Fatalf("get while a proxy answers 401 = %q, want the token (one 401 without GitLab's word is not a dead token)", out)
	}
	if strings.Count(errOut, "\n") != 1 || strings.Contains(errOut, "no longer accepts") || strings.Contains(errOut, "revoked") {
		t.Errorf("stderr = %q, want one line that does not call the token dead", errOut)
	}
	if n := g.gl.Calls(gitlabtest.EndpointRotate); n != 0 {
		t.Errorf("%d rotate calls after a 401, want 0", n)
	}

	g.gl.ProxyUnauthorized(false)
	if out, _ := g.get(); password(out) != tok {
		t.Fatalf("get once GitLab answers again, within the back-off = %q, want the token", out)
	}
	// The back-off ends.
	g.editToken(func(tok map[string]any) {
		tok["rotate_failed_at"] = time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	})
	out, errOut = g.get()
	if p := password(out); p == "" || p == tok || g.gl.Calls(gitlabtest.EndpointRotate) != 1 {
		t.Fatalf("get after the back-off: %d rotations, stderr %q; want the token rotated once and the new one served", g.gl.Calls(gitlabtest.EndpointRotate), errOut)
	}
	if n := g.gl.Calls(gitlabtest.EndpointGitAuthFail); n != 0 {
		t.Errorf("%d failed Git logins, want 0", n)
	}
}

// TestRevokedTokenIsDeadOnceGitLabSaysSo: a token revoked in GitLab that a
// proxy's 401 hid at first is dead as soon as GitLab itself answers
// (401 invalid_token, "Token was revoked"): not served, and the person told
// to log in.
func TestRevokedTokenIsDeadOnceGitLabSaysSo(t *testing.T) {
	g := newGitLabWorld(t, "")
	tok, id := g.gl.CreateToken(gitlabtest.TokenSpec{Scopes: []string{"api"}, ExpiresAt: gitlabtest.DateOf(today().AddDate(0, 0, 10))})
	g.login(tok)
	g.gl.Revoke(id)
	g.gl.ProxyUnauthorized(true)
	g.get()
	g.gl.ProxyUnauthorized(false)
	g.editToken(func(tok map[string]any) {
		tok["rotate_failed_at"] = time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	})
	out, errOut := g.get()
	if out != "" {
		t.Fatalf("get of a token GitLab says is revoked = %q, want nothing", out)
	}
	if strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, "revoked") || !strings.Contains(errOut, "git-credential-glpat login http://"+g.host) {
		t.Errorf("stderr = %q, want one line saying it is revoked and how to log in", errOut)
	}
	if dead, _ := g.storedToken()["dead"].(string); dead != "revoked" {
		t.Errorf("index says dead = %q, want revoked", dead)
	}
	if n := g.gl.Calls(gitlabtest.EndpointRotate); n != 0 {
		t.Errorf("%d rotate calls with a revoked token, want 0", n)
	}
}

// TestStoreOfADeadTokenThatGitLabAcceptsServesIt: Git stores a credential
// after its server accepted it. A token the index calls dead (a 401 that
// was not GitLab's word, or a planted state dir) that Git stores again, as
// it is after a person typed it at the prompt and the push succeeded, is
// checked with GitLab and served again when GitLab accepts it; one GitLab
// says is revoked stays dead.
func TestStoreOfADeadTokenThatGitLabAcceptsServesIt(t *testing.T) {
	for _, revoked := range []bool{false, true} {
		t.Run(fmt.Sprintf("revoked=%v", revoked), func(t *testing.T) {
			g := newGitLabWorld(t, "")
			tok, id := g.gl.CreateToken(gitlabtest.TokenSpec{Scopes: []string{"api"}, ExpiresAt: gitlabtest.DateOf(today().AddDate(0, 0, 200))})
			g.login(tok)
			g.editToken(func(tok map[string]any) {
				tok["dead"], tok["dead_at"] = "no longer accepted by GitLab", time.Now().UTC().Format(time.RFC3339)
			})
			if revoked {
				g.gl.Revoke(id)
			}
			if out, _ := g.get(); out != "" {
				t.Fatalf("get of a token the index calls dead = %q, want nothing", out)
			}
			before := g.gl.Calls(gitlabtest.EndpointSelf)
			g.store("protocol=http\nhost=" + g.host + "\nusername=alice\npassword=" + tok + "\n")
			if n := g.gl.Calls(gitlabtest.EndpointSelf) - before; n != 1 {
				t.Errorf("git's store of the dead token made %d checks with GitLab, want 1", n)
			}
			out, _ := g.get()
			switch {
			case revoked && out != "":
				t.Errorf("get after git stored a token GitLab says is revoked = %q, want nothing", out)
			case !revoked && password(out) != tok:
				t.Errorf("get after git stored the token GitLab accepts = %q, want the token", out)
			}
		})
	}
}

// closedPort returns an address on 127.0.0.1 where nothing listens.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// TestUnverifiedPasswordMeetingA401IsServed: a password typed for a
// configured GitLab host while GitLab could not be reached is stored
// unverified and checked later. A 401 at that check (a proxy's, or
// GitLab's own for a secret that is not one of its tokens) does not make it
// dead: the password still works for Git and is served.
func TestUnverifiedPasswordMeetingA401IsServed(t *testing.T) {
	g := newGitLabWorld(t, "")
	cfgPath := filepath.Join(g.dir, "config.toml")
	cfg, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	unreachable := strings.Replace(string(cfg), g.gl.APIURL(), "http://"+closedPort(t)+"/api/v4", 1)
	os.WriteFile(cfgPath, []byte(unreachable), 0o600)
	const pw = "correct-horse-battery-staple"
	g.store("protocol=http\nhost=" + g.host + "\nusername=alice\npassword=" + pw + "\n")
	if u, _ := g.storedToken()["unverified"].(bool); !u {
		t.Fatalf("a password stored while the API is unreachable: index token %v, want unverified", g.storedToken())
	}
	os.WriteFile(cfgPath, cfg, 0o600)

	for _, proxy := range []bool{true, false} {
		g.gl.ProxyUnauthorized(proxy)
		g.editToken(func(tok map[string]any) { tok["checked_at"] = "2020-01-01T00:00:00Z" })
		before := g.gl.Calls(gitlabtest.EndpointSelf)
		out, errOut := g.get()
		if n := g.gl.Calls(gitlabtest.EndpointSelf) - before; n != 1 {
			t.Errorf("proxy=%v: get checked the unverified password %d times, want 1", proxy, n)
		}
		if password(out) != pw {
			t.Fatalf("proxy=%v: get of the unverified password after a 401 = %q (stderr %q), want it", proxy, out, errOut)
		}
		if errOut != "" {
			t.Errorf("proxy=%v: stderr %q, want silence", proxy, errOut)
		}
	}
}

// TestStoreOfAnUnverifiedTokenChecksIt: a token stored while GitLab could
// not be reached is unverified; Git's store of it again, after its server
// accepted it, checks it with GitLab (as get would, at most once per back-off
// period) instead of being taken as unchanged.
func TestStoreOfAnUnverifiedTokenChecksIt(t *testing.T) {
	g := newGitLabWorld(t, "")
	tok, id := g.gl.CreateToken(gitlabtest.TokenSpec{Scopes: []string{"api"}, ExpiresAt: gitlabtest.DateOf(today().AddDate(0, 0, 200))})
	cfgPath := filepath.Join(g.dir, "config.toml")
	cfg, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(cfgPath, []byte(strings.Replace(string(cfg), g.gl.APIURL(), "http://"+closedPort(t)+"/api/v4", 1)), 0o600)
	in := "protocol=http\nhost=" + g.host + "\nusername=alice\npassword=" + tok + "\n"
	g.store(in)
	os.WriteFile(cfgPath, cfg, 0o600)
	if u, _ := g.storedToken()["unverified"].(bool); !u {
		t.Fatalf("index token %v, want unverified", g.storedToken())
	}

	// Checked a moment ago (by the store itself): the store again asks
	// nothing.
	g.store(in)
	if n := g.gl.Calls(gitlabtest.EndpointSelf); n != 0 {
		t.Errorf("a store within the back-off asked GitLab %d times, want 0", n)
	}
	g.editToken(func(tok map[string]any) { tok["checked_at"] = time.Now().Add(-time.Hour).UTC().Format(time.RFC3339) })
	g.store(in)
	if n := g.gl.Calls(gitlabtest.EndpointSelf); n != 1 {
		t.Errorf("git's store of the unverified token asked GitLab %d times, want 1", n)
	}
	st := g.storedToken()
	if u, _ := st["unverified"].(bool); u || st["id"] != float64(id) {
		t.Errorf("index token after the store %v, want verified, id %d", st, id)
	}
}

// TestStoreAgainOfADeadTokenAsksOnlyTheConfiguredAPI: the check that Git's
// store of a dead token makes goes to the API URL of the config, never to
// one planted in the index.
func TestStoreAgainOfADeadTokenAsksOnlyTheConfiguredAPI(t *testing.T) {
	g := newGitLabWorld(t, "")
	tok, _ := g.gl.CreateToken(gitlabtest.TokenSpec{Scopes: []string{"api"}, ExpiresAt: gitlabtest.DateOf(today().AddDate(0, 0, 200))})
	g.login(tok)
	var hits atomic.Int32
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Private-Token") != "" || r.Header.Get("Authorization") != "" {
			hits.Add(1)
		}
		http.NotFound(w, r)
	}))
	defer evil.Close()
	g.editToken(func(tok map[string]any) {
		tok["dead"], tok["api_url"] = "revoked", evil.URL+"/api/v4"
	})
	g.store("protocol=http\nhost=" + g.host + "\nusername=alice\npassword=" + tok + "\n")
	if n := hits.Load(); n != 0 {
		t.Fatalf("git's store sent the token to the API URL planted in the index (%d requests)", n)
	}
	if out, _ := g.get(); password(out) != tok {
		t.Errorf("get after the store = %q, want the token GitLab accepts", out)
	}
}

// TestStoreOfATokenGitLabSaysIsRevokedStoresNothing: on a configured host a
// token may have any prefix; one GitLab calls revoked (401 invalid_token)
// is not stored, not even as a plain credential that get would hand Git.
func TestStoreOfATokenGitLabSaysIsRevokedStoresNothing(t *testing.T) {
	g := newGitLabWorld(t, "")
	g.gl.SetTokenPrefix("acme-")
	tok, id := g.gl.CreateToken(gitlabtest.TokenSpec{Scopes: []string{"api"}, ExpiresAt: gitlabtest.DateOf(today().AddDate(0, 0, 200))})
	g.gl.Revoke(id)
	g.store("protocol=http\nhost=" + g.host + "\nusername=alice\npassword=" + tok + "\n")
	if out, _ := g.get(); out != "" {
		t.Errorf("get after git stored a token GitLab calls revoked = %q, want nothing", out)
	}
}
