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
