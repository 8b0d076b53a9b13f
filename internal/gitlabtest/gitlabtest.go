// Package gitlabtest is a fake GitLab for tests, true to GitLab's docs and source.
//
// It serves the access token API of personal, project and group tokens and
// Git smart HTTP, at these paths under Server.URL:
//
//	GET    /api/v4/personal_access_tokens/self             any scope
//	DELETE /api/v4/personal_access_tokens/self             any scope; revokes, 204
//	POST   /api/v4/personal_access_tokens/self/rotate      api or self_rotate
//	GET    /api/v4/personal_access_tokens/:id              api or read_api; own tokens
//	DELETE /api/v4/personal_access_tokens/:id              api; own tokens
//	POST   /api/v4/projects/:id/access_tokens/self/rotate  api or self_rotate; project bots
//	POST   /api/v4/groups/:id/access_tokens/self/rotate    api or self_rotate; group bots
//	GET    /api/v4/user                                    api, read_api or read_user
//	GET    /api/v4/version                                 api, read_api or read_user
//	GET    /<namespace>/<project>.git/info/refs?service=git-upload-pack|git-receive-pack
//	POST   /<namespace>/<project>.git/git-upload-pack
//	POST   /<namespace>/<project>.git/git-receive-pack
//
// and GitLab's OAuth 2.0 provider under /oauth/ (see oauth.go: the
// authorization code and device grants, refresh, revoke, token info).
//
// API requests authenticate with a PRIVATE-TOKEN header, a private_token query
// parameter or "Authorization: Bearer"; Git requests with HTTP Basic auth
// (any username, blank included, the token as password; an OAuth access
// token under the username oauth2). Git is the real
// `git http-backend`, run through net/http/cgi.
//
// Time comes from the clock given with WithClock, so a test can stand exactly
// on an expiry boundary. Faults (FailRotate, DropAfterRotateCommit,
// ResetRotate, CutRotateAnswer, CommitRotateAfter, ThrottleRotate, Delay,
// SlowSelfAnswer, Garbage, ProxyUnauthorized), instance settings
// (SetVersion, SetMaxLifetime, SetTokenPrefix, SetTokenFormat, SetTimeZone,
// EnforceFineGrainedTokens) and users' (RequireDPoP, SetAdmin, SetLocale)
// can be switched at any time. Every method of Server is safe for
// concurrent use, and the server handles many concurrent clients (helper
// processes as well as goroutines of the test itself).
//
// Token values are secrets even in tests: the package never logs them, and
// TokenState does not carry them.
package gitlabtest

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"hash/crc32"
	"log"
	mathrand "math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Endpoint names, as used by Calls, Delay and Garbage.
const (
	// EndpointSelf is GET /personal_access_tokens/self.
	EndpointSelf = "self"
	// EndpointToken is GET /personal_access_tokens/:id.
	EndpointToken = "token"
	// EndpointRevoke is DELETE /personal_access_tokens/self and /:id.
	EndpointRevoke = "revoke"
	// EndpointRotate is every self-rotate endpoint: personal, project and group.
	EndpointRotate = "rotate"
	// EndpointUser is GET /user.
	EndpointUser = "user"
	// EndpointGit is every Git smart HTTP request.
	EndpointGit = "git"
	// EndpointGitAuthFail counts Git requests that brought credentials which
	// failed to authenticate. GitLab bans an IP address for a while after too
	// many of these (https://docs.gitlab.com/rate_limits/abuse_bans/; GitLab.com
	// has its own limits), so a helper must never hand Git a dead token. Only
	// Calls accepts it.
	EndpointGitAuthFail = "git-auth-fail"
)

var endpoints = []string{EndpointSelf, EndpointToken, EndpointRevoke, EndpointRotate, EndpointUser, EndpointGit, EndpointGitAuthFail,
	EndpointOAuthToken, EndpointOAuthRefresh, EndpointOAuthDevice, EndpointOAuthRevoke, EndpointOAuthInfo} // the OAuth provider's: oauth.go

