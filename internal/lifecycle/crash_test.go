package lifecycle

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/glpat-dev/git-credential-glpat/internal/secrets/secretstest"
)

// A process can die at any point of a rotation. The next process must
// finish or report what the dead one left, and never send a token that
// GitLab may have revoked to the rotate endpoint (that revokes the family).
func TestCrashDuringRotation(t *testing.T) {
	t.Parallel()
	lost := []string{"the token for " + host + " may have been rotated; its answer was lost", "git-credential-glpat login " + host}
	tests := []struct {
		name string
		// days until the token expires: 10 is due, 60 is not (the
		// crashed rotation was forced, as `rotate --force` does).
		days  int
		point string
		// loseRecovery removes the recovery file after the crash, as if
		// the process died before writing it.
		loseRecovery bool
		// unsettled: the crash left a journal of a request that may
		// have been sent; until GitLab is done with it (settleAfter), the
		// old token is served while GitLab accepts it, and nothing is
		// rotated.
		unsettled bool
		// After the crash.
		wantCrashTable string
		// After the next process's Serve.
		wantServed int
		wantTable  string
		wantRotate int
		wantWarn   [][]string
	}{
		{"before the rotate request", 10, "before-rotate", false, true,
			"1:active", 2, "1:revoked->2 2:active", 1, nil},
		{"after the answer, before the keychain write", 10, "after-answer", false, false,
			"1:revoked->2 2:active", 2, "1:revoked->2 2:active", 1, nil},
		{"after the answer, with no recovery file", 10, "after-answer", true, false,
			"1:revoked->2 2:active", 0, "1:revoked->2 2:active", 1, [][]string{lost}},
		{"after the keychain write", 10, "after-store", false, false,
			"1:revoked->2 2:active", 2, "1:revoked->2 2:active", 1, nil},
		{"forced, before the rotate request", 60, "before-rotate", false, true,
			"1:active", 1, "1:active", 0, nil},
		{"forced, after the answer, before the keychain write", 60, "after-answer", false, false,
			"1:revoked->2 2:active", 2, "1:revoked->2 2:active", 1, nil},
		{"forced, after the answer, with no recovery file", 60, "after-answer", true, false,
			"1:revoked->2 2:active", 0, "1:revoked->2 2:active", 1, [][]string{lost}},
		{"forced, after the keychain write", 60, "after-store", false, false,
			"1:revoked->2 2:active", 2, "1:revoked->2 2:active", 1, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			tok, id := w.createToken(tt.days)
			w.login(tok, id)

			first := w.manager()
			first.Hook = crashAt(tt.point)
			var crashed bool
			if tt.days < 30 {
				crashed = w.serveUntilCrash(first)
			} else {
				crashed = w.rotateUntilCrash(first)
			}
			if !crashed {
				t.Fatalf("the first process did not reach %q", tt.point)
			}
			w.wantTable(tt.wantCrashTable)
			if !exists(w.journalPath()) {
				t.Errorf("no rotation journal after a crash at %q", tt.point)
			}
			if tt.loseRecovery {
				if err := os.Remove(w.recoveryPath()); err != nil {
					t.Fatalf("no recovery file after a crash at %q: %v", tt.point, err)
				}
			}

			if tt.unsettled {
				for range 2 {
					w.wantServed(w.mustServe(w.manager()), 1)
					w.wantTable("1:active")
					w.wantFiles(true, false)
				}
				w.clock.Advance(settleAfter)
			}

			got := w.mustServe(w.manager())

			w.wantServed(got, tt.wantServed)
			w.wantTable(tt.wantTable)
			if n := w.gl.Calls("rotate"); n != tt.wantRotate {
				t.Errorf("rotate calls: got %d, want %d", n, tt.wantRotate)
			}
			w.wantWarnings(0, tt.wantWarn...)
			w.wantFiles(false, false)
			rec, stored := w.stored()
			if tt.wantServed != 0 && (stored != got || rec.Token.ID != int64(tt.wantServed)) {
				t.Errorf("the store holds token %d (record id %d), want token %d", w.tokenID(stored), rec.Token.ID, tt.wantServed)
			}
			if tt.wantServed == 0 && rec.Token.Dead == "" {
				t.Errorf("the record of the lost token is not marked dead")
			}

			// Later calls: offline, same answer.
			self, rotate := w.gl.Calls("self"), w.gl.Calls("rotate")
			w.wantServed(w.mustServe(w.manager()), tt.wantServed)
			w.wantCalls(self, rotate)
		})
	}
}

// rotateUntilCrash runs a forced rotation, as `rotate --force` does, and
// reports whether it crashed.
func (w *world) rotateUntilCrash(m *Manager) (crashed bool) {
	w.t.Helper()
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(crash); !ok {
				panic(r)
			}
			crashed = true
		}
	}()
	rec, sec, err := m.Store.Lookup(context.Background(), "https", host, w.account)
	if err != nil || rec == nil {
		w.t.Fatalf("lookup: %v, %v", rec, err)
	}
	m.Rotate(context.Background(), rec, sec, true)
	return false
}

