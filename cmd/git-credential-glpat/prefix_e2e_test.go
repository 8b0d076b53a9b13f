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

// customPrefixWorld is a GitLab over TLS whose instance gives its tokens a
// custom personal_access_token_prefix without routing part (such a token
// looks like any password), trusted through SSL_CERT_FILE so that no host
// table (ca_file) names it in the config.
func customPrefixWorld(t *testing.T) *gitlabWorld {
	w := newWorld(t)
	gl := gitlabtest.NewTLS(t)
	gl.SetTokenPrefix("acme_")
	gl.SetTokenFormat(gitlabtest.Classic)
	ca := filepath.Join(w.dir, "ca.pem")
	gl.WriteCA(ca)
	w.env = append(w.env, "SSL_CERT_FILE="+ca)
	u, _ := url.Parse(gl.URL)
	return &gitlabWorld{world: w, gl: gl, host: u.Host}
}

// typedAtThePrompt is git storing tok after a person typed it at git's
// prompt for the host, and what status says of it then.
func (g *gitlabWorld) typedAtThePrompt(t *testing.T, tok string) statusEntry {
	t.Helper()
	g.credential("approve", fmt.Sprintf("protocol=https\nhost=%s\nusername=alice\npassword=%s\n", g.host, tok))
	out, errOut, _ := g.run("", binPath, "status", g.host, "--offline", "--json")
	var entries []statusEntry
	if err := json.Unmarshal([]byte(out), &entries); err != nil || len(entries) != 1 {
		t.Fatalf("status --json: %v\n%s\n%s", err, out, errOut)
	}
	return entries[0]
}

type statusEntry struct {
	Managed bool  `json:"managed"`
	TokenID int64 `json:"token_id"`
}

// TestSetupAndLoginNameTheHost: setup HOST and login HOST name the host in
// the config, so that a token with the instance's own prefix, typed at
// git's prompt for it later (after a revocation, say), is managed: checked
// with GitLab, rotated, warned about before it expires.
func TestSetupAndLoginNameTheHost(t *testing.T) {
	t.Run("setup", func(t *testing.T) {
		g := customPrefixWorld(t)
		out, errOut, err := g.run("", binPath, "setup", g.host)
		if err != nil {
			t.Fatalf("setup: %v\n%s\n%s", err, out, errOut)
		}
		if !strings.Contains(out, fmt.Sprintf("[hosts.%q]", g.host)) {
			t.Errorf("setup does not say it named the host in the config:\n%s", out)
		}
		tok, id := g.gl.CreateToken(gitlabtest.TokenSpec{Scopes: []string{"api"}, ExpiresAt: gitlabtest.DateOf(today().AddDate(0, 0, 90))})
		if e := g.typedAtThePrompt(t, tok); !e.Managed || e.TokenID != int64(id) {
			t.Errorf("after setup, a typed token is stored as %+v, want managed token %d", e, id)
		}
		// Twice: the config is not touched again.
		before, _ := os.ReadFile(filepath.Join(g.dir, "config.toml"))
		out, _, _ = g.run("", binPath, "setup", g.host)
		if after, _ := os.ReadFile(filepath.Join(g.dir, "config.toml")); string(after) != string(before) || strings.Contains(out, "[hosts.") {
			t.Errorf("second setup changed the config:\n%s\n%s", after, out)
		}
	})
	t.Run("login", func(t *testing.T) {
		g := customPrefixWorld(t)
		first, firstID := g.gl.CreateToken(gitlabtest.TokenSpec{Scopes: []string{"api"}, ExpiresAt: gitlabtest.DateOf(today().AddDate(0, 0, 90))})
		out, errOut, err := g.run(first+"\n", binPath, "login", g.host, "--token-stdin", "--username", "alice")
		if err != nil {
			t.Fatalf("login: %v\n%s\n%s", err, out, errOut)
		}
		if !strings.Contains(out, fmt.Sprintf("[hosts.%q] added", g.host)) {
			t.Errorf("login does not say it named the host in the config:\n%s", out)
		}
		g.gl.Revoke(firstID)
		tok, id := g.gl.CreateToken(gitlabtest.TokenSpec{Scopes: []string{"api"}, ExpiresAt: gitlabtest.DateOf(today().AddDate(0, 0, 90))})
		if e := g.typedAtThePrompt(t, tok); !e.Managed || e.TokenID != int64(id) {
			t.Errorf("after login, a typed token is stored as %+v, want managed token %d", e, id)
		}
	})
}

// TestRoutableTokensWithACustomPrefix: routable tokens (dots, 50 and more
// characters) with an instance's own prefix through login, get, rotate and
// status; no output shows one.
func TestRoutableTokensWithACustomPrefix(t *testing.T) {
	g := newGitLabWorld(t, "")
	g.gl.SetTokenPrefix("acme-pat_")
	tok, id := g.gl.CreateToken(gitlabtest.TokenSpec{Scopes: []string{"api"}, ExpiresAt: gitlabtest.DateOf(today().AddDate(0, 0, 90))})
	if !strings.HasPrefix(tok, "acme-pat_") || !strings.Contains(tok, ".01.") {
		t.Fatalf("the fake made %s, want a routable acme-pat_ token", fingerprintOf(tok))
	}
	g.login(tok)
	var all strings.Builder
	out, errOut := g.get()
	all.WriteString(errOut)
	if password(out) != tok {
		t.Fatalf("get served %s, want the token", fingerprintOf(password(out)))
	}
	out, errOut, err := g.run("", binPath, "rotate", g.host, "--force")
	all.WriteString(out + errOut)
	if err != nil || !strings.Contains(out, "rotated") {
		t.Fatalf("rotate --force: %v\n%s\n%s", err, out, errOut)
	}
	out, _ = g.get()
	successor := password(out)
	st, ok := g.gl.TokenByValue(successor)
	if !ok || st.RotatedFrom != id || !strings.HasPrefix(successor, "acme-pat_") {
		t.Errorf("get after the rotation served %s, want the successor of token %d", fingerprintOf(successor), id)
	}
	out, errOut, _ = g.run("", binPath, "status", g.host)
	all.WriteString(out + errOut)
	if !strings.Contains(out, "test-token") {
		t.Errorf("status does not show the token:\n%s", out)
	}
	for _, secret := range []string{tok, successor} {
		if secret != "" && strings.Contains(all.String(), secret) {
			t.Errorf("a token appears in the output")
		}
	}
}
