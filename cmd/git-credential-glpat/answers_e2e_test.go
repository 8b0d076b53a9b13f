package main

import (
	"strings"
	"testing"
	"time"

	"github.com/glpat-dev/git-credential-glpat/internal/gitlabtest"
)

// TestRateLimitedRotationThroughTheBinary: GitLab's Rack::Attack answers
// the rotation 429 with Retry-After; get serves the token and says until
// when it was rate-limited, later gets within that time ask nothing, and
// status says the same.
func TestRateLimitedRotationThroughTheBinary(t *testing.T) {
	g := newGitLabWorld(t, "")
	tok, _ := g.gl.CreateToken(gitlabtest.TokenSpec{Scopes: []string{"api"}, ExpiresAt: gitlabtest.DateOf(today().AddDate(0, 0, 10))})
	g.login(tok)
	g.gl.ThrottleRotate(gitlabtest.RackAttack, 2*time.Hour)
	out, errOut := g.get()
	if password(out) != tok || !strings.Contains(errOut, "rate-limited until") || strings.Count(errOut, "\n") != 1 {
		t.Fatalf("get: %s, stderr %q; want the token and one line saying until when it was rate-limited", fingerprintOf(password(out)), errOut)
	}
	rotates := g.gl.Calls(gitlabtest.EndpointRotate)
	if out, errOut := g.get(); password(out) != tok || errOut != "" || g.gl.Calls(gitlabtest.EndpointRotate) != rotates {
		t.Errorf("second get: %s, stderr %q, %d more rotate requests; want the token, silently, none", fingerprintOf(password(out)), errOut, g.gl.Calls(gitlabtest.EndpointRotate)-rotates)
	}
	out, _, _ = g.run("", binPath, "status", g.host, "--offline")
	if !strings.Contains(out, "rate-limited until") {
		t.Errorf("status does not say the rotation was rate-limited:\n%s", out)
	}
}

// TestForcedRotateWhileAnOutcomeIsUnknown: GitLab answered a rotation 502,
// which does not prove it did nothing. rotate --force again inside the
// window where GitLab may still be acting on it sends nothing and says
// why, in text and JSON: not "failed", which is not known.
func TestForcedRotateWhileAnOutcomeIsUnknown(t *testing.T) {
	g := newGitLabWorld(t, "")
	tok, _ := g.gl.CreateToken(gitlabtest.TokenSpec{Scopes: []string{"api"}, ExpiresAt: gitlabtest.DateOf(today().AddDate(0, 0, 100))})
	g.login(tok)
	g.gl.FailRotate(502)
	for i, args := range [][]string{{"rotate", g.host, "--force"}, {"rotate", g.host, "--force"}, {"rotate", g.host, "--force", "--json"}} {
		out, errOut, err := g.run("", binPath, args...)
		if exitCode(err) != 1 || strings.Contains(out, "failed") || !strings.Contains(out, "may still be in progress at GitLab;") || !strings.Contains(out, "try again after") {
			t.Errorf("rotate %d: exit %d\nstdout %s\nstderr %s", i+1, exitCode(err), out, errOut)
		}
		if strings.Contains(args[len(args)-1], "json") && (!strings.Contains(out, `"outcome": "unknown"`) || !strings.Contains(out, `"reason": "a rotation sent at `)) {
			t.Errorf("rotate --json:\n%s", out)
		}
	}
	if n := g.gl.Calls(gitlabtest.EndpointRotate); n != 1 {
		t.Errorf("rotate requests: %d, want 1", n)
	}
	// status says the same, and exits 0: the helper settles it, no
	// person need act yet.
	out, _, err := g.run("", binPath, "status", g.host, "--offline")
	if err != nil || !strings.Contains(out, "may still be in progress at GitLab") || strings.Contains(out, "failed") {
		t.Errorf("status: exit %d\n%s", exitCode(err), out)
	}
}

// TestRevokedByHandAfterAnUnknownOutcome: GitLab answered a rotation 500
// (and did nothing); then the person revoked the token by hand. The helper
// cannot tell that from a rotation whose answer was lost, and get, status,
// rotate and logout all say so, never "GitLab rotated the token".
func TestRevokedByHandAfterAnUnknownOutcome(t *testing.T) {
	g := newGitLabWorld(t, "")
	tok, id := g.gl.CreateToken(gitlabtest.TokenSpec{Scopes: []string{"api"}, ExpiresAt: gitlabtest.DateOf(today().AddDate(0, 0, 7))})
	g.login(tok)
	g.gl.FailRotate(500)
	if out, _ := g.get(); password(out) != tok {
		t.Fatalf("get during the unknown outcome served %s, want the token", fingerprintOf(password(out)))
	}
	g.gl.Revoke(id)
	var said []string
	out, errOut := g.get()
	if out != "" || !strings.Contains(errOut, "may have been rotated") {
		t.Errorf("get after the revocation: stdout %q stderr %q", out, errOut)
	}
	said = append(said, errOut)
	out, _, _ = g.run("", binPath, "status", g.host)
	if !strings.Contains(out, "may have been rotated") {
		t.Errorf("status:\n%s", out)
	}
	said = append(said, out)
	out, _, _ = g.run("", binPath, "rotate", g.host)
	if !strings.Contains(out, "dead: ") || !strings.Contains(out, "may have been rotated") {
		t.Errorf("rotate:\n%s", out)
	}
	said = append(said, out)
	out, errOut, _ = g.run("", binPath, "logout", g.host, "--revoke", "--yes")
	if !strings.Contains(out, "may have been rotated") || !strings.Contains(out, "not sent to GitLab") {
		t.Errorf("logout:\nstdout %s\nstderr %s", out, errOut)
	}
	said = append(said, out)
	for _, s := range said {
		if strings.Contains(s, "GitLab rotated") || strings.Contains(s, "it was rotated") {
			t.Errorf("a guess stated as fact: %q", s)
		}
	}
}
