package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/glpat-dev/git-credential-glpat/internal/gitlabtest"
)

// slowWorld is a world with two GitLab hosts, a.NAME.example and
// b.NAME.example (hostA and hostB), each a fake GitLab of its own, named in
// the config so that rotate --all meets them in this order.
type slowWorld struct {
	*world
	a, b         *gitlabtest.Server
	hostA, hostB string
}

func newSlowWorld(t *testing.T, name string) *slowWorld {
	t.Helper()
	w := newWorld(t)
	s := &slowWorld{world: w, a: gitlabtest.New(t), b: gitlabtest.New(t), hostA: "a." + name + ".example", hostB: "b." + name + ".example"}
	cfg := fmt.Sprintf("[hosts.%q]\napi_url = %q\n[hosts.%q]\napi_url = %q\n", s.hostA, s.a.APIURL(), s.hostB, s.b.APIURL())
	if err := os.WriteFile(filepath.Join(w.dir, "config.toml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return s
}

// loginAs stores a token of gl's user for host through login --token-stdin.
func (s *slowWorld) loginAs(gl *gitlabtest.Server, host, gitlabUser, username string, days int) {
	s.t.Helper()
	tok, _ := gl.CreateToken(gitlabtest.TokenSpec{Username: gitlabUser, Scopes: []string{"api"}, ExpiresAt: gitlabtest.DateOf(today().AddDate(0, 0, days))})
	if out, errOut, err := s.run(tok+"\n", binPath, "login", host, "--token-stdin", "--username", username); err != nil {
		s.t.Fatalf("login %s as %s: %v\n%s%s", host, username, err, out, errOut)
	}
}

// start runs the binary in the background.
func (s *slowWorld) start(stdin string, args ...string) *bgRun {
	s.t.Helper()
	r := &bgRun{args: args, done: make(chan struct{})}
	cmd := exec.Command(binPath, args...)
	cmd.Env = s.env
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Stdout, cmd.Stderr = &r.out, &r.errOut
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	go func() {
		r.err = cmd.Wait()
		close(r.done)
	}()
	return r
}

// bgRun is a helper process running in the background.
type bgRun struct {
	args        []string
	out, errOut bytes.Buffer
	err         error
	done        chan struct{}
}

func (r *bgRun) exited() bool {
	select {
	case <-r.done:
		return true
	default:
		return false
	}
}

// wait waits for the process; a minute is far more than any run here takes.
func (r *bgRun) wait(t *testing.T) {
	t.Helper()
	select {
	case <-r.done:
	case <-time.After(time.Minute):
		t.Fatalf("%v did not finish", r.args)
	}
}

// until polls cond, which another process makes true, for up to a minute.
func until(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("waited a minute for %s", what)
		}
	}
}

// wantOneRotationPerGeneration checks gl's token table: every rotate
// request GitLab got rotated a live token (none was the reuse of a revoked
// token, which revokes the family), and each family ends in one active
// token, its newest.
func wantOneRotationPerGeneration(t *testing.T, name string, gl *gitlabtest.Server) {
	t.Helper()
	rotated := 0
	active := map[int]int{}
	for _, st := range gl.Tokens() {
		if st.RotatedTo != 0 {
			rotated++
		}
		if st.Active {
			active[st.Family]++
			if st.RotatedTo != 0 {
				t.Errorf("%s: %v is active though it was rotated", name, st)
			}
		}
		if st.Revoked && st.RotatedTo == 0 {
			t.Errorf("%s: %v, the newest of its family, is revoked: GitLab revoked the family (a rotate request reused a revoked token)", name, st)
		}
	}
	if n := gl.Calls(gitlabtest.EndpointRotate); n != rotated {
		t.Errorf("%s: GitLab got %d rotate requests for %d rotations: %d reused a rotated token", name, n, rotated, n-rotated)
	}
	for fam, n := range active {
		if n != 1 {
			t.Errorf("%s: family %d has %d active tokens, want 1", name, fam, n)
		}
	}
}

