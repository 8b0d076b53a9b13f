package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/glpat-dev/git-credential-glpat/internal/gitlabtest"
	"github.com/glpat-dev/git-credential-glpat/internal/store"
)

// fetches is how many git fetches start at once: an IDE fetching a parent
// repository and its submodules on one host in the background.
const fetches = 20

// loginExpiring logs alice in by the device flow with an access token that
// lives one second, and waits until it has expired: the moment an IDE's
// background fetches meet. Access tokens issued after that live GitLab's
// two hours.
func (o *oauthWorld) loginExpiring(t *testing.T) {
	t.Helper()
	o.gl.SetOAuthTokenLifetime(time.Second)
	if out, errOut, code := o.loginDevice(t, true); code != 0 {
		t.Fatalf("login --oauth: exit %d\n%s%s", code, out, errOut)
	}
	o.gl.SetOAuthTokenLifetime(0)
	for _, st := range o.gl.OAuthTokens() {
		time.Sleep(time.Until(st.Expiry) + 10*time.Millisecond)
	}
}

// repositories makes n projects on the fake and a local repository with
// each as its origin.
func (o *oauthWorld) repositories(t *testing.T, n int) []string {
	t.Helper()
	var dirs []string
	for i := range n {
		repo := o.gl.CreateRepo(fmt.Sprintf("group/r%d", i))
		dir := filepath.Join(o.dir, "r"+fmt.Sprint(i))
		for _, args := range [][]string{{"init", "-q", dir}, {"-C", dir, "remote", "add", "origin", repo.URL}} {
			cmd := exec.Command("git", args...)
			cmd.Env = o.env
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("git %v: %v\n%s", args, err, out)
			}
		}
		dirs = append(dirs, dir)
	}
	return dirs
}

type fetchResult struct {
	err    error
	stderr string
}

// fetchAll starts a git fetch in each of dirs at once, with this helper as
// git's only one, and calls during (if not nil) while they run.
func (o *oauthWorld) fetchAll(dirs []string, env []string, during func()) []fetchResult {
	res := make([]fetchResult, len(dirs))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, dir := range dirs {
		wg.Go(func() {
			<-start
			cmd := exec.Command("git", "-c", "credential.helper=", "-c", "credential.helper="+binPath, "-C", dir, "fetch", "-q", "origin")
			cmd.Env = env
			var errb strings.Builder
			cmd.Stderr = &errb
			res[i] = fetchResult{err: cmd.Run()}
			res[i].stderr = errb.String()
		})
	}
	close(start)
	if during != nil {
		during()
	}
	wg.Wait()
	return res
}

// lockHolder is the process that holds the OAuth refresh lock of the
// account, from /proc/locks.
func (o *oauthWorld) lockHolder(t *testing.T) int {
	t.Helper()
	account := store.AccountName("http", o.host, "", "oauth2")
	fi, err := os.Stat(filepath.Join(o.dir, "state", "oauth", store.EscapeName(account)+".lock"))
	if err != nil {
		t.Fatalf("the refresh lock: %v", err)
	}
	ino := fi.Sys().(*syscall.Stat_t).Ino
	b, err := os.ReadFile("/proc/locks")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		// 1: FLOCK  ADVISORY  WRITE 4242 08:01:1234567 0 EOF
		f := strings.Fields(l)
		if len(f) >= 6 && f[1] == "FLOCK" && strings.HasSuffix(f[5], fmt.Sprintf(":%d", ino)) {
			var pid int
			fmt.Sscan(f[4], &pid)
			return pid
		}
	}
	t.Fatalf("nobody holds the refresh lock:\n%s", b)
	return 0
}

// TestConcurrentFetchesRefreshOnce: twenty fetches just after the access
// token expired: one refresh reaches GitLab, every fetch succeeds, nothing
// prompts or opens a browser.
func TestConcurrentFetchesRefreshOnce(t *testing.T) {
	o := newOAuthWorld(t)
	o.loginExpiring(t)
	dirs := o.repositories(t, fetches)
	for i, r := range o.fetchAll(dirs, o.env, nil) {
		if r.err != nil || r.stderr != "" {
			t.Errorf("fetch %d: %v\n%s", i, r.err, r.stderr)
		}
	}
	if n := o.gl.Calls(gitlabtest.EndpointOAuthRefresh); n != 1 {
		t.Errorf("%d refresh requests, want exactly 1", n)
	}
	if n := o.gl.Calls(gitlabtest.EndpointGitAuthFail); n != 0 {
		t.Errorf("%d failed Git logins, want 0", n)
	}
	if p := o.prompts(); p != "" {
		t.Errorf("git prompted: %q", p)
	}
	if _, err := os.Stat(o.opened); err == nil {
		t.Error("a browser was opened")
	}
	live := 0
	for _, st := range o.gl.OAuthTokens() {
		if !st.Revoked && !st.Expired {
			live++
		}
	}
	if live != 1 {
		t.Errorf("%d live OAuth tokens at GitLab, want the one new pair: %+v", live, o.gl.OAuthTokens())
	}
}

