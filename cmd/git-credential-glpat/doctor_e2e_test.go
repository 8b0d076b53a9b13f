package main

import (
	"context"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glpat-dev/git-credential-glpat/internal/gitlabtest"
	"github.com/glpat-dev/git-credential-glpat/internal/keychain"
)

// TestConfigTypoReportedOncePerCommand: a typo in the config is said once
// by each command, and doctor does not say "config: config:".
func TestConfigTypoReportedOncePerCommand(t *testing.T) {
	g := newGitLabWorld(t, "")
	tok, _ := g.gl.CreateToken(gitlabtest.TokenSpec{Scopes: []string{"api"}, ExpiresAt: gitlabtest.DateOf(today().AddDate(0, 0, 10))})
	g.login(tok)
	cfg := filepath.Join(g.dir, "config.toml")
	b, _ := os.ReadFile(cfg)
	os.WriteFile(cfg, append([]byte("rotate_befor = \"10d\"\n"), b...), 0o600)
	for _, args := range [][]string{{"get"}, {"rotate", g.host}, {"status"}, {"doctor"}} {
		in := ""
		if args[0] == "get" {
			in = "protocol=http\nhost=" + g.host + "\n"
		}
		out, errOut, _ := g.run(in, binPath, args...)
		out, errOut = flat(out), flat(errOut) // doctor wraps its lines
		if n := strings.Count(out+" "+errOut, "unknown key \"rotate_befor\""); n != 1 {
			t.Errorf("%v reports the typo %d times:\n%s%s", args, n, out, errOut)
		}
		if strings.Contains(out+errOut, "config: config:") {
			t.Errorf("%v says config: config:\n%s", args, out)
		}
	}
}

// TestDoctorHintsAreExact: a due token with auto_rotate off gets
// `rotate HOST` (naming the host it is about); a secret missing from the
// keychain does not get a network hint.
func TestDoctorHintsAreExact(t *testing.T) {
	g := newGitLabWorld(t, "")
	tok, _ := g.gl.CreateToken(gitlabtest.TokenSpec{Scopes: []string{"api"}, ExpiresAt: gitlabtest.DateOf(today().AddDate(0, 0, 10))})
	g.login(tok)
	out, _, _ := g.run("", binPath, "doctor")
	out = flat(out)
	if !strings.Contains(out, "git-credential-glpat rotate http://"+g.host) || strings.Contains(out, "git-credential-glpat rotate`") {
		t.Errorf("doctor's fix does not name the host %s:\n%s", g.host, out)
	}
	// The secret vanishes from the keychain (a person deleted it there).
	if err := keychain.New("git-credential-glpat").Delete(context.Background(), "http://alice@"+g.host); err != nil {
		t.Fatal(err)
	}
	out, _, _ = g.run("", binPath, "doctor")
	out = flat(out)
	if !strings.Contains(out, "missing") || strings.Contains(out, "check the network") {
		t.Errorf("a missing secret gets a network hint:\n%s", out)
	}
	// No keychain at all: the keychain check says what to do; no token
	// check sends the person to the network.
	g.login(tok)
	g.env = append(g.env, "DBUS_SESSION_BUS_ADDRESS=unix:path="+g.dir+"/no-such-bus")
	out, _, _ = g.run("", binPath, "doctor")
	if out = flat(out); strings.Contains(out, "check the network") || !strings.Contains(out, "[fail] keychain") {
		t.Errorf("an unreachable keychain gets a network hint:\n%s", out)
	}
}

