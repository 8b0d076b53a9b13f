package main

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/glpat-dev/git-credential-glpat/internal/gitlabtest"
)

// verdictOf is what status (--json and its exit code) and doctor (--json:
// the token's check) say of the one token of g, and whether doctor counts
// it as needing action.
type verdictOf struct {
	state, level, problem string
	statusExit            int
	doctorStatus          string
}

func (g *gitlabWorld) verdict(t *testing.T) verdictOf {
	t.Helper()
	out, errOut, err := g.run("", binPath, "status", "--json")
	var entries []map[string]any
	if jerr := json.Unmarshal([]byte(out), &entries); jerr != nil || len(entries) != 1 {
		t.Fatalf("status --json: %v\n%s\n%s", jerr, out, errOut)
	}
	e := entries[0]
	v := verdictOf{statusExit: exitCode(err)}
	v.state, _ = e["state"].(string)
	v.level, _ = e["level"].(string)
	v.problem, _ = e["problem"].(string)
	out, _, _ = g.run("", binPath, "doctor", "--json")
	var checks []map[string]any
	if err := json.Unmarshal([]byte(out), &checks); err != nil {
		t.Fatalf("doctor --json: %v\n%s", err, out)
	}
	for _, c := range checks {
		if c["name"] == "token http://"+g.host+" (alice)" {
			v.doctorStatus, _ = c["status"].(string)
		}
	}
	return v
}

// agrees reports whether status and doctor say the same of the token:
// status exits 1 exactly when doctor warns or fails of it, and the level
// is the doctor's status.
func (v verdictOf) agrees() bool {
	want := map[string]string{"ok": "ok", "warning": "warn", "action": "fail"}[v.level]
	doctor := v.doctorStatus
	if doctor == "info" {
		doctor = "ok"
	}
	return doctor == want && (v.statusExit == 1) == (v.level != "ok")
}

// TestStatusAndDoctorAgreeOnATokensState: status (its table's word, --json
// and exit code) and doctor say one thing of a token: whether a person must
// act is decided once.
func TestStatusAndDoctorAgreeOnATokensState(t *testing.T) {
	for _, tc := range []struct {
		name              string
		config            string
		scopes            []string
		days              int
		wantState, wantLv string
		wantTable         string // the STATE column of status's table
		wantSaid          string // in status's lines under the table
	}{
		// A token that cannot rotate itself is fine while it is not due:
		// once less than rotate_before is left, it needs a new token.
		{"cannot rotate itself, 77 days left", "", []string{"read_repository", "write_repository"}, 77, "ok", "ok", "ok", "cannot rotate itself"},
		{"cannot rotate itself, due", "", []string{"read_repository", "write_repository"}, 10, "cannot_rotate", "warning", "can't rotate", "cannot rotate itself"},
		// The next git command rotates a token that is due.
		{"due for rotation", "", []string{"read_repository", "write_repository", "self_rotate"}, 10, "rotation_due", "ok", "rotation due", "next git command"},
		{"due for rotation, auto_rotate off", "auto_rotate = false", []string{"read_repository", "write_repository", "self_rotate"}, 10, "rotation_due", "warning", "rotation due", "auto_rotate is off"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newGitLabWorld(t, tc.config)
			tok, _ := g.gl.CreateToken(gitlabtest.TokenSpec{Name: "laptop", Scopes: tc.scopes, ExpiresAt: gitlabtest.DateOf(today().AddDate(0, 0, tc.days))})
			g.login(tok)
			v := g.verdict(t)
			if v.state != tc.wantState || v.level != tc.wantLv || !v.agrees() {
				t.Errorf("status: %s (%s), exit %d; doctor: %s; want %s (%s), agreeing", v.state, v.level, v.statusExit, v.doctorStatus, tc.wantState, tc.wantLv)
			}
			out, _, _ := g.run("", binPath, "status")
			if !strings.Contains(out, "  "+tc.wantTable+"  ") || !strings.Contains(flat(out), tc.wantSaid) {
				t.Errorf("status's table does not say %q and %q:\n%s", tc.wantTable, tc.wantSaid, out)
			}
			needs := "nothing needs action"
			if tc.wantLv != "ok" {
				needs = "1 problem needs action"
			}
			if !strings.Contains(out, needs) {
				t.Errorf("status does not say %q:\n%s", needs, out)
			}
		})
	}
}

// TestWhatStatusLearnsEveryCommandKnows: once status has asked GitLab and
// GitLab said the token is revoked, get no longer hands it to git, rotate
// says it is dead, and all of them say it in the same words.
func TestWhatStatusLearnsEveryCommandKnows(t *testing.T) {
	g := newGitLabWorld(t, "")
	tok, id := g.gl.CreateToken(gitlabtest.TokenSpec{Name: "laptop", Scopes: []string{"read_repository", "write_repository", "self_rotate"}, ExpiresAt: gitlabtest.DateOf(today().AddDate(0, 0, 80))})
	g.login(tok)
	g.gl.Revoke(id)

	v := g.verdict(t)
	if v.state != "revoked" || v.level != "action" || !v.agrees() {
		t.Fatalf("status and doctor after GitLab revoked the token: %+v", v)
	}
	selfCalls := g.gl.Calls(gitlabtest.EndpointSelf)
	out, errOut := g.get()
	if out != "" || !strings.Contains(errOut, "http://"+g.host+" (alice): "+v.problem) {
		t.Errorf("get served %s, stderr %q; want nothing, and status's words %q", fingerprintOf(password(out)), errOut, v.problem)
	}
	rout, _, err := g.run("", binPath, "rotate", g.host)
	if exitCode(err) != 1 || !strings.Contains(rout, "dead: "+v.problem) {
		t.Errorf("rotate: exit %d, %q; want 1 and dead: %q", exitCode(err), rout, v.problem)
	}
	if n := g.gl.Calls(gitlabtest.EndpointSelf); n != selfCalls {
		t.Errorf("get and rotate of a token known dead asked GitLab %d times", n-selfCalls)
	}
}

