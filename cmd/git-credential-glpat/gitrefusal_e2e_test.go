package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glpat-dev/git-credential-glpat/internal/gitlabtest"
)

// gitWith runs the real git with the helper in dir, and returns its
// combined output (the helper's stderr included) and whether it worked.
func (g *gitlabWorld) gitWith(dir string, extra []string, args ...string) (string, bool) {
	g.t.Helper()
	base := []string{"-c", "credential.helper=" + binPath, "-c", "user.name=T", "-c", "user.email=t@example.com"}
	cmd := exec.Command("git", append(append(base, extra...), args...)...)
	// No askpass: what git sends is what the helper gave it.
	cmd.Env, cmd.Dir = append(g.env, "GIT_ASKPASS="), dir
	out, err := cmd.CombinedOutput()
	return string(out), err == nil
}

// statusJSON is status --json --offline of the fake host's one entry.
func (g *gitlabWorld) statusJSON(t *testing.T) map[string]any {
	t.Helper()
	out, errOut, _ := g.run("", binPath, "status", g.host, "--offline", "--json")
	var entries []map[string]any
	if err := json.Unmarshal([]byte(out), &entries); err != nil || len(entries) != 1 {
		t.Fatalf("status --json: %v\n%s\n%s", err, out, errOut)
	}
	return entries[0]
}

// TestGit403IsNotADeadToken: a token whose scopes give git no access gets
// 403 "You are not allowed to download code." from GitLab, and git does not
// tell its helpers (it rejects a credential on 401 only): the token is not
// taken for dead nor held back, get says once which scopes are missing,
// and status and login say it. A token without write_repository can fetch;
// its push gets 403, and status says fetch only.
func TestGit403IsNotADeadToken(t *testing.T) {
	t.Run("no repository scope", func(t *testing.T) {
		g := newGitLabWorld(t, "")
		g.gl.CreateRepo("acme/app")
		tok, _ := g.gl.CreateToken(gitlabtest.TokenSpec{Scopes: []string{"read_user", "self_rotate"}, ExpiresAt: gitlabtest.DateOf(today().AddDate(0, 0, 90))})
		_, errOut, err := g.run(tok+"\n", binPath, "login", g.host, "--token-stdin", "--username", "alice")
		if err != nil || !strings.Contains(errOut, "download code") {
			t.Errorf("login of a token git cannot use: %v, stderr %q; want a warning naming the 403", err, errOut)
		}
		out, ok := g.gitWith(g.dir, nil, "clone", "-q", g.gl.URL+"/acme/app.git", "app")
		if ok || !strings.Contains(out, "You are not allowed to download code.") {
			t.Fatalf("git clone: ok %v\n%s", ok, out)
		}
		if !strings.Contains(out, "read_repository") || !strings.Contains(out, "login http://"+g.host+" --username alice") {
			t.Errorf("the helper does not say which scope is missing and what to run:\n%s", out)
		}
		out, _ = g.gitWith(g.dir, nil, "clone", "-q", g.gl.URL+"/acme/app.git", "app2")
		if strings.Contains(out, "read_repository") {
			t.Errorf("the warning is repeated on the next git command:\n%s", out)
		}
		if out, _ := g.get(); password(out) != tok {
			t.Errorf("get no longer serves the token after git's 403")
		}
		e := g.statusJSON(t)
		if e["state"] != "no_git_access" || e["level"] != "action" || e["git_access"] != "none" || !strings.Contains(e["problem"].(string), "download code") || !strings.Contains(e["fix"].(string), "read_repository") {
			t.Errorf("status: state %v (%v), git_access %v, problem %q, fix %q; want no_git_access (action), none, the 403 and the missing scope", e["state"], e["level"], e["git_access"], e["problem"], e["fix"])
		}
		if n := g.gl.Calls(gitlabtest.EndpointGitAuthFail); n != 0 {
			t.Errorf("%d failed Git logins, want 0", n)
		}
	})
	t.Run("no write_repository", func(t *testing.T) {
		g := newGitLabWorld(t, "")
		g.gl.CreateRepo("acme/app")
		tok, _ := g.gl.CreateToken(gitlabtest.TokenSpec{Scopes: []string{"read_repository", "self_rotate"}, ExpiresAt: gitlabtest.DateOf(today().AddDate(0, 0, 90))})
		out, _, _ := g.run(tok+"\n", binPath, "login", g.host, "--token-stdin", "--username", "alice")
		if !strings.Contains(out, "fetch only") {
			t.Errorf("login does not say the token can only fetch:\n%s", out)
		}
		if out, ok := g.gitWith(g.dir, nil, "clone", "-q", g.gl.URL+"/acme/app.git", "app"); !ok || out != "" {
			t.Fatalf("git clone: ok %v, output (helper silent on success):\n%s", ok, out)
		}
		app := filepath.Join(g.dir, "app")
		os.WriteFile(filepath.Join(app, "new.txt"), []byte("x\n"), 0o600)
		g.gitWith(app, nil, "add", "new.txt")
		g.gitWith(app, nil, "commit", "-q", "-m", "add")
		if out, ok := g.gitWith(app, nil, "push", "-q", "origin", "HEAD"); ok || !strings.Contains(out, "You are not allowed to upload code.") {
			t.Fatalf("git push: ok %v\n%s", ok, out)
		}
		if out, _ := g.get(); password(out) != tok {
			t.Errorf("get no longer serves the token after git's 403")
		}
		if e := g.statusJSON(t); e["state"] != "ok" || e["git_access"] != "fetch" || e["problem"] != nil {
			t.Errorf("status: state %v, git_access %v, problem %v; want ok, fetch, none", e["state"], e["git_access"], e["problem"])
		}
		st, _, _ := g.run("", binPath, "status", g.host, "--offline")
		if !strings.Contains(st, "fetch only") || !strings.Contains(st, "write_repository") {
			t.Errorf("status does not say the token can only fetch:\n%s", st)
		}
	})
}

