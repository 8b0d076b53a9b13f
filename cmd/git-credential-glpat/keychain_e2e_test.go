package main

import (
	"strings"
	"testing"
	"time"

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
