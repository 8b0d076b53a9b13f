package lifecycle

import (
	"encoding/json"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/glpat-dev/git-credential-glpat/internal/gitlabtest"
)

// Someone who can write the state dir plants files in the rotation and
// recovery directories (README, security model: they cannot hang get with
// a FIFO, nor make the helper replace a secret with one of their choosing
// on a backend other than encrypted-file).

// serveWithin runs a serve and fails the test if it has not returned
// after a minute: a FIFO opened for reading blocks for ever.
func (w *world) serveWithin(m *Manager) string {
	w.t.Helper()
	type result struct {
		got string
		err error
	}
	done := make(chan result, 1)
	go func() {
		got, err := w.tryServe(m)
		done <- result{got, err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			w.t.Fatalf("Serve: %v", r.err)
		}
		return r.got
	case <-time.After(time.Minute):
		w.t.Fatal("get hangs on a FIFO in the state dir")
		return ""
	}
}

func (w *world) plantJournal(oldID int64) {
	w.t.Helper()
	os.MkdirAll(filepath.Dir(w.journalPath()), 0o700)
	b, _ := json.Marshal(journal{OldTokenID: oldID, StartedAt: w.clock.Now().Add(-time.Hour).UTC(), Host: host})
	if err := os.WriteFile(w.journalPath(), b, 0o600); err != nil {
		w.t.Fatal(err)
	}
}

// TestPlantedFIFOsDoNotHang: a FIFO where the rotation journal or the
// recovery file would be.
func TestPlantedFIFOsDoNotHang(t *testing.T) {
	t.Parallel()
	// "finished": a journal naming another token than the stored one,
	// which get tidies away with the recovery file.
	for _, which := range []string{"journal", "recovery", "finished"} {
		t.Run(which, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			tok, id := w.createToken(10)
			w.login(tok, id)
			name := w.journalPath()
			switch which {
			case "recovery":
				w.plantJournal(0)
				name = w.recoveryPath()
			case "finished":
				w.plantJournal(99)
				name = w.recoveryPath()
			}
			os.MkdirAll(filepath.Dir(name), 0o700)
			if err := syscall.Mkfifo(name, 0o600); err != nil {
				t.Fatal(err)
			}
			got := w.serveWithin(w.manager())
			if id := w.tokenID(got); id != 1 && id != 2 {
				t.Errorf("served token %d, want token 1 or its successor", id)
			}
		})
	}
}

// TestPlantedRecoveryFileOfAnotherUser: a journal and a recovery file that
// hold another user's valid token. The helper must not adopt it: that
// would replace the user's token in the keychain (lost to the helper) and
// hand Git someone else's identity.
func TestPlantedRecoveryFileOfAnotherUser(t *testing.T) {
	t.Parallel()
	eachBackend(t, nil, func(t *testing.T, w *world) {
		tok, id := w.createToken(60)
		w.login(tok, id)
		other, _ := w.create(gitlabtest.TokenSpec{Username: "mallory", ExpiresAt: gitlabtest.DateOf(w.clock.Now()).AddDays(60)})
		w.plantJournal(0)
		os.MkdirAll(filepath.Dir(w.recoveryPath()), 0o700)
		if err := os.WriteFile(w.recoveryPath(), []byte(other+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		w.wantServed(w.mustServe(w.manager()), id)
		if _, stored := w.stored(); stored != tok {
			t.Errorf("the store holds token %d, want the user's token %d", w.tokenID(stored), id)
		}
		w.wantTable("1:active 2:active")
	})
}
