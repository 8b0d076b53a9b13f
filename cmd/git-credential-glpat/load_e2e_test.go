package main

import (
	"context"
	"encoding/json"
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

// TestConcurrentLoad: 100 concurrent gets across 10 GitLab hosts, rotation
// due on half of them, twice over: exactly one rotation per due host, none
// elsewhere, every process answers in time, and the index loses nothing.
func TestConcurrentLoad(t *testing.T) {
	w := newWorld(t)
	const hosts = 10
	type host struct {
		gl   *gitlabtest.Server
		name string
		due  bool
		tok  string
	}
	var hs []host
	var cfg strings.Builder
	for i := 0; i < hosts; i++ {
		gl := gitlabtest.New(t)
		u, _ := url.Parse(gl.URL)
		h := host{gl: gl, name: u.Host, due: i%2 == 0}
		days := 200
		if h.due {
			days = 5
		}
		h.tok, _ = gl.CreateToken(gitlabtest.TokenSpec{Scopes: []string{"api"}, ExpiresAt: gitlabtest.DateOf(today().AddDate(0, 0, days))})
		fmt.Fprintf(&cfg, "[hosts.%q]\napi_url = %q\n", h.name, gl.APIURL())
		hs = append(hs, h)
	}
	os.WriteFile(filepath.Join(w.dir, "config.toml"), []byte(cfg.String()), 0o600)
	for _, h := range hs {
		if out, errOut, err := w.run(h.tok+"\n", binPath, "login", h.name, "--token-stdin", "--username", "u"); err != nil {
			t.Fatalf("login %s: %v %s %s", h.name, err, out, errOut)
		}
	}

	for round := 0; round < 2; round++ {
		got := make([]string, 100)
		var wg sync.WaitGroup
		for i := 0; i < 100; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
				defer cancel()
				cmd := exec.CommandContext(ctx, binPath, "get")
				cmd.Env = w.env
				cmd.Stdin = strings.NewReader("protocol=http\nhost=" + hs[i%hosts].name + "\n")
				out, err := cmd.Output()
				if ctx.Err() != nil {
					t.Errorf("get %d did not finish within its deadline", i)
				} else if err != nil {
					t.Errorf("get %d: %v", i, err)
				}
				got[i] = password(string(out))
			}()
		}
		wg.Wait()
		for i, h := range hs {
			rotations := h.gl.Calls(gitlabtest.EndpointRotate)
			if (h.due && rotations != 1) || (!h.due && rotations != 0) {
				t.Errorf("round %d, host %d (due %v): %d rotations", round, i, h.due, rotations)
			}
			for j := i; j < 100; j += hosts {
				st, ok := h.gl.TokenByValue(got[j])
				if !ok || !st.Active {
					t.Errorf("round %d: get %d for host %d served %s, not an active token", round, j, i, fingerprintOf(got[j]))
				}
				if got[j] != got[i] {
					t.Errorf("round %d: host %d served two different tokens", round, i)
				}
			}
		}
	}
	out, _, _ := w.run("", binPath, "status", "--offline", "--json")
	var entries []map[string]any
	if err := json.Unmarshal([]byte(out), &entries); err != nil || len(entries) != hosts {
		t.Fatalf("status lists %d credentials (%v), want %d:\n%s", len(entries), err, hosts, out)
	}
	for _, e := range entries {
		if e["managed"] != true || e["state"] != "ok" {
			t.Errorf("after the load: %v", e)
		}
	}
	// Every file the helper wrote is 0600, every directory 0700, and no
	// temporary file is left behind.
	filepath.Walk(filepath.Join(w.dir, "state"), func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return nil
		}
		want := os.FileMode(0o600)
		if fi.IsDir() {
			want = 0o700
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v", p, fi.Mode().Perm(), want)
		}
		if strings.Contains(fi.Name(), ".tmp") {
			t.Errorf("temporary file left: %s", p)
		}
		return nil
	})
}
