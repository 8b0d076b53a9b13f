package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glpat-dev/git-credential-glpat/internal/keyringtest"
)

// binPath is the helper built once for all end-to-end tests.
var binPath string

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "glpat-e2e-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	binPath = filepath.Join(dir, "git-credential-glpat")
	// The test hooks (testhooks_on.go) are built in; a release build has none.
	build := exec.Command("go", "build", "-tags", "glpat_testhooks", "-o", binPath, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0") // as install.sh builds it
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building the helper:", err)
		return 1
	}
	return keyringtest.Main(m)
}

// world is one test's private world: its own state dir, config file, git
// global config and HOME, on the package's private keyring session.
type world struct {
	t       *testing.T
	dir     string
	env     []string
	askpass string // log of askpass prompts
}

func newWorld(t *testing.T) *world {
	t.Helper()
	keyringtest.Require(t)
	dir := t.TempDir()
	w := &world{t: t, dir: dir, askpass: filepath.Join(dir, "askpass.log")}
	script := filepath.Join(dir, "askpass")
	// Like git's t/lib-credential.sh: answer "askpass-username" or
	// "askpass-password" and log the prompt.
	os.WriteFile(script, []byte(`#!/bin/sh
echo "askpass: $*" >>"`+w.askpass+`"
what=$(echo "$1" | cut -d" " -f1 | tr A-Z a-z | tr -cd a-z)
echo "askpass-$what"
`), 0o700)
	gitconfig := filepath.Join(dir, "gitconfig")
	os.WriteFile(gitconfig, nil, 0o600)
	w.env = append(os.Environ(),
		"GLPAT_STATE_DIR="+filepath.Join(dir, "state"),
		"GLPAT_CONFIG="+filepath.Join(dir, "config.toml"),
		"GIT_CONFIG_GLOBAL="+gitconfig,
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_ASKPASS="+script,
		"GIT_TERMINAL_PROMPT=0",
		"LC_ALL=C",
	)
	return w
}

// run runs a command in the world and returns stdout and stderr.
func (w *world) run(stdin string, name string, args ...string) (string, string, error) {
	w.t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = w.env
	cmd.Dir = w.dir
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return out.String(), errb.String(), err
}

// git runs `git -c credential.helper=<binary> credential op`.
func (w *world) credential(op, in string, extra ...string) string {
	w.t.Helper()
	args := []string{"-c", "credential.helper=" + binPath}
	args = append(args, extra...)
	args = append(args, "credential", op)
	out, errOut, err := w.run(in, "git", args...)
	if err != nil {
		w.t.Fatalf("git credential %s: %v\nstderr: %s", op, err, errOut)
	}
	if errOut != "" {
		w.t.Errorf("git credential %s: stderr is not empty: %q", op, errOut)
	}
	return out
}

func (w *world) prompts() string {
	b, _ := os.ReadFile(w.askpass)
	os.Remove(w.askpass)
	return string(b)
}

// dropWWWAuth removes the wwwauth[] lines that newer versions of git echo
// in `git credential fill` output (2.39 does not), so the tests hold for both.
func dropWWWAuth(s string) string {
	var b strings.Builder
	for _, l := range strings.SplitAfter(s, "\n") {
		if !strings.HasPrefix(l, "wwwauth[]=") {
			b.WriteString(l)
		}
	}
	return b.String()
}

