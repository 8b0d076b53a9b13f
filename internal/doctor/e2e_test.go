package doctor

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/glpat-dev/git-credential-glpat/internal/account"
	"github.com/glpat-dev/git-credential-glpat/internal/config"
	"github.com/glpat-dev/git-credential-glpat/internal/gitconfig"
	"github.com/glpat-dev/git-credential-glpat/internal/gitlabtest"
	"github.com/glpat-dev/git-credential-glpat/internal/hostarg"
	"github.com/glpat-dev/git-credential-glpat/internal/keychain"
	"github.com/glpat-dev/git-credential-glpat/internal/keyringtest"
	"github.com/glpat-dev/git-credential-glpat/internal/lifecycle"
	"github.com/glpat-dev/git-credential-glpat/internal/store"
)

// TestRunWithRealParts runs the doctor as main wires it: the real keychain
// (a private gnome-keyring), store and account service, a fake GitLab over
// TLS with its CA in the config file, and the real git with a private
// config. One account's token is fine, one was revoked on GitLab, one can
// not rotate itself (fine while it is not due for rotation: the check says
// so without asking for action).
func TestRunWithRealParts(t *testing.T) {
	keyringtest.Require(t)
	ctx := context.Background()
	srv := gitlabtest.NewTLS(t)
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	srv.WriteCA(ca)
	host := strings.TrimPrefix(srv.URL, "https://")
	cfgPath := filepath.Join(dir, "config.toml")
	cfgText := "[hosts.\"" + host + "\"]\napi_url = \"" + srv.APIURL() + "\"\nca_file = \"" + ca + "\"\n"
	if err := os.WriteFile(cfgPath, []byte(cfgText), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}

	kc := keychain.New("git-credential-glpat-doctor-test")
	stateDir := filepath.Join(dir, "state")
	st := &store.Store{Secrets: kc, Dir: filepath.Join(stateDir, "index")}
	svc := &account.Service{Store: st, Config: cfg, Lifecycle: &lifecycle.Manager{
		Store: st, StateDir: stateDir,
		Settings: func(rec *store.Record) lifecycle.Settings {
			hc := cfg.Host(rec.Host)
			return lifecycle.Settings{RotateBefore: time.Duration(hc.RotateBefore), Lifetime: time.Duration(hc.Lifetime), AutoRotate: hc.AutoRotate, CAFile: hc.CAFile}
		},
	}}
	expires := gitlabtest.DateOf(time.Now()).AddDays(60)
	login := func(user string, scopes ...string) int {
		tok, id := srv.CreateToken(gitlabtest.TokenSpec{Username: user, Name: user + "-laptop", Scopes: scopes, ExpiresAt: expires})
		if _, err := svc.Login(ctx, account.LoginOptions{Host: host, Username: user, Token: tok}); err != nil {
			t.Fatalf("login %s: %v", user, err)
		}
		return id
	}
	login("alice", "read_repository", "write_repository", "self_rotate")
	srv.Revoke(login("bob", "read_repository", "self_rotate"))
	login("carol", "read_repository")
	t.Cleanup(func() {
		for _, u := range []string{"alice", "bob", "carol"} {
			svc.Logout(ctx, hostarg.Host{Name: host}, u, false)
		}
	})

	// The real git, with a private HOME and global config and no system one.
	home := filepath.Join(dir, "home")
	if err := os.MkdirAll(home, 0o700); err != nil {
		t.Fatal(err)
	}
	git := gitconfig.Exec{Dir: home, Env: []string{
		"HOME=" + home, "XDG_CONFIG_HOME=" + filepath.Join(home, ".config"), "GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL=" + filepath.Join(home, ".gitconfig"), "GIT_CONFIG_COUNT=0",
	}}
	bin := filepath.Join(dir, "bin", "git-credential-glpat")
	if err := os.MkdirAll(filepath.Dir(bin), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	gitconfigFile := "[credential]\n\thelper = a\n[credential \"https://" + host + "\"]\n\thelper =\n\thelper = " + bin + "\n"
	if err := os.WriteFile(filepath.Join(home, ".gitconfig"), []byte(gitconfigFile), 0o600); err != nil {
		t.Fatal(err)
	}

	checks := Run(ctx, Env{
		Git: git, Secrets: kc, Accounts: svc, Binary: bin,
		ConfigPath: func() (string, error) { return cfgPath, nil },
	})
	got := map[string]Check{}
	for _, c := range checks {
		got[c.Name] = c
	}
	want := map[string]string{
		"config":                      StatusOK,
		"keychain":                    StatusOK,
		"helpers for https://" + host: StatusOK,
		"token " + host + " (alice)":  StatusOK,
		"token " + host + " (bob)":    StatusFail,
		"token " + host + " (carol)":  StatusOK,
		"clock":                       StatusOK,
	}
	for name, status := range want {
		c, ok := got[name]
		if !ok {
			t.Errorf("no check %q; got %+v", name, checks)
			continue
		}
		if c.Status != status {
			t.Errorf("%s: %q %q (fix %q), want %q", name, c.Status, c.Detail, c.Fix, status)
		}
	}
	if c := got["token "+host+" (bob)"]; !strings.Contains(c.Detail, "revoked") {
		t.Errorf("bob's token: %q, want it called revoked", c.Detail)
	}
	if c := got["token "+host+" (carol)"]; !strings.Contains(c.Detail, "cannot rotate itself") {
		t.Errorf("carol's token: %q, want it to say it cannot rotate itself", c.Detail)
	}
	if c := got["token "+host+" (alice)"]; !strings.Contains(c.Detail, expires.String()) {
		t.Errorf("alice's token: %q, want its expiry %s", c.Detail, expires)
	}
	if testing.Verbose() {
		var b strings.Builder
		WriteText(&b, checks, false)
		t.Log("\n" + b.String())
	}
	if !NeedsAction(checks) {
		t.Errorf("NeedsAction = false with a revoked token")
	}
}
