package gitlabtest_test

import (
	"crypto/rand"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/glpat-dev/git-credential-glpat/internal/gitlabtest"
)

// gitClient runs the real git against the fake with a credential helper
// that reads the token from a 0600 file, so the token never appears in a
// process's argv or environment.
type gitClient struct {
	t         *testing.T
	env       []string
	helper    string
	tokenFile string
	userFile  string
}

func newGitClient(t *testing.T) *gitClient {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	dir := t.TempDir()
	g := &gitClient{t: t, env: gitlabtest.GitEnv(t), helper: filepath.Join(dir, "credential-helper"), tokenFile: filepath.Join(dir, "token"), userFile: filepath.Join(dir, "username")}
	script := "#!/bin/sh\n" +
		"[ \"$1\" = get ] || exit 0\n" +
		"printf 'username=%s\\n' \"$(cat '" + g.userFile + "')\"\n" +
		"printf 'password=%s\\n' \"$(cat '" + g.tokenFile + "')\"\n"
	if err := os.WriteFile(g.helper, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	g.setToken("")
	g.setUsername("oauth2")
	return g
}

// setUsername makes the credential helper answer with username u.
func (g *gitClient) setUsername(u string) {
	g.t.Helper()
	if err := os.WriteFile(g.userFile, []byte(u), 0o600); err != nil {
		g.t.Fatal(err)
	}
}

// setToken makes the credential helper answer with tok.
func (g *gitClient) setToken(tok string) {
	g.t.Helper()
	if err := os.WriteFile(g.tokenFile, []byte(tok), 0o600); err != nil {
		g.t.Fatal(err)
	}
}

// run runs git in dir and returns its combined output.
func (g *gitClient) run(dir string, args ...string) (string, error) {
	g.t.Helper()
	args = append([]string{"-c", "credential.helper=", "-c", "credential.helper=" + g.helper}, args...)
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = g.env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func TestGitClone(t *testing.T) {
	tests := []struct {
		name      string
		spec      func(widgets, gadgets gitlabtest.Repo) gitlabtest.TokenSpec
		repo      string // path to clone
		username  string // what Git sends as the username; "oauth2" when empty
		at        time.Time
		revoke    bool
		unknown   bool
		wantErr   string // substring of git's output; "" for success
		wantFails int    // failed Git logins
	}{
		{name: "read_repository", spec: scopes("read_repository")},
		{name: "write_repository", spec: scopes("write_repository")},
		{name: "api", spec: scopes("api")},
		{name: "read_api", spec: scopes("read_api")},
		{name: "one nanosecond before expiry", spec: scopes("read_repository"), at: today.AddDays(30).Midnight().Add(-time.Nanosecond)},
		// GitLab ignores the username that comes with a token
		// (Gitlab::Auth#personal_access_token_check reads only the
		// password); Git sends none when it is blank (see
		// TestGitBlankUsername).
		{name: "any username", spec: scopes("read_repository"), username: "not-the-owner"},
		// Authenticated, then refused: 403, not a failed login, so Git
		// keeps the credential (it rejects only on 401, http.c).
		{name: "self_rotate only", spec: scopes("self_rotate"), wantErr: "You are not allowed to download code."},
		{name: "read_user only", spec: scopes("read_user"), wantErr: "You are not allowed to download code."},
		{name: "at expiry", spec: scopes("read_repository"), at: today.AddDays(30).Midnight(), wantErr: "Authentication failed", wantFails: 1},
		{name: "revoked token", spec: scopes("read_repository"), revoke: true, wantErr: "Authentication failed", wantFails: 1},
		{name: "unknown token", spec: scopes("read_repository"), unknown: true, wantErr: "Authentication failed", wantFails: 1},
		{name: "missing project", spec: scopes("read_repository"), repo: "acme/nothing", wantErr: "could not be found"},
		{name: "project token, own project", spec: func(w, _ gitlabtest.Repo) gitlabtest.TokenSpec {
			return gitlabtest.TokenSpec{Kind: gitlabtest.ProjectToken, OwnerID: w.ID, Scopes: []string{"read_repository"}, ExpiresAt: today.AddDays(30)}
		}},
		// A bot's token on a project its bot cannot read fails to
		// authenticate (Gitlab::Auth#personal_access_token_check,
		// can_read_project?): 401, a failed login that GitLab's IP rate
		// limiter counts, though the token is valid.
		{name: "project token, other project", spec: func(_, g gitlabtest.Repo) gitlabtest.TokenSpec {
			return gitlabtest.TokenSpec{Kind: gitlabtest.ProjectToken, OwnerID: g.ID, Scopes: []string{"read_repository"}, ExpiresAt: today.AddDays(30)}
		}, wantErr: "Authentication failed", wantFails: 1},
		{name: "project token, missing project", spec: func(w, _ gitlabtest.Repo) gitlabtest.TokenSpec {
			return gitlabtest.TokenSpec{Kind: gitlabtest.ProjectToken, OwnerID: w.ID, Scopes: []string{"read_repository"}, ExpiresAt: today.AddDays(30)}
		}, repo: "acme/nothing", wantErr: "could not be found"},
		{name: "group token, project in a subgroup", spec: func(w, _ gitlabtest.Repo) gitlabtest.TokenSpec {
			return gitlabtest.TokenSpec{Kind: gitlabtest.GroupToken, OwnerID: w.GroupID, Scopes: []string{"read_repository"}, ExpiresAt: today.AddDays(30)}
		}, repo: "acme/tools/hammer"},
		{name: "group token, project in another group", spec: func(_, g gitlabtest.Repo) gitlabtest.TokenSpec {
			return gitlabtest.TokenSpec{Kind: gitlabtest.GroupToken, OwnerID: g.GroupID, Scopes: []string{"read_repository"}, ExpiresAt: today.AddDays(30)}
		}, wantErr: "Authentication failed", wantFails: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, clk := newServer(t)
			widgets := srv.CreateRepo("acme/widgets")
			srv.CreateRepo("acme/tools/hammer")
			gadgets := srv.CreateRepo("other/gadgets")
			tok, id := srv.CreateToken(tt.spec(widgets, gadgets))
			if tt.revoke {
				srv.Revoke(id)
			}
			if tt.unknown {
				tok = "glpat-" + strings.Repeat("x", 20)
			}
			if !tt.at.IsZero() {
				clk.Set(tt.at)
			}
			repo := tt.repo
			if repo == "" {
				repo = widgets.Path
			}

			g := newGitClient(t)
			g.setToken(tok)
			if tt.username != "" {
				g.setUsername(tt.username)
			}
			work := t.TempDir()
			out, err := g.run(work, "clone", "--quiet", srv.URL+"/"+repo+".git", "clone")
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("git clone: %v\n%s", err, out)
				}
				readme, err := os.ReadFile(filepath.Join(work, "clone", "README.md"))
				if err != nil || !strings.HasPrefix(string(readme), "# ") {
					t.Errorf("cloned README.md = %q, %v", readme, err)
				}
				if st := srv.Token(id); st.LastUsedAt.IsZero() {
					t.Errorf("Git use not recorded: %v", st)
				}
			} else if err == nil || !strings.Contains(out, tt.wantErr) {
				t.Errorf("git clone: err %v, output:\n%s\nwant an error with %q", err, out, tt.wantErr)
			}
			if got := srv.Calls(gitlabtest.EndpointGitAuthFail); got != tt.wantFails {
				t.Errorf("failed Git logins = %d, want %d", got, tt.wantFails)
			}
			if strings.Contains(out, tok) {
				t.Errorf("git output shows the token")
			}
		})
	}
}