// Kind is the kind of an access token.
type Kind int

const (
	// Personal is a personal access token of a human user.
	Personal Kind = iota
	// ProjectToken is a project access token; its user is a bot.
	ProjectToken
	// GroupToken is a group access token; its user is a bot.
	GroupToken
)

func (k Kind) String() string {
	switch k {
	case Personal:
		return "personal"
	case ProjectToken:
		return "project"
	case GroupToken:
		return "group"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// TokenSpec describes a token for CreateToken. Zero fields get defaults.
type TokenSpec struct {
	// Username owns a personal token; default "alice". The user is created on
	// first use. Project and group tokens each get their own bot user, as in
	// GitLab, named like current GitLab names them (project_<id>_bot_<hex>)
	// unless Username gives another form (older GitLab named them
	// project_<id>_bot or project_<id>_bot<N>).
	Username string
	// Name of the token; default "test-token".
	Name string
	// Description of the token; empty answers as null, as GitLab does.
	Description string
	// Scopes of the token; default ["api"]. Not checked against a list, so a
	// test can use any scope name.
	Scopes []string
	// ExpiresAt is the date the token stops working, at 00:00 UTC. The zero
	// Date is a token without expiry (expires_at null), which GitLab still
	// allows where expiry is not enforced.
	ExpiresAt Date
	// Kind of token; default Personal.
	Kind Kind
	// OwnerID is the project id (ProjectToken) or group id (GroupToken).
	// Required for those kinds; see Repo for ids of created repositories.
	OwnerID int
	// AccessLevel of a project or group token; default 40 (Maintainer). It is
	// reported in rotate answers but not enforced.
	AccessLevel int
}

// TokenState is a snapshot of one token. It never holds the token's value.
type TokenState struct {
	ID          int
	Name        string
	Description string
	Kind        Kind
	// OwnerID is the project or group id of a project or group token.
	OwnerID     int
	AccessLevel int
	UserID      int
	Username    string
	// Bot is true for the users of project and group tokens.
	Bot       bool
	Scopes    []string
	CreatedAt time.Time
	// ExpiresAt is the zero Date for a token without expiry.
	ExpiresAt Date
	Revoked   bool
	// Expired is judged with the server clock when the snapshot is taken.
	Expired bool
	// Active is !Revoked && !Expired, as GitLab reports it.
	Active      bool
	LastUsedAt  time.Time
	LastUsedIPs []string
	// RotatedFrom is the id of the token this one replaced, 0 if none.
	RotatedFrom int
	// RotatedTo is the id of the token that replaced this one, 0 if none.
	RotatedTo int
	// Family is the id of the first token of the rotation chain (the token
	// itself when it was never rotated from another).
	Family int
	// Fingerprint identifies the token without revealing it: "glpat-…x7Qa".
	Fingerprint string
}

// String describes the token for test failure messages; it holds no secret.
func (t TokenState) String() string {
	state := "active"
	switch {
	case t.Revoked:
		state = "revoked"
	case t.Expired:
		state = "expired"
	}
	exp := t.ExpiresAt.String()
	if exp == "" {
		exp = "never"
	}
	return fmt.Sprintf("token %d %q (%s, user %s, scopes %v, expires %s, %s, %s)",
		t.ID, t.Name, t.Kind, t.Username, t.Scopes, exp, state, t.Fingerprint)
}

// Option configures a Server.
type Option func(*Server)

// WithClock makes the server read the time from now instead of time.Now. It
// decides expiry, default expiry dates and timestamps; now must be safe for
// concurrent use.
func WithClock(now func() time.Time) Option {
	return func(s *Server) { s.now = now }
}

// WithRelativeURLRoot serves GitLab under a path, as an installation with
// a relative URL root does (https://docs.gitlab.com/install/relative_url/):
// URL ends in root, the API is at URL+"/api/v4", and nothing outside root
// answers but the 404 page.
func WithRelativeURLRoot(root string) Option {
	return func(s *Server) { s.root = "/" + strings.Trim(root, "/") }
}

// Server is a running fake GitLab. Create it with New or NewTLS; it is closed
// by the test's Cleanup.
type Server struct {
	// URL is the base URL, such as http://127.0.0.1:PORT, without a slash at
	// the end. The API is at URL+"/api/v4".
	URL string

	tb       testing.TB
	srv      *httptest.Server
	root     string // the relative URL root, "" for none
	now      func() time.Time
	done     chan struct{} // closed when the test ends, to cut delays short
	repoRoot string        // GIT_PROJECT_ROOT
	gitHome  string        // HOME for git processes

	mu       sync.Mutex
	tokens   map[int]*token
	bySecret map[string]*token
	users    map[string]*user // by username
	repos    map[string]*Repo // by path without .git
	groups   map[string]int   // group path -> id
	nextID   struct{ token, user, project, group int }
	calls    map[string]int

	// instance settings
	version     string // "" answers as the newest GitLab
	maxLifetime int    // days; 0 is GitLab's default, maxLifetimeDays
	prefix      string // personal_access_token_prefix; "" is "glpat-"
	format      TokenFormat
	dpopUsers   map[string]bool
	more        instance // the settings of instance.go

	// faults
	failRotate  int
	dropRotate  bool
	resetRotate bool
	cutRotate   bool
	lateCommit  time.Duration
	committed   chan struct{}
	// heldRelease ends the holds of HoldAfterRotateCommit and
	// HoldAfterRefreshCommit (see AnswerHeld).
	heldRelease chan struct{}
	delays      map[string]time.Duration
	garbage     map[string]bool
	proxy401    bool
	// slowSelf holds answers of GET .../self for a random time in
	// [slowSelfMin, slowSelfMax] (SlowSelfAnswer).
	slowSelfMin, slowSelfMax time.Duration

	oauth *oauthState // the OAuth provider (oauth.go), made on first use
}

type token struct {
	id          int
	secret      string
	prefix      string // the instance's personal_access_token_prefix when it was made
	name        string
	description string
	kind        Kind
	ownerID     int
	accessLevel int
	user        *user
	scopes      []string
	createdAt   time.Time
	expiresAt   Date
	revoked     bool
	lastUsedAt  time.Time
	lastUsedIPs []string
	previous    int // id of the token this one was rotated from
	next        int // id of the token this one was rotated to
}

type user struct {
	id        int
	username  string
	name      string
	bot       bool
	createdAt time.Time
}

// New starts a fake GitLab over plain HTTP on 127.0.0.1. It is closed when
// the test ends.
func New(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	return start(tb, false, opts)
}

// NewTLS starts a fake GitLab over HTTPS on 127.0.0.1, with a self-signed
// certificate for 127.0.0.1; see CAPEM, WriteCA and Client.
func NewTLS(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	return start(tb, true, opts)
}

func start(tb testing.TB, useTLS bool, opts []Option) *Server {
	tb.Helper()
	s := &Server{
		tb:        tb,
		now:       time.Now,
		done:      make(chan struct{}),
		repoRoot:  tb.TempDir(),
		gitHome:   tb.TempDir(),
		tokens:    make(map[int]*token),
		bySecret:  make(map[string]*token),
		users:     make(map[string]*user),
		repos:     make(map[string]*Repo),
		groups:    make(map[string]int),
		calls:     make(map[string]int),
		delays:    make(map[string]time.Duration),
		garbage:   make(map[string]bool),
		dpopUsers: make(map[string]bool),
	}
	// Distinct ranges make an id of the wrong kind stand out in a failure.
	s.nextID.token, s.nextID.user, s.nextID.project, s.nextID.group = 1, 101, 1001, 2001
	for _, opt := range opts {
		opt(s)
	}

	// Only the loopback interface: tests never listen on the network.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("gitlabtest: listen: %v", err)
	}
	s.srv = httptest.NewUnstartedServer(s)
	s.srv.Listener.Close()
	s.srv.Listener = ln
	// A client that refuses the certificate is what some tests are about:
	// its handshake error goes to the test's log, not to stderr.
	s.srv.Config.ErrorLog = log.New(&testLogWriter{s: s}, "gitlabtest: ", 0)
	if useTLS {
		s.srv.StartTLS()
	} else {
		s.srv.Start()
	}
	s.URL = s.srv.URL + s.root
	tb.Cleanup(func() {
		close(s.done)
		s.srv.Close()
	})
	return s
}

// APIURL returns the API base URL, URL+"/api/v4".
func (s *Server) APIURL() string { return s.URL + "/api/v4" }

// Client returns a new HTTP client that trusts the server's certificate. The
// test may change it (a Timeout, say) without affecting other clients.
func (s *Server) Client() *http.Client {
	c := *s.srv.Client()
	return &c
}

// CAPEM returns the PEM-encoded certificate of a server made by NewTLS (it
// is its own CA), or nil for a plain HTTP server.
func (s *Server) CAPEM() []byte {
	cert := s.srv.Certificate()
	if cert == nil {
		return nil
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
}

// WriteCA writes CAPEM to path (mode 0600), for tests that configure a
// ca_file. It fails the test on error or for a plain HTTP server.
func (s *Server) WriteCA(path string) {
	s.tb.Helper()
	pemBytes := s.CAPEM()
	if pemBytes == nil {
		s.tb.Fatalf("gitlabtest: WriteCA: server has no TLS certificate (use NewTLS)")
	}
	if err := os.WriteFile(path, pemBytes, 0o600); err != nil {
		s.tb.Fatalf("gitlabtest: WriteCA: %v", err)
	}
}

// CreateToken creates a token as GitLab's UI would and returns its value and
// id. The token value is a secret: do not log it.
func (s *Server) CreateToken(spec TokenSpec) (tok string, id int) {
	s.tb.Helper()
	if spec.Kind != Personal && spec.OwnerID <= 0 {
		s.tb.Fatalf("gitlabtest: CreateToken: a %s token needs OwnerID", spec.Kind)
	}
	if spec.Name == "" {
		spec.Name = "test-token"
	}
	if spec.Scopes == nil {
		spec.Scopes = []string{"api"}
	}
	if spec.AccessLevel == 0 && spec.Kind != Personal {
		spec.AccessLevel = 40
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	var u *user
	if spec.Kind == Personal {
		if spec.Username == "" {
			spec.Username = "alice"
		}
		u = s.userLocked(spec.Username, now)
	} else {
		// GitLab makes one bot user per project or group access token, named
		// like project_<id>_bot_<random>
		// (https://docs.gitlab.com/user/project/settings/project_access_tokens/).
		name := spec.Username
		if name == "" {
			name = fmt.Sprintf("%s_%d_bot_%s", spec.Kind, spec.OwnerID, randomHex(16))
		}
		u = &user{
			id:        s.nextID.user,
			username:  name,
			name:      spec.Name,
			bot:       true,
			createdAt: now,
		}
		s.nextID.user++
		s.users[u.username] = u
	}
	t := &token{
		name:        spec.Name,
		description: spec.Description,
		kind:        spec.Kind,
		ownerID:     spec.OwnerID,
		accessLevel: spec.AccessLevel,
		user:        u,
		scopes:      slices.Clone(spec.Scopes),
		createdAt:   now,
		expiresAt:   spec.ExpiresAt,
	}
	s.addTokenLocked(t)
	return t.secret, t.id
}

func (s *Server) userLocked(username string, now time.Time) *user {
	if u, ok := s.users[username]; ok {
		return u
	}
	u := &user{id: s.nextID.user, username: username, name: username, createdAt: now}
	s.nextID.user++
	s.users[username] = u
	return u
}

// addTokenLocked gives t an id and a fresh secret and stores it.
func (s *Server) addTokenLocked(t *token) {
	t.id = s.nextID.token
	s.nextID.token++
	t.prefix = s.prefix
	if t.prefix == "" {
		t.prefix = "glpat-"
	}
	for {
		if s.format == Classic {
			t.secret = classicSecret(t.prefix)
		} else {
			t.secret = routableSecret(t.prefix, organizationID, t.user.id)
		}
		if _, dup := s.bySecret[t.secret]; !dup {
			break
		}
	}
	s.tokens[t.id] = t
	s.bySecret[t.secret] = t
}

// organizationID is the id of GitLab's default organization
// (Organizations::Organization::DEFAULT_ORGANIZATION_ID), every token's.
const organizationID = 1

// classicSecret makes a token value as GitLab did before routable tokens:
// the prefix and Devise.friendly_token, 20 URL-safe characters
// (lib/authn/token_field/base.rb).
func classicSecret(prefix string) string {
	b := make([]byte, 15) // 15 bytes = 20 base64 characters
	rand.Read(b)
	return prefix + base64.RawURLEncoding.EncodeToString(b)
}

// routableSecret makes a routable token value as GitLab does
// (lib/authn/token_field/generator/routable_token.rb, with the payload of
// app/models/personal_access_token.rb): the prefix, then base64url (no
// padding) of 16 random bytes, the routing payload "o:<organization>\nu:<user>"
// (ids in base 36, keys sorted; no cell id outside GitLab.com's cells) and
// the payload's length as one byte; then ".01." (format version 1 in two
// base-36 digits), the base64 part's length in two base-36 digits, and the
// CRC-32 of everything before it in seven base-36 digits.
func routableSecret(prefix string, orgID, userID int) string {
	payload := "o:" + strconv.FormatInt(int64(orgID), 36) + "\nu:" + strconv.FormatInt(int64(userID), 36)
	raw := make([]byte, 16, 16+len(payload)+1)
	rand.Read(raw)
	raw = append(raw, payload...)
	raw = append(raw, byte(len(payload)))
	b64 := base64.RawURLEncoding.EncodeToString(raw)
	tok := prefix + b64 + ".01." + pad36(uint64(len(b64)), 2)
	return tok + pad36(uint64(crc32.ChecksumIEEE([]byte(tok))), 7)
}

// pad36 writes n in base 36, zero-padded to width digits (Ruby's
// to_s(36).rjust(width, '0')).
func pad36(n uint64, width int) string {
	s := strconv.FormatUint(n, 36)
	for len(s) < width {
		s = "0" + s
	}
	return s
}

func randomHex(n int) string {
	b := make([]byte, n/2)
	rand.Read(b)
	return fmt.Sprintf("%x", b)
}

// Token returns the state of the token with this id; it fails the test when
// there is none.
func (s *Server) Token(id int) TokenState {
	s.tb.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[id]
	if !ok {
		s.tb.Fatalf("gitlabtest: no token with id %d", id)
	}
	return s.stateLocked(t)
}

// Tokens returns the state of every token, ordered by id.
func (s *Server) Tokens() []TokenState {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]TokenState, 0, len(s.tokens))
	for _, t := range s.tokens {
		out = append(out, s.stateLocked(t))
	}
	slices.SortFunc(out, func(a, b TokenState) int { return a.ID - b.ID })
	return out
}

// TokenByValue returns the state of the token with this value.
func (s *Server) TokenByValue(tok string) (TokenState, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.bySecret[tok]
	if !ok {
		return TokenState{}, false
	}
	return s.stateLocked(t), true
}

func (s *Server) stateLocked(t *token) TokenState {
	family := t.id
	for p := t.previous; p != 0; p = s.tokens[p].previous {
		family = p
	}
	expired := s.expiredLocked(t)
	return TokenState{
		ID:          t.id,
		Name:        t.name,
		Description: t.description,
		Kind:        t.kind,
		OwnerID:     t.ownerID,
		AccessLevel: t.accessLevel,
		UserID:      t.user.id,
		Username:    t.user.username,
		Bot:         t.user.bot,
		Scopes:      slices.Clone(t.scopes),
		CreatedAt:   t.createdAt,
		ExpiresAt:   t.expiresAt,
		Revoked:     t.revoked,
		Expired:     expired,
		Active:      !t.revoked && !expired,
		LastUsedAt:  t.lastUsedAt,
		LastUsedIPs: slices.Clone(t.lastUsedIPs),
		RotatedFrom: t.previous,
		RotatedTo:   t.next,
		Family:      family,
		Fingerprint: fingerprint(t),
	}
}

// fingerprint shows a token the way diagnostics may: prefix and last 4.
func fingerprint(t *token) string {
	return t.prefix + "…" + t.secret[len(t.secret)-4:]
}

func (s *Server) expiredLocked(t *token) bool {
	return !t.expiresAt.IsZero() && !s.now().Before(t.expiresAt.Midnight())
}

// Revoke revokes the token with this id out of band, as a user would in
// GitLab's UI. It fails the test when there is no such token.
func (s *Server) Revoke(id int) {
	s.tb.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[id]
	if !ok {
		s.tb.Fatalf("gitlabtest: Revoke: no token with id %d", id)
	}
	t.revoked = true
}

// Delete removes the token with this id, as deleting its user does
// (app/models/user.rb: has_many :personal_access_tokens, dependent:
// :destroy): from then on GitLab does not know it at all and answers it
// as it answers any unknown token, a bare 401 {"message":"401 Unauthorized"}
// (see ProxyUnauthorized). It fails the test when there is no such token.
func (s *Server) Delete(id int) {
	s.tb.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[id]
	if !ok {
		s.tb.Fatalf("gitlabtest: Delete: no token with id %d", id)
	}
	delete(s.tokens, id)
	delete(s.bySecret, t.secret)
	for _, o := range s.tokens {
		if o.previous == id {
			o.previous = 0
		}
		if o.next == id {
			o.next = 0
		}
	}
}

// Calls returns how many requests reached endpoint (one of the Endpoint
// constants), counted on arrival, before any fault or authentication.
// EndpointGitAuthFail counts Git requests whose credentials failed.
func (s *Server) Calls(endpoint string) int {
	mustEndpoint(endpoint, true)
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[endpoint]
}

func mustEndpoint(endpoint string, countOnly bool) {
	if !slices.Contains(endpoints, endpoint) || (!countOnly && (endpoint == EndpointGitAuthFail || endpoint == EndpointOAuthRefresh)) {
		panic(fmt.Sprintf("gitlabtest: unknown endpoint %q", endpoint))
	}
}

// FailRotate makes every rotate endpoint answer with status and a GitLab-style
// {"message": ...} body, committing nothing; 0 turns the fault off.
func (s *Server) FailRotate(status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failRotate = status
}

// HoldAfterRotateCommit makes rotate endpoints commit the rotation and then
// never answer: each commit sends on ch (if it has room), and the request
// waits until the client goes away or the test ends. Crash tests kill the
// client at that moment, after GitLab's transaction and before its answer.
// A nil ch switches it off.
func (s *Server) HoldAfterRotateCommit(ch chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.committed = ch
	if ch != nil && s.heldRelease == nil {
		s.heldRelease = make(chan struct{})
	}
}

// AnswerHeld switches HoldAfterRotateCommit and HoldAfterRefreshCommit off
// and sends the answers they hold: a slow answer after GitLab's
// transaction, for a test that does something meanwhile.
func (s *Server) AnswerHeld() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.committed = nil
	s.oauthLocked().committed = nil
	if s.heldRelease != nil {
		close(s.heldRelease)
		s.heldRelease = nil
	}
}

