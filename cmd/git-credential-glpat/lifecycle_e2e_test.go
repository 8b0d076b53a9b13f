package main

import (
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/glpat-dev/git-credential-glpat/internal/gitlabtest"
)

// gitlabWorld is a world with a fake GitLab configured as a GitLab host.
type gitlabWorld struct {
	*world
	gl   *gitlabtest.Server
	host string // 127.0.0.1:PORT, Git's host attribute
}

func newGitLabWorld(t *testing.T, extraConfig string) *gitlabWorld {
	t.Helper()
	w := newWorld(t)
	gl := gitlabtest.New(t)
	u, _ := url.Parse(gl.URL)
	cfg := fmt.Sprintf("rotate_before = \"30d\"\nlifetime = \"90d\"\n%s\n[hosts.%q]\napi_url = %q\n", extraConfig, u.Host, gl.APIURL())
	if err := os.WriteFile(filepath.Join(w.dir, "config.toml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return &gitlabWorld{world: w, gl: gl, host: u.Host}
}

func today() time.Time {
	y, m, d := time.Now().UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// login stores tok for the fake host through `login --token-stdin`.
func (g *gitlabWorld) login(tok string) {
	g.t.Helper()
	out, errOut, err := g.run(tok+"\n", binPath, "login", g.host, "--token-stdin", "--username", "alice")
	if err != nil {
		g.t.Fatalf("login: %v\nstdout %s\nstderr %s", err, out, errOut)
	}
	if !strings.Contains(out, "Logged in to http://"+g.host+" as alice") {
		g.t.Errorf("login output %q lacks the confirmation", out)
	}
	if strings.Contains(out+errOut, tok) {
		g.t.Errorf("login printed the token")
	}
}

func (g *gitlabWorld) get() (string, string) {
	g.t.Helper()
	out, errOut, err := g.run("protocol=http\nhost="+g.host+"\n", binPath, "get")
	if err != nil && errOut == "" {
		g.t.Fatalf("get: %v", err)
	}
	return out, errOut
}

func password(out string) string {
	for _, l := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(l, "password="); ok {
			return v
		}
	}
	return ""
}

func TestLoginThenGetRotatesOnceWhenDue(t *testing.T) {
	g := newGitLabWorld(t, "")
	old, oldID := g.gl.CreateToken(gitlabtest.TokenSpec{
		Scopes:    []string{"read_repository", "write_repository", "self_rotate"},
		ExpiresAt: gitlabtest.DateOf(today().AddDate(0, 0, 10)),
	})
	g.login(old)
	if n := g.gl.Calls(gitlabtest.EndpointRotate); n != 0 {
		t.Fatalf("login made %d rotate calls, want 0 (login never rotates)", n)
	}

	out, errOut := g.get()
	if errOut != "" {
		t.Errorf("get stderr = %q, want silence", errOut)
	}
	newTok := password(out)
	if newTok == "" || newTok == old {
		t.Fatalf("get after rotation is due returned %s, want a new token", fingerprintOf(newTok))
	}
	st, ok := g.gl.TokenByValue(newTok)
	if !ok || !st.Active || st.RotatedFrom != oldID {
		t.Fatalf("fake GitLab: new token %v, want active and rotated from %d", st, oldID)
	}
	if o := g.gl.Token(oldID); !o.Revoked {
		t.Errorf("old token %v, want revoked", o)
	}
	wantExpiry := today().AddDate(0, 0, 90)
	if st.ExpiresAt != gitlabtest.DateOf(wantExpiry) {
		t.Errorf("new token expires %v, want today+90d %v", st.ExpiresAt, gitlabtest.DateOf(wantExpiry))
	}
	if !strings.Contains(out, fmt.Sprintf("password_expiry_utc=%d\n", wantExpiry.Unix())) {
		t.Errorf("get output lacks password_expiry_utc=%d (00:00 UTC of expires_at)", wantExpiry.Unix())
	}

	// No rotation due any more: no network at all.
	selfBefore := g.gl.Calls(gitlabtest.EndpointSelf)
	out2, errOut2 := g.get()
	if password(out2) != newTok || errOut2 != "" {
		t.Errorf("second get: %s, stderr %q; want the new token silently", fingerprintOf(password(out2)), errOut2)
	}
	if n := g.gl.Calls(gitlabtest.EndpointSelf) - selfBefore; n != 0 {
		t.Errorf("get with no rotation due made %d API calls, want 0", n)
	}
	if n := g.gl.Calls(gitlabtest.EndpointRotate); n != 1 {
		t.Errorf("%d rotate calls, want 1", n)
	}

	// status --json shows it.
	js, _, err := g.run("", binPath, "status", "--json")
	if err != nil {
		t.Fatalf("status: %v\n%s", err, js)
	}
	if !strings.Contains(js, `"managed": true`) || !strings.Contains(js, st.ExpiresAt.String()) || strings.Contains(js, newTok) {
		t.Errorf("status --json = %s", js)
	}
}

func TestConcurrentFillsRotateExactlyOnce(t *testing.T) {
	g := newGitLabWorld(t, "")
	old, oldID := g.gl.CreateToken(gitlabtest.TokenSpec{
		Scopes:    []string{"api"},
		ExpiresAt: gitlabtest.DateOf(today().AddDate(0, 0, 5)),
	})
	g.login(old)
	const n = 20
	var wg sync.WaitGroup
	results := make([]string, n)
	stderrs := make([]string, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command("git", "-c", "credential.helper="+binPath, "credential", "fill")
			cmd.Env = g.env
			cmd.Stdin = strings.NewReader("protocol=http\nhost=" + g.host + "\n")
			var errb strings.Builder
			cmd.Stderr = &errb
			out, _ := cmd.Output()
			results[i], stderrs[i] = password(string(out)), errb.String()
		}()
	}
	wg.Wait()
	if c := g.gl.Calls(gitlabtest.EndpointRotate); c != 1 {
		t.Errorf("%d concurrent fills made %d rotate calls, want exactly 1", n, c)
	}
	for i := range results {
		if results[i] == "" || results[i] != results[0] || results[i] == old {
			t.Errorf("fill %d got %s, want the one new token %s", i, fingerprintOf(results[i]), fingerprintOf(results[0]))
		}
		if stderrs[i] != "" {
			t.Errorf("fill %d stderr %q", i, stderrs[i])
		}
	}
	active := 0
	for _, tk := range g.gl.Tokens() {
		if tk.Family == oldID && tk.Active {
			active++
		}
	}
	if active != 1 || !g.gl.Token(oldID).Revoked {
		t.Errorf("token table %v: want the old token revoked and exactly one active successor", g.gl.Tokens())
	}
}

func TestCloneAndPushThroughGitLabWhileRotationDue(t *testing.T) {
	g := newGitLabWorld(t, "")
	g.gl.CreateRepo("group/app")
	old, _ := g.gl.CreateToken(gitlabtest.TokenSpec{
		Scopes:    []string{"read_repository", "write_repository", "self_rotate"},
		ExpiresAt: gitlabtest.DateOf(today().AddDate(0, 0, 3)),
	})
	g.login(old)
	git := func(dir string, args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-c", "credential.helper=" + binPath, "-c", "user.name=T", "-c", "user.email=t@example.com"}, args...)...)
		cmd.Env, cmd.Dir = g.env, dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	git(g.dir, "clone", "-q", g.gl.URL+"/group/app.git", "app")
	app := filepath.Join(g.dir, "app")
	os.WriteFile(filepath.Join(app, "new.txt"), []byte("x\n"), 0o600)
	git(app, "add", "new.txt")
	git(app, "commit", "-q", "-m", "add")
	git(app, "push", "-q", "origin", "HEAD")
	if p := g.prompts(); p != "" {
		t.Errorf("git prompted %q; the helper should have answered", p)
	}
	if n := g.gl.Calls(gitlabtest.EndpointRotate); n != 1 {
		t.Errorf("%d rotations, want 1", n)
	}
	if n := g.gl.Calls(gitlabtest.EndpointGitAuthFail); n != 0 {
		t.Errorf("%d failed Git logins, want 0 (never feed Git a dead token)", n)
	}
}

func TestDeadTokensAreNotServed(t *testing.T) {
	tests := []struct {
		name  string
		setup func(g *gitlabWorld, id int)
	}{
		{"revoked on GitLab", func(g *gitlabWorld, id int) { g.gl.Revoke(id) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGitLabWorld(t, "")
			tok, id := g.gl.CreateToken(gitlabtest.TokenSpec{Scopes: []string{"api"}, ExpiresAt: gitlabtest.DateOf(today().AddDate(0, 0, 7))})
			g.login(tok)
			tt.setup(g, id)
			out, errOut := g.get()
			if out != "" {
				t.Errorf("get printed %q for a dead token", out)
			}
			if !strings.Contains(errOut, "git-credential-glpat login http://"+g.host) || strings.Count(errOut, "\n") != 1 {
				t.Errorf("stderr = %q, want one line telling to log in again", errOut)
			}
			if n := g.gl.Calls(gitlabtest.EndpointRotate); n != 0 {
				t.Errorf("%d rotate calls with a revoked token, want 0", n)
			}
			// Known dead: the next get makes no API call at all.
			before := g.gl.Calls(gitlabtest.EndpointSelf)
			if out, _ := g.get(); out != "" {
				t.Errorf("second get printed %q", out)
			}
			if n := g.gl.Calls(gitlabtest.EndpointSelf) - before; n != 0 {
				t.Errorf("second get made %d API calls, want 0", n)
			}
		})
	}
}

func TestExpiredTokenIsNotServed(t *testing.T) {
	g := newGitLabWorld(t, "")
	tok, _ := g.gl.CreateToken(gitlabtest.TokenSpec{Scopes: []string{"api"}, ExpiresAt: gitlabtest.DateOf(today().AddDate(0, 0, 40))})
	g.login(tok)
	// Rewrite the stored expiry to yesterday, as if time had passed.
	idx, _ := filepath.Glob(filepath.Join(g.dir, "state", "index", "*.json"))
	if len(idx) != 1 {
		t.Fatalf("index files %v", idx)
	}
	b, _ := os.ReadFile(idx[0])
	exp := today().AddDate(0, 0, 40).Format(time.DateOnly)
	b = []byte(strings.Replace(string(b), exp, today().AddDate(0, 0, -1).Format(time.DateOnly), 1))
	// password_expiry_utc too, as it is after a real expiry.
	b = []byte(strings.Replace(string(b), fmt.Sprint(today().AddDate(0, 0, 40).Unix()), fmt.Sprint(today().AddDate(0, 0, -1).Unix()), 1))
	if !strings.Contains(string(b), fmt.Sprint(today().AddDate(0, 0, -1).Unix())) {
		t.Fatalf("index has no password_expiry_utc to rewrite:\n%s", b)
	}
	os.WriteFile(idx[0], b, 0o600)
	out, errOut := g.get()
	if out != "" || !strings.Contains(errOut, "expired") || !strings.Contains(errOut, "login http://"+g.host) {
		t.Errorf("get: stdout %q stderr %q; want nothing and a one-line hint to log in", out, errOut)
	}
	if n := g.gl.Calls(gitlabtest.EndpointRotate) + g.gl.Calls(gitlabtest.EndpointSelf); n != 1 {
		// login's own check is the one call
		t.Errorf("%d API calls, want only login's check", n)
	}
}

func TestAPIDownDuringRotationServesOldToken(t *testing.T) {
	g := newGitLabWorld(t, "")
	tok, id := g.gl.CreateToken(gitlabtest.TokenSpec{Scopes: []string{"api"}, ExpiresAt: gitlabtest.DateOf(today().AddDate(0, 0, 7))})
	g.login(tok)
	g.gl.FailRotate(500)
	out, errOut := g.get()
	if password(out) != tok {
		t.Errorf("get returned %s, want the old, still valid token", fingerprintOf(password(out)))
	}
	if strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, "could not rotate") || !strings.Contains(errOut, "keeps working until") {
		t.Errorf("stderr = %q, want one line saying rotation failed and when the token expires", errOut)
	}
	if strings.Contains(errOut, tok) {
		t.Error("stderr leaks the token")
	}
	if st := g.gl.Token(id); !st.Active {
		t.Errorf("old token %v, want still active", st)
	}
	// Backoff: the next get does not ask GitLab again.
	before := g.gl.Calls(gitlabtest.EndpointRotate)
	if out, errOut := g.get(); password(out) != tok || errOut != "" {
		t.Errorf("second get: %s, %q", fingerprintOf(password(out)), errOut)
	}
	if n := g.gl.Calls(gitlabtest.EndpointRotate) - before; n != 0 {
		t.Errorf("second get made %d rotate calls during the back-off, want 0", n)
	}
}

func TestLostRotateAnswerNeverReusesOldToken(t *testing.T) {
	g := newGitLabWorld(t, "")
	tok, id := g.gl.CreateToken(gitlabtest.TokenSpec{Scopes: []string{"api"}, ExpiresAt: gitlabtest.DateOf(today().AddDate(0, 0, 7))})
	g.login(tok)
	g.gl.DropAfterRotateCommit(true)
	out, errOut := g.get()
	if out != "" {
		t.Errorf("get printed %q after the rotate answer was lost (the old token is revoked)", out)
	}
	if !strings.Contains(errOut, "answer was lost") || !strings.Contains(errOut, "login http://"+g.host) {
		t.Errorf("stderr = %q, want it to say the answer was lost and how to recover", errOut)
	}
	g.gl.DropAfterRotateCommit(false)
	g.get()
	if n := g.gl.Calls(gitlabtest.EndpointRotate); n != 1 {
		t.Errorf("%d rotate calls, want 1 (never rotate again with the old token)", n)
	}
	st := g.gl.Token(id)
	if !st.Revoked || st.RotatedTo == 0 || !g.gl.Token(st.RotatedTo).Active {
		t.Errorf("token table %v: want the old revoked and its successor still active (no reuse detection)", g.gl.Tokens())
	}
}

func TestLoginRefusesBadToken(t *testing.T) {
	g := newGitLabWorld(t, "")
	out, errOut, err := g.run("glpat-notarealtokenatall00\n", binPath, "login", g.host, "--token-stdin")
	if err == nil || !strings.Contains(errOut, "does not accept this token") {
		t.Errorf("login of an unknown token: err %v, stdout %q, stderr %q", err, out, errOut)
	}
	if strings.Contains(errOut, "notarealtoken") {
		t.Error("stderr leaks the token")
	}
	if got, _ := g.get(); got != "" {
		t.Errorf("a refused token was stored: get = %q", got)
	}
}

func fingerprintOf(tok string) string {
	if len(tok) < 4 {
		return fmt.Sprintf("%q", tok)
	}
	return "…" + tok[len(tok)-4:]
}