// TestGitBlankUsername: HTTP Basic with a blank username and a live token
// authenticates (Gitlab::Auth#personal_access_token_check reads only the
// password), as with curl -u :TOKEN. Git itself sends no credentials for a
// blank username (http.c, init_curl_http_auth).
func TestGitBlankUsername(t *testing.T) {
	srv, _ := newServer(t)
	repo := srv.CreateRepo("acme/widgets")
	tok, _ := srv.CreateToken(gitlabtest.TokenSpec{Scopes: []string{"read_repository"}, ExpiresAt: today.AddDays(30)})
	req, _ := http.NewRequest("GET", repo.URL+"/info/refs?service=git-upload-pack", nil)
	req.SetBasicAuth("", tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || srv.Calls(gitlabtest.EndpointGitAuthFail) != 0 {
		t.Errorf("blank username: HTTP %d, %d failed logins; want 200 and none", resp.StatusCode, srv.Calls(gitlabtest.EndpointGitAuthFail))
	}
}

func scopes(s ...string) func(_, _ gitlabtest.Repo) gitlabtest.TokenSpec {
	return func(_, _ gitlabtest.Repo) gitlabtest.TokenSpec {
		return gitlabtest.TokenSpec{Scopes: s, ExpiresAt: today.AddDays(30)}
	}
}

func TestGitPush(t *testing.T) {
	tests := []struct {
		name      string
		scopes    []string
		unknown   bool
		large     bool // a pack bigger than http.postBuffer, which Git sends chunked
		wantErr   string
		wantFails int
	}{
		{name: "write_repository", scopes: []string{"write_repository"}},
		{name: "large pack, chunked", scopes: []string{"write_repository"}, large: true},
		{name: "api", scopes: []string{"api"}},
		// GitLab authenticates the token, then refuses the push with 403
		// (Gitlab::GitAccess#check_authentication_abilities!): not a failed
		// login, and Git keeps the credential.
		{name: "read_repository", scopes: []string{"read_repository"}, wantErr: "You are not allowed to upload code."},
		{name: "read_api", scopes: []string{"read_api"}, wantErr: "You are not allowed to upload code."},
		{name: "unknown token", unknown: true, wantErr: "Authentication failed", wantFails: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _ := newServer(t)
			repo := srv.CreateRepo("acme/widgets")
			reader, _ := srv.CreateToken(gitlabtest.TokenSpec{Scopes: []string{"read_repository"}, ExpiresAt: today.AddDays(30)})
			pusher := "glpat-" + strings.Repeat("y", 20)
			if !tt.unknown {
				pusher, _ = srv.CreateToken(gitlabtest.TokenSpec{Scopes: tt.scopes, ExpiresAt: today.AddDays(30)})
			}

			g := newGitClient(t)
			g.setToken(reader)
			work := t.TempDir()
			clone := filepath.Join(work, "clone")
			if out, err := g.run(work, "clone", "--quiet", repo.URL, "clone"); err != nil {
				t.Fatalf("git clone: %v\n%s", err, out)
			}
			change := []byte("change\n")
			if tt.large {
				change = make([]byte, 2<<20)
				rand.Read(change) // incompressible
			}
			if err := os.WriteFile(filepath.Join(clone, "change.txt"), change, 0o644); err != nil {
				t.Fatal(err)
			}
			for _, args := range [][]string{{"add", "change.txt"}, {"commit", "--quiet", "-m", "Change"}} {
				if out, err := g.run(clone, args...); err != nil {
					t.Fatalf("git %s: %v\n%s", args[0], err, out)
				}
			}
			local, _ := g.run(clone, "rev-parse", "HEAD")

			g.setToken(pusher)
			out, err := g.run(clone, "-c", "http.postBuffer=65536", "push", "--quiet", "origin", "main")
			g.setToken(reader)
			remote, lsErr := g.run(work, "ls-remote", repo.URL, "refs/heads/main")
			if lsErr != nil {
				t.Fatalf("git ls-remote: %v\n%s", lsErr, remote)
			}
			pushed := strings.HasPrefix(remote, strings.TrimSpace(local))

			if tt.wantErr == "" {
				if err != nil || !pushed {
					t.Fatalf("git push: %v\n%s\nremote main: %s, local HEAD: %s", err, out, remote, local)
				}
			} else if err == nil || !strings.Contains(out, tt.wantErr) || pushed {
				t.Errorf("git push: err %v, pushed %v, output:\n%s\nwant a refused push with %q", err, pushed, out, tt.wantErr)
			}
			if got := srv.Calls(gitlabtest.EndpointGitAuthFail); got != tt.wantFails {
				t.Errorf("failed Git logins = %d, want %d", got, tt.wantFails)
			}
		})
	}
}

func TestGitOverTLS(t *testing.T) {
	srv := gitlabtest.NewTLS(t)
	repo := srv.CreateRepo("acme/widgets")
	tok, _ := srv.CreateToken(gitlabtest.TokenSpec{Scopes: []string{"read_repository"}, ExpiresAt: gitlabtest.DateOf(time.Now()).AddDays(30)})
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	srv.WriteCA(caFile)

	g := newGitClient(t)
	g.setToken(tok)
	work := t.TempDir()
	if out, err := g.run(work, "clone", "--quiet", repo.URL, "untrusted"); err == nil {
		t.Errorf("clone without the CA succeeded:\n%s", out)
	}
	if out, err := g.run(work, "-c", "http.sslCAInfo="+caFile, "clone", "--quiet", repo.URL, "trusted"); err != nil {
		t.Errorf("clone with the CA: %v\n%s", err, out)
	}
}
