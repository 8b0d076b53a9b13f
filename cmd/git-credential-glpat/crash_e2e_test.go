package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/glpat-dev/git-credential-glpat/internal/gitlabtest"
)

// TestKillDuringRotation kills the helper (SIGKILL) at each point of a
// rotation, then runs get and status again: the user ends with a working
// token, or with a clear message; never with a silently dead token.
func TestKillDuringRotation(t *testing.T) {
	tests := []struct {
		name string
		// kill runs a get that dies at the point under test.
		kill func(t *testing.T, g *gitlabWorld)
		// wantWorking: the next get serves a token GitLab accepts.
		wantWorking bool
		wantStderr  string
		// unsent: the process died before the request went out, but
		// nothing on disk can tell; the next get serves the old token
		// (GitLab accepts it) and rotates only once GitLab can no longer
		// be acting on a request (5 minutes; internal/lifecycle's tests
		// move their clock past that).
		unsent bool
	}{
		{
			name:        "before the rotate request",
			kill:        func(t *testing.T, g *gitlabWorld) { g.getKilledAt(t, "before-rotate") },
			wantWorking: true,
			unsent:      true,
		},
		{
			name: "after GitLab committed, before its answer",
			kill: func(t *testing.T, g *gitlabWorld) {
				committed := make(chan struct{}, 1)
				g.gl.HoldAfterRotateCommit(committed)
				cmd := g.startGet(t)
				select {
				case <-committed:
				case <-time.After(20 * time.Second):
					t.Fatal("the rotation never reached GitLab")
				}
				cmd.Process.Signal(syscall.SIGKILL)
				cmd.Wait()
				g.gl.HoldAfterRotateCommit(nil)
			},
			wantWorking: false,
			wantStderr:  "answer was lost",
		},
		{
			name:        "after the answer, before the keychain write",
			kill:        func(t *testing.T, g *gitlabWorld) { g.getKilledAt(t, "after-answer") },
			wantWorking: true,
		},
		{
			name:        "after the keychain write",
			kill:        func(t *testing.T, g *gitlabWorld) { g.getKilledAt(t, "after-store") },
			wantWorking: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGitLabWorld(t, "")
			tok, id := g.gl.CreateToken(gitlabtest.TokenSpec{Scopes: []string{"api"}, ExpiresAt: gitlabtest.DateOf(today().AddDate(0, 0, 7))})
			g.login(tok)
			tt.kill(t, g)

			out, errOut := g.get()
			got := password(out)
			if tt.wantWorking {
				st, ok := g.gl.TokenByValue(got)
				if !ok || !st.Active {
					t.Fatalf("after the crash, get served %s (%v), stderr %q; want a working token", fingerprintOf(got), st, errOut)
				}
				if errOut != "" {
					t.Errorf("stderr = %q, want silence", errOut)
				}
			} else {
				if got != "" {
					t.Fatalf("get served %s, a token GitLab has revoked", fingerprintOf(got))
				}
				if !strings.Contains(errOut, tt.wantStderr) || !strings.Contains(errOut, "login http://"+g.host) {
					t.Errorf("stderr = %q, want it to contain %q and how to log in again", errOut, tt.wantStderr)
				}
			}
			// Never a second rotation with the old token (reuse detection
			// would revoke the family).
			want := 1
			if tt.unsent {
				want = 0
			}
			if n := g.gl.Calls(gitlabtest.EndpointRotate); n != want {
				t.Errorf("%d rotate calls, want exactly %d", n, want)
			}
			for _, st := range g.gl.Tokens() {
				if st.RotatedFrom == id && !st.Active {
					t.Errorf("the successor %v was revoked: reuse detection fired", st)
				}
			}
			// status agrees, and tidies what the crash left.
			sout, _, serr := g.run("", binPath, "status", "--offline")
			if tt.wantWorking && serr != nil {
				t.Errorf("status exit %v after recovery:\n%s", serr, sout)
			}
			if !tt.wantWorking && !strings.Contains(sout, "revoked") {
				t.Errorf("status does not show the lost token:\n%s", sout)
			}
			if tt.wantWorking {
				left, _ := filepath.Glob(filepath.Join(g.dir, "state", "recovery", "*"))
				if len(left) != 0 {
					t.Errorf("recovery files left after recovery: %v", left)
				}
			}
		})
	}
}