// TestDoctorSetupFixForAnHTTPHost: doctor's fix for an http:// host is
// setup HOST, and following it writes the http:// helper entry, so that
// doctor does not ask for it again.
func TestDoctorSetupFixForAnHTTPHost(t *testing.T) {
	// Logged in with --api-url http://…, nothing in the config.
	w := newWorld(t)
	gl := gitlabtest.New(t)
	u, _ := url.Parse(gl.URL)
	g := &gitlabWorld{world: w, gl: gl, host: u.Host}
	tok, _ := gl.CreateToken(gitlabtest.TokenSpec{Scopes: []string{"api"}, ExpiresAt: gitlabtest.DateOf(today().AddDate(0, 0, 100))})
	g.mustLogin(tok, "Logged in", "--api-url", gl.APIURL(), "--username", "alice")
	out, _, _ := g.run("", binPath, "doctor")
	out = flat(out)
	if !strings.Contains(out, "[fail] helpers for http://"+g.host) || !strings.Contains(out, "setup http://"+g.host) {
		t.Fatalf("doctor does not ask for setup of the http host:\n%s", out)
	}
	if out, errOut, err := g.run("", binPath, "setup", "http://"+g.host); err != nil {
		t.Fatalf("setup: %v %s %s", err, out, errOut)
	}
	out, _, _ = g.run("", binPath, "doctor")
	out = flat(out)
	if strings.Contains(out, "helpers for http://"+g.host+": git asks no") || strings.Contains(out, "setup http://"+g.host) {
		t.Errorf("after the fix, doctor still asks for it:\n%s", out)
	}
	if cfg, _ := os.ReadFile(filepath.Join(g.dir, "gitconfig")); !strings.Contains(string(cfg), "http://"+g.host) {
		t.Errorf("setup wrote no http:// entry:\n%s", cfg)
	}
}

// TestOutputFitsTheTerminal: doctor wraps at the terminal's width (100
// columns when not a terminal); status's table fits 100 columns; --json
// keeps everything.
func TestOutputFitsTheTerminal(t *testing.T) {
	g := newGitLabWorld(t, "")
	scopes := []string{"api", "read_api", "read_user", "read_repository", "write_repository", "self_rotate"}
	name := "a token with a rather long name for the laptop in the office"
	tok, _ := g.gl.CreateToken(gitlabtest.TokenSpec{Name: name, Scopes: scopes, ExpiresAt: gitlabtest.DateOf(today().AddDate(0, 0, 200))})
	g.login(tok)
	g.run("protocol=https\nhost=plain.example\nusername=bob\npassword=p\n", binPath, "store")
	out, _, _ := g.run("", binPath, "status")
	table := strings.SplitN(out, "\n\n", 2)[0]
	for _, l := range strings.Split(table, "\n") {
		if n := len([]rune(l)); n > 100 {
			t.Errorf("status line of %d columns:\n%s", n, l)
		}
	}
	js, _, _ := g.run("", binPath, "status", "--json")
	if !strings.Contains(js, `"token_name": "`+name+`"`) || !strings.Contains(js, `"read_repository"`) {
		t.Errorf("status --json lost something:\n%s", js)
	}
	out, _, _ = g.run("", binPath, "doctor")
	long := 0
	for _, l := range strings.Split(out, "\n") {
		if n := len([]rune(l)); n > 100 && strings.Contains(l, " ") && strings.Count(strings.TrimSpace(l), " ") > 2 {
			t.Errorf("doctor line of %d columns into a pipe:\n%s", n, l)
		}
		long = max(long, len([]rune(l)))
	}
	if long < 80 {
		t.Errorf("doctor wraps narrower than 100 columns into a pipe (longest line %d)", long)
	}
	cmd := exec.Command("script", "-qefc", "stty cols 72 && "+binPath+" doctor", "/dev/null")
	cmd.Env = append(g.env[:len(g.env):len(g.env)], "TERM=dumb")
	b, _ := cmd.CombinedOutput()
	for _, l := range strings.Split(string(b), "\n") {
		// What the terminal shows: a progress line ("checking…", shown when
		// doctor takes longer than 400ms) is erased by "\r\x1b[K" and
		// overwritten by the next text.
		l = strings.TrimSuffix(l, "\r")
		if i := strings.LastIndex(l, "\r"); i >= 0 {
			l = l[i+1:]
		}
		l = strings.ReplaceAll(l, "\x1b[K", "")
		if n := len([]rune(l)); n > 72 && strings.Count(strings.TrimSpace(l), " ") > 2 {
			t.Errorf("doctor line of %d columns at a 72-column terminal:\n%s", n, l)
		}
	}
}