// TestGitHelperSuite replays git's own tests for storage helpers
// (t/lib-credential.sh, helper_test and friends) with the real git.
func TestGitHelperSuite(t *testing.T) {
	w := newWorld(t)
	type check struct {
		op, in, want, prompts string
		extra                 []string
	}
	const askBoth = "askpass: Username for 'https://example.com': \naskpass: Password for 'https://askpass-username@example.com': \n"
	steps := []struct {
		name   string
		checks []check
	}{
		{"has no existing data", []check{{op: "fill", in: "protocol=https\nhost=example.com",
			want: "protocol=https\nhost=example.com\nusername=askpass-username\npassword=askpass-password", prompts: askBoth}}},
		{"stores password", []check{{op: "approve", in: "protocol=https\nhost=example.com\nusername=store-user\npassword=store-pass"}}},
		{"can retrieve password", []check{{op: "fill", in: "protocol=https\nhost=example.com",
			want: "protocol=https\nhost=example.com\nusername=store-user\npassword=store-pass"}}},
		{"requires matching protocol", []check{{op: "fill", in: "protocol=http\nhost=example.com",
			want:    "protocol=http\nhost=example.com\nusername=askpass-username\npassword=askpass-password",
			prompts: "askpass: Username for 'http://example.com': \naskpass: Password for 'http://askpass-username@example.com': \n"}}},
		{"requires matching host", []check{{op: "fill", in: "protocol=https\nhost=other.tld",
			want:    "protocol=https\nhost=other.tld\nusername=askpass-username\npassword=askpass-password",
			prompts: "askpass: Username for 'https://other.tld': \naskpass: Password for 'https://askpass-username@other.tld': \n"}}},
		{"requires matching username", []check{{op: "fill", in: "protocol=https\nhost=example.com\nusername=other",
			want:    "protocol=https\nhost=example.com\nusername=other\npassword=askpass-password",
			prompts: "askpass: Password for 'https://other@example.com': \n"}}},
		{"requires matching path", []check{
			{op: "approve", in: "protocol=http\nhost=path.tld\npath=foo.git\nusername=user\npassword=pass", extra: []string{"-c", "credential.usehttppath=true"}},
			{op: "fill", in: "protocol=http\nhost=path.tld\npath=bar.git", extra: []string{"-c", "credential.usehttppath=true"},
				want:    "protocol=http\nhost=path.tld\npath=bar.git\nusername=askpass-username\npassword=askpass-password",
				prompts: "askpass: Username for 'http://path.tld/bar.git': \naskpass: Password for 'http://askpass-username@path.tld/bar.git': \n"},
		}},
		{"can forget host", []check{
			{op: "reject", in: "protocol=https\nhost=example.com"},
			{op: "fill", in: "protocol=https\nhost=example.com",
				want: "protocol=https\nhost=example.com\nusername=askpass-username\npassword=askpass-password", prompts: askBoth},
		}},
		{"can store multiple users", []check{
			{op: "approve", in: "protocol=https\nhost=example.com\nusername=user1\npassword=pass1"},
			{op: "approve", in: "protocol=https\nhost=example.com\nusername=user2\npassword=pass2"},
			{op: "fill", in: "protocol=https\nhost=example.com\nusername=user1", want: "protocol=https\nhost=example.com\nusername=user1\npassword=pass1"},
			{op: "fill", in: "protocol=https\nhost=example.com\nusername=user2", want: "protocol=https\nhost=example.com\nusername=user2\npassword=pass2"},
		}},
		{"can forget user", []check{
			{op: "reject", in: "protocol=https\nhost=example.com\nusername=user1"},
			{op: "fill", in: "protocol=https\nhost=example.com\nusername=user1",
				want: "protocol=https\nhost=example.com\nusername=user1\npassword=askpass-password", prompts: "askpass: Password for 'https://user1@example.com': \n"},
		}},
		{"remembers other user", []check{
			{op: "fill", in: "protocol=https\nhost=example.com\nusername=user2", want: "protocol=https\nhost=example.com\nusername=user2\npassword=pass2"},
		}},
		{"does not erase a password distinct from input", []check{
			{op: "approve", in: "protocol=https\nhost=example.com\nusername=user-distinct-pass\npassword=pass1"},
			{op: "reject", in: "protocol=https\nhost=example.com\nusername=user-distinct-pass\npassword=pass2"},
			{op: "fill", in: "protocol=https\nhost=example.com\nusername=user-distinct-pass",
				want: "protocol=https\nhost=example.com\nusername=user-distinct-pass\npassword=pass1"},
		}},
		{"can store empty username", []check{
			{op: "approve", in: "protocol=https\nhost=sso.tld\nusername=\npassword="},
			{op: "fill", in: "protocol=https\nhost=sso.tld", want: "protocol=https\nhost=sso.tld\nusername=\npassword="},
		}},
		{"erases all matching credentials", []check{
			{op: "approve", in: "protocol=https\nhost=example.com\nusername=user1\npassword=pass1"},
			{op: "approve", in: "protocol=https\nhost=example.com\nusername=user2\npassword=pass1"},
			{op: "reject", in: "protocol=https\nhost=example.com"},
			{op: "fill", in: "protocol=https\nhost=example.com",
				want: "protocol=https\nhost=example.com\nusername=askpass-username\npassword=askpass-password", prompts: askBoth},
		}},
		{"not confused by long header", []check{
			{op: "approve", in: "protocol=https\nhost=victim.example.com\nusername=user\npassword=to-be-stolen"},
			{op: "fill", in: "protocol=https\nhost=badguy.example.com\nwwwauth[]=" + strings.Repeat("a", 10001),
				want:    "protocol=https\nhost=badguy.example.com\nusername=askpass-username\npassword=askpass-password",
				prompts: "askpass: Username for 'https://badguy.example.com': \naskpass: Password for 'https://askpass-username@badguy.example.com': \n"},
		}},
		{"url is expanded by git and by the helper", []check{
			{op: "approve", in: "url=https://url-user@url.example/group/repo.git\npassword=url-pass"},
			{op: "fill", in: "url=https://url.example/group/repo.git",
				want: "protocol=https\nhost=url.example\nusername=url-user\npassword=url-pass"},
		}},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			w.t = t
			for i, c := range s.checks {
				got := dropWWWAuth(w.credential(c.op, c.in+"\n", c.extra...))
				want := ""
				if c.want != "" {
					want = c.want + "\n"
				}
				if got != want {
					t.Errorf("check %d (%s): stdout\n%s\nwant\n%s", i, c.op, got, want)
				}
				if p := w.prompts(); p != c.prompts {
					t.Errorf("check %d (%s): prompts\n%q\nwant\n%q", i, c.op, p, c.prompts)
				}
			}
		})
	}
}

