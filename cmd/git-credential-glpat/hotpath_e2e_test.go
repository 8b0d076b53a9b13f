package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/glpat-dev/git-credential-glpat/internal/gitlabtest"
)

// TestGetTouchesNoNetworkAndStartsNoProcess: with a managed token that is
// not due, get makes no connection (the API address counts them) and
// starts no process (strace counts execve).
func TestGetTouchesNoNetworkAndStartsNoProcess(t *testing.T) {
	g := newGitLabWorld(t, "")
	tok, _ := g.gl.CreateToken(gitlabtest.TokenSpec{Scopes: []string{"api"}, ExpiresAt: gitlabtest.DateOf(today().AddDate(0, 0, 200))})
	g.login(tok)

	// Point the host's API at a listener that only counts connections.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var conns atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			c.Close()
		}
	}()
	cfg := fmt.Sprintf("[hosts.%q]\napi_url = \"http://%s/api/v4\"\n", g.host, ln.Addr())
	os.WriteFile(filepath.Join(g.dir, "config.toml"), []byte(cfg), 0o600)

	strace, err := exec.LookPath("strace")
	if err != nil {
		t.Fatal("strace is needed to count the processes get starts")
	}
	trace := filepath.Join(g.dir, "trace")
	cmd := exec.Command(strace, "-f", "-qq", "-e", "trace=execve,connect", "-o", trace, binPath, "get")
	cmd.Env = g.env
	cmd.Stdin = strings.NewReader("protocol=http\nhost=" + g.host + "\n")
	out, err := cmd.Output()
	if err != nil || password(string(out)) != tok {
		t.Fatalf("get under strace: %v %q", err, out)
	}
	if n := conns.Load(); n != 0 {
		t.Errorf("get made %d connections to the API, want 0", n)
	}
	b, _ := os.ReadFile(trace)
	execs, inet := 0, 0
	for _, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, "execve(") {
			execs++
		}
		if strings.Contains(l, "connect(") && strings.Contains(l, "AF_INET") {
			inet++
		}
	}
	if execs != 1 { // the helper's own exec
		t.Errorf("get ran %d execve calls, want 1 (its own):\n%s", execs, b)
	}
	if inet != 0 {
		t.Errorf("get made %d TCP connections, want 0", inet)
	}
}