// DropAfterRotateCommit makes rotate endpoints commit the rotation (old token
// revoked, new token live) and then close the connection without answering,
// as a network failure after GitLab's transaction would look to the client.
func (s *Server) DropAfterRotateCommit(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dropRotate = on
}

// ResetRotate makes rotate endpoints read the whole request and then close
// the connection without answering and without committing anything, as a
// proxy that drops the connection before passing the request on would look
// to the client: sent, and no answer.
func (s *Server) ResetRotate(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.resetRotate = on
}

// CutRotateAnswer makes rotate endpoints commit the rotation and then send
// the 200 answer cut short just after the new token's value, and close the
// connection: the answer does not decode, but it holds the new token.
func (s *Server) CutRotateAnswer(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cutRotate = on
}

// CommitRotateAfter makes rotate endpoints wait d and then commit the
// rotation whether or not the client is still there, as GitLab does: Puma
// does not stop a request whose client went away, and Rack::Timeout only
// stops one after GITLAB_RAILS_RACK_TIMEOUT (config/initializers/rack_timeout.rb).
// The wait ends early only when the test ends. 0 turns it off.
func (s *Server) CommitRotateAfter(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lateCommit = d
}

// SetVersion makes the server answer as GitLab version v ("16.9.0") does:
// GET /version reports it, personal self-rotation exists from 16.10 and
// project/group self-rotation from 17.9 (with the self_rotate scope).
// Before that, POST .../self/rotate reaches the rotate-by-id routes of
// 16.0+, which find no token "self": 401 for a user (404 for an
// administrator, see SetAdmin) at the personal path, 401 at the project
// and group paths; before 16.0 it meets the API's catch-all 404. "" is the
// newest GitLab.
func (s *Server) SetVersion(v string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.version = v
}

