package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
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

// host is the Git host of every test credential; its API is the fake's.
const host = "gitlab.example.com"

// t0 is a Tuesday morning, well away from any day boundary.
var t0 = time.Date(2026, 3, 10, 9, 30, 0, 0, time.UTC)

const day = 24 * time.Hour

// clock is the one clock of a test: the Manager, the store and the fake
// GitLab all read it, so a test can stand exactly on a boundary.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// glpatValue matches a token value shaped like the fake's (and GitLab's).
var glpatValue = regexp.MustCompile(`glpat-[A-Za-z0-9_-]{20}`)

// leaks gathers every warning and error text of every test, and every token
// value a test saw, for the check in TestMain.
var leaks struct {
	mu     sync.Mutex
	texts  []string
	tokens map[string]bool
}

func noteText(s string) {
	leaks.mu.Lock()
	defer leaks.mu.Unlock()
	leaks.texts = append(leaks.texts, s)
}

func noteToken(tok string) {
	if tok == "" {
		return
	}
	leaks.mu.Lock()
	defer leaks.mu.Unlock()
	if leaks.tokens == nil {
		leaks.tokens = make(map[string]bool)
	}
	leaks.tokens[tok] = true
}

// leakedIn returns the texts that hold a token value, with the value masked.
func leakedIn(texts []string, tokens map[string]bool) []string {
	var bad []string
	for _, s := range texts {
		leaked := glpatValue.MatchString(s)
		for tok := range tokens {
			if strings.Contains(s, tok) {
				leaked = true
				s = strings.ReplaceAll(s, tok, "<TOKEN>")
			}
		}
		if leaked {
			bad = append(bad, glpatValue.ReplaceAllString(s, "<TOKEN>"))
		}
	}
	return bad
}

// world is one test's fake GitLab, clock, secret storage and state
// directories. Managers made by manager share nothing else, like separate
// processes of one user.
type world struct {
	t        *testing.T
	clock    *clock
	gl       *gitlabtest.Server
	secrets  secrets.Store
	stateDir string
	storeDir string
	account  string

	mu         sync.Mutex
	settings   Settings
	apiTimeout time.Duration
	warnings   []string
	tokens     map[string]bool
}

type worldOption func(*worldConfig)

type worldConfig struct {
	secrets secrets.Store
	tls     bool
}

// onKeychain stores secrets in the real (private) keychain.
func onKeychain(t *testing.T) worldOption {
	keyringtest.Require(t)
	svc := "git-credential-glpat-lifecycle-test " + t.Name()
	return func(c *worldConfig) { c.secrets = keychain.New(svc) }
}

// onSecrets stores secrets in s.
func onSecrets(s secrets.Store) worldOption {
	return func(c *worldConfig) { c.secrets = s }
}

// overTLS serves the fake GitLab over HTTPS with its own CA.
func overTLS() worldOption { return func(c *worldConfig) { c.tls = true } }

func newWorld(t *testing.T, opts ...worldOption) *world {
	t.Helper()
	cfg := worldConfig{}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.secrets == nil {
		cfg.secrets = &secretstest.Memory{}
	}
	c := &clock{t: t0}
	var gl *gitlabtest.Server
	if cfg.tls {
		gl = gitlabtest.NewTLS(t, gitlabtest.WithClock(c.Now))
	} else {
		gl = gitlabtest.New(t, gitlabtest.WithClock(c.Now))
	}
	state := t.TempDir()
	w := &world{
		t:          t,
		clock:      c,
		gl:         gl,
		secrets:    cfg.secrets,
		stateDir:   filepath.Join(state, "state"),
		storeDir:   filepath.Join(state, "index"),
		settings:   Settings{RotateBefore: 30 * day, Lifetime: 90 * day, AutoRotate: true},
		apiTimeout: 10 * time.Second,
		tokens:     make(map[string]bool),
	}
	t.Cleanup(w.checkNoLeaks)
	return w
}

// checkNoLeaks fails the test when a warning or error held a token.
func (w *world) checkNoLeaks() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, s := range leakedIn(w.warnings, w.tokens) {
		w.t.Errorf("a warning or error holds a token: %q", s)
	}
}

func (w *world) setSettings(f func(*Settings)) {
	w.mu.Lock()
	defer w.mu.Unlock()
	f(&w.settings)
}

func (w *world) warn(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	w.mu.Lock()
	w.warnings = append(w.warnings, msg)
	w.mu.Unlock()
	noteText(msg)
}

func (w *world) remember(tok string) {
	if tok == "" {
		return
	}
	w.mu.Lock()
	w.tokens[tok] = true
	w.mu.Unlock()
	noteToken(tok)
}

// warningsSince returns the warnings given after the first n.
func (w *world) warningsSince(n int) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.warnings[min(n, len(w.warnings)):]...)
}

func (w *world) allWarnings() []string { return w.warningsSince(0) }