// TestExpiredIsOneWord: a token GitLab calls expired (its clock past the
// expiry the index knows) is "expired" in status, doctor, get and rotate,
// whichever command learned it first.
func TestExpiredIsOneWord(t *testing.T) {
	for _, first := range []string{"status", "get"} {
		t.Run(first+" first", func(t *testing.T) {
			g, ahead := newGitLabWorldWithClock(t)
			tok, _ := g.gl.CreateToken(gitlabtest.TokenSpec{Name: "laptop", Scopes: []string{"read_repository", "write_repository", "self_rotate"}, ExpiresAt: gitlabtest.DateOf(today().AddDate(0, 0, 3))})
			g.login(tok)
			ahead.Store(int64(4 * 24 * time.Hour)) // GitLab's clock: past the expiry
			if first == "get" {
				// Due: get checks it with GitLab before rotating.
				if out, errOut := g.get(); out != "" || !strings.Contains(errOut, "expired") {
					t.Fatalf("get served %s, stderr %q; want nothing, and expired", fingerprintOf(password(out)), errOut)
				}
			}
			v := g.verdict(t)
			if v.state != "expired" || v.level != "action" || !v.agrees() {
				t.Errorf("status and doctor: %+v; want expired, agreeing", v)
			}
			if out, errOut := g.get(); out != "" || !strings.Contains(errOut, v.problem) || !strings.Contains(errOut, "expired") {
				t.Errorf("get served %s, stderr %q; want nothing and %q", fingerprintOf(password(out)), errOut, v.problem)
			}
			rout, _, _ := g.run("", binPath, "rotate", g.host)
			if !strings.Contains(rout, "dead: "+v.problem) {
				t.Errorf("rotate: %q, want dead: %q", rout, v.problem)
			}
		})
	}
}

// newGitLabWorldWithClock is newGitLabWorld whose GitLab's clock runs
// ahead of this machine's by what the returned value holds.
func newGitLabWorldWithClock(t *testing.T) (*gitlabWorld, *atomic.Int64) {
	t.Helper()
	w := newWorld(t)
	ahead := new(atomic.Int64)
	gl := gitlabtest.New(t, gitlabtest.WithClock(func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) }))
	u, _ := url.Parse(gl.URL)
	cfg := fmt.Sprintf("rotate_before = \"30d\"\nlifetime = \"90d\"\n[hosts.%q]\napi_url = %q\n", u.Host, gl.APIURL())
	if err := os.WriteFile(filepath.Join(w.dir, "config.toml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return &gitlabWorld{world: w, gl: gl, host: u.Host}, ahead
}

// TestLockedSecretsAreEveryRowsState: with the encrypted file locked, git
// gets nothing for any credential, and every row of status says so; the
// count of what needs action is the rows'.
func TestLockedSecretsAreEveryRowsState(t *testing.T) {
	w := backendWorld(t, "encrypted-file")
	if _, errOut, err := w.run("correct horse\n", binPath, "init", "--passphrase-stdin"); err != nil {
		t.Fatalf("init: %v %s", err, errOut)
	}
	w.run("protocol=https\nhost=one.example\nusername=u\npassword=p\n", binPath, "store")
	w.run("protocol=https\nhost=two.example\nusername=u\npassword=q\n", binPath, "store")
	w.run("", binPath, "lock")

	out, _, err := w.run("", binPath, "status", "--offline")
	if exitCode(err) != 1 || !strings.Contains(out, "2 credentials stored; 2 problems need action") {
		t.Errorf("status while locked: exit %d\n%s", exitCode(err), out)
	}
	for _, host := range []string{"one.example", "two.example"} {
		found := false
		for _, l := range strings.Split(out, "\n") {
			if f := strings.Fields(l); len(f) > 2 && f[0] == host && f[1] == "u" {
				found = true
				if !slices.Contains(f, "locked") || slices.Contains(f, "plain") || slices.Contains(f, "ok") {
					t.Errorf("row %q: want the state locked", l)
				}
			}
		}
		if !found {
			t.Errorf("no row for %s:\n%s", host, out)
		}
	}
	js, _, _ := w.run("", binPath, "status", "--offline", "--json")
	var entries []map[string]any
	if err := json.Unmarshal([]byte(js), &entries); err != nil || len(entries) != 2 {
		t.Fatalf("status --json: %v\n%s", err, js)
	}
	for _, e := range entries {
		if e["state"] != "locked" || e["level"] != "action" || !strings.Contains(fmt.Sprint(e["fix"]), "git-credential-glpat unlock") {
			t.Errorf("status --json while locked: %v", e)
		}
	}
}