// SetMaxLifetime sets the instance's max_personal_access_token_lifetime in
// days (an Ultimate setting; a group policy gives the same answer), a
// policy checked after GitLab's own cap of 365 days; 0 removes it.
func (s *Server) SetMaxLifetime(days int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.maxLifetime = days
}

// SetTokenPrefix sets the instance's personal_access_token_prefix for
// tokens created from now on ("" restores "glpat-"). GitLab allows up to 20
// characters of the Base64 alphabet, '@', ':' and '.'
// (app/models/application_setting.rb); an instance prefix stands before
// GitLab's own as "<instance>-glpat-" (lib/authn/token_field/prefix_helper.rb).
func (s *Server) SetTokenPrefix(prefix string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.prefix = prefix
}

// TokenFormat is the shape of the token values a server makes.
type TokenFormat int

const (
	// Routable tokens, as current GitLab makes personal, project and
	// group access tokens (app/models/personal_access_token.rb declares
	// its token routable_token): 43 to 316 characters with dots, like
	// "glpat-<base64url>.01.<length><crc>". The default.
	Routable TokenFormat = iota
	// Classic tokens, as GitLab made them before routable tokens (and
	// does with the routable_pat feature flag off): the prefix and 20
	// URL-safe characters, 26 in all with "glpat-".
	Classic
)

