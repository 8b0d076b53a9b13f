package main

import (
	"errors"
	"os/exec"
	"strings"
	"testing"
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

// TestStatusShowsAnUnreadableBackend: status used to exit 0 with every row
// "ok" while the keychain could not be reached.
func TestStatusShowsAnUnreadableBackend(t *testing.T) {
	w := newWorld(t)
	w.run("protocol=https\nhost=st.example\nusername=u\npassword=p\n", binPath, "store")
	w.env = append(w.env, "DBUS_SESSION_BUS_ADDRESS=unix:path="+w.dir+"/no-such-bus")
	out, errOut, err := w.run("", binPath, "status", "--offline")
	if exitCode(err) != 1 {
		t.Errorf("status with no keychain: exit %d, want 1\n%s%s", exitCode(err), out, errOut)
	}
	if !strings.Contains(out, "cannot be read") || !strings.Contains(out, "no D-Bus session bus") || !strings.Contains(out, "dbus-run-session") {
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
	w.run("protocol=https\nhost=b.example\nusername=u\npassword=p\n", binPath, "store")
	out, _, _ := w.run("", binPath, "status", "c.example", "--offline")
	if !strings.Contains(out, "c.example") || !strings.Contains(out, "a.example") || !strings.Contains(out, "b.example") {
		t.Errorf("status c.example does not say what is stored elsewhere:\n%s", out)
	}
}

// TestStatusOfAHostNamesOthersAsCommandsTakeThem: the other hosts were
// written as http://H:P, which status, logout and rotate refuse as a host.
func TestStatusOfAHostNamesOthersAsCommandsTakeThem(t *testing.T) {
	w := newWorld(t)
	w.run("protocol=http\nhost=127.0.0.1:8929\nusername=u\npassword=p\n", binPath, "store")
	w.run("protocol=https\nhost=a.example\nusername=u\npassword=p\n", binPath, "store")
	w.run("protocol=https\nhost=a.example\nusername=v\npassword=p\n", binPath, "store")
	out, _, _ := w.run("", binPath, "status", "c.example", "--offline")
	if strings.Contains(out, "://") || !strings.Contains(out, "127.0.0.1:8929 (http)") || strings.Count(out, "a.example") != 1 {
		t.Errorf("status c.example names the other hosts in a form the commands refuse, or twice:\n%s", out)
	}
	out, errOut, _ := w.run("", binPath, "status", "127.0.0.1:8929", "--offline")
	if !strings.Contains(out, "127.0.0.1:8929") || strings.Contains(out, "Nothing is stored") || errOut != "" {
		t.Errorf("status of the host as listed:\n%s%s", out, errOut)
	}
}
