package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestInstallScript: install.sh builds and installs into PREFIX, twice
// without harm, with the man page where git help finds it; without Go it
// says so in one line.
func TestInstallScript(t *testing.T) {
	w := newWorld(t)
	prefix := filepath.Join(w.dir, "prefix")
	script, _ := filepath.Abs("../../install.sh")
	for i := 0; i < 2; i++ {
		cmd := exec.Command("sh", script)
		cmd.Env = append(w.env, "PREFIX="+prefix)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("install.sh (run %d): %v\n%s", i+1, err, out)
		}
	}
	bin := filepath.Join(prefix, "bin", "git-credential-glpat")
	if out, err := exec.Command(bin, "version").Output(); err != nil || !strings.HasPrefix(string(out), "git-credential-glpat ") {
		t.Errorf("installed binary: %v %q", err, out)
	}
	if _, err := os.Stat(filepath.Join(prefix, "share", "man", "man1", "git-credential-glpat.1")); err != nil {
		t.Errorf("man page not installed: %v", err)
	}
	// git help credential-glpat finds the page through PATH and MANPATH.
	if _, err := exec.LookPath("man"); err == nil {
		cmd := exec.Command("git", "help", "-m", "credential-glpat")
		cmd.Env = append(w.env, "PATH="+filepath.Join(prefix, "bin")+":"+os.Getenv("PATH"), "MANPATH="+filepath.Join(prefix, "share", "man"), "MANPAGER=cat", "PAGER=cat")
		if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "rotate") {
			t.Errorf("git help credential-glpat: %v\n%.300s", err, out)
		}
	}

	// No Go on PATH: a clear error.
	noGo := filepath.Join(w.dir, "nogo")
	os.MkdirAll(noGo, 0o700)
	for _, tool := range []string{"sh", "dirname", "sed", "mkdir"} {
		if p, err := exec.LookPath(tool); err == nil {
			os.Symlink(p, filepath.Join(noGo, tool))
		}
	}
	cmd := exec.Command("/bin/sh", script)
	cmd.Env = append(w.env, "PATH="+noGo, "PREFIX="+prefix)
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "Go is not installed") {
		t.Errorf("install.sh without Go: %v %q", err, out)
	}
}