// flat joins wrapped lines: doctor wraps at the terminal's width.
func flat(s string) string { return strings.Join(strings.Fields(s), " ") }

// TestDoctorWarnsOfAHeldBackToken: a token Git's server refused while
// GitLab could not be asked about it is held back from Git (status: "held
// back"); doctor, which says what is wrong, does not call it ok.
func TestDoctorWarnsOfAHeldBackToken(t *testing.T) {
	g := newGitLabWorld(t, "")
	tok, _ := g.gl.CreateToken(gitlabtest.TokenSpec{Scopes: []string{"api"}, ExpiresAt: gitlabtest.DateOf(today().AddDate(0, 0, 100))})
	g.login(tok)
	g.gl.Garbage(gitlabtest.EndpointSelf, true)
	if _, errOut := g.erase(tok); !strings.Contains(errOut, "for 15 minutes") {
		t.Errorf("erase does not say for how long, in words: %q", errOut)
	}
	g.gl.Garbage(gitlabtest.EndpointSelf, false)
	if st, _, _ := g.run("", binPath, "status", "--offline"); !strings.Contains(st, "held back") {
		t.Fatalf("status does not show the token held back:\n%s", st)
	}
	out, _, err := g.run("", binPath, "doctor")
	line := ""
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "token http://"+g.host+" (alice)") {
			line = l
		}
	}
	if exitCode(err) != 1 || !strings.HasPrefix(line, "[warn]") || !strings.Contains(flat(out), "held back") || !strings.Contains(flat(out), "repository's URL") {
		t.Errorf("doctor: exit %d\n%s", exitCode(err), out)
	}
}

// TestDoctorFixForAHelperAfterSetupsLines: git asks another helper after
// the lines setup wrote (a [credential] helper added later in the global
// config). setup answers "unchanged" and warns what to do; doctor gives the
// same fix, never "run setup", which would change nothing; and once it is
// followed, doctor is content.
func TestDoctorFixForAHelperAfterSetupsLines(t *testing.T) {
	g := newGitLabWorld(t, "")
	host := "http://" + g.host
	if out, errOut, err := g.run("", binPath, "setup", host); err != nil {
		t.Fatalf("setup: %v\n%s%s", err, out, errOut)
	}
	gitconfig := filepath.Join(g.dir, "gitconfig")
	before, _ := os.ReadFile(gitconfig)
	os.WriteFile(gitconfig, append(before[:len(before):len(before)], "[credential]\n\thelper = store\n"...), 0o600)

	out, errOut, _ := g.run("", binPath, "setup", host)
	if !strings.Contains(out, "unchanged") || !strings.Contains(errOut, "credential.helper=store") {
		t.Fatalf("setup with a helper after its lines:\n%s%s", out, errOut)
	}
	_, setupFix, _ := strings.Cut(flat(errOut), "; ")
	doctor, _, err := g.run("", binPath, "doctor")
	d := flat(doctor)
	if exitCode(err) != 1 || strings.Contains(d, "fix: run `git-credential-glpat setup") || !strings.Contains(d, setupFix) {
		t.Errorf("doctor's fix is not setup's (%q):\n%s", setupFix, doctor)
	}
	os.WriteFile(gitconfig, before, 0o600) // the fix, followed
	doctor, _, _ = g.run("", binPath, "doctor")
	if d := flat(doctor); strings.Contains(d, "credential.helper=store") || !strings.Contains(d, "[ok] helpers for "+host) {
		t.Errorf("after the fix, doctor:\n%s", doctor)
	}
}