// TestGit401ForABotsTokenOnAnotherProject: GitLab refuses a project
// token for git on a project its bot cannot read with 401 (a failed login,
// counted toward an IP ban), and git erases the token, while it works on
// its own project. It is not held back from every repository: without the
// path (git's default) it stays served and the line says what each try
// costs; with credential.useHttpPath it is held back from that repository
// only.
func TestGit401ForABotsTokenOnAnotherProject(t *testing.T) {
	for _, tc := range []struct {
		name  string
		extra []string
	}{
		{"without the path", nil},
		{"with useHttpPath", []string{"-c", "credential.useHttpPath=true"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newGitLabWorld(t, "")
			own := g.gl.CreateRepo("acme/app")
			g.gl.CreateRepo("other/secret")
			tok, _ := g.gl.CreateToken(gitlabtest.TokenSpec{Kind: gitlabtest.ProjectToken, OwnerID: own.ID,
				Scopes: []string{"read_repository", "write_repository", "self_rotate"}, ExpiresAt: gitlabtest.DateOf(today().AddDate(0, 0, 90))})
			g.login(tok)
			out, ok := g.gitWith(g.dir, tc.extra, "clone", "-q", g.gl.URL+"/other/secret.git", "secret")
			if ok || !strings.Contains(out, "its account cannot read that repository") {
				t.Fatalf("git clone of another project: ok %v\n%s", ok, out)
			}
			if tc.extra == nil && !strings.Contains(out, "useHttpPath") {
				t.Errorf("the line does not say how to hold it back from that repository alone:\n%s", out)
			}
			if out, ok := g.gitWith(g.dir, tc.extra, "clone", "-q", g.gl.URL+"/acme/app.git", "app"); !ok {
				t.Errorf("git clone of its own project after the refusal:\n%s", out)
			}
			fails := g.gl.Calls(gitlabtest.EndpointGitAuthFail)
			out, _ = g.gitWith(g.dir, tc.extra, "clone", "-q", g.gl.URL+"/other/secret.git", "secret")
			again := g.gl.Calls(gitlabtest.EndpointGitAuthFail) - fails
			if tc.extra != nil {
				if again != 0 {
					t.Errorf("with useHttpPath, the token was tried on the refused repository again: %d more failed logins\n%s", again, out)
				}
				if e := g.statusJSON(t); e["held_back_paths"] == nil {
					t.Errorf("status --json does not list the repository it is held back from: %v", e)
				}
			}
			if e := g.statusJSON(t); e["state"] != "ok" {
				t.Errorf("status state %v, want ok", e["state"])
			}
		})
	}
}
