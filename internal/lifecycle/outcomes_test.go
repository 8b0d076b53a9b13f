package lifecycle

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/glpat-dev/git-credential-glpat/internal/gitlabtest"
	"github.com/glpat-dev/git-credential-glpat/internal/keychain"
	"github.com/glpat-dev/git-credential-glpat/internal/keyringtest"
	"github.com/glpat-dev/git-credential-glpat/internal/secrets"
	"github.com/glpat-dev/git-credential-glpat/internal/secrets/secretstest"
	"github.com/glpat-dev/git-credential-glpat/internal/store"
)

// Outcomes of a rotation as GitLab's source answers them, each
// on the fake GitLab and on both the in-memory store and the real
// (private) keychain.

// eachBackend runs f on a world over memory and one over the keychain.
// wrap, when not nil, wraps the secret store of each.
func eachBackend(t *testing.T, wrap func(secrets.Store) secrets.Store, f func(t *testing.T, w *world)) {
	t.Helper()
	for _, b := range []string{"memory", "keychain"} {
		t.Run(b, func(t *testing.T) {
			t.Parallel()
			var s secrets.Store = &secretstest.Memory{}
			if b == "keychain" {
				keyringtest.Require(t)
				s = keychain.New("git-credential-glpat-lifecycle-test " + t.Name())
			}
			if wrap != nil {
				s = wrap(s)
			}
			f(t, newWorld(t, onSecrets(s)))
		})
	}
}

// TestSlowRotateCommittedAfterTheDeadline: GitLab commits a rotation after
// the helper gave up waiting. The old token is still accepted when the
// helper checks at once; that proves nothing while GitLab may still be
// acting on the request, so the helper keeps the journal and checks again
// on the next call, which finds the rotation done and says to log in
// again, rather than handing Git the revoked token.
func TestSlowRotateCommittedAfterTheDeadline(t *testing.T) {
	t.Parallel()
	eachBackend(t, nil, func(t *testing.T, w *world) {
		w.apiTimeout = 300 * time.Millisecond
		tok, id := w.createToken(10)
		w.login(tok, id)
		w.gl.CommitRotateAfter(time.Second)

		w.wantServed(w.mustServe(w.manager()), id)
		w.wantFiles(true, false)
		w.wantWarnings(0, []string{"could not rotate the token for " + host, "not known yet", "may still be acting on the request"})

		waitFor(t, func() bool { return w.gl.Token(id).Revoked })
		w.clock.Advance(time.Minute)
		w.wantServed(w.mustServe(w.manager()), 0)
		w.wantTable("1:revoked->2 2:active")
		w.wantWarnings(1, []string{"the token for " + host + " may have been rotated; its answer was lost", "git-credential-glpat login " + host})
		if n := w.gl.Calls(gitlabtest.EndpointRotate); n != 1 {
			t.Errorf("rotate requests: %d, want 1", n)
		}
		// Later calls know, and ask nothing.
		calls := w.gl.Calls(gitlabtest.EndpointSelf)
		w.wantServed(w.mustServe(w.manager()), 0)
		w.wantCalls(calls, 1)
	})
}

// TestUnknownOutcomeSettles: a rotate request that GitLab never acted on
// (it answered 502 and committed nothing). While GitLab could still be
// acting on it, each call checks the old token before serving it; once
// GitLab is done, the journal goes and rotation is tried again after the
// back-off.
func TestUnknownOutcomeSettles(t *testing.T) {
	t.Parallel()
	eachBackend(t, nil, func(t *testing.T, w *world) {
		tok, id := w.createToken(10)
		w.login(tok, id)
		w.gl.FailRotate(http.StatusBadGateway)
		w.wantServed(w.mustServe(w.manager()), id)
		w.wantCalls(2, 1)
		w.wantFiles(true, false)

		w.clock.Advance(settleAfter - time.Second)
		w.wantServed(w.mustServe(w.manager()), id)
		w.wantCalls(3, 1) // checked, not rotated
		w.wantFiles(true, false)

		w.gl.FailRotate(0)
		w.clock.Advance(retryAfter)
		w.wantServed(w.mustServe(w.manager()), 2)
		w.wantCalls(4, 2)
		w.wantTable("1:revoked->2 2:active")
		w.wantFiles(false, false)
	})
}

