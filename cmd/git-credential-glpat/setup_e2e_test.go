package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glpat-dev/git-credential-glpat/internal/gitlabtest"
)

// TestSetupThenCloneWithoutFlags: after setup, plain git commands use the
// helper for the GitLab host, even with another helper configured
// globally; twice changes nothing; --undo restores the config exactly.
func TestSetupThenCloneWithoutFlags(t *testing.T) {
	g := newGitLabWorld(t, "")
	gitconfig := filepath.Join(g.dir, "gitconfig")
	// A helper the user had before, which must not be asked for this host.
	original := "[credential]\n\thelper = store --file " + filepath.Join(g.dir, "plain-store") + "\n"
	os.WriteFile(gitconfig, []byte(original), 0o600)

	out, errOut, err := g.run("", binPath, "setup")
	if err != nil || !strings.Contains(out, "added") {
		t.Fatalf("setup: %v\n%s\n%s", err, out, errOut)
	}
	afterSetup, _ := os.ReadFile(gitconfig)
	vals, _, _ := g.run("", "git", "config", "--global", "--get-all", "credential.http://"+g.host+".helper")
	if want := "\n" + binPath + "\n"; vals != want {
		t.Errorf("helper values = %q, want %q", vals, want)
	}
	out, _, _ = g.run("", binPath, "setup")
	if again, _ := os.ReadFile(gitconfig); string(again) != string(afterSetup) || !strings.Contains(out, "unchanged") {
		t.Errorf("second setup changed the config or did not say so: %q", out)
	}

	g.gl.CreateRepo("acme/app")
	tok, _ := g.gl.CreateToken(gitlabtest.TokenSpec{Scopes: []string{"read_repository"}, ExpiresAt: gitlabtest.DateOf(today().AddDate(0, 0, 90))})
	g.login(tok)
	clone := exec.Command("git", "clone", "-q", g.gl.URL+"/acme/app.git", filepath.Join(g.dir, "app"))
	clone.Env = g.env
	if msg, err := clone.CombinedOutput(); err != nil {
		t.Fatalf("git clone after setup: %v\n%s", err, msg)
	}
	if _, err := os.Stat(filepath.Join(g.dir, "plain-store")); err == nil {
		t.Error("the previously configured store helper was asked (it wrote its file)")
	}

	if out, errOut, err := g.run("", binPath, "setup", "--undo"); err != nil || !strings.Contains(out, "removed") {
		t.Fatalf("setup --undo: %v\n%s\n%s", err, out, errOut)
	}
	if undone, _ := os.ReadFile(gitconfig); string(undone) != original {
		t.Errorf("after --undo the config is\n%s\nwant\n%s", undone, original)
	}
}

// TestSetupAfterTheProgramMoved: setup of a moved program says in one line
// per key what it replaced, not "replaced" and "added" for the same key.
func TestSetupAfterTheProgramMoved(t *testing.T) {
	g := newGitLabWorld(t, "")
	if _, errOut, err := g.run("", binPath, "setup"); err != nil {
		t.Fatalf("setup: %v %s", err, errOut)
	}
	moved := filepath.Join(g.dir, "bin", "git-credential-glpat")
	os.MkdirAll(filepath.Dir(moved), 0o700)
	b, _ := os.ReadFile(binPath)
	if err := os.WriteFile(moved, b, 0o700); err != nil {
		t.Fatal(err)
	}
	out, errOut, err := g.run("", moved, "setup")
	if err != nil {
		t.Fatalf("setup from the moved program: %v %s", err, errOut)
	}
	key := "credential.http://" + g.host + ".helper"
	if n := strings.Count(out, key); n != 1 || !strings.Contains(out, "replaced") || !strings.Contains(out, moved) || !strings.Contains(out, "was \"\" \""+binPath+"\"") {
		t.Errorf("setup after a move: want one line for %s saying what it replaced:\n%s", key, out)
	}
}