// SetTokenFormat sets the shape of tokens created from now on.
func (s *Server) SetTokenFormat(f TokenFormat) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.format = f
}

// RequireDPoP switches DPoP on for username: API requests with that user's
// tokens and no DPoP proof get 401 dpop_error (lib/api/api_guard.rb,
// Gitlab::Auth::DpopValidationError); Git over HTTP is not affected.
func (s *Server) RequireDPoP(username string, on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dpopUsers[username] = on
}

// Delay makes endpoint wait d before it does anything (0 turns it off). The
// wait ends early when the client goes away or the test ends.
func (s *Server) Delay(endpoint string, d time.Duration) {
	mustEndpoint(endpoint, false)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delays[endpoint] = d
}

// SlowSelfAnswer makes GET .../personal_access_tokens/self check the token
// as soon as the request arrives and then hold its answer for a random time
// between min and max (0, 0 turns it off), as a loaded GitLab whose answers
// are slow to come back: two clients can both be told that a token is
// active before either of them rotates it. (Delay, by contrast, waits
// before the token is checked.)
func (s *Server) SlowSelfAnswer(min, max time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.slowSelfMin, s.slowSelfMax = min, max
}

// holdSelfAnswer waits as SlowSelfAnswer says, or until the client goes
// away or the test ends.
func (s *Server) holdSelfAnswer(r *http.Request) {
	s.mu.Lock()
	d := s.slowSelfMin
	if span := s.slowSelfMax - s.slowSelfMin; span > 0 {
		d += time.Duration(mathrand.Int64N(int64(span) + 1))
	}
	s.mu.Unlock()
	if d <= 0 {
		return
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-r.Context().Done():
	case <-s.done:
	}
}

