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
