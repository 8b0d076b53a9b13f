package main

import (
	"strings"
	"testing"

	"github.com/glpat-dev/git-credential-glpat/internal/gitlabtest"
)

// TestOtherTokenPrefixIsStillGitLabs: personal_access_token_prefix is an
// instance setting; on a configured GitLab host a token is GitLab's
// whatever its prefix. After get rotated the token, Git stores the old
// (now revoked) one it used: that must not replace the live successor.
func TestOtherTokenPrefixIsStillGitLabs(t *testing.T) {
	g := newGitLabWorld(t, "")
	g.gl.SetTokenPrefix("acme-")
	old, _ := g.gl.CreateToken(gitlabtest.TokenSpec{Scopes: []string{"api"}, ExpiresAt: gitlabtest.DateOf(today().AddDate(0, 0, 10))})
	if !strings.HasPrefix(old, "acme-") {
		t.Fatalf("the fake made a token without the instance's prefix")
	}
	g.login(old)
	out, _ := g.get()
	newTok := password(out)
	if newTok == "" || newTok == old {
		t.Fatalf("get did not rotate: %s", fingerprintOf(newTok))
	}

	_, errOut, err := g.run("protocol=http\nhost="+g.host+"\nusername=alice\npassword="+old+"\n", binPath, "store")
	if err != nil {
		t.Fatalf("store: %v (%s)", err, errOut)
	}
	out, _ = g.get()
	if got := password(out); got != newTok {
		t.Errorf("after Git stored the revoked token, get returns %s, want the rotated token %s", fingerprintOf(got), fingerprintOf(newTok))
	}
}

// TestOldGitLabSaysOnceItCannotRotate drives the binary against a GitLab
// 16.9, which has no personal self-rotate endpoint: get serves the token,
// stderr says once which GitLab can rotate, and later gets ask nothing.
func TestOldGitLabSaysOnceItCannotRotate(t *testing.T) {
	g := newGitLabWorld(t, "")
	g.gl.SetVersion("16.9.0")
	tok, _ := g.gl.CreateToken(gitlabtest.TokenSpec{Scopes: []string{"api"}, ExpiresAt: gitlabtest.DateOf(today().AddDate(0, 0, 10))})
	g.login(tok)
	out, errOut := g.get()
	if password(out) != tok {
		t.Fatalf("get served %s, want the token", fingerprintOf(password(out)))
	}
	if !strings.Contains(errOut, "this GitLab (16.9.0) cannot rotate tokens itself") || !strings.Contains(errOut, "16.10") || strings.Count(errOut, "\n") != 1 {
		t.Errorf("stderr = %q, want one line saying this GitLab cannot rotate and which can", errOut)
	}
	rotates := g.gl.Calls(gitlabtest.EndpointRotate)
	out, errOut = g.get()
	if password(out) != tok || errOut != "" {
		t.Errorf("second get: %s, stderr %q; want the token, silently", fingerprintOf(password(out)), errOut)
	}
	if n := g.gl.Calls(gitlabtest.EndpointRotate); n != rotates {
		t.Errorf("second get made %d rotate requests", n-rotates)
	}
}

// TestLifetimeCapThroughTheBinary: an instance that allows 60 days, a
// config asking for 90. get answers with a token rotated to the largest
// date allowed and one line saying what to set.
func TestLifetimeCapThroughTheBinary(t *testing.T) {
	g := newGitLabWorld(t, "")
	g.gl.SetMaxLifetime(60)
	tok, id := g.gl.CreateToken(gitlabtest.TokenSpec{Scopes: []string{"api"}, ExpiresAt: gitlabtest.DateOf(today().AddDate(0, 0, 10))})
	g.login(tok)
	out, errOut := g.get()
	st, ok := g.gl.TokenByValue(password(out))
	if !ok || !st.Active || st.RotatedFrom != id || st.ExpiresAt != gitlabtest.DateOf(today().AddDate(0, 0, 60)) {
		t.Fatalf("get served %v, want the successor of %d expiring in 60 days", st, id)
	}
	if !strings.Contains(errOut, `set lifetime = "60d"`) || strings.Count(errOut, "\n") != 1 {
		t.Errorf("stderr = %q, want one line saying what to set", errOut)
	}
}

// TestRotateReportsARevokedTokenThatIsNotDue: a token the helper knows is
// revoked (status shows it) is "dead" to rotate as well, due or not, and
// rotate exits 1 (man page: "1 a token is dead"), so that the daily
// `rotate --all` does not report success over it.
func TestRotateReportsARevokedTokenThatIsNotDue(t *testing.T) {
	g, _, carol := twoAccountWorld(t)
	st, _ := g.gl.TokenByValue(carol)
	g.gl.Revoke(st.ID)
	// Git's server refuses it, Git erases it, GitLab says revoked.
	g.run("protocol=http\nhost="+g.host+"\nusername=carol\npassword="+carol+"\n", binPath, "erase")
	if out, _, _ := g.run("", binPath, "status", "--offline"); !strings.Contains(out, "revoked") {
		t.Fatalf("status does not show carol's token as revoked:\n%s", out)
	}
	for _, args := range [][]string{{"rotate", g.host}, {"rotate", "--all"}} {
		out, errOut, err := g.run("", binPath, args...)
		if exitCode(err) != 1 || !strings.Contains(out, "(carol): dead") || strings.Contains(out, "(carol): not due") {
			t.Errorf("%v: exit %d\n%s%s", args, exitCode(err), out, errOut)
		}
	}
	out, _, _ := g.run("", binPath, "rotate", "--all", "--json")
	if !strings.Contains(out, `"username": "carol",
    "outcome": "dead"`) {
		t.Errorf("rotate --all --json:\n%s", out)
	}
}