// waitFor polls cond for up to 20 s of real time.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out waiting")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// fullDisk is a secret store whose writes succeed, after which the index
// file cannot be replaced (as on a full disk): the index file is set aside
// and a directory put in its place, until heal.
type fullDisk struct {
	secrets.Store
	mu    sync.Mutex
	armed bool
	index string // the index file
}

func (f *fullDisk) Set(ctx context.Context, account, secret string) error {
	if err := f.Store.Set(ctx, account, secret); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.armed {
		f.armed = false
		if err := os.Rename(f.index, f.index+".aside"); err != nil {
			panic(err)
		}
		if err := os.Mkdir(f.index, 0o700); err != nil {
			panic(err)
		}
	}
	return nil
}

func (f *fullDisk) heal() {
	f.mu.Lock()
	defer f.mu.Unlock()
	os.Remove(f.index)
	os.Rename(f.index+".aside", f.index)
}

// TestFullDiskKeepsTheRotatedToken: the journal fits, the recovery file and
// the index do not, the keychain takes the new token. The new token reached
// a store: it is served, never declared lost, and the index is brought up
// to date once it can be written.
func TestFullDiskKeepsTheRotatedToken(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(s secrets.Store) secrets.Store { return &fullDisk{Store: s} }, func(t *testing.T, w *world) {
		fd := w.secrets.(*fullDisk)
		tok, id := w.createToken(10)
		w.login(tok, id)
		idx, _ := filepath.Glob(filepath.Join(w.storeDir, "*.json"))
		if len(idx) != 1 {
			t.Fatalf("index files: %v", idx)
		}
		fd.index = idx[0]
		// No room for the recovery file: its directory cannot be made.
		os.MkdirAll(w.stateDir, 0o700)
		if err := os.WriteFile(filepath.Join(w.stateDir, "recovery"), nil, 0o600); err != nil {
			t.Fatal(err)
		}
		fd.mu.Lock()
		fd.armed = true
		fd.mu.Unlock()

		got := w.mustServe(w.manager())
		w.wantServed(got, 2)
		w.wantTable("1:revoked->2 2:active")
		w.wantWarnings(0, []string{"the new token is in the keychain", "the index could not be written"})
		for _, msg := range w.allWarnings() {
			if strings.Contains(msg, "create a new token") || strings.Contains(msg, "saved anywhere") {
				t.Errorf("a stored token is declared lost: %q", msg)
			}
		}

		fd.heal()
		got = w.mustServe(w.manager())
		w.wantServed(got, 2)
		w.wantTable("1:revoked->2 2:active") // no second rotation
		rec, stored := w.stored()
		if stored != got || rec.Token.ID != 2 || rec.Token.ExpiresAt != w.today(90) || rec.Token.Dead != "" {
			t.Errorf("the index holds %+v, want token 2 expiring %s", rec.Token, w.today(90))
		}
		if rec.SecretSHA256 != store.Digest(stored) {
			t.Errorf("the index holds digest %q, want the new token's", rec.SecretSHA256)
		}
		w.wantFiles(false, false)
		// And from then on it is served from the store alone.
		calls := w.gl.Calls(gitlabtest.EndpointSelf)
		w.wantServed(w.mustServe(w.manager()), 2)
		w.wantCalls(calls, 1)
	})
}