// wantServesLive checks that get for host (and username) serves an active
// token of gl.
func (s *slowWorld) wantServesLive(gl *gitlabtest.Server, host, username string) {
	s.t.Helper()
	out, errOut, err := s.run("protocol=http\nhost="+host+"\nusername="+username+"\n", binPath, "get")
	tok := password(out)
	st, ok := gl.TokenByValue(tok)
	if err != nil || !ok || !st.Active {
		s.t.Errorf("get for %s@%s served %s (%v; %v), stderr %q; want an active token", username, host, fingerprintOf(tok), st, err, errOut)
	}
}

// TestOverlappingForcedRotationsRotateEachGenerationOnce: GitLab's .../self
// answers slowly (as a loaded GitLab does). rotate --force B starts;
// rotate --all --force lists the index while it runs and reaches B only
// after the first has stored B's successor; a second rotate --force B
// starts while the --all is at B. Each
// token generation is rotated at most once: GitLab never sees the same token
// at its rotate endpoint twice (which would revoke the whole family), and get
// serves the live token.
func TestOverlappingForcedRotationsRotateEachGenerationOnce(t *testing.T) {
	s := newSlowWorld(t, "overlap")
	s.loginAs(s.a, s.hostA, "alice", "alice", 60)
	s.loginAs(s.b, s.hostB, "alice", "alice", 60)
	// A answers slower, so that rotate --all reaches B after the first
	// rotation of B is stored.
	s.a.SlowSelfAnswer(1500*time.Millisecond, 1500*time.Millisecond)
	s.b.SlowSelfAnswer(700*time.Millisecond, 700*time.Millisecond)
	selfA, selfB := s.a.Calls(gitlabtest.EndpointSelf), s.b.Calls(gitlabtest.EndpointSelf)

	first := s.start("", "rotate", "--force", s.hostB)
	until(t, "the first rotate to check B's token", func() bool { return s.b.Calls(gitlabtest.EndpointSelf) > selfB })
	all := s.start("", "rotate", "--all", "--force")
	until(t, "rotate --all to reach a.example", func() bool { return s.a.Calls(gitlabtest.EndpointSelf) > selfA || all.exited() })
	first.wait(t)
	// rotate --all now goes on to B with the index it listed before B was
	// rotated.
	until(t, "rotate --all to check B's token, or to finish", func() bool {
		return s.b.Calls(gitlabtest.EndpointSelf) > selfB+1 || all.exited()
	})
	second := s.start("", "rotate", "--force", s.hostB)
	all.wait(t)
	second.wait(t)

	for _, r := range []*bgRun{first, all, second} {
		if r.err != nil {
			t.Errorf("%v: %v\nstdout:\n%s\nstderr:\n%s", r.args, r.err, r.out.String(), r.errOut.String())
		}
	}
	wantOneRotationPerGeneration(t, s.hostA, s.a)
	wantOneRotationPerGeneration(t, s.hostB, s.b)
	s.wantServesLive(s.a, s.hostA, "alice")
	s.wantServesLive(s.b, s.hostB, "alice")
}

