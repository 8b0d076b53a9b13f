package lifecycle

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/glpat-dev/git-credential-glpat/internal/gitlabtest"
	"github.com/glpat-dev/git-credential-glpat/internal/secrets"
	"github.com/glpat-dev/git-credential-glpat/internal/store"
)

// A token found in the state dir (a recovery file, left by a rotation whose
// new token the keychain refused, or by a process killed before it stored
// it) takes the stored token's place only when GitLab answers that it is
// active and belongs to the GitLab user of the stored token, that user
// named by the backend (the secret's envelope) or by GitLab, never by the
// index. While GitLab cannot be asked, nothing is adopted.

// plantRecovery writes tok as the account's recovery file.
func (w *world) plantRecovery(tok string) {
	w.t.Helper()
	os.MkdirAll(filepath.Dir(w.recoveryPath()), 0o700)
	if err := os.WriteFile(w.recoveryPath(), []byte(tok+"\n"), 0o600); err != nil {
		w.t.Fatal(err)
	}
}

// setIndexUserID writes user_id into the account's index record, as
// someone who can write the state dir may.
func (w *world) setIndexUserID(id int64) {
	w.t.Helper()
	rec, _ := w.stored()
	rec.Token.UserID = id
	if err := w.newStore().UpdateRecord(context.Background(), rec); err != nil {
		w.t.Fatal(err)
	}
}

// wantStored checks which token the backend holds for the account.
func (w *world) wantStored(want string) {
	w.t.Helper()
	if _, stored := w.stored(); stored != want {
		w.t.Errorf("the store holds token %d, want token %d", w.tokenID(stored), w.tokenID(want))
	}
}

// TestPlantedRecoveryFileIsNotAdopted: a journal and a recovery file
// planted for the account, the file holding another GitLab user's valid
// token, whatever the index says about the account's user. Adopting it
// would replace the user's token in the keychain (lost to the helper, still
// active on GitLab) and hand Git someone else's identity.
func TestPlantedRecoveryFileIsNotAdopted(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		// indexUser is what the index's user_id is set to: -1 leaves
		// it; 0 removes it; else mallory's id is planted.
		indexUser int
	}{
		{"the index names the user", -1},
		{"the index names no user", 0},
		{"the index names the planted token's user", 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			eachBackend(t, nil, func(t *testing.T, w *world) {
				tok, id := w.createToken(60)
				w.login(tok, id)
				other, otherID := w.create(gitlabtest.TokenSpec{Username: "mallory", ExpiresAt: gitlabtest.DateOf(w.clock.Now()).AddDays(60)})
				switch tt.indexUser {
				case 0:
					w.setIndexUserID(0)
				case 1:
					w.setIndexUserID(int64(w.gl.Token(otherID).UserID))
				}
				w.plantJournal(0)
				w.plantRecovery(other)

				w.wantServed(w.mustServe(w.manager()), id)
				w.wantStored(tok)
				w.wantTable("1:active 2:active")
				w.wantWarnings(0, []string{w.recoveryPath(), "another GitLab user", "delete the file"})
			})
		})
	}
}

// TestPlantedRecoveryFileWhileGitLabIsUnreachable: with GitLab unreachable,
// any string planted in a recovery file could be adopted. Nothing is: the
// stored token is served and kept, the file is kept for later, and one
// line says how a person can use it; GitLab is asked again after the
// back-off.
func TestPlantedRecoveryFileWhileGitLabIsUnreachable(t *testing.T) {
	t.Parallel()
	eachBackend(t, nil, func(t *testing.T, w *world) {
		w.apiTimeout = 300 * time.Millisecond
		tok, id := w.createToken(60)
		w.login(tok, id)
		planted := "glpat-plantedPLANTEDplanted0"
		w.remember(planted)
		w.plantJournal(0)
		w.plantRecovery(planted)
		w.gl.Delay(gitlabtest.EndpointSelf, time.Hour)

		w.wantServed(w.mustServe(w.manager()), id)
		w.wantStored(tok)
		w.wantFiles(true, true)
		w.wantWarnings(0, []string{"cannot ask GitLab about the token in " + w.recoveryPath(), "not used", "the stored token for " + host + " is kept",
			"git-credential-glpat login " + host + " --username alice --token-stdin < " + w.recoveryPath()})

		// Within the back-off: the stored token, no question, no line.
		calls := w.gl.Calls(gitlabtest.EndpointSelf)
		w.wantServed(w.mustServe(w.manager()), id)
		w.wantCalls(calls, 0)
		w.wantWarnings(1)
		w.wantStored(tok)
	})
}

