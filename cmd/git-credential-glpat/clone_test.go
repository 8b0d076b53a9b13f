package main

import (
	"net"
	"net/http"
	"net/http/cgi"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// gitServer is a smart-HTTP Git server (the real `git http-backend` behind
// net/http/cgi) on 127.0.0.1 that demands Basic auth.
type gitServer struct {
	url      string
	failures atomic.Int32
}

func startGitServer(t *testing.T, root, user, password string) *gitServer {
	t.Helper()
	gitPath, err := exec.LookPath("git")
	if err != nil {
		t.Fatal(err)
	}
	backend := &cgi.Handler{
		Path: gitPath,
		Args: []string{"http-backend"},
		Env:  []string{"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1", "GIT_CONFIG_NOSYSTEM=1", "HOME=" + root},
	}
	gs := &gitServer{}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if !ok || u != user || p != password {
			if ok {
				gs.failures.Add(1)
			}
			w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		// http-backend refuses pushes from unauthenticated users; tell
		// it who this is, as a web server would.
		r.Header.Del("Authorization")
		h := *backend
		h.Env = append(backend.Env[:len(backend.Env):len(backend.Env)], "REMOTE_USER="+u)
		h.ServeHTTP(w, r)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: handler}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	gs.url = "http://" + ln.Addr().String()
	return gs
}

// TestCloneAndPushOverHTTP: the password typed once at Git's prompt is
// stored by the helper, and later clones and pushes need no prompt.
func TestCloneAndPushOverHTTP(t *testing.T) {
	w := newWorld(t)
	root := filepath.Join(w.dir, "repos")
	os.MkdirAll(root, 0o700)
	git := func(dir string, args ...string) string {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Env = w.env
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	git(root, "init", "-q", "--bare", "-b", "main", "app.git")
	git(filepath.Join(root, "app.git"), "config", "http.receivepack", "true")

	// GIT_ASKPASS answers "askpass-username" / "askpass-password".
	srv := startGitServer(t, root, "askpass-username", "askpass-password")
	git(w.dir, "config", "--global", "credential.helper", binPath)
	git(w.dir, "config", "--global", "user.name", "Test")
	git(w.dir, "config", "--global", "user.email", "test@example.com")

	git(w.dir, "clone", "-q", srv.url+"/app.git", "one")
	if p := w.prompts(); strings.Count(p, "askpass:") != 2 {
		t.Fatalf("first clone prompts = %q, want username and password once", p)
	}
	one := filepath.Join(w.dir, "one")
	os.WriteFile(filepath.Join(one, "README"), []byte("hello\n"), 0o600)
	git(one, "add", "README")
	git(one, "commit", "-q", "-m", "first")
	git(one, "push", "-q", "origin", "HEAD:main")
	git(w.dir, "clone", "-q", srv.url+"/app.git", "two")
	if p := w.prompts(); p != "" {
		t.Errorf("push and second clone prompted %q, want no prompt (the helper stores the password)", p)
	}
	if b, err := os.ReadFile(filepath.Join(w.dir, "two", "README")); err != nil || string(b) != "hello\n" {
		t.Errorf("second clone lacks the pushed file: %q, %v", b, err)
	}
	if n := srv.failures.Load(); n != 0 {
		t.Errorf("%d failed logins, want 0", n)
	}
}