// TestPasswordExpiryDirect drives the helper itself for password_expiry_utc
// and oauth_refresh_token: git 2.39 on this machine drops both attributes.
func TestPasswordExpiryDirect(t *testing.T) {
	w := newWorld(t)
	helper := func(op, in string) string {
		t.Helper()
		out, errOut, err := w.run(in, binPath, op)
		if err != nil || errOut != "" {
			t.Fatalf("%s: err %v, stderr %q", op, err, errOut)
		}
		return out
	}
	helper("store", "protocol=https\nhost=example.com\nusername=user-expiry\npassword=pass\npassword_expiry_utc=9999999999\noauth_refresh_token=xyzzy\n")
	if got, want := helper("get", "protocol=https\nhost=example.com\n"),
		"username=user-expiry\npassword=pass\npassword_expiry_utc=9999999999\noauth_refresh_token=xyzzy\n"; got != want {
		t.Errorf("get = %q, want %q", got, want)
	}
	helper("store", "protocol=https\nhost=example.com\nusername=user-expiry\npassword=pass\npassword_expiry_utc=9999999998\noauth_refresh_token=xyzzy\n")
	if got, want := helper("get", "protocol=https\nhost=example.com\n"),
		"username=user-expiry\npassword=pass\npassword_expiry_utc=9999999998\noauth_refresh_token=xyzzy\n"; got != want {
		t.Errorf("after a changed expiry, get = %q, want %q", got, want)
	}
	// An expiry in the past: not stored, and an old one is not served.
	helper("store", "protocol=https\nhost=past.example\nusername=u\npassword=p\npassword_expiry_utc=1000\n")
	if got := helper("get", "protocol=https\nhost=past.example\n"); got != "" {
		t.Errorf("get of an expired credential = %q, want nothing", got)
	}
	helper("store", "protocol=https\nhost=eph.example\nusername=u\npassword=p\nephemeral=1\n")
	if got := helper("get", "protocol=https\nhost=eph.example\n"); got != "" {
		t.Errorf("get after an ephemeral store = %q, want nothing", got)
	}
}

func TestUnknownOperationIsIgnored(t *testing.T) {
	w := newWorld(t)
	out, errOut, err := w.run("protocol=https\nhost=example.com\n", binPath, "frobnicate")
	if err != nil || out != "" || errOut != "" {
		t.Errorf("unknown operation: err %v, stdout %q, stderr %q; want exit 0 and silence", err, out, errOut)
	}
}

func TestVersion(t *testing.T) {
	w := newWorld(t)
	out, _, err := w.run("", binPath, "version")
	if err != nil || !strings.HasPrefix(out, "git-credential-glpat ") || !strings.Contains(out, "commit") {
		t.Errorf("version: %q, %v", out, err)
	}
}

// keychainService names this program's items in the OS keychain.
const keychainService = "git-credential-glpat"
