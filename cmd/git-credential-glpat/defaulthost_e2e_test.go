package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glpat-dev/git-credential-glpat/internal/gitlabtest"
)

// TestWithoutHostEveryCommandMeansTheKnownHosts: without HOST every command
// means the GitLab hosts that the config and the stored tokens name (here
// the fake GitLab, over http), not gitlab.com: rotate rotates the token due
// there, setup configures it, login and logout take it, status and doctor
// report it; with two such hosts, login and logout ask which.
func TestWithoutHostEveryCommandMeansTheKnownHosts(t *testing.T) {
	g := newGitLabWorld(t, "")
	self := []string{"read_repository", "write_repository", "self_rotate"}
	due, _ := g.gl.CreateToken(gitlabtest.TokenSpec{Username: "alice", Scopes: self, ExpiresAt: gitlabtest.DateOf(today().AddDate(0, 0, 10))})
	g.login(due)
	host := "http://" + g.host

	steps := []struct {
		args  []string
		stdin string
		want  string
	}{
		{[]string{"rotate"}, "", host + " (alice): rotated"},
		{[]string{"setup"}, "", "credential." + host + ".helper"},
		{[]string{"status", "--offline"}, "", host + "  alice"},
		{[]string{"doctor"}, "", "helpers for " + host},
		{[]string{"logout"}, "", "forgot the credential of alice on " + host},
		{[]string{"login", "--token-stdin", "--username", "alice"}, due, "Logged in to " + host + " as alice"},
	}
	for _, s := range steps {
		if s.args[0] == "login" {
			// The rotated token was forgotten by logout: a new one.
			s.stdin, _ = g.gl.CreateToken(gitlabtest.TokenSpec{Username: "alice", Scopes: self, ExpiresAt: gitlabtest.DateOf(today().AddDate(0, 0, 100))})
			s.stdin += "\n"
		}
		out, errOut, err := g.run(s.stdin, binPath, s.args...)
		if !strings.Contains(out, s.want) || strings.Contains(out+errOut, "gitlab.com") {
			t.Errorf("%v: %v, want it to say %q, of no other host\nstdout:\n%s\nstderr:\n%s", s.args, err, s.want, out, errOut)
		}
	}

	// A second GitLab host in the config: the one-host commands ask.
	cfg := filepath.Join(g.dir, "config.toml")
	b, _ := os.ReadFile(cfg)
	if err := os.WriteFile(cfg, append(b, "[hosts.\"gitlab.example.com\"]\n"...), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"login", "--token-stdin"}, {"logout"}} {
		out, errOut, err := g.run("glpat-xxxxxxxxxxxxxxxxxxxx\n", binPath, args...)
		if exitCode(err) != 2 || out != "" || !strings.Contains(errOut, "give the HOST") || !strings.Contains(errOut, "("+host+", gitlab.example.com)") {
			t.Errorf("%v with two known hosts: exit %d\nstdout:\n%s\nstderr:\n%s", args, exitCode(err), out, errOut)
		}
	}
	out, errOut, err := g.run("", binPath, "setup")
	if err != nil || !strings.Contains(out, "credential."+host+".helper") || !strings.Contains(out, "credential.https://gitlab.example.com.helper") {
		t.Errorf("setup with two known hosts: %v\n%s%s", err, out, errOut)
	}
	out, errOut, err = g.run("", binPath, "rotate")
	if err != nil || !strings.Contains(out, host+" (alice): not due") {
		t.Errorf("rotate with two known hosts: %v\n%s%s", err, out, errOut)
	}
}