// TestStateDirThatCannotBeWritten: a state directory that is read-only or
// full never withholds a valid token. Nothing that cannot be journaled is
// sent to GitLab, and the person hears once why rotation cannot happen.
func TestStateDirThatCannotBeWritten(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		break_ func(w *world, m *Manager)
	}{
		// The tests run as root, whom file modes do not stop: a file
		// where a directory must go fails as EROFS or ENOSPC would.
		{"no rotation directory", func(w *world, m *Manager) {
			os.MkdirAll(w.stateDir, 0o700)
			os.WriteFile(filepath.Join(w.stateDir, "rotation"), nil, 0o600)
		}},
		{"no lock file", func(w *world, m *Manager) {
			rec, _ := w.stored()
			os.MkdirAll(filepath.Dir(m.lockPath(rec)), 0o700)
			os.Symlink(filepath.Join(w.stateDir, "gone", "lock"), m.lockPath(rec))
		}},
		{"no journal", func(w *world, m *Manager) {
			os.MkdirAll(w.journalPath(), 0o700)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			eachBackend(t, nil, func(t *testing.T, w *world) {
				tok, id := w.createToken(9)
				w.login(tok, id)
				tt.break_(w, w.manager())
				for range 3 {
					w.wantServed(w.mustServe(w.manager()), id)
				}
				if n := w.gl.Calls(gitlabtest.EndpointRotate); n != 0 {
					t.Errorf("rotate requests: %d, want none", n)
				}
				// Backed off: at most the first call's check of the token.
				if n := w.gl.Calls(gitlabtest.EndpointSelf); n > 1 {
					t.Errorf("self requests: %d, want at most 1", n)
				}
				w.wantTable("1:active")
				w.wantWarnings(0, []string{"cannot rotate the token for " + host, "state directory", "cannot be written", "2026-03-19 00:00 UTC"})
			})
		})
	}
}

// TestLifetimeCap: the instance allows 60 days, the config asks for 90.
// GitLab answers 400 "Expiration date must be before D" and commits
// nothing; the helper rotates once more with D, the latest date GitLab
// allows (it refuses only a date after D), and says what to set.
func TestLifetimeCap(t *testing.T) {
	t.Parallel()
	eachBackend(t, nil, func(t *testing.T, w *world) {
		tok, id := w.createToken(10)
		w.login(tok, id)
		w.gl.SetMaxLifetime(60)

		got := w.mustServe(w.manager())
		w.wantServed(got, 2)
		w.wantTable("1:revoked->2 2:active")
		if n := w.gl.Calls(gitlabtest.EndpointRotate); n != 2 {
			t.Errorf("rotate requests: %d, want 2 (refused, then the allowed date)", n)
		}
		if st := w.gl.Token(2); st.ExpiresAt.String() != w.today(60) {
			t.Errorf("new token expires %s, want %s", st.ExpiresAt, w.today(60))
		}
		w.wantWarnings(0, []string{"at most 60 days", "until " + w.today(60), `set lifetime = "60d"`, host})
		w.wantFiles(false, false)
		w.wantServed(w.mustServe(w.manager()), 2)
		w.wantWarnings(1)
	})
	// A cap at or below rotate_before would make every call rotate: the
	// hint says to lower rotate_before too.
	eachBackend(t, nil, func(t *testing.T, w *world) {
		tok, id := w.createToken(10)
		w.login(tok, id)
		w.gl.SetMaxLifetime(20)
		w.wantServed(w.mustServe(w.manager()), 2)
		w.wantWarnings(0, []string{"at most 20 days", `set lifetime = "20d"`, `rotate_before`})
		// Due at once, but not rotated again the same day.
		w.clock.Advance(time.Hour)
		w.wantServed(w.mustServe(w.manager()), 2)
		w.wantTable("1:revoked->2 2:active")
	})
}

// TestLifetimeCapInTheUsersLanguage: GitLab words the refusal in the
// user's language ("Expiration date muss vor D liegen"); the date is what
// the helper reads.
func TestLifetimeCapInTheUsersLanguage(t *testing.T) {
	t.Parallel()
	eachBackend(t, nil, func(t *testing.T, w *world) {
		tok, id := w.createToken(10)
		w.login(tok, id)
		w.gl.SetLocale("alice", "de")
		w.gl.SetMaxLifetime(60)
		w.wantServed(w.mustServe(w.manager()), 2)
		if st := w.gl.Token(2); st.ExpiresAt.String() != w.today(60) {
			t.Errorf("new token expires %s, want %s", st.ExpiresAt, w.today(60))
		}
		w.wantWarnings(0, []string{"at most 60 days", `set lifetime = "60d"`})
	})
}