// newStore returns a store over the world's secrets and index directory.
func (w *world) newStore() *store.Store {
	return &store.Store{Secrets: w.secrets, Dir: w.storeDir, Clock: w.clock.Now}
}

// manager returns a Manager of its own, as a new helper process would make.
func (w *world) manager() *Manager {
	w.mu.Lock()
	timeout := w.apiTimeout
	w.mu.Unlock()
	return &Manager{
		Store:    w.newStore(),
		StateDir: w.stateDir,
		Settings: func(*store.Record) Settings {
			w.mu.Lock()
			defer w.mu.Unlock()
			return w.settings
		},
		Warn:       w.warn,
		LockWait:   30 * time.Second,
		APITimeout: timeout,
	}
}

// createToken makes a token in the fake GitLab that expires in days days
// (counted from the clock's date), with the given scopes (nil: api).
func (w *world) createToken(days int, scopes ...string) (string, int) {
	w.t.Helper()
	return w.create(gitlabtest.TokenSpec{
		Scopes:    scopes,
		ExpiresAt: gitlabtest.DateOf(w.clock.Now()).AddDays(days),
	})
}

// create makes a token in the fake GitLab.
func (w *world) create(spec gitlabtest.TokenSpec) (string, int) {
	w.t.Helper()
	tok, id := w.gl.CreateToken(spec)
	w.remember(tok)
	return tok, id
}

// today is the clock's UTC date plus days, as GitLab writes expires_at.
func (w *world) today(days int) string {
	return gitlabtest.DateOf(w.clock.Now()).AddDays(days).String()
}

// login stores tok as a managed credential, with the metadata the fake
// holds for token id, as `login` would (without an API call).
func (w *world) login(tok string, id int) {
	w.t.Helper()
	st := w.gl.Token(id)
	w.loginRecord(tok, &store.Token{
		ID:        int64(st.ID),
		Name:      st.Name,
		Scopes:    st.Scopes,
		ExpiresAt: st.ExpiresAt.String(),
		APIURL:    w.gl.APIURL(),
		Kind:      st.Kind.String(),
		UserID:    int64(st.UserID),
		OwnerID:   int64(st.OwnerID),
		CheckedAt: w.clock.Now().UTC(),
	})
}

func (w *world) loginRecord(tok string, meta *store.Token) {
	w.t.Helper()
	rec := &store.Record{Protocol: "https", Host: host, Username: "alice", Token: meta}
	if exp, ok := meta.Expiry(); ok {
		rec.ExpiryUTC = exp.Unix()
	}
	// As login does: the secret names its GitLab user.
	if err := w.newStore().Put(context.Background(), rec, &store.Secret{Password: tok, UserID: meta.UserID}); err != nil {
		w.t.Fatalf("store the token: %v", err)
	}
	w.account = rec.Account
	w.remember(tok)
}

// stored returns what the store holds for the account now.
func (w *world) stored() (*store.Record, string) {
	w.t.Helper()
	rec, sec, err := w.newStore().Lookup(context.Background(), "https", host, w.account)
	if err != nil {
		w.t.Fatalf("lookup: %v", err)
	}
	if rec == nil {
		w.t.Fatalf("lookup: the store holds no credential for %s", w.account)
	}
	return rec, sec.Password
}

// serve does what `get` does for the account: look it up, then Serve it.
// It returns the password Git would get ("" for none).
func (w *world) serve(m *Manager) (string, error) {
	w.t.Helper()
	got, err := w.tryServe(m)
	var he harnessError
	if errors.As(err, &he) {
		w.t.Fatal(err)
	}
	return got, err
}

// harnessError is a failure of the test's own steps, not of Serve.
type harnessError struct{ error }

// tryServe is serve for other goroutines than the test's: it reports
// every problem as an error.
func (w *world) tryServe(m *Manager) (string, error) {
	rec, sec, err := m.Store.Lookup(context.Background(), "https", host, w.account)
	if err != nil {
		return "", harnessError{fmt.Errorf("lookup: %w", err)}
	}
	if rec == nil {
		return "", harnessError{fmt.Errorf("lookup: the store holds no credential for %s", w.account)}
	}
	return w.serveRecord(m, rec, sec)
}

func (w *world) serveRecord(m *Manager, rec *store.Record, sec *store.Secret) (string, error) {
	got, err := m.Serve(context.Background(), rec, sec)
	if err != nil {
		w.warn("error: %v", err) // errors reach stderr too
		return "", err
	}
	gotRec, gotSec := got.Record, got.Secret
	if (gotRec == nil) != (gotSec == nil) || (gotRec == nil) != (got.Refused != NotRefused) {
		return "", harnessError{fmt.Errorf("Serve returned record %v and secret %v, refused %v: want both, or neither and a refusal", gotRec != nil, gotSec != nil, got.Refused)}
	}
	if gotRec == nil {
		return "", nil
	}
	w.remember(gotSec.Password)
	return gotSec.Password, nil
}