// A journal from a crash after the keychain write describes a rotation
// that finished. It must not stop (or fake) the next one.
func TestStaleJournalDoesNotPreventNextRotation(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	tok, id := w.createToken(10)
	w.login(tok, id)
	first := w.manager()
	first.Hook = crashAt("after-store")
	if !w.serveUntilCrash(first) {
		t.Fatal("no crash")
	}
	w.wantServed(w.mustServe(w.manager()), 2)

	// Token 2 (expires 2026-06-08) becomes due.
	w.clock.Set(midnight("2026-05-20"))
	got := w.mustServe(w.manager())

	w.wantServed(got, 3)
	w.wantTable("1:revoked->2 2:revoked->3 3:active")
	w.wantCalls(2, 2)
	w.wantWarnings(0)
	w.wantFiles(false, false)
}

func TestDamagedJournalIsCheckedBeforeRotating(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	tok, id := w.createToken(10)
	w.login(tok, id)
	if err := os.MkdirAll(filepath.Dir(w.journalPath()), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(w.journalPath(), []byte("{\"old_tok"), 0o600); err != nil {
		t.Fatal(err)
	}

	got := w.mustServe(w.manager())

	// GitLab still takes the old token: the journal's rotation never
	// happened, so this one goes ahead.
	w.wantServed(got, 2)
	w.wantTable("1:revoked->2 2:active")
	if n := w.gl.Calls("rotate"); n != 1 {
		t.Errorf("rotate calls: got %d, want 1", n)
	}
	w.wantFiles(false, false)
}

func TestKeychainWriteFailsAfterRotation(t *testing.T) {
	t.Parallel()
	w, fs := newFailingWorld(t)
	tok, id := w.createToken(10)
	w.login(tok, id)
	fs.arm(true)

	got := w.mustServe(w.manager())

	// The new token is not lost: Git gets it, and it waits in a file.
	w.wantServed(got, 2)
	w.wantTable("1:revoked->2 2:active")
	w.wantCalls(1, 1)
	w.wantWarnings(0, []string{"keychain refused", w.recoveryPath(), "git-credential-glpat login " + host + " --username alice --token-stdin"})
	wantPrivateFile(t, w.recoveryPath(), got+"\n")
	if _, stored := w.stored(); stored != tok {
		t.Errorf("the store holds token %d, want the old token 1 (its write failed)", w.tokenID(stored))
	}

	// While the keychain still refuses, the token from the file is served
	// and the person reminded; GitLab is not asked to rotate again.
	got = w.mustServe(w.manager())
	w.wantServed(got, 2)
	if n := w.gl.Calls("rotate"); n != 1 {
		t.Errorf("rotate calls: got %d, want 1", n)
	}
	w.wantWarnings(1, []string{"keychain refused", w.recoveryPath()})
	w.wantFiles(true, true)

	// Once the keychain takes it, the token moves there and the file goes.
	fs.arm(false)
	got = w.mustServe(w.manager())
	w.wantServed(got, 2)
	w.wantTable("1:revoked->2 2:active")
	if n := w.gl.Calls("rotate"); n != 1 {
		t.Errorf("rotate calls: got %d, want 1", n)
	}
	w.wantWarnings(2)
	w.wantFiles(false, false)
	rec, stored := w.stored()
	if stored != got || rec.Token.ID != 2 || rec.Token.ExpiresAt != "2026-06-08" {
		t.Errorf("the store holds token %d (id %d, expires %s), want token 2 expiring 2026-06-08", w.tokenID(stored), rec.Token.ID, rec.Token.ExpiresAt)
	}

	// And from then on, no API call.
	self := w.gl.Calls("self")
	w.wantServed(w.mustServe(w.manager()), 2)
	w.wantCalls(self, 1)
}

func TestRotatedTokenSavedNowhere(t *testing.T) {
	t.Parallel()
	w, fs := newFailingWorld(t)
	tok, id := w.createToken(10)
	w.login(tok, id)
	// The recovery directory cannot be made: a file is in its place.
	if err := os.MkdirAll(w.stateDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(w.stateDir, "recovery"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	fs.arm(true)

	got := w.mustServe(w.manager())

	// This one git command still gets the new token.
	w.wantServed(got, 2)
	w.wantTable("1:revoked->2 2:active")
	w.wantWarnings(0, []string{"could not be saved anywhere", "create a new token", "git-credential-glpat login " + host})

	// The old token is revoked, and the record says so: it is never
	// served again, nor sent to GitLab.
	rec, _ := w.stored()
	if rec.Token.Dead == "" {
		t.Errorf("the record of the revoked token is not marked dead")
	}
	fs.arm(false)
	w.wantServed(w.mustServe(w.manager()), 0)
	w.wantTable("1:revoked->2 2:active")
	w.wantCalls(1, 1)
	w.wantWarnings(1, []string{"revoked", "git-credential-glpat login " + host})
}

func newFailingWorld(t *testing.T) (*world, *failingSet) {
	fs := &failingSet{Store: &secretstest.Memory{}}
	return newWorld(t, onSecrets(fs)), fs
}

// wantPrivateFile checks a file's content and that it and its directory
// are private to the user.
func wantPrivateFile(t *testing.T, name, content string) {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatalf("recovery file: %v", err)
	}
	if string(b) != content {
		t.Errorf("recovery file %s does not hold exactly the served token and a newline (%d bytes)", name, len(b))
	}
	for _, f := range []struct {
		name string
		want os.FileMode
	}{{name, 0o600}, {filepath.Dir(name), 0o700}} {
		fi, err := os.Stat(f.name)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != f.want {
			t.Errorf("%s: mode %04o, want %04o", f.name, got, f.want)
		}
	}
}