// Garbage makes endpoint answer 200 with an HTML page instead of its JSON (as
// a captive portal or misconfigured proxy would), committing nothing.
func (s *Server) Garbage(endpoint string, on bool) {
	mustEndpoint(endpoint, false)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.garbage[endpoint] = on
}

// ProxyUnauthorized makes every API request answered 401
// {"message":"401 Unauthorized"} before GitLab sees it, committing
// nothing, as a gateway or maintenance page in front of GitLab may answer
// for a while. It is GitLab's own answer for a request whose token it does
// not know at all (unauthorized! in lib/api/helpers.rb, after
// AuthFinders#find_personal_access_token raised UnauthorizedError), word
// for word and without a WWW-Authenticate challenge, so nothing in the
// answer tells the two apart. Git over HTTP is not affected.
func (s *Server) ProxyUnauthorized(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.proxy401 = on
}

// arrive counts a request for endpoint and applies Delay, ProxyUnauthorized
// and Garbage. It
// reports false when the request has been answered (or abandoned) already.
func (s *Server) arrive(w http.ResponseWriter, r *http.Request, endpoint string) bool {
	s.mu.Lock()
	s.calls[endpoint]++
	d := s.delays[endpoint]
	garbage := s.garbage[endpoint]
	proxy401 := s.proxy401 && endpoint != EndpointGit
	s.mu.Unlock()
	if d > 0 {
		timer := time.NewTimer(d)
		defer timer.Stop()
		select {
		case <-timer.C:
		case <-r.Context().Done():
			return false
		case <-s.done:
			return false
		}
	}
	if proxy401 {
		writeMessage(w, http.StatusUnauthorized, "401 Unauthorized")
		return false
	}
	if garbage {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		fmt.Fprint(w, "<!DOCTYPE html>\n<html><head><title>Sign in to the network</title></head><body><p>Please accept the terms of use.</p></body></html>\n")
		return false
	}
	return true
}

