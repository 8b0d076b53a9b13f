package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glpat-dev/git-credential-glpat/internal/gitlabtest"
)

// TestSecretsNeverLeak runs every command and fault path with recognisable
// tokens, and looks for them in everything the helper leaves behind: stderr,
// human-facing stdout, the state dir, a forced panic, and the argv and
// environment of any program it starts (PATH points at logging wrappers).
func TestSecretsNeverLeak(t *testing.T) {
	g := newGitLabWorld(t, "")
	tok, _ := g.gl.CreateToken(gitlabtest.TokenSpec{Scopes: []string{"api"}, ExpiresAt: gitlabtest.DateOf(today().AddDate(0, 0, 7))})
	secrets := []string{tok, "glpat-BADBADBADBADBADBAD00", "plain-password-Zq7"}

	// Wrappers that log argv and environment, then run the real program.
	bin := filepath.Join(g.dir, "wrappers")
	os.MkdirAll(bin, 0o700)
	log := filepath.Join(g.dir, "exec.log")
	for _, prog := range []string{"git", "dbus-launch", "security", "secret-tool", "sh", "curl"} {
		real := "/usr/bin/" + prog
		os.WriteFile(filepath.Join(bin, prog), []byte("#!/bin/sh\n{ echo \"exec: $0 $*\"; env; } >>"+log+"\nexec "+real+" \"$@\"\n"), 0o700)
	}
	g.env = append(g.env, "PATH="+bin+":"+os.Getenv("PATH"))

	var transcript strings.Builder
	run := func(stdin string, args ...string) string {
		out, errOut, _ := g.run(stdin, binPath, args...)
		transcript.WriteString(errOut)
		if args[0] != "get" {
			transcript.WriteString(out) // human output must not show secrets either
		}
		return out
	}
	hostReq := "protocol=http\nhost=" + g.host + "\n"

	run(tok+"\n", "login", g.host, "--token-stdin")
	newTok := password(run(hostReq, "get")) // rotates: due in 7 days
	if newTok == "" || newTok == tok {
		t.Fatalf("no rotation happened (%s)", fingerprintOf(newTok))
	}
	secrets = append(secrets, newTok)
	run("protocol=https\nhost=other.example\nusername=u\npassword=plain-password-Zq7\n", "store")
	run("", "status")
	run("", "status", "--json")
	run(secrets[1]+"\n", "login", g.host, "--token-stdin") // refused token
	run("protocol=https\nhost=h\n"+secrets[1]+"\n", "get") // malformed line holding a token
	run("url=https://u:"+secrets[1]+"@h/%0a\n", "get")     // bad url holding a token
	run("protocol=https\nhost=h\nusername=u\npassword="+secrets[1]+"\x00\n", "store")
	g.gl.Garbage(gitlabtest.EndpointSelf, true)
	run("", "status")
	run("", "rotate", "--all", "--force")
	g.gl.Garbage(gitlabtest.EndpointSelf, false)
	g.gl.FailRotate(500)
	run("", "rotate", "--all", "--force")
	g.gl.FailRotate(0)
	g.gl.DropAfterRotateCommit(true)
	run("", "rotate", "--all", "--force")
	run(hostReq, "get")
	run("", "status")
	g.gl.DropAfterRotateCommit(false)

	// A forced panic while writing the answer.
	panicEnv := append(g.env[:len(g.env):len(g.env)], "GLPAT_TEST_PANIC=1")
	saved := g.env
	g.env = panicEnv
	run("protocol=https\nhost=other.example\n", "get")
	g.env = saved
	if !strings.Contains(transcript.String(), "internal error") {
		t.Error("the forced panic did not happen")
	}
	run("", "logout", g.host, "--revoke")

	check := func(where, text string) {
		t.Helper()
		for _, s := range secrets {
			// The token's middle part catches partial leaks too.
			if strings.Contains(text, s) || (strings.HasPrefix(s, "glpat-") && strings.Contains(text, s[6:len(s)-4])) {
				t.Errorf("%s contains the secret %s", where, fingerprintOf(s))
			}
		}
	}
	check("stderr and command output", transcript.String())
	filepath.WalkDir(filepath.Join(g.dir, "state"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			b, _ := os.ReadFile(p)
			check("state file "+p, string(b))
		}
		return nil
	})
	execLog, _ := os.ReadFile(log)
	check("argv or environment of a child process", string(execLog))
	if strings.Contains(string(execLog), "dbus-launch") {
		t.Error("the helper ran dbus-launch")
	}
}