func (g *gitlabWorld) startGet(t *testing.T) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(binPath, "get")
	cmd.Env = g.env
	cmd.Stdin = strings.NewReader("protocol=http\nhost=" + g.host + "\n")
	cmd.Stdout, cmd.Stderr = new(bytes.Buffer), new(bytes.Buffer)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd
}

func (g *gitlabWorld) getKilledAt(t *testing.T, point string) {
	t.Helper()
	cmd := exec.Command(binPath, "get")
	cmd.Env = append(g.env[:len(g.env):len(g.env)], "GLPAT_TEST_KILL_AT="+point)
	cmd.Stdin = strings.NewReader("protocol=http\nhost=" + g.host + "\n")
	var out bytes.Buffer
	cmd.Stdout = &out
	err := cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("get with GLPAT_TEST_KILL_AT=%s: %v, want killed", point, err)
	}
	if out.Len() != 0 {
		t.Fatalf("killed get printed %q", out.String())
	}
	_ = os.Getpid
}

// TestLogoutRevokeAfterAKilledRotation: a rotation killed after GitLab's
// answer leaves the new token in a recovery file (as a keychain that
// refuses it does). logout --revoke then revokes it too: GitLab accepts no
// token of the account afterwards, and no token is left in the state dir.
func TestLogoutRevokeAfterAKilledRotation(t *testing.T) {
	g := newGitLabWorld(t, "")
	tok, _ := g.gl.CreateToken(gitlabtest.TokenSpec{Scopes: []string{"api"}, ExpiresAt: gitlabtest.DateOf(today().AddDate(0, 0, 7))})
	g.login(tok)
	g.getKilledAt(t, "after-answer")
	out, errOut, err := g.run("", binPath, "logout", g.host, "--revoke", "--yes")
	if err != nil {
		t.Fatalf("logout --revoke: %v\n%s%s", err, out, errOut)
	}
	for _, st := range g.gl.Tokens() {
		if st.Active {
			t.Errorf("after logout --revoke (%q), GitLab still accepts %v", out, st)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(g.dir, "state", "recovery", "*")); len(left) != 0 {
		t.Errorf("logout left %v", left)
	}
}

// TestLogoutRevokeDuringARotation: logout --revoke while a get's rotation
// waits for GitLab's answer. The rotation does not store its new token
// after the account was forgotten: afterwards GitLab accepts no token of
// the account and get serves nothing.
func TestLogoutRevokeDuringARotation(t *testing.T) {
	g := newGitLabWorld(t, "")
	tok, _ := g.gl.CreateToken(gitlabtest.TokenSpec{Scopes: []string{"api"}, ExpiresAt: gitlabtest.DateOf(today().AddDate(0, 0, 7))})
	g.login(tok)
	committed := make(chan struct{}, 1)
	g.gl.HoldAfterRotateCommit(committed)
	get := g.startGet(t)
	select {
	case <-committed:
	case <-time.After(20 * time.Second):
		t.Fatal("the rotation never reached GitLab")
	}
	logout := exec.Command(binPath, "logout", g.host, "--revoke", "--yes")
	logout.Env = g.env
	var lout bytes.Buffer
	logout.Stdout, logout.Stderr = &lout, &lout
	if err := logout.Start(); err != nil {
		t.Fatal(err)
	}
	// Let logout reach what it does while the answer is held back.
	time.Sleep(500 * time.Millisecond)
	g.gl.AnswerHeld()
	get.Wait()
	if err := logout.Wait(); err != nil {
		t.Fatalf("logout --revoke: %v\n%s", err, lout.String())
	}
	for _, st := range g.gl.Tokens() {
		if st.Active {
			t.Errorf("after logout --revoke (%q), GitLab still accepts %v", lout.String(), st)
		}
	}
	if out, _ := g.get(); password(out) != "" {
		t.Errorf("get after logout --revoke served %s", fingerprintOf(password(out)))
	}
}