// TestStormOfGetsAndRotations: 50 processes at once, a mix of get (two
// hosts, two accounts on one of them, every token due), rotate --force HOST
// and rotate --all --force, against GitLabs whose .../self answers take
// 200 to 800 ms. Each token generation is rotated at most once, no family is
// revoked, every process succeeds, and get then serves live tokens.
func TestStormOfGetsAndRotations(t *testing.T) {
	s := newSlowWorld(t, "storm")
	s.loginAs(s.a, s.hostA, "alice", "alice", 10)
	s.loginAs(s.b, s.hostB, "alice", "alice", 10)
	s.loginAs(s.b, s.hostB, "bob", "bob", 10)
	s.a.SlowSelfAnswer(200*time.Millisecond, 800*time.Millisecond)
	s.b.SlowSelfAnswer(200*time.Millisecond, 800*time.Millisecond)

	kinds := []struct {
		stdin string
		args  []string
	}{
		{"protocol=http\nhost=" + s.hostA + "\nusername=alice\n", []string{"get"}},
		{"protocol=http\nhost=" + s.hostB + "\nusername=alice\n", []string{"get"}},
		{"protocol=http\nhost=" + s.hostB + "\nusername=bob\n", []string{"get"}},
		{"", []string{"rotate", "--force", s.hostB}},
		{"", []string{"rotate", "--all", "--force"}},
	}
	var runs []*bgRun
	for i := range 50 {
		k := kinds[i%len(kinds)]
		runs = append(runs, s.start(k.stdin, k.args...))
		// Spread over two seconds, so that later processes meet
		// rotations in every phase.
		time.Sleep(40 * time.Millisecond)
	}
	for _, r := range runs {
		r.wait(t)
		if r.err != nil || (r.args[0] == "get" && password(r.out.String()) == "") {
			t.Errorf("%v: %v\nstdout:\n%s\nstderr:\n%s", r.args, r.err, r.out.String(), r.errOut.String())
		}
	}
	wantOneRotationPerGeneration(t, s.hostA, s.a)
	wantOneRotationPerGeneration(t, s.hostB, s.b)
	s.wantServesLive(s.a, s.hostA, "alice")
	s.wantServesLive(s.b, s.hostB, "alice")
	s.wantServesLive(s.b, s.hostB, "bob")
}

// TestOneGitLabUnderTwoHostNamesRotatesATokenOnce: one GitLab reached under
// two host names (an alias, a search domain's short name), the config naming
// both with the same api_url, and one token stored for both. Gets for the
// two names at once, the token due and GitLab's .../self slow: the token is
// rotated once, no family is revoked, and the name whose get rotated it
// serves the new token (the other name's copy is the revoked old token, as
// a copy stored under another username is).
func TestOneGitLabUnderTwoHostNamesRotatesATokenOnce(t *testing.T) {
	w := newWorld(t)
	gl := gitlabtest.New(t)
	s := &slowWorld{world: w, a: gl, b: gl, hostA: "gitlab.alias.example", hostB: "gitlab"}
	cfg := fmt.Sprintf("[hosts.%q]\napi_url = %q\n[hosts.%q]\napi_url = %q\n", s.hostA, gl.APIURL(), s.hostB, gl.APIURL())
	if err := os.WriteFile(filepath.Join(w.dir, "config.toml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	tok, _ := gl.CreateToken(gitlabtest.TokenSpec{Username: "alice", Scopes: []string{"api"}, ExpiresAt: gitlabtest.DateOf(today().AddDate(0, 0, 10))})
	for _, h := range []string{s.hostA, s.hostB} {
		if out, errOut, err := s.run(tok+"\n", binPath, "login", h, "--token-stdin", "--username", "alice"); err != nil {
			t.Fatalf("login %s: %v\n%s%s", h, err, out, errOut)
		}
	}
	gl.SlowSelfAnswer(700*time.Millisecond, 700*time.Millisecond)

	a := s.start("protocol=http\nhost="+s.hostA+"\nusername=alice\n", "get")
	b := s.start("protocol=http\nhost="+s.hostB+"\nusername=alice\n", "get")
	a.wait(t)
	b.wait(t)
	wantOneRotationPerGeneration(t, "one GitLab", gl)
	if gl.Calls(gitlabtest.EndpointRotate) != 1 {
		t.Errorf("GitLab got %d rotate requests, want 1", gl.Calls(gitlabtest.EndpointRotate))
	}
	live := 0
	for _, h := range []string{s.hostA, s.hostB} {
		out, _, _ := s.run("protocol=http\nhost="+h+"\nusername=alice\n", binPath, "get")
		if st, ok := gl.TokenByValue(password(out)); ok && st.Active {
			live++
		}
	}
	if live != 1 {
		t.Errorf("%d of the two host names serve a live token, want 1", live)
	}
}