// mustServe is serve that fails the test on an error.
func (w *world) mustServe(m *Manager) string {
	w.t.Helper()
	got, err := w.serve(m)
	if err != nil {
		w.t.Fatalf("Serve: %v", err)
	}
	return got
}

// crash is what a Hook panics with to stop a rotation dead.
type crash struct{ point string }

// crashAt returns a Hook that stops the process at point.
func crashAt(point string) func(string) {
	return func(p string) {
		if p == point {
			panic(crash{p})
		}
	}
}

// serveUntilCrash runs serve and reports whether it crashed.
func (w *world) serveUntilCrash(m *Manager) (crashed bool) {
	w.t.Helper()
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(crash); !ok {
				panic(r)
			}
			crashed = true
		}
	}()
	w.serve(m)
	return false
}

// table describes the fake's tokens as "ID:state[->RotatedTo]", by id.
func (w *world) table() string {
	var parts []string
	for _, ts := range w.gl.Tokens() {
		state := "active"
		switch {
		case ts.Revoked:
			state = "revoked"
		case ts.Expired:
			state = "expired"
		}
		s := fmt.Sprintf("%d:%s", ts.ID, state)
		if ts.RotatedTo != 0 {
			s += fmt.Sprintf("->%d", ts.RotatedTo)
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}

func (w *world) wantTable(want string) {
	w.t.Helper()
	if got := w.table(); got != want {
		w.t.Errorf("GitLab's tokens: got %q, want %q", got, want)
	}
}

// wantCalls checks how many self and rotate requests reached the fake.
func (w *world) wantCalls(self, rotate int) {
	w.t.Helper()
	gotSelf, gotRotate := w.gl.Calls(gitlabtest.EndpointSelf), w.gl.Calls(gitlabtest.EndpointRotate)
	if gotSelf != self || gotRotate != rotate {
		w.t.Errorf("API calls: got %d self and %d rotate, want %d and %d", gotSelf, gotRotate, self, rotate)
	}
}

// tokenID is the fake's id of token value tok, 0 when it is not one.
func (w *world) tokenID(tok string) int {
	ts, ok := w.gl.TokenByValue(tok)
	if !ok {
		return 0
	}
	return ts.ID
}

// wantServed checks that Git got the token with id want (0: nothing).
func (w *world) wantServed(got string, want int) {
	w.t.Helper()
	switch {
	case want == 0 && got != "":
		w.t.Errorf("served token %d, want nothing", w.tokenID(got))
	case want != 0 && got == "":
		w.t.Errorf("served nothing, want token %d", want)
	case want != 0 && w.tokenID(got) != want:
		w.t.Errorf("served token %d, want token %d", w.tokenID(got), want)
	}
}

// wantWarnings checks that exactly the warnings after the first n each
// hold the matching substrings of want (one []string per warning).
func (w *world) wantWarnings(n int, want ...[]string) {
	w.t.Helper()
	got := w.warningsSince(n)
	if len(got) != len(want) {
		w.t.Errorf("got %d warnings, want %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
		return
	}
	for i, subs := range want {
		for _, s := range subs {
			if !strings.Contains(got[i], s) {
				w.t.Errorf("warning %d = %q, want it to say %q", i+1, got[i], s)
			}
		}
	}
}

func (w *world) journalPath() string {
	return filepath.Join(w.stateDir, "rotation", store.EscapeName(w.account)+".pending")
}

func (w *world) recoveryPath() string {
	return filepath.Join(w.stateDir, "recovery", store.EscapeName(w.account)+".token")
}

// wantFiles checks whether the rotation journal and the recovery file exist.
func (w *world) wantFiles(journal, recovery bool) {
	w.t.Helper()
	if got := exists(w.journalPath()); got != journal {
		w.t.Errorf("rotation journal exists: got %v, want %v", got, journal)
	}
	if got := exists(w.recoveryPath()); got != recovery {
		w.t.Errorf("recovery file exists: got %v, want %v", got, recovery)
	}
}

func exists(name string) bool {
	_, err := os.Stat(name)
	return err == nil
}

// midnight is 00:00 UTC on the date d.
func midnight(d string) time.Time {
	t, err := time.Parse(time.DateOnly, d)
	if err != nil {
		panic(err)
	}
	return t
}

// failingSet is a secrets.Store whose Set fails while armed, as a keychain
// that can be read but refuses a write (full, read-only, or a prompt
// dismissed) would.
type failingSet struct {
	secrets.Store
	mu    sync.Mutex
	armed bool
}

var errKeychainRefused = errors.New("keychain refused the write")

func (f *failingSet) arm(on bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.armed = on
}

func (f *failingSet) Set(ctx context.Context, account, secret string) error {
	f.mu.Lock()
	armed := f.armed
	f.mu.Unlock()
	if armed {
		return fmt.Errorf("memory: set %s: %w", account, errKeychainRefused)
	}
	return f.Store.Set(ctx, account, secret)
}
