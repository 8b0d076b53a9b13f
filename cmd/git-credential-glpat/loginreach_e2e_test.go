package main

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glpat-dev/git-credential-glpat/internal/gitlabtest"
)

// TestLoginSaysWhyTheAPIIsNotReached: login tells apart a name that does
// not resolve, a refused connection, TLS failures and a server that answers
// but not as GitLab's API: one error line and one hint each, whose examples
// keep the scheme of the URL tried (http for a plain-http host).
func TestLoginSaysWhyTheAPIIsNotReached(t *testing.T) {
	closedPort := func(t *testing.T) string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		return addr
	}
	tests := []struct {
		name string
		// args for login after --token-stdin; the world may be changed.
		args      func(t *testing.T, w *world) []string
		wantErr   []string
		wantHint  []string
		forbidden []string // in stderr
	}{
		{"name does not resolve",
			func(*testing.T, *world) []string { return []string{"gitlab.nothing.invalid"} },
			[]string{"cannot look up gitlab.nothing.invalid"}, []string{"host name"}, []string{"--api-url", "--ca-file"}},
		{"connection refused",
			func(t *testing.T, _ *world) []string { return []string{closedPort(t)} },
			[]string{"refused the connection on port"}, []string{"--api-url URL (like https://127.0.0.1:PORT/api/v4)"}, []string{"http://", "--ca-file"}},
		{"connection refused, plain http",
			func(t *testing.T, _ *world) []string {
				addr := closedPort(t)
				return []string{addr, "--api-url", "http://" + addr + "/api/v4"}
			},
			[]string{"refused the connection on port"}, []string{"--api-url URL (like http://127.0.0.1:PORT/api/v4)"}, []string{"https://"}},
		{"certificate of an unknown authority",
			func(t *testing.T, _ *world) []string {
				u, _ := url.Parse(gitlabtest.NewTLS(t).URL)
				return []string{u.Host}
			},
			[]string{"TLS with 127.0.0.1:", "signed by an authority not trusted here"}, []string{"--ca-file FILE", "ca_file"}, []string{"--api-url"}},
		{"certificate for another name",
			func(t *testing.T, w *world) []string {
				gl := gitlabtest.NewTLS(t)
				ca := filepath.Join(w.dir, "ca.pem")
				gl.WriteCA(ca)
				u, _ := url.Parse(gl.URL)
				return []string{"localhost:" + u.Port(), "--ca-file", ca}
			},
			[]string{"TLS with localhost:", "certificate is for", "not localhost"}, []string{"host name"}, []string{"--ca-file FILE"}},
		{"plain http server",
			func(t *testing.T, _ *world) []string {
				u, _ := url.Parse(gitlabtest.New(t).URL)
				return []string{u.Host}
			},
			[]string{"answers plain http on port", "not https"}, []string{"--api-url http://127.0.0.1:"}, []string{"https://", "--ca-file"}},
		{"not GitLab's API, plain http",
			func(t *testing.T, _ *world) []string {
				srv := httptest.NewServer(http.NotFoundHandler())
				t.Cleanup(srv.Close)
				u, _ := url.Parse(srv.URL)
				return []string{u.Host, "--api-url", srv.URL + "/api/v4"}
			},
			[]string{"answers, but not as GitLab's API at http://"}, []string{"--api-url URL (like http://127.0.0.1:", "/gitlab/api/v4)"}, []string{"https://"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			args := append([]string{"login", "--token-stdin"}, tt.args(t, w)...)
			_, errOut, err := w.run("glpat-"+strings.Repeat("x", 20)+"\n", binPath, args...)
			lines := strings.Split(strings.TrimSpace(errOut), "\n")
			if exitCode(err) != 1 || len(lines) != 2 || !strings.HasPrefix(lines[0], "git-credential-glpat: error: ") || !strings.HasPrefix(lines[1], "git-credential-glpat: hint: ") {
				t.Fatalf("login: exit %d, stderr (want an error and a hint):\n%s", exitCode(err), errOut)
			}
			for _, s := range tt.wantErr {
				if !strings.Contains(lines[0], s) {
					t.Errorf("error line lacks %q:\n%s", s, lines[0])
				}
			}
			for _, s := range tt.wantHint {
				if !strings.Contains(lines[1], s) {
					t.Errorf("hint lacks %q:\n%s", s, lines[1])
				}
			}
			for _, s := range tt.forbidden {
				if strings.Contains(errOut, s) {
					t.Errorf("stderr has %q:\n%s", s, errOut)
				}
			}
		})
	}
}

// TestLoginCAFile: an API whose certificate an organisation's own CA signs:
// at a terminal login says so before asking for a token; --ca-file FILE
// trusts it, and login writes it as the host's ca_file (an absolute path),
// where the rotations of get look.
func TestLoginCAFile(t *testing.T) {
	w := newWorld(t)
	gl := gitlabtest.NewTLS(t)
	u, _ := url.Parse(gl.URL)
	s := w.interactive(t, "login", u.Host)
	if code, out := s.wait(); code != 1 || strings.Contains(out, "input is hidden") || !strings.Contains(out, "not trusted here") || !strings.Contains(out, "--ca-file FILE") {
		t.Errorf("login at a terminal, certificate of an unknown authority: exit %d\n%s", code, out)
	}
	os.Mkdir(filepath.Join(w.dir, "certs"), 0o700)
	gl.WriteCA(filepath.Join(w.dir, "certs", "ca.pem"))
	tok, id := gl.CreateToken(gitlabtest.TokenSpec{Scopes: []string{"api"}, ExpiresAt: gitlabtest.DateOf(today().AddDate(0, 0, 10))})
	// A relative path, as typed in w.dir.
	out, errOut, err := w.run(tok+"\n", binPath, "login", u.Host, "--token-stdin", "--username", "alice", "--ca-file", filepath.Join("certs", "ca.pem"))
	if err != nil || !strings.Contains(out, "ca_file") {
		t.Fatalf("login --ca-file: %v\n%s\n%s", err, out, errOut)
	}
	cfg, _ := os.ReadFile(filepath.Join(w.dir, "config.toml"))
	if want := fmt.Sprintf("[hosts.%q]\nca_file = %q\n", u.Host, filepath.Join(w.dir, "certs", "ca.pem")); string(cfg) != want {
		t.Errorf("config:\n%s\nwant:\n%s", cfg, want)
	}
	// Due (10 days left, rotate_before 30d): get rotates, trusting ca_file.
	out, errOut, _ = w.run("protocol=https\nhost="+u.Host+"\n", binPath, "get")
	if st, ok := gl.TokenByValue(password(out)); !ok || st.RotatedFrom != id {
		t.Errorf("get served %s (stderr %q), want the successor of token %d", fingerprintOf(password(out)), errOut, id)
	}
}
