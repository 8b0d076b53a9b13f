package main

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/glpat-dev/git-credential-glpat/internal/gitlabtest"
	"github.com/glpat-dev/git-credential-glpat/internal/keyringtest"
)

// TestKeychainFaults: each keychain fault gives its own one-line message,
// get falls through to Git's prompt (no output), store does not pretend to
// have stored, and nothing stored is lost.
func TestKeychainFaults(t *testing.T) {
	sess := keyringtest.Require(t)
	const stored = "protocol=https\nhost=fault.example\nusername=u\npassword=safe\n"
	const getReq = "protocol=https\nhost=fault.example\n"
	tests := []struct {
		name    string
		fault   func(t *testing.T, w *world) (undo func())
		wantErr string
	}{
		{
			name: "no session bus",
			fault: func(t *testing.T, w *world) func() {
				w.env = append(w.env, "DBUS_SESSION_BUS_ADDRESS=unix:path="+w.dir+"/no-such-bus")
				return func() {}
			},
			wantErr: "no D-Bus session bus",
		},
		{
			name: "a bus without a Secret Service",
			fault: func(t *testing.T, w *world) func() {
				bus, err := keyringtest.StartBusOnly()
				if err != nil {
					t.Fatal(err)
				}
				w.env = append(w.env, "DBUS_SESSION_BUS_ADDRESS="+bus.BusAddress)
				return func() { bus.Stop() }
			},
			wantErr: "no Secret Service",
		},
		{
			name: "locked collection",
			fault: func(t *testing.T, w *world) func() {
				if err := sess.Lock(); err != nil {
					t.Fatal(err)
				}
				return func() { sess.Unlock() }
			},
			wantErr: "keychain is locked",
		},
		{
			name: "keychain that never answers",
			fault: func(t *testing.T, w *world) func() {
				thaw, err := sess.Freeze()
				if err != nil {
					t.Fatal(err)
				}
				w.env = append(w.env, "GLPAT_KEYCHAIN_TIMEOUT=400ms")
				return func() { thaw() }
			},
			wantErr: "no answer after 400ms",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			if _, errOut, err := w.run(stored, binPath, "store"); err != nil {
				t.Fatalf("store: %v %q", err, errOut)
			}
			healthy := w.env
			w.env = healthy[:len(healthy):len(healthy)]
			undo := tt.fault(t, w)
			before := snapshot(t, w.dir+"/state")
			for _, c := range []struct{ op, in string }{
				{"get", getReq},
				{"store", "protocol=https\nhost=fault.example\nusername=u\npassword=new\n"},
				{"erase", getReq},
			} {
				start := time.Now()
				out, errOut, err := w.run(c.in, binPath, c.op)
				if err == nil || out != "" {
					t.Errorf("%s: exit %v, stdout %q; want a failure and no output", c.op, err, out)
				}
				if !strings.Contains(errOut, tt.wantErr) || strings.Count(errOut, "\n") != 1 {
					t.Errorf("%s: stderr = %q, want one line containing %q", c.op, errOut, tt.wantErr)
				}
				if d := time.Since(start); d > 5*time.Second {
					t.Errorf("%s took %v", c.op, d)
				}
			}
			undo()
			if after := snapshot(t, w.dir+"/state"); after != before {
				t.Errorf("state changed during the fault:\n%s\n---\n%s", before, after)
			}
			w.env = healthy
			if out, errOut, _ := w.run(getReq, binPath, "get"); out != "username=u\npassword=safe\n" {
				t.Errorf("after the fault, get = %q (stderr %q); want the credential intact", out, errOut)
			}
		})
	}
}

// TestRotateFromCronWithoutSessionBus: rotate --all as cron runs it, with
// no session bus: one line that names the credential and says what a cron
// job needs (the desktop login's bus, or a backend without one), not to
// run git in a desktop session.
func TestRotateFromCronWithoutSessionBus(t *testing.T) {
	g := newGitLabWorld(t, "")
	tok, _ := g.gl.CreateToken(gitlabtest.TokenSpec{Scopes: []string{"api"}, ExpiresAt: gitlabtest.DateOf(today().AddDate(0, 0, 5))})
	g.login(tok)
	g.env = append(g.env, "DBUS_SESSION_BUS_ADDRESS=unix:path="+g.dir+"/no-such-bus")
	out, errOut, err := g.run("", binPath, "rotate", "--all")
	bus := fmt.Sprintf("DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/%d/bus", os.Getuid())
	if exitCode(err) != 1 || strings.Count(errOut, "\n") != 1 {
		t.Fatalf("rotate --all with no bus: exit %d, want 1 and one line\nstdout %s\nstderr %s", exitCode(err), out, errOut)
	}
	for _, want := range []string{g.host + " (alice)", "no D-Bus session bus", "cron job", bus, "migrate --to kernel"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	if strings.Contains(errOut, "desktop session, or") {
		t.Errorf("stderr tells a cron job to run git in a desktop session:\n%s", errOut)
	}
	doc, _, _ := g.run("", binPath, "doctor")
	if strings.Contains(doc, "keychain: keychain:") || !strings.Contains(flat(doc), bus) {
		t.Errorf("doctor's keychain check repeats itself or lacks what cron needs:\n%s", doc)
	}
}