// TestRotationNearMidnightOnAnInstanceBehindUTC: at 02:30 UTC it is still
// yesterday in Los Angeles, and an instance set to that time zone counts
// its caps from its own today. The helper reads the zone from GitLab's
// timestamps: a 365-day rotation is accepted as it is, and a policy's
// refusal is taken at its word, with the days the policy allows.
func TestRotationNearMidnightOnAnInstanceBehindUTC(t *testing.T) {
	t.Parallel()
	la, err := time.LoadLocation("America/Los_Angeles")
	if err != nil {
		t.Fatal(err)
	}
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		zone       *time.Location
		now        time.Time
		lifetime   int
		policy     int
		wantExpiry string
		rotates    int
		warning    []string
	}{
		{"365 days, behind UTC", la, time.Date(2026, 3, 10, 2, 30, 0, 0, time.UTC), 365, 0, "2027-03-09", 1, nil},
		{"a 60-day policy, behind UTC", la, time.Date(2026, 3, 10, 2, 30, 0, 0, time.UTC), 90, 60, "2026-05-08", 2, []string{"at most 60 days", `set lifetime = "60d"`}},
		{"a 60-day policy, ahead of UTC", tokyo, time.Date(2026, 3, 10, 20, 0, 0, 0, time.UTC), 90, 60, "2026-05-10", 2, []string{"at most 60 days", `set lifetime = "60d"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			w.clock.Set(tt.now)
			w.gl.SetTimeZone(tt.zone)
			w.gl.SetMaxLifetime(tt.policy)
			w.setSettings(func(s *Settings) { s.Lifetime = time.Duration(tt.lifetime) * day })
			tok, id := w.createToken(10)
			w.login(tok, id)
			w.clock.Advance(time.Minute)
			w.wantServed(w.mustServe(w.manager()), 2)
			if st := w.gl.Token(2); st.ExpiresAt.String() != tt.wantExpiry {
				t.Errorf("new token expires %s, want %s", st.ExpiresAt, tt.wantExpiry)
			}
			if n := w.gl.Calls(gitlabtest.EndpointRotate); n != tt.rotates {
				t.Errorf("rotate requests: %d, want %d", n, tt.rotates)
			}
			if tt.warning == nil {
				w.wantWarnings(0)
			} else {
				w.wantWarnings(0, tt.warning)
			}
		})
	}
}

// TestForbiddenIsRetried: a 403 that is not insufficient_scope (a blocked
// account, terms not accepted, a proxy) clears up without a new login: it
// is reported with GitLab's message and tried again after the back-off.
func TestForbiddenIsRetried(t *testing.T) {
	t.Parallel()
	eachBackend(t, nil, func(t *testing.T, w *world) {
		tok, id := w.createToken(10)
		w.login(tok, id)
		w.gl.FailRotate(http.StatusForbidden)
		w.wantServed(w.mustServe(w.manager()), id)
		w.wantWarnings(0, []string{"could not rotate the token for " + host, "403 Forbidden"})
		if rec, _ := w.stored(); rec.Token.CannotRotate {
			t.Errorf("a 403 without insufficient_scope switched rotation off")
		}
		w.gl.FailRotate(0)
		w.clock.Advance(retryAfter)
		w.wantServed(w.mustServe(w.manager()), 2)
		w.wantTable("1:revoked->2 2:active")
	})
}

// TestDPoPKeepsServing: with DPoP switched on, GitLab answers API requests
// without a DPoP proof 401 dpop_error; Git over HTTPS still takes the
// token. It is not dead: served, with the reason.
func TestDPoPKeepsServing(t *testing.T) {
	t.Parallel()
	eachBackend(t, nil, func(t *testing.T, w *world) {
		tok, id := w.createToken(10)
		w.login(tok, id)
		w.gl.RequireDPoP("alice", true)
		w.wantServed(w.mustServe(w.manager()), id)
		w.wantWarnings(0, []string{"could not rotate the token for " + host, "DPoP"})
		if rec, _ := w.stored(); rec.Token.Dead != "" {
			t.Errorf("the token is marked dead (%s)", rec.Token.Dead)
		}
		w.clock.Advance(retryAfter)
		w.wantServed(w.mustServe(w.manager()), id)
	})
}

// TestBotFallsBackToPersonalEndpoint: a project bot's token whose own
// endpoint refuses without committing (a resource it is not of: 401; a
// GitLab before 17.9: 400) rotates at the personal endpoint, which takes
// bots' tokens too.
func TestBotFallsBackToPersonalEndpoint(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		setup func(w *world, repo, other gitlabtest.Repo) (ownerInRecord int)
	}{
		{"resource mismatch", func(w *world, repo, other gitlabtest.Repo) int { return other.ID }},
		{"GitLab 17.8", func(w *world, repo, other gitlabtest.Repo) int { w.gl.SetVersion("17.8.2"); return repo.ID }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			eachBackend(t, nil, func(t *testing.T, w *world) {
				repo := w.gl.CreateRepo("acme/widgets")
				other := w.gl.CreateRepo("acme/gadgets")
				tok, id := w.create(gitlabtest.TokenSpec{Kind: gitlabtest.ProjectToken, OwnerID: repo.ID, Scopes: []string{"api"}, ExpiresAt: gitlabtest.DateOf(w.clock.Now()).AddDays(10)})
				w.login(tok, id)
				owner := tt.setup(w, repo, other)
				rec, _ := w.stored()
				rec.Token.OwnerID = int64(owner)
				if err := w.newStore().UpdateRecord(context.Background(), rec); err != nil {
					t.Fatal(err)
				}
				w.wantServed(w.mustServe(w.manager()), 2)
				w.wantTable("1:revoked->2 2:active")
				if n := w.gl.Calls(gitlabtest.EndpointRotate); n != 2 {
					t.Errorf("rotate requests: %d, want 2", n)
				}
				w.wantWarnings(0)
			})
		})
	}
}

// TestGitLabWithoutSelfRotation: GitLab before 16.10 has no personal
// self-rotate endpoint, nor before 17.9 a project or group one: 16.0 and
// later route the path to a rotate-by-id route that answers 401 (404 for
// an administrator), older ones answer the API's 404. With .../self
// accepting the token and GET /version saying so, the helper says once
// that this GitLab cannot rotate, with the version and which version can,
// and does not ask again on every back-off.
func TestGitLabWithoutSelfRotation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		version string
		admin   bool
		kind    gitlabtest.Kind
		rotates int // requests before the helper knows
	}{
		{"user on 16.9", "16.9.1", false, gitlabtest.Personal, 1},
		{"administrator on 16.8", "16.8.1", true, gitlabtest.Personal, 1},
		{"15.11", "15.11.0", false, gitlabtest.Personal, 1},
		{"project token on 16.9", "16.9.0", false, gitlabtest.ProjectToken, 2},
		{"project token on 15.11", "15.11.0", false, gitlabtest.ProjectToken, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			eachBackend(t, nil, func(t *testing.T, w *world) {
				w.gl.SetVersion(tt.version)
				spec := gitlabtest.TokenSpec{Kind: tt.kind, ExpiresAt: gitlabtest.DateOf(w.clock.Now()).AddDays(10)}
				if tt.kind == gitlabtest.ProjectToken {
					spec.OwnerID = w.gl.CreateRepo("acme/widgets").ID
				}
				tok, id := w.create(spec)
				w.gl.SetAdmin(w.gl.Token(id).Username, tt.admin)
				w.login(tok, id)
				w.wantServed(w.mustServe(w.manager()), id)
				w.wantWarnings(0, []string{"this GitLab (" + tt.version + ") cannot rotate tokens itself", "16.10", "17.9", "2026-03-20 00:00 UTC", "git-credential-glpat login " + host})
				if n := w.gl.Calls(gitlabtest.EndpointRotate); n != tt.rotates {
					t.Errorf("rotate requests: %d, want %d", n, tt.rotates)
				}
				for range 3 {
					w.clock.Advance(retryAfter)
					w.wantServed(w.mustServe(w.manager()), id)
				}
				if n := w.gl.Calls(gitlabtest.EndpointRotate); n != tt.rotates {
					t.Errorf("rotate requests after the answer: %d more, want none", n-tt.rotates)
				}
				w.wantWarnings(1)
				rec, _ := w.stored()
				if st := w.manager().State(rec); st.State != NoSelfRotation {
					t.Errorf("state %v, want %v", st.State, NoSelfRotation)
				}
				// Asked again after a week, in case GitLab was upgraded.
				w.gl.SetVersion("")
				w.clock.Advance(recheckNoSelfRotation)
				w.mustServe(w.manager())
				if rec, _ := w.stored(); rec.Token.ID == int64(id) {
					t.Errorf("not rotated a week later on an upgraded GitLab")
				}
			})
		})
	}
}

// TestBare401FromRotateIsNotAMissingEndpoint: a 401 from the rotate
// endpoint of a GitLab that has it (a proxy's, say) says nothing about
// the endpoint: rotation is tried again after the back-off, never
// switched off.
func TestBare401FromRotateIsNotAMissingEndpoint(t *testing.T) {
	t.Parallel()
	eachBackend(t, nil, func(t *testing.T, w *world) {
		tok, id := w.createToken(10)
		w.login(tok, id)
		w.gl.FailRotate(http.StatusUnauthorized)
		w.wantServed(w.mustServe(w.manager()), id)
		w.wantWarnings(0, []string{"could not rotate the token for " + host, "401"})
		rec, _ := w.stored()
		if rec.Token.NoSelfRotation != "" {
			t.Errorf("a 401 on a GitLab with self-rotation switched rotation off: %s", rec.Token.NoSelfRotation)
		}
		w.gl.FailRotate(0)
		w.clock.Advance(retryAfter)
		w.wantServed(w.mustServe(w.manager()), 2)
	})
}

// TestWrongDerivedAPIURL: GitLab served under a path (a relative URL root):
// the API URL derived from the host answers 404 at .../self. The helper
// says to set api_url, and keeps serving the token.
func TestWrongDerivedAPIURL(t *testing.T) {
	t.Parallel()
	eachBackend(t, nil, func(t *testing.T, w *world) {
		tok, id := w.createToken(10)
		w.login(tok, id)
		rec, _ := w.stored()
		rec.Token.APIURL = w.gl.URL + "/elsewhere/api/v4"
		if err := w.newStore().UpdateRecord(context.Background(), rec); err != nil {
			t.Fatal(err)
		}
		w.wantServed(w.mustServe(w.manager()), id)
		w.wantWarnings(0, []string{"set api_url", "[hosts." + `"` + host + `"]`})
	})
}

// TestCutAnswerIsAdopted: GitLab rotated and its answer broke off after the
// new token. The token is the only copy: it is stored and served, and its
// metadata is fetched on the next call.
func TestCutAnswerIsAdopted(t *testing.T) {
	t.Parallel()
	eachBackend(t, nil, func(t *testing.T, w *world) {
		tok, id := w.createToken(10)
		w.login(tok, id)
		w.gl.CutRotateAnswer(true)
		w.wantServed(w.mustServe(w.manager()), 2)
		w.wantTable("1:revoked->2 2:active")
		w.wantWarnings(0)
		w.gl.CutRotateAnswer(false)
		w.clock.Advance(retryAfter)
		w.wantServed(w.mustServe(w.manager()), 2)
		rec, _ := w.stored()
		if rec.Token.ID != 2 || rec.Token.Unverified || rec.Token.ExpiresAt != w.today(90) {
			t.Errorf("record after the next call: %+v, want token 2 verified, expiring %s", rec.Token, w.today(90))
		}
		w.wantFiles(false, false)
	})
}

// TestUnsettledWhileGitLabIsUnreachable: while a rotate's outcome is
// unsettled, the old token is checked on every call only as long as
// GitLab answers the checks; once it stops answering, the back-off holds,
// so that git commands do not each wait for a timeout.
func TestUnsettledWhileGitLabIsUnreachable(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.apiTimeout = 200 * time.Millisecond
	tok, id := w.createToken(10)
	w.login(tok, id)
	w.gl.FailRotate(http.StatusBadGateway)
	w.wantServed(w.mustServe(w.manager()), id)
	w.wantCalls(2, 1)

	w.gl.Delay(gitlabtest.EndpointSelf, time.Hour) // GitLab stops answering
	w.clock.Advance(time.Second)
	w.wantServed(w.mustServe(w.manager()), id)
	w.wantCalls(3, 1) // one check, which timed out
	for range 3 {
		w.clock.Advance(time.Second)
		w.wantServed(w.mustServe(w.manager()), id)
	}
	w.wantCalls(3, 1) // backing off: no more checks
	w.wantFiles(true, false)
}

// TestRateLimitedRotation: GitLab's rate limiters answer 429, having done
// nothing. With Retry-After and RateLimit-Reset (Rack::Attack) the helper
// asks no earlier than they say, however long that is, and says so; the
// application limiter's JSON gives no time, and the usual back-off holds.
func TestRateLimitedRotation(t *testing.T) {
	t.Parallel()
	t.Run("Rack::Attack", func(t *testing.T) {
		t.Parallel()
		eachBackend(t, nil, func(t *testing.T, w *world) {
			tok, id := w.createToken(10)
			w.login(tok, id)
			w.gl.ThrottleRotate(gitlabtest.RackAttack, 40*time.Minute)
			w.wantServed(w.mustServe(w.manager()), id)
			w.wantWarnings(0, []string{"could not rotate the token for " + host, "rate-limited until 10:10 UTC", "keeps working until 2026-03-20 00:00 UTC"})
			rec, _ := w.stored()
			if st := w.manager().State(rec); st.Outcome != RotationFailed || !st.RetryAt.Equal(t0.Add(40*time.Minute)) || !strings.Contains(st.Why, "rate-limited until 10:10 UTC") {
				t.Errorf("state: outcome %d, retry at %s, why %q; want failed, retried at 10:10, rate-limited", st.Outcome, st.RetryAt, st.Why)
			}
			for _, d := range []time.Duration{retryAfter, 20 * time.Minute, 4*time.Minute + 59*time.Second} {
				w.clock.Advance(d)
				w.wantServed(w.mustServe(w.manager()), id)
			}
			if n := w.gl.Calls(gitlabtest.EndpointRotate); n != 1 {
				t.Errorf("rotate requests before the reset: %d, want 1", n)
			}
			w.clock.Advance(time.Second)
			w.wantServed(w.mustServe(w.manager()), 2)
			w.wantWarnings(1)
		})
	})
	t.Run("application limiter", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		tok, id := w.createToken(10)
		w.login(tok, id)
		w.gl.ThrottleRotate(gitlabtest.ApplicationLimiter, 20*time.Minute)
		w.wantServed(w.mustServe(w.manager()), id)
		w.wantWarnings(0, []string{"could not rotate the token for " + host, "rate-limited", "requested too many times"})
		w.clock.Advance(retryAfter)
		w.wantServed(w.mustServe(w.manager()), id) // throttled again
		w.clock.Advance(retryAfter)
		w.wantServed(w.mustServe(w.manager()), 2)
		if n := w.gl.Calls(gitlabtest.EndpointRotate); n != 3 {
			t.Errorf("rotate requests: %d, want 3", n)
		}
	})
}

// TestLegacyTokenRotationDisabled: GitLab 18 with fine-grained tokens
// enforced refuses to rotate a legacy token (400, before anything is
// done). The token cannot rotate itself there: the helper says once that a
// fine-grained token is needed, and does not ask again on every back-off.
func TestLegacyTokenRotationDisabled(t *testing.T) {
	t.Parallel()
	eachBackend(t, nil, func(t *testing.T, w *world) {
		tok, id := w.createToken(10)
		w.login(tok, id)
		w.gl.EnforceFineGrainedTokens(true)
		w.wantServed(w.mustServe(w.manager()), id)
		w.wantWarnings(0, []string{"disabled the rotation of legacy personal access tokens", "fine-grained", "2026-03-20 00:00 UTC", "git-credential-glpat login " + host})
		for range 4 {
			w.clock.Advance(retryAfter)
			w.wantServed(w.mustServe(w.manager()), id)
		}
		if n := w.gl.Calls(gitlabtest.EndpointRotate); n != 1 {
			t.Errorf("rotate requests: %d, want 1", n)
		}
		w.wantWarnings(1)
		rec, _ := w.stored()
		if st := w.manager().State(rec); st.State != NoSelfRotation || !strings.Contains(st.Why, "fine-grained") {
			t.Errorf("state %v (%q), want %v saying a fine-grained token is needed", st.State, st.Why, NoSelfRotation)
		}
	})
}

// TestRevokedWhileTheOutcomeIsUnknown: GitLab answered the rotation 500
// (and did nothing), then the person revoked the token by hand. GitLab no
// longer accepts it, and nothing it says tells a rotation from a
// revocation: the helper says what it does not know, never "GitLab rotated
// the token".
func TestRevokedWhileTheOutcomeIsUnknown(t *testing.T) {
	t.Parallel()
	eachBackend(t, nil, func(t *testing.T, w *world) {
		tok, id := w.createToken(10)
		w.login(tok, id)
		w.gl.FailRotate(http.StatusInternalServerError)
		w.wantServed(w.mustServe(w.manager()), id)
		w.wantWarnings(0, []string{"could not rotate the token for " + host, "not known yet"})
		w.gl.Revoke(id)
		w.clock.Advance(time.Minute)
		w.wantServed(w.mustServe(w.manager()), 0)
		w.wantWarnings(1, []string{"may have been rotated", "revoked meanwhile", "git-credential-glpat login " + host})
		w.wantServed(w.mustServe(w.manager()), 0)
		w.wantWarnings(2, []string{"may have been rotated", "git-credential-glpat login " + host})
		for _, msg := range w.allWarnings() {
			if strings.Contains(msg, "GitLab rotated the token") {
				t.Errorf("a guess stated as fact: %q", msg)
			}
		}
		rec, _ := w.stored()
		m := w.manager()
		st := m.State(rec)
		v := m.Describe(rec, st, Found{}, w.clock.Now())
		if st.Outcome != AnswerLost || !strings.Contains(st.OutcomeText(w.clock.Now()), "may have been rotated") || !strings.Contains(v.Problem, "may have been rotated") {
			t.Errorf("state: outcome %d, %q, verdict %q; want the answer lost, saying it may have been rotated", st.Outcome, st.OutcomeText(w.clock.Now()), v.Problem)
		}
	})
}

// TestOutcomeTextWhileUnsettled: what State says of a rotation whose
// outcome is not known yet: when it was sent and when to try again.
func TestOutcomeTextWhileUnsettled(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	tok, id := w.createToken(10)
	w.login(tok, id)
	w.gl.FailRotate(http.StatusBadGateway)
	w.clock.Set(time.Date(2026, 3, 10, 14, 2, 0, 0, time.UTC))
	w.wantServed(w.mustServe(w.manager()), id)
	rec, _ := w.stored()
	st := w.manager().State(rec)
	want := "a rotation sent at 14:02 UTC may still be in progress at GitLab; try again after 14:07 UTC"
	if st.Outcome != OutcomeUnknown || st.OutcomeText(w.clock.Now()) != want {
		t.Errorf("outcome %d, %q; want unknown, %q", st.Outcome, st.OutcomeText(w.clock.Now()), want)
	}
}
