package lifecycle

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/glpat-dev/git-credential-glpat/internal/gitlabtest"
	"github.com/glpat-dev/git-credential-glpat/internal/store"
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

// TestSecondAccountWaitsForAnUnknownOutcome: one token stored under two
// usernames (Git stored it for https://alice@host and https://oauth2@host).
// A rotation through alice's record ends with an unknown outcome: GitLab
// commits it after the helper stopped waiting. A get for the other record
// must not send the same token to the rotate endpoint while GitLab may
// still be acting on the first request: if that one commits, the second
// authenticates with a revoked token, and GitLab's reuse detection revokes
// the whole family, the new token included.
func TestSecondAccountWaitsForAnUnknownOutcome(t *testing.T) {
	t.Parallel()
	eachBackend(t, nil, func(t *testing.T, w *world) {
		w.apiTimeout = 300 * time.Millisecond
		tok, id := w.createToken(10)
		w.login(tok, id)
		alice := w.account
		rec, _ := w.stored()
		other := &store.Record{Protocol: "https", Host: host, Username: "oauth2", ExpiryUTC: rec.ExpiryUTC, Token: rec.Token}
		if err := w.newStore().Put(context.Background(), other, &store.Secret{Password: tok}); err != nil {
			t.Fatal(err)
		}
		w.gl.CommitRotateAfter(2 * time.Second)

		w.wantServed(w.mustServe(w.manager()), id) // alice: outcome unknown
		if n := w.gl.Calls(gitlabtest.EndpointRotate); n != 1 {
			t.Fatalf("rotate requests after the first get: %d, want 1", n)
		}
		w.account = other.Account
		w.serve(w.manager()) // the other account, within the window
		if n := w.gl.Calls(gitlabtest.EndpointRotate); n != 1 {
			t.Errorf("rotate requests: %d, want 1 (the same token was sent to rotate again while the first request's outcome was unknown)", n)
		}
		waitFor(t, func() bool { return w.gl.Token(id).Revoked })
		w.account = alice
		w.clock.Advance(settleAfter + time.Minute)
		w.serve(w.manager())
		if strings.Contains(w.table(), "2:revoked") {
			t.Errorf("GitLab revoked the new token: %s", w.table())
		}
	})
}

// TestPlantedRecoveryFileGitLabDoesNotKnow: a journal and a recovery file
// holding a string GitLab answers with a bare 401 (no token it knows, or a
// proxy answering for it). Nothing GitLab has not confirmed replaces the
// stored token.
func TestPlantedRecoveryFileGitLabDoesNotKnow(t *testing.T) {
	t.Parallel()
	eachBackend(t, nil, func(t *testing.T, w *world) {
		tok, id := w.createToken(60)
		w.login(tok, id)
		w.plantJournal(0)
		os.MkdirAll(filepath.Dir(w.recoveryPath()), 0o700)
		if err := os.WriteFile(w.recoveryPath(), []byte("glpat-plantedplantedplanted\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		w.mustServe(w.manager())
		if _, stored := w.stored(); stored != tok {
			t.Errorf("the store holds %q, want the user's token %d", stored, id)
		}
	})
}

// TestForcedRotationOfAnUnverifiedCopyWaitsForAnUnknownOutcome: the same
// token is stored for a second account, unverified (Git stored it while
// GitLab could not be asked: the index knows no token id), and rotate
// --force reaches that account while the first account's rotation has an
// unknown outcome. GitLab names the token in its answer to the check, and
// that is the token the unsettled journal names: nothing is sent.
func TestForcedRotationOfAnUnverifiedCopyWaitsForAnUnknownOutcome(t *testing.T) {
	t.Parallel()
	eachBackend(t, nil, func(t *testing.T, w *world) {
		w.apiTimeout = 300 * time.Millisecond
		tok, id := w.createToken(10)
		w.login(tok, id)
		rec, _ := w.stored()
		unverified := &store.Token{APIURL: rec.Token.APIURL, Kind: rec.Token.Kind, Unverified: true}
		other := &store.Record{Protocol: "https", Host: host, Username: "oauth2", Token: unverified}
		if err := w.newStore().Put(context.Background(), other, &store.Secret{Password: tok}); err != nil {
			t.Fatal(err)
		}
		w.gl.CommitRotateAfter(2 * time.Second)

		w.wantServed(w.mustServe(w.manager()), id) // the first account: outcome unknown
		if n := w.gl.Calls(gitlabtest.EndpointRotate); n != 1 {
			t.Fatalf("rotate requests after the first get: %d, want 1", n)
		}
		w.account = other.Account
		orec, osec, err := w.newStore().Lookup(context.Background(), "https", host, other.Account)
		if err != nil || orec == nil {
			t.Fatalf("lookup of the second account: %v", err)
		}
		w.manager().Rotate(context.Background(), orec, osec, true)
		if n := w.gl.Calls(gitlabtest.EndpointRotate); n != 1 {
			t.Errorf("rotate requests: %d, want 1 (the same token was sent to rotate again while the first request's outcome was unknown)", n)
		}
		waitFor(t, func() bool { return w.gl.Token(id).Revoked })
		if strings.Contains(w.table(), "2:revoked") {
			t.Errorf("GitLab revoked the new token: %s", w.table())
		}
	})
}