// ServeHTTP routes API and Git requests.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.EscapedPath()
	if s.root != "" {
		rest, ok := strings.CutPrefix(path, s.root)
		if !ok || !strings.HasPrefix(rest, "/") {
			rest = "/-/outside-the-relative-url-root"
		}
		path = rest
		r = r.Clone(r.Context())
		r.URL.Path = strings.TrimPrefix(r.URL.Path, s.root)
		r.URL.RawPath = strings.TrimPrefix(r.URL.RawPath, s.root)
	}
	if rest, ok := strings.CutPrefix(path, "/api/v4/"); ok {
		s.serveAPI(w, r, rest)
		return
	}
	if strings.HasPrefix(path, "/oauth/") {
		s.serveOAuth(w, r, path) // oauth.go
		return
	}
	if repo, op, ok := parseGitPath(r.URL.Path); ok {
		s.serveGit(w, r, repo, op)
		return
	}
	// Outside the API, GitLab's web routes answer Rails' 404 page
	// (public/404.html), not JSON: what a wrong api_url (a relative URL
	// root left out) meets.
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusNotFound)
	fmt.Fprint(w, "<!DOCTYPE html>\n<html><head><title>The page you're looking for could not be found (404)</title></head><body><h1>404</h1><p>Page not found</p></body></html>\n")
}
