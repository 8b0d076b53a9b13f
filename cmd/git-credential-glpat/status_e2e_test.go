package main

import (
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/glpat-dev/git-credential-glpat/internal/gitlabtest"
)

func exitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

// TestStatusShowsAnUnreadableBackend: while the keychain cannot be reached,
// status exits 1 and says so, not "ok" on every row.
func TestStatusShowsAnUnreadableBackend(t *testing.T) {
	w := newWorld(t)
	w.run("protocol=https\nhost=st.example\nusername=u\npassword=p\n", binPath, "store")
	w.env = append(w.env, "DBUS_SESSION_BUS_ADDRESS=unix:path="+w.dir+"/no-such-bus")
	out, errOut, err := w.run("", binPath, "status", "--offline")
	if exitCode(err) != 1 {
		t.Errorf("status with no keychain: exit %d, want 1\n%s%s", exitCode(err), out, errOut)
	}
	if out := flat(out); !strings.Contains(out, "cannot be read") || !strings.Contains(out, "no D-Bus session bus") || !strings.Contains(out, "migrate --to kernel") {
		t.Errorf("status does not say what is wrong and how to fix it:\n%s", out)
	}
}

// TestStatusShowsLockedAsItIs: the secrets line said "(unlocked once per
// boot)" whether locked or not.
func TestStatusShowsLockedAsItIs(t *testing.T) {
	w := backendWorld(t, "encrypted-file")
	if _, errOut, err := w.run("correct horse\n", binPath, "init", "--passphrase-stdin"); err != nil {
		t.Fatalf("init: %v %s", err, errOut)
	}
	w.run("protocol=https\nhost=secret.example\nusername=u\npassword=p\n", binPath, "store")
	out, _, err := w.run("", binPath, "status", "--offline")
	if err != nil || !strings.Contains(out, "unlocked") {
		t.Errorf("status while unlocked: %v\n%s", err, out)
	}
	w.run("", binPath, "lock")
	out, _, err = w.run("", binPath, "status", "--offline")
	if exitCode(err) != 1 || !strings.Contains(out, "locked") || strings.Contains(out, "unlocked") || !strings.Contains(out, "git-credential-glpat unlock") {
		t.Errorf("status while locked: exit %d\n%s", exitCode(err), out)
	}
}

// TestStatusOfAHostSaysWhatExistsElsewhere: `status HOST` said "No
// credentials stored" while other hosts had some.
func TestStatusOfAHostSaysWhatExistsElsewhere(t *testing.T) {
	w := newWorld(t)
	w.run("protocol=https\nhost=a.example\nusername=u\npassword=p\n", binPath, "store")
	w.run("protocol=http\nhost=b.example\nusername=u\npassword=p\n", binPath, "store")
	out, _, _ := w.run("", binPath, "status", "c.example", "--offline")
	if !strings.Contains(out, "c.example") || !strings.Contains(out, "a.example") || !strings.Contains(out, "http://b.example") {
		t.Errorf("status c.example does not say what is stored elsewhere:\n%s", out)
	}
	if strings.Contains(out, ") (") {
		t.Errorf("two parentheses in a row:\n%s", out)
	}
}

// TestStatusOfAHostNamesOthersAsCommandsTakeThem: the other hosts are
// named as every command prints and takes them, each once.
func TestStatusOfAHostNamesOthersAsCommandsTakeThem(t *testing.T) {
	w := newWorld(t)
	w.run("protocol=https\nhost=a.example\nusername=u\npassword=p\n", binPath, "store")
	w.run("protocol=https\nhost=a.example\nusername=v\npassword=p\n", binPath, "store")
	w.run("protocol=http\nhost=127.0.0.1:8929\nusername=u\npassword=p\n", binPath, "store")
	out, _, _ := w.run("", binPath, "status", "c.example", "--offline")
	if !strings.Contains(out, "http://127.0.0.1:8929") || strings.Count(out, "a.example") != 1 || strings.Contains(out, ") (") {
		t.Errorf("status c.example names the other hosts in another form than the commands print, or twice, or with two parentheses in a row:\n%s", out)
	}
	out, errOut, _ := w.run("", binPath, "status", "http://127.0.0.1:8929", "--offline")
	if !strings.Contains(out, "127.0.0.1:8929") || strings.Contains(out, "Nothing is stored") || errOut != "" {
		t.Errorf("status of the host as listed:\n%s%s", out, errOut)
	}
}

// TestStatusFitsTheTerminal: at a terminal status's table and the lines
// under it fit its width, as doctor's do, with commands kept whole (wrapped
// between words); into a pipe they fit 100 columns.
func TestStatusFitsTheTerminal(t *testing.T) {
	g, _, carol := twoAccountWorld(t)
	exp := gitlabtest.DateOf(today().AddDate(0, 0, 200))
	long, _ := g.gl.CreateToken(gitlabtest.TokenSpec{Username: "bartholomew-longname", Name: "git-credential-glpat on a-workstation-with-a-long-name",
		Scopes: []string{"read_repository", "write_repository", "self_rotate", "read_api"}, ExpiresAt: exp})
	g.mustLogin(long, "as bartholomew-longname", "--username", "bartholomew-longname")
	st, _ := g.gl.TokenByValue(carol)
	g.gl.Revoke(st.ID)
	g.run("protocol=http\nhost="+g.host+"\nusername=carol\npassword="+carol+"\n", binPath, "erase")
	// GitLab saw the tokens used (login asked it), from 127.0.0.1.
	for _, cols := range []int{80, 72} {
		cmd := exec.Command("script", "-qec", fmt.Sprintf("stty cols %d rows 40; %s status", cols, binPath), "/dev/null")
		cmd.Env = append(g.env[:len(g.env):len(g.env)], "NO_COLOR=1")
		out, _ := cmd.CombinedOutput()
		text := strings.ReplaceAll(string(out), "\r", "")
		if !strings.Contains(text, "LAST USED") || !strings.Contains(flat(text), "--username carol") {
			t.Fatalf("%d columns: status lacks the last use or carol's hint:\n%s", cols, text)
		}
		for _, l := range strings.Split(text, "\n") {
			if n := utf8.RuneCountInString(l); n > cols {
				t.Errorf("%d columns: a line of %d:\n%s\nin:\n%s", cols, n, l, text)
			}
		}
	}
	out, _, _ := g.run("", binPath, "status")
	for _, l := range strings.Split(out, "\n") {
		if n := utf8.RuneCountInString(l); n > 100 {
			t.Errorf("into a pipe: a line of %d:\n%s", n, l)
		}
	}
	if !strings.Contains(out, "--username carol") {
		t.Errorf("into a pipe: no hint for carol:\n%s", out)
	}
}