// TestConcurrentFetchesWhenTheRefreshIsLost: the refresh's answer is lost
// after GitLab made the new pair, once by a kill -9 of the helper sending
// it and once by the network. The old refresh token is spent and the new
// pair unknown: no fetch opens a browser or prompts, each says in one line
// to log in again, no refresh token got two pairs, and status says so too.
// (The fetches run as a background IDE's do, unable to prompt: with an
// askpass, git would ask it after the helper's one line, as it does for
// any host with no credential.)
func TestConcurrentFetchesWhenTheRefreshIsLost(t *testing.T) {
	for _, tt := range []string{"kill -9 after GitLab committed", "answer lost"} {
		t.Run(tt, func(t *testing.T) {
			o := newOAuthWorld(t)
			o.loginExpiring(t)
			dirs := o.repositories(t, fetches)
			env := append(o.env[:len(o.env):len(o.env)], "GIT_ASKPASS=", "SSH_ASKPASS=")
			var during func()
			killed := 0
			if strings.HasPrefix(tt, "kill") {
				committed := make(chan struct{}, 1)
				o.gl.HoldAfterRefreshCommit(committed)
				during = func() {
					select {
					case <-committed:
					case <-time.After(30 * time.Second):
						t.Error("no refresh reached GitLab")
						return
					}
					killed = o.lockHolder(t)
					syscall.Kill(killed, syscall.SIGKILL)
					o.gl.HoldAfterRefreshCommit(nil)
				}
			} else {
				o.gl.DropAfterRefreshCommit(true)
			}
			results := o.fetchAll(dirs, env, during)
			login := "login http://" + o.host + " --username oauth2 --oauth"
			saying := 0
			for i, r := range results {
				if r.err == nil {
					t.Errorf("fetch %d succeeded with a lost pair", i)
				}
				if n := strings.Count(r.stderr, "git-credential-glpat: "); n > 1 {
					t.Errorf("fetch %d: %d lines of ours:\n%s", i, n, r.stderr)
				}
				if strings.Contains(r.stderr, login) {
					saying++
				}
			}
			// The fetch whose helper was killed heard nothing from it.
			if want := fetches - min(killed, 1); saying != want {
				t.Errorf("%d fetches say to log in again, want %d; e.g.:\n%s", saying, want, results[0].stderr)
			}
			for _, st := range o.gl.OAuthTokens() {
				if st.Redeemed > 1 {
					t.Errorf("OAuth token %d was refreshed %d times", st.ID, st.Redeemed)
				}
			}
			if _, err := os.Stat(o.opened); err == nil {
				t.Error("a browser was opened")
			}
			o.gl.DropAfterRefreshCommit(false)
			sout, _, err := o.run("", binPath, "status", "--offline")
			if err == nil || !strings.Contains(sout, "revoked") || !strings.Contains(sout, login) {
				t.Errorf("status (exit %v) does not say the login ended:\n%s", err, sout)
			}
		})
	}
}

// TestLogoutRevokeDuringARefresh: logout --revoke while a get's refresh
// waits for GitLab's answer. The refresh does not store its new pair after
// the login was forgotten: afterwards GitLab accepts no access token of it
// and get serves nothing.
func TestLogoutRevokeDuringARefresh(t *testing.T) {
	o := newOAuthWorld(t)
	o.loginExpiring(t)
	committed := make(chan struct{}, 1)
	o.gl.HoldAfterRefreshCommit(committed)
	get := o.startGet(t)
	select {
	case <-committed:
	case <-time.After(20 * time.Second):
		t.Fatal("the refresh never reached GitLab")
	}
	logout := exec.Command(binPath, "logout", o.host, "--revoke", "--yes")
	logout.Env = o.env
	var lout strings.Builder
	logout.Stdout, logout.Stderr = &lout, &lout
	if err := logout.Start(); err != nil {
		t.Fatal(err)
	}
	// Let logout reach what it does while the answer is held back.
	time.Sleep(500 * time.Millisecond)
	o.gl.AnswerHeld()
	get.Wait()
	if err := logout.Wait(); err != nil {
		t.Fatalf("logout --revoke: %v\n%s", err, lout.String())
	}
	for _, st := range o.gl.OAuthTokens() {
		if !st.Revoked && !st.Expired {
			t.Errorf("after logout --revoke (%q), GitLab still accepts access token %d", lout.String(), st.ID)
		}
	}
	if out, _ := o.get(); password(out) != "" {
		t.Errorf("get after logout --revoke served an access token")
	}
}