// TestRecoveredTokenIsAdoptedOnTheBackendsWord: the keychain refuses the
// new token of a real rotation, so the stored token is revoked at GitLab
// and the new one waits in the recovery file. GitLab can no longer say
// whose the stored token was (.../self answers 401), and the index is not
// asked (here it even names another user): the user comes from the stored
// secret's envelope. Once GitLab confirms the new token as that user's, it
// is served, and stored as soon as the keychain takes it.
func TestRecoveredTokenIsAdoptedOnTheBackendsWord(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(s secrets.Store) secrets.Store { return &failingSet{Store: s} }, func(t *testing.T, w *world) {
		fs := w.secrets.(*failingSet)
		tok, id := w.createToken(10)
		w.login(tok, id)
		w.setIndexUserID(999)
		fs.arm(true)

		got := w.mustServe(w.manager())
		w.wantServed(got, 2)
		w.wantTable("1:revoked->2 2:active")
		w.wantFiles(true, true)
		w.wantStored(tok)

		// The keychain still refuses: GitLab confirms the file's token,
		// Git gets it, the file stays.
		w.wantServed(w.mustServe(w.manager()), 2)
		w.wantFiles(true, true)
		w.wantWarnings(1, []string{"keychain refused", w.recoveryPath()})

		fs.arm(false)
		w.wantServed(w.mustServe(w.manager()), 2)
		w.wantStored(got)
		w.wantFiles(false, false)
		w.wantTable("1:revoked->2 2:active")
		w.wantCalls(w.gl.Calls(gitlabtest.EndpointSelf), 1)
		rec, _ := w.stored()
		if rec.Token.ID != 2 || rec.Token.UserID != int64(w.gl.Token(2).UserID) {
			t.Errorf("the index describes token %d of user %d, want token 2 of user %d", rec.Token.ID, rec.Token.UserID, w.gl.Token(2).UserID)
		}
	})
}

// TestRecoveryWaitsWhileGitLabIsUnreachable: a process died after GitLab's
// answer, before the keychain write; GitLab then cannot be asked. The
// recovery file holds GitLab's answer, but the state dir is no authority:
// nothing is adopted, the stored token is kept (and served: nothing says
// it is revoked), the file is kept, one line says so. Once GitLab answers,
// the new token is adopted.
func TestRecoveryWaitsWhileGitLabIsUnreachable(t *testing.T) {
	t.Parallel()
	eachBackend(t, nil, func(t *testing.T, w *world) {
		w.apiTimeout = 300 * time.Millisecond
		tok, id := w.createToken(10)
		w.login(tok, id)
		first := w.manager()
		first.Hook = crashAt("after-answer")
		if !w.serveUntilCrash(first) {
			t.Fatal("no crash")
		}
		w.gl.Delay(gitlabtest.EndpointSelf, time.Hour)

		w.wantServed(w.mustServe(w.manager()), id)
		w.wantStored(tok)
		w.wantFiles(true, true)
		w.wantWarnings(0, []string{"cannot ask GitLab about the token in " + w.recoveryPath(), "the stored token for " + host + " is kept", "--token-stdin < " + w.recoveryPath()})

		w.gl.Delay(gitlabtest.EndpointSelf, 0)
		w.clock.Advance(retryAfter)
		got := w.mustServe(w.manager())
		w.wantServed(got, 2)
		w.wantStored(got)
		w.wantFiles(false, false)
		w.wantTable("1:revoked->2 2:active")
		if n := w.gl.Calls(gitlabtest.EndpointRotate); n != 1 {
			t.Errorf("rotate calls: got %d, want 1", n)
		}
		w.wantWarnings(1)
	})
}

// TestSecretWithoutItsUserIsNamedBeforeRotating: a secret stored without
// its GitLab user (by an earlier version) gets it in its envelope before
// the token is rotated, so that a successor left in the recovery file is
// recognised once the stored token is revoked.
func TestSecretWithoutItsUserIsNamedBeforeRotating(t *testing.T) {
	t.Parallel()
	eachBackend(t, nil, func(t *testing.T, w *world) {
		tok, id := w.createToken(10)
		w.login(tok, id)
		w.storeWithoutUser(tok)
		first := w.manager()
		first.Hook = crashAt("after-answer")
		if !w.serveUntilCrash(first) {
			t.Fatal("no crash")
		}
		w.setIndexUserID(0)

		got := w.mustServe(w.manager())
		w.wantServed(got, 2)
		w.wantStored(got)
		w.wantFiles(false, false)
		w.wantWarnings(0)
	})
}

// storeWithoutUser stores tok again for the account, as an earlier version
// did: an envelope that names no GitLab user.
func (w *world) storeWithoutUser(tok string) {
	w.t.Helper()
	rec, _ := w.stored()
	if err := w.newStore().Put(context.Background(), rec, &store.Secret{Password: tok}); err != nil {
		w.t.Fatal(err)
	}
}

// TestUnconfirmedSuccessorIsLeftToThePerson: the stored token is revoked,
// its envelope names no user, and the recovery file holds a live token.
// Nothing can tell whether it is the stored token's successor: it is not
// adopted, and the one line says how a person who knows it is theirs can
// use it. The stored token, which GitLab refuses, is not served.
func TestUnconfirmedSuccessorIsLeftToThePerson(t *testing.T) {
	t.Parallel()
	eachBackend(t, nil, func(t *testing.T, w *world) {
		tok, id := w.createToken(60)
		w.login(tok, id)
		w.storeWithoutUser(tok)
		found, _ := w.createToken(60)
		w.gl.Revoke(id)
		w.plantJournal(0)
		w.plantRecovery(found)

		w.wantServed(w.mustServe(w.manager()), 0)
		w.wantStored(tok)
		w.wantFiles(false, true)
		w.wantWarnings(0, []string{"GitLab no longer accepts the token for " + host, w.recoveryPath(), "cannot be confirmed",
			"git-credential-glpat login " + host + " --username alice --token-stdin < " + w.recoveryPath()})
		if got := w.mustServe(w.manager()); got != "" {
			t.Errorf("a later get served token %d, want nothing", w.tokenID(got))
		}
		for _, msg := range w.warningsSince(1) {
			if !strings.Contains(msg, "login "+host) {
				t.Errorf("a later get says %q, want the login command", msg)
			}
		}
	})
}
