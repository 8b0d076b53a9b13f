// Package store keeps Git credentials: each secret in a secrets.Store (the
// OS keychain by default) and a non-secret index on disk that says which
// credentials exist, so that a lookup costs one keychain read at most.
package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/glpat-dev/git-credential-glpat/internal/atomicfile"
	"github.com/glpat-dev/git-credential-glpat/internal/credential"
	"github.com/glpat-dev/git-credential-glpat/internal/filelock"
	"github.com/glpat-dev/git-credential-glpat/internal/gltoken"
	"github.com/glpat-dev/git-credential-glpat/internal/safefile"
	"github.com/glpat-dev/git-credential-glpat/internal/secrets"
)

// indexVersion is written into every index file. New optional fields may
// be added without changing it; a change in what a field means takes a new
// version, and readIndexFile reads every earlier one (format.go).
const indexVersion = 2

// maxIndexSize bounds an index file: 3,000 credentials of one host take
// about a megabyte.
const maxIndexSize = 64 << 20

// lockWait bounds how long a writer waits for another process's index
// update, which normally takes a few milliseconds.
const lockWait = 10 * time.Second

// ErrCorruptIndex means an index file could not be parsed. Secrets are
// never deleted because of it.
var ErrCorruptIndex = errors.New("index file is corrupt")

// Store is a credential store. Its zero value is not usable; set Secrets
// and Dir.
type Store struct {
	Secrets secrets.Store
	// Dir holds the index, one file per protocol and host. It is created
	// 0700 on the first write.
	Dir string
	// Clock is the one clock of everything over this store: the lifecycle,
	// get's helper and the commands' accounts read the time through Now,
	// so that a test that sets it sets it for all of them. Nil means
	// time.Now.
	Clock func() time.Time
	// Notice tells a person, in the caller's words, what the store does
	// on its own or will not do: a damaged index set aside
	// (*SetAsideError), records it does not serve (*InconsistentError), a
	// credential stored in another backend (*ElsewhereError, once per
	// process). Nil says nothing.
	Notice func(error)
	// APIURL returns the API base URL of a managed token's host, from the
	// config (or the derived https://HOST/api/v4). Every record read from
	// the index gets its Token.APIURL from it: the index is not trusted to
	// say where a token is sent. Nil keeps what the index says (tests).
	APIURL func(host string) string
	// Backend names the backend Secrets is ("keyring", "encrypted-file",
	// "kernel"). Put records it with every credential; a record of another
	// backend is "stored elsewhere": never served from Secrets, never
	// dropped because Secrets lacks it.
	Backend string

	// Hook, when set, is called at named points of a store
	// ("store-after-secret"); crash tests kill the process there.
	Hook func(point string)

	warnedElsewhere bool
}

// Record is what the index knows about one stored credential. It holds
// nothing secret.
type Record struct {
	// Account names the secret in the secrets.Store.
	Account  string `json:"account"`
	Protocol string `json:"protocol"`
	Host     string `json:"host"`
	Path     string `json:"path,omitempty"`
	Username string `json:"username"`
	// Backend is the backend that holds the secret (Store.Backend when it
	// was stored or migrated); empty in records of versions before 0.9,
	// whose backend is unknown: such a record is never dropped.
	Backend string `json:"backend,omitempty"`
	// ExpiryUTC is the password_expiry_utc Git gave (Unix time), 0 if none.
	ExpiryUTC       int64     `json:"password_expiry_utc,omitempty"`
	HasRefreshToken bool      `json:"has_oauth_refresh_token,omitempty"`
	StoredAt        time.Time `json:"stored_at"`
	// AuthType is the authentication scheme ("Bearer") of a pre-encoded
	// credential that Git stored (capability[]=authtype); CredentialOnly
	// says it came without a username and password, so it answers only
	// requests that announce the capability.
	AuthType       string `json:"authtype,omitempty"`
	CredentialOnly bool   `json:"credential_only,omitempty"`
	// Token is set for a GitLab token whose lifecycle this helper manages.
	Token *Token `json:"token,omitempty"`
	// OAuth is set for a GitLab OAuth credential this helper manages (login
	// --oauth): the secret's Password is the access token, its
	// OAuthRefreshToken the refresh token (never handed to Git), and
	// ExpiryUTC the access token's expiry.
	OAuth *OAuth `json:"oauth,omitempty"`
	// SecretSHA256 is the hex SHA-256 digest of a managed token that GitLab
	// has confirmed, so that Git's store of the token it just used is
	// answered from the index (SameSecret). A token is a random secret, so
	// its digest gives nothing away; GitLab itself keeps only such a digest
	// of each token. Plain credentials (a person's password could be
	// guessed from its digest) and tokens not yet confirmed have none.
	SecretSHA256 string `json:"sha256,omitempty"`
}

// Token is the metadata of a managed GitLab token, as GitLab reported it.
type Token struct {
	ID     int64    `json:"id"`
	Name   string   `json:"name"`
	Scopes []string `json:"scopes"`
	// ExpiresAt is GitLab's expires_at date (YYYY-MM-DD); the token stops
	// working at 00:00 UTC that day. Empty when the token never expires.
	ExpiresAt string `json:"expires_at,omitempty"`
	APIURL    string `json:"api_url"`
	// Kind is "personal", "project" or "group".
	Kind      string    `json:"kind,omitempty"`
	UserID    int64     `json:"user_id,omitempty"`
	OwnerID   int64     `json:"owner_id,omitempty"` // project or group id for bot tokens
	RotatedAt time.Time `json:"rotated_at,omitzero"`
	CheckedAt time.Time `json:"checked_at,omitzero"`
	// Unverified is true when the token was stored while the API could not
	// be reached; it is checked on a later call.
	Unverified bool `json:"unverified,omitempty"`
	// Dead says why the token can no longer work, once GitLab has told
	// us; empty while it may. A dead token is never handed to Git.
	Dead   Dead      `json:"dead,omitempty"`
	DeadAt time.Time `json:"dead_at,omitzero"`
	// UnrecognizedSince is when GET .../self first answered a bare 401
	// (GitLab's answer for a token it does not know, and a proxy's) with
	// no answer accepting the token since; lifecycle decides when that
	// counts.
	UnrecognizedSince time.Time `json:"unrecognized_since,omitzero"`
	// GitRefusedAt is when Git reported (by erase) that its server
	// refused the token and GitLab could not be asked whether it still
	// accepts it; it is not handed to Git again for a while.
	GitRefusedAt time.Time `json:"git_refused_at,omitzero"`
	// GitRefusedPaths are the repositories (Git's path, sent with
	// credential.useHttpPath) on which Git's server refused the token while
	// GitLab still accepted it, and when: a project or group token
	// authenticates only on its bot's projects (lib/gitlab/auth.rb), so it
	// is held back from those repositories alone.
	GitRefusedPaths map[string]time.Time `json:"git_refused_paths,omitempty"`
	// CannotRotate is set when GitLab refused a rotation for lack of scope.
	CannotRotate bool `json:"cannot_rotate,omitempty"`
	// NoSelfRotation says why this GitLab cannot rotate the token itself,
	// GitLabVersion (when known) which GitLab that is, and
	// NoSelfRotationAt when that was found; asked again after a while, in
	// case the server was upgraded or its setting changed.
	NoSelfRotation   NoSelfRotation `json:"no_self_rotation,omitempty"`
	GitLabVersion    string         `json:"gitlab_version,omitempty"`
	NoSelfRotationAt time.Time      `json:"no_self_rotation_at,omitzero"`
	// RotateFailedAt and RotateError record the last failed rotation, so
	// that a GitLab that is down is not asked again on every git command.
	RotateFailedAt time.Time `json:"rotate_failed_at,omitzero"`
	RotateError    string    `json:"rotate_error,omitempty"`
	// RateLimitedUntil is when GitLab's rate limiter (a 429 with
	// Retry-After or RateLimit-Reset) said to ask again after the last
	// failed rotation, when that is later than the usual back-off.
	RateLimitedUntil time.Time `json:"rate_limited_until,omitzero"`
	// WarnedAt is when a person was last warned about this token, so that
	// a warning that needs no new action is not repeated on every call.
	WarnedAt time.Time `json:"warned_at,omitzero"`
}

// Dead is why a managed credential can no longer work, as the index keeps
// it: a short code, never a sentence (the lifecycle says it in words). A
// code this version does not know (a newer helper's) means dead all the
// same.
type Dead string

// The reasons a managed credential is dead.
const (
	// DeadExpired: GitLab said the token has expired.
	DeadExpired Dead = "expired"
	// DeadRevoked: GitLab said the token was revoked.
	DeadRevoked Dead = "revoked"
	// DeadRefused: GitLab no longer accepts it and did not say why (a
	// token it does not know; a refresh token answered invalid_grant).
	DeadRefused Dead = "refused"
	// DeadAnswerLost: GitLab stopped accepting it after a rotation (or a
	// refresh) whose answer, with the new token if GitLab made one, never
	// arrived.
	DeadAnswerLost Dead = "answer-lost"
	// DeadUnsaved: it was rotated (refreshed), and the new token could not
	// be saved anywhere.
	DeadUnsaved Dead = "unsaved"
	// DeadUnconfirmed: GitLab no longer accepts it after a rotation, and
	// the token in the recovery file, which may be its successor, cannot be
	// confirmed as such.
	DeadUnconfirmed Dead = "unconfirmed"
)

// NoSelfRotation is why a GitLab cannot rotate a token itself, as the
// index keeps it.
type NoSelfRotation string

const (
	// NoSelfRotateEndpoint: the GitLab has no self-rotate endpoint for
	// the token's kind (before 16.10 for personal access tokens, 17.9 for
	// project and group access tokens).
	NoSelfRotateEndpoint NoSelfRotation = "no-endpoint"
	// LegacyRotationDisabled: the GitLab refuses to rotate legacy personal
	// access tokens while fine-grained ones are enforced.
	LegacyRotationDisabled NoSelfRotation = "legacy-disabled"
)

// OAuth is the metadata of a managed OAuth credential: an access token of
// two hours and the refresh token that replaces it, which GitLab revokes on
// use.
type OAuth struct {
	// APIURL is the host's API base URL; GitLab's OAuth provider is beside
	// it. Like a token's, it comes from the config, never the index.
	APIURL string `json:"api_url"`
	// ClientID is the application the pair was issued to, as the config
	// named it at login.
	ClientID string   `json:"client_id,omitempty"`
	Scopes   []string `json:"scopes,omitempty"`
	// UserID is the GitLab user, as GitLab said at login.
	UserID      int64     `json:"user_id,omitempty"`
	RefreshedAt time.Time `json:"refreshed_at,omitzero"`
	// Dead says why the refresh token can no longer work: a person must
	// log in again.
	Dead   Dead      `json:"dead,omitempty"`
	DeadAt time.Time `json:"dead_at,omitzero"`
	// RefreshFailedAt and RefreshError record the last failed refresh.
	RefreshFailedAt time.Time `json:"refresh_failed_at,omitzero"`
	RefreshError    string    `json:"refresh_error,omitempty"`
	// GitRefusedAt is when Git's server refused the access token while
	// GitLab still accepted it (or could not be asked).
	GitRefusedAt time.Time `json:"git_refused_at,omitzero"`
	// WarnedAt is when a person was last warned about this credential.
	WarnedAt time.Time `json:"warned_at,omitzero"`
}

// Managed reports whether the helper manages r's lifecycle: a GitLab
// token or an OAuth credential.
func (r *Record) Managed() bool { return r.Token != nil || r.OAuth != nil }

// Expiry returns the instant the token stops working: 00:00 UTC on its
// expires_at date (https://docs.gitlab.com/user/profile/personal_access_tokens/#access-token-expiration).
// ok is false when the token has no expiry date.
func (t *Token) Expiry() (time.Time, bool) {
	if t == nil || t.ExpiresAt == "" {
		return time.Time{}, false
	}
	d, err := time.Parse(time.DateOnly, t.ExpiresAt)
	if err != nil {
		return time.Time{}, false
	}
	return d.UTC(), true
}

// CanRotateItself reports whether the token's scopes allow self-rotation:
// "api", or "self_rotate" (GitLab 17.9+).
func (t *Token) CanRotateItself() bool {
	if t.CannotRotate {
		return false
	}
	for _, s := range t.Scopes {
		if s == "api" || s == "self_rotate" {
			return true
		}
	}
	return false
}

// GitUnusable reports whether the token's scopes are known (GitLab has
// confirmed the token) and give Git no access over HTTP (CanFetch).
func (t *Token) GitUnusable() bool { return len(t.Scopes) > 0 && !t.CanFetch() }

// CanFetch reports whether the token's scopes let Git clone and fetch over
// HTTP: they must give download_code (Gitlab::Auth#abilities_for_scopes in
// lib/gitlab/auth.rb: api, read_api, read_repository, write_repository);
// otherwise GitLab answers 403 "You are not allowed to download code."
// (Gitlab::GitAccess#check_authentication_abilities!).
func (t *Token) CanFetch() bool {
	return slices.ContainsFunc(t.Scopes, func(s string) bool {
		return s == "api" || s == "read_api" || s == "read_repository" || s == "write_repository"
	})
}

// CanPush reports whether the token's scopes let Git push over HTTP: they
// must give push_code (api, write_repository); otherwise GitLab answers 403
// "You are not allowed to upload code.".
func (t *Token) CanPush() bool {
	return slices.ContainsFunc(t.Scopes, func(s string) bool { return s == "api" || s == "write_repository" })
}

// Digest is what Record.SecretSHA256 holds for a token: its SHA-256, in hex.
func Digest(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// keepsDigest reports whether r may keep a digest of its secret: a managed
// token that GitLab has confirmed. One stored while GitLab could not be
// reached may be a person's password, typed for a configured host.
func (r *Record) keepsDigest() bool {
	return r.Token != nil && !r.Token.Unverified || r.OAuth != nil
}

// SameSecret reports whether password is the secret r was stored with, as
// far as the index can tell: known is false when r keeps no digest, and
// only the secrets.Store can answer.
func (r *Record) SameSecret(password string) (same, known bool) {
	if !r.keepsDigest() || r.SecretSHA256 == "" {
		return false, false
	}
	return Digest(password) == r.SecretSHA256, true
}

// SetDigest records the digest of password, the secret r was just read
// with, if r may keep one.
func (r *Record) SetDigest(password string) {
	r.SecretSHA256 = ""
	if r.keepsDigest() {
		r.SecretSHA256 = Digest(password)
	}
}

// Secret is what goes into the secrets.Store for one credential.
type Secret struct {
	Password          string `json:"password"`
	OAuthRefreshToken string `json:"oauth_refresh_token,omitempty"`
	// Credential is a pre-encoded credential for the record's AuthType
	// (git 2.46+, capability[]=authtype).
	Credential string `json:"credential,omitempty"`
	// StoredAt and ExpiryUTC repeat the record's, written with the secret
	// by Put: a store that failed or was killed between the secret and the
	// index leaves a record that does not describe the secret, and this is
	// how a reader knows (see Store.First). Zero in secrets of versions
	// before 0.9.
	StoredAt  time.Time `json:"stored_at,omitzero"`
	ExpiryUTC int64     `json:"password_expiry_utc,omitempty"`
	// UserID is the GitLab user a managed token belongs to, as GitLab
	// named it (GET .../personal_access_tokens/self, or the answer of the
	// rotation that made the token); 0 when not known (a plain credential,
	// a token stored while GitLab could not be asked, a secret of an
	// earlier version). It travels with the secret because it decides
	// whether a token found in the state dir may take this one's place
	// (the successor of a rotation keeps the user): the backend is an
	// authority, the index is not. It costs no extra read. Writers set it
	// from GitLab's answer only, never from an index record. For an OAuth
	// credential it is the user of the pair, from GitLab's token info.
	UserID int64 `json:"user_id,omitempty"`
}

type indexFile struct {
	Version int      `json:"version"`
	Records []Record `json:"records"`
}

// AccountName is the name of the secret for a credential: a URL that a
// person recognises in Keychain Access, Credential Manager or Seahorse,
// protocol://username@host/path. The encoding is injective, so two
// credentials never share a keychain item: the protocol keeps only URL
// scheme characters, the username is escaped (it cannot hold "@"), the host
// is escaped except for letters, digits and ".-_:[]" (it cannot hold "/"),
// and the path is the rest. For ordinary protocols and hosts this is the
// name earlier versions wrote; see legacyAccountName for the others.
func AccountName(protocol, host, path, username string) string {
	return accountName(escapeKeep(protocol, "+.-"), escape(username), escapeKeep(host, ".-_:[]"), path)
}

// legacyAccountName is the name versions before 0.9 gave a secret: host
// and protocol unescaped. It differs from AccountName only for protocols
// and hosts with unusual characters, and it is accepted for a record only
// where it cannot collide with another credential's name under either
// encoding (see consistentAccount).
func legacyAccountName(protocol, host, path, username string) string {
	return accountName(protocol, escape(username), host, path)
}

func accountName(protocol, username, host, path string) string {
	var b strings.Builder
	b.WriteString(protocol)
	b.WriteString("://")
	b.WriteString(username)
	b.WriteString("@")
	b.WriteString(host)
	if path != "" {
		b.WriteString("/")
		b.WriteString(path)
	}
	return b.String()
}

// consistentAccount reports whether r.Account is the name r's protocol,
// host, path and username give its secret. The index is not trusted: a
// record copied to another host, or edited, would otherwise hand that
// host another credential's secret. An old-format name is accepted when
// the host and protocol hold none of "/%:" (so that it names this
// credential alone under both encodings); such a record moves to the new
// name on its next store.
func consistentAccount(r *Record) bool {
	if r.Account == AccountName(r.Protocol, r.Host, r.Path, r.Username) {
		return true
	}
	return !strings.ContainsAny(r.Host, "/%") && !strings.ContainsAny(r.Protocol, "/%:@") &&
		r.Account == legacyAccountName(r.Protocol, r.Host, r.Path, r.Username)
}

// sameCredential reports whether a and b are the same credential (protocol,
// host, path and username), whatever their accounts.
func sameCredential(a, b *Record) bool {
	return a.Protocol == b.Protocol && a.Host == b.Host && a.Path == b.Path && a.Username == b.Username
}

// Matches reports whether r answers request c, as Git's own helpers decide
// it (credential_match in git's credential.c): protocol and host must be
// equal; path and username must be equal when the request has them. The
// one exception is a managed GitLab token, which has no path.
func (r *Record) Matches(c *credential.Credential) bool {
	if r.Protocol != c.Protocol || r.Host != c.Host {
		return false
	}
	// A managed GitLab token (or OAuth credential) is stored without a
	// path and is good for every repository of its account, so it also
	// answers requests that carry a path (credential.useHttpPath).
	if c.Path != "" && r.Path != c.Path && (!r.Managed() || r.Path != "") {
		return false
	}
	if c.HasUsername && r.Username != c.Username {
		return false
	}
	return true
}

// Expired reports whether the password_expiry_utc Git gave has passed.
func (r *Record) Expired(now time.Time) bool {
	return r.ExpiryUTC != 0 && r.ExpiryUTC <= now.Unix()
}

// Servable reports whether get may answer with r at now, as far as the
// index tells (First also needs its secret): not a plain credential past
// its expiry. A managed token's expiry is the lifecycle's to judge: it
// tells the person to log in again instead of staying silent (an OAuth
// access token's, that it is refreshed).
func (r *Record) Servable(now time.Time) bool {
	return r.Managed() || !r.Expired(now)
}

// Now is the time by the store's clock (Clock).
func (s *Store) Now() time.Time {
	if s.Clock != nil {
		return s.Clock()
	}
	return time.Now()
}

// Find returns the index records that match c, most recently stored first.
// It reads one index file and never touches the secrets.Store.
func (s *Store) Find(c *credential.Credential) ([]Record, error) {
	return s.find(c, true)
}

// FindToCompare is Find for a caller that only compares a request with
// what is stored (Git's store of the credential it just used): it leaves
// managed tokens' API URLs as the index has them instead of asking APIURL,
// which reads the config file. What it returns must never be used to reach
// GitLab.
func (s *Store) FindToCompare(c *credential.Credential) ([]Record, error) {
	return s.find(c, false)
}

func (s *Store) find(c *credential.Credential, resolve bool) ([]Record, error) {
	name := s.fileName(c.Protocol, c.Host)
	idx, _, err := s.readIndexOf(c.Protocol, c.Host, resolve)
	if err != nil {
		return nil, err
	}
	recs := s.trusted(name, idx.Records)
	var out []Record
	// Newest last in the file: walk it backwards so that equal times
	// still put the later store first.
	for i := len(recs) - 1; i >= 0; i-- {
		if r := recs[i]; r.Matches(c) {
			out = append(out, r)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].StoredAt.After(out[j].StoredAt) })
	return out, nil
}

// Lookup returns the record named account on protocol and host, and its
// secret; (nil, nil, nil) when the index has no such record.
func (s *Store) Lookup(ctx context.Context, protocol, host, account string) (*Record, *Secret, error) {
	name := s.fileName(protocol, host)
	idx, _, err := s.readIndex(protocol, host)
	if err != nil {
		return nil, nil, err
	}
	recs := s.trusted(name, idx.Records)
	for i := range recs {
		if r := &recs[i]; r.Account == account {
			if s.Elsewhere(r) {
				return nil, nil, nil
			}
			sec, err := s.ReadSecret(ctx, r)
			if errors.Is(err, secrets.ErrNotFound) {
				return nil, nil, nil
			}
			if err != nil {
				return nil, nil, err
			}
			return r, sec, nil
		}
	}
	return nil, nil, nil
}

// Get returns the most recently stored credential matching c whose
// password has not expired, with its secret. It returns (nil, nil, nil)
// when there is none. An index record whose secret has disappeared from the
// secrets.Store (a person deleted it there) is skipped and dropped.
func (s *Store) Get(ctx context.Context, c *credential.Credential) (*Record, *Secret, error) {
	recs, err := s.Find(c)
	if err != nil {
		return nil, nil, err
	}
	return s.First(ctx, recs)
}

// First returns the first of recs (as Find orders them) whose password has
// not expired and whose secret is still in the secrets.Store, with that
// secret; (nil, nil, nil) when there is none.
func (s *Store) First(ctx context.Context, recs []Record) (*Record, *Secret, error) {
	now := s.Now()
	for i := range recs {
		r := &recs[i]
		if !r.Servable(now) {
			continue
		}
		if s.Elsewhere(r) {
			s.warnElsewhere(r)
			continue
		}
		sec, err := s.ReadSecret(ctx, r)
		if errors.Is(err, secrets.ErrNotFound) {
			if r.Backend == s.Backend {
				// Its own backend says it is gone: a person deleted it.
				s.dropStale(ctx, *r)
			}
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		if !Describes(r, sec) {
			r = s.reconcile(ctx, r, sec)
			if !r.Managed() && r.Expired(now) {
				continue
			}
		} else if r.Backend == "" && s.Backend != "" {
			// A record of an earlier version, found in this backend:
			// say so in the index, once, so that it is never again a
			// record of unknown backend.
			r = s.stamp(ctx, r)
		}
		return r, sec, nil
	}
	return nil, nil, nil
}

// reconcile returns the record that describes sec when r does not: a
// store wrote sec and then failed, or was killed, before its index
// record. The secret is the newer of the two; its expiry is its own, and a
// managed token's metadata (of the token it replaced) is to be checked
// with GitLab again. The index is repaired, best effort, so that this
// happens once.
func (s *Store) reconcile(ctx context.Context, r *Record, sec *Secret) *Record {
	upd := *r
	upd.StoredAt = sec.StoredAt
	upd.ExpiryUTC = sec.ExpiryUTC
	upd.HasRefreshToken = sec.OAuthRefreshToken != ""
	if r.Token != nil {
		t := *r.Token
		t.Unverified = true
		t.CheckedAt = time.Time{}
		upd.Token = &t
	}
	// The digest was of the token r described; an unverified token keeps
	// none (GitLab confirms it first).
	upd.SetDigest(sec.Password)
	s.update(ctx, r.Protocol, r.Host, func(idx *indexFile) error {
		for i := range idx.Records {
			if x := &idx.Records[i]; x.Account == r.Account && x.StoredAt.Equal(r.StoredAt) {
				*x = upd
			}
		}
		return nil
	})
	return &upd
}

// stamp records in the index that r's secret is in s.Backend, best
// effort, and returns r so marked.
func (s *Store) stamp(ctx context.Context, r *Record) *Record {
	upd := *r
	upd.Backend = s.Backend
	s.update(ctx, r.Protocol, r.Host, func(idx *indexFile) error {
		for i := range idx.Records {
			if x := &idx.Records[i]; x.Account == r.Account && x.StoredAt.Equal(r.StoredAt) && x.Backend == "" {
				x.Backend = s.Backend
			}
		}
		return nil
	})
	return &upd
}

// Elsewhere reports whether r's secret is in another backend than
// Secrets: the config names another backend than the one that stored it
// (switched by hand, another GLPAT_CONFIG, a migrate not finished).
func (s *Store) Elsewhere(r *Record) bool {
	return r.Backend != "" && r.Backend != s.Backend
}

// warnElsewhere tells a person, once per process, that a credential is
// stored elsewhere.
func (s *Store) warnElsewhere(r *Record) {
	if s.Notice == nil || s.warnedElsewhere {
		return
	}
	s.warnedElsewhere = true
	s.Notice(&ElsewhereError{Record: *r, Backend: s.Backend})
}

// trusted returns the records of the index file name that may be served:
// each must belong in that file (its protocol and host name it) and its
// account must be the one its protocol, host, path and username give (see
// consistentAccount). The others are left in the file, never served, and a
// person is told once which file holds them.
func (s *Store) trusted(name string, recs []Record) []Record {
	bad := 0
	for i := range recs {
		if !s.consistent(name, &recs[i]) {
			bad++
		}
	}
	if bad == 0 {
		return recs
	}
	out := make([]Record, 0, len(recs)-bad)
	for i := range recs {
		if s.consistent(name, &recs[i]) {
			out = append(out, recs[i])
		}
	}
	if s.Notice != nil {
		s.Notice(&InconsistentError{File: name, N: bad})
	}
	return out
}

func (s *Store) consistent(name string, r *Record) bool {
	return consistentAccount(r) && s.fileName(r.Protocol, r.Host) == name
}

// ReadSecret reads the secret of r from the secrets.Store.
func (s *Store) ReadSecret(ctx context.Context, r *Record) (*Secret, error) {
	raw, err := s.Secrets.Get(ctx, r.Account)
	if err != nil {
		return nil, err
	}
	var sec Secret
	if err := json.Unmarshal([]byte(raw), &sec); err != nil {
		// Not written by us (or damaged): never echo its content.
		return nil, fmt.Errorf("store: secret of %s is not in the expected format", r.Account)
	}
	if r.Token != nil {
		// Its prefix may be an instance's own: messages hide it too.
		gltoken.Learn(sec.Password)
	}
	return &sec, nil
}

// Describes reports whether r is the index record of sec: written by the
// same Put (a secret of an earlier version, without a store time, is
// taken at its record's word).
func Describes(r *Record, sec *Secret) bool {
	return sec.StoredAt.IsZero() || sec.StoredAt.Equal(r.StoredAt)
}

// Reconciled returns r when it describes sec, else the record that does
// (see First): a store that wrote sec and failed before its index record.
func (s *Store) Reconciled(ctx context.Context, r *Record, sec *Secret) *Record {
	if Describes(r, sec) {
		return r
	}
	return s.reconcile(ctx, r, sec)
}

// KeepUserID writes userID into the envelope of r's secret, which sec was
// read as, when the backend still holds exactly that secret for r (no store
// since: the index lock keeps Put out meanwhile). It is for a secret
// written without the user (by an earlier version, or while GitLab could
// not be asked) once GitLab has named the user: one read and one write,
// before a rotation and never on get's path of a hit.
func (s *Store) KeepUserID(ctx context.Context, r *Record, sec *Secret, userID int64) error {
	if userID == 0 || sec.UserID == userID {
		return nil
	}
	return s.update(ctx, r.Protocol, r.Host, func(idx *indexFile) error {
		found := false
		for i := range idx.Records {
			if x := &idx.Records[i]; x.Account == r.Account && x.StoredAt.Equal(r.StoredAt) {
				found = true
			}
		}
		if !found {
			return nil // stored again since
		}
		cur, err := s.ReadSecret(ctx, r)
		if err != nil {
			return err
		}
		if cur.Password != sec.Password || cur.OAuthRefreshToken != sec.OAuthRefreshToken || cur.Credential != sec.Credential || !cur.StoredAt.Equal(sec.StoredAt) {
			return nil // not the secret the caller read
		}
		cur.UserID = userID
		raw, err := json.Marshal(cur)
		if err != nil {
			return err
		}
		return s.Secrets.Set(ctx, r.Account, string(raw))
	})
}

// dropStale removes r from the index if it is unchanged, best effort.
func (s *Store) dropStale(ctx context.Context, r Record) {
	s.update(ctx, r.Protocol, r.Host, func(idx *indexFile) error {
		idx.Records = removeWhere(idx.Records, func(x Record) bool {
			return x.Account == r.Account && x.StoredAt.Equal(r.StoredAt)
		})
		return nil
	})
}

// Put stores sec for r (replacing the credential with the same protocol,
// host, path and username): the secret first, then the index, so a crash in
// between leaves at worst a secret that nothing points to, never an index
// entry without its secret. It sets r.Account and r.StoredAt.
func (s *Store) Put(ctx context.Context, r *Record, sec *Secret) error {
	r.Account = AccountName(r.Protocol, r.Host, r.Path, r.Username)
	r.Backend = s.Backend
	r.StoredAt = s.Now().UTC()
	// Every secret written goes through here, so the digest is always of
	// the secret stored (a record copied from an older one brings the
	// older token's).
	r.SetDigest(sec.Password)
	if r.Token != nil {
		gltoken.Learn(sec.Password)
	}
	withMeta := *sec
	withMeta.StoredAt, withMeta.ExpiryUTC = r.StoredAt, r.ExpiryUTC
	raw, err := json.Marshal(&withMeta)
	if err != nil {
		return err
	}
	name := s.fileName(r.Protocol, r.Host)
	var legacy []string // old-format accounts this store replaces
	err = s.updateIndex(ctx, r.Protocol, r.Host, true, func(idx *indexFile) error {
		if err := s.Secrets.Set(ctx, r.Account, string(raw)); err != nil {
			return err
		}
		if s.Hook != nil {
			s.Hook("store-after-secret")
		}
		idx.Records = removeWhere(idx.Records, func(x Record) bool {
			if x.Account == r.Account {
				return true
			}
			if sameCredential(&x, r) && s.consistent(name, &x) {
				// The same credential under its old-format name: this
				// store supersedes it. Its item goes too, when it is in
				// this backend.
				if !s.Elsewhere(&x) {
					legacy = append(legacy, x.Account)
				}
				return true
			}
			return false
		})
		idx.Records = append(idx.Records, *r)
		return nil
	})
	if err == nil {
		// The index names the new item now; the old one is unreachable.
		// Best effort: a failure leaves an item nothing points to.
		for _, a := range legacy {
			s.Secrets.Delete(ctx, a)
		}
	}
	return err
}

// UpdateRecord rewrites the index record of r.Account without touching its
// secret (to record token metadata), if it is still the version r was read
// from (same StoredAt); a record stored again since is left alone. It
// returns an ErrNotFound-wrapping error when the record is gone.
func (s *Store) UpdateRecord(ctx context.Context, r *Record) error {
	return s.update(ctx, r.Protocol, r.Host, func(idx *indexFile) error {
		for i := range idx.Records {
			if idx.Records[i].Account == r.Account {
				if !idx.Records[i].StoredAt.Equal(r.StoredAt) {
					// Stored again since r was read (a login, a
					// rotation, git's store): r is stale and must not
					// put the old token's metadata back.
					return nil
				}
				idx.Records[i] = *r
				return nil
			}
		}
		return fmt.Errorf("store: %s: %w", r.Account, secrets.ErrNotFound)
	})
}

// Erase removes every credential that matches c; when c has a password, only
// those whose stored password equals it. It returns how many were removed.
// A secret is removed from the secrets.Store before its index record; if
// the store cannot be reached or is locked, Erase stops and the records
// it could not remove stay.
func (s *Store) Erase(ctx context.Context, c *credential.Credential) (int, error) {
	return s.EraseWhere(ctx, c, nil)
}

// EraseWhere is Erase limited to the records that only accepts (nil: all).
// As Git's helpers do (credential_match with match_password), a given
// password or credential must equal the stored one.
func (s *Store) EraseWhere(ctx context.Context, c *credential.Credential, only func(*Record) bool) (int, error) {
	n := 0
	name := s.fileName(c.Protocol, c.Host)
	err := s.update(ctx, c.Protocol, c.Host, func(idx *indexFile) error {
		drop := make([]bool, len(idx.Records))
		var cand []int // records whose secret is to be deleted
		for i := range idx.Records {
			r := &idx.Records[i]
			// An inconsistent record's account may name another
			// credential's secret: never delete by it. A record of
			// another backend is not ours to erase from here.
			if !r.Matches(c) || !s.consistent(name, r) || s.Elsewhere(r) || (only != nil && !only(r)) {
				continue
			}
			if c.HasPassword || c.Credential != "" {
				sec, err := s.ReadSecret(ctx, r)
				switch {
				case errors.Is(err, secrets.ErrNotFound):
					// Stale: nothing to compare, nothing to keep (if
					// its own backend says so).
					drop[i] = r.Backend == s.Backend
					continue
				case err != nil:
					return err // nothing deleted
				case c.HasPassword && sec.Password != c.Password,
					c.Credential != "" && sec.Credential != c.Credential:
					continue
				}
			}
			cand = append(cand, i)
		}
		accounts := make([]string, len(cand))
		for j, i := range cand {
			accounts[j] = idx.Records[i].Account
		}
		var firstErr error
		for j, err := range s.deleteMany(ctx, accounts) {
			i := cand[j]
			switch {
			case err == nil:
			case errors.Is(err, secrets.ErrNotFound) && idx.Records[i].Backend == s.Backend:
			case errors.Is(err, secrets.ErrNotFound):
				continue // an old record: its secret may be in another backend
			default:
				if firstErr == nil {
					firstErr = err
				}
				continue
			}
			drop[i] = true
			n++
		}
		out := idx.Records[:0]
		for i, r := range idx.Records {
			if !drop[i] {
				out = append(out, r)
			}
		}
		idx.Records = out
		return firstErr
	})
	return n, err
}

// batchDeleter is a secrets.Store that deletes many secrets at a fraction
// of the cost of one Delete each (the OS keychain over D-Bus).
type batchDeleter interface {
	DeleteMany(ctx context.Context, accounts []string) []error
}

// deleteMany deletes accounts from Secrets, one error per account. Where
// the store has no batch call, it deletes one by one and, at the first
// failure other than "not found" (a locked or unreachable store), stops
// trying: the rest get that error and stay.
func (s *Store) deleteMany(ctx context.Context, accounts []string) []error {
	if len(accounts) == 0 {
		return nil
	}
	if b, ok := s.Secrets.(batchDeleter); ok {
		return b.DeleteMany(ctx, accounts)
	}
	errs := make([]error, len(accounts))
	for i, a := range accounts {
		errs[i] = s.Secrets.Delete(ctx, a)
		if errs[i] != nil && !errors.Is(errs[i], secrets.ErrNotFound) {
			for j := i + 1; j < len(accounts); j++ {
				errs[j] = errs[i]
			}
			break
		}
	}
	return errs
}

// List returns every record in the index, sorted by host, then username.
// Corrupt index files are skipped and reported in the error, which wraps
// ErrCorruptIndex; the records that could be read are still returned.
func (s *Store) List() ([]Record, error) {
	entries, err := os.ReadDir(s.Dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	var out []Record
	var errs []error
	for _, e := range entries {
		name := e.Name()
		if strings.Contains(name, ".json.corrupt-") {
			// Set aside by a store: say so until a person removes it.
			errs = append(errs, &SetAsideError{Aside: filepath.Join(s.Dir, name)})
			continue
		}
		if !strings.HasSuffix(name, ".json") || strings.HasPrefix(name, ".") {
			continue
		}
		file := filepath.Join(s.Dir, name)
		idx, err := s.readFile(file)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		n := len(out)
		for i := range idx.Records {
			if r := &idx.Records[i]; s.consistent(file, r) || (consistentAccount(r) && s.legacyFileName(r.Protocol, r.Host) == file) {
				out = append(out, idx.Records[i])
			}
		}
		if bad := len(idx.Records) - (len(out) - n); bad > 0 {
			errs = append(errs, &InconsistentError{File: file, N: bad})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Host != b.Host {
			return a.Host < b.Host
		}
		if a.Protocol != b.Protocol {
			return a.Protocol < b.Protocol
		}
		if a.Username != b.Username {
			return a.Username < b.Username
		}
		return a.Path < b.Path
	})
	return out, errors.Join(errs...)
}

// fileName is the index file for a protocol and host. Hosts are
// lower-cased so that case-insensitive file systems (macOS, Windows) map
// them to one file; records inside keep the exact host and are matched
// exactly.
func (s *Store) fileName(protocol, host string) string {
	return filepath.Join(s.Dir, EscapeName(strings.ToLower(protocol+"_"+host))+".json")
}

// legacyFileName is the name versions before 0.9 gave the index file of a
// protocol and host whose name EscapeName now cuts (the whole escaped
// name); "" when the name is not cut, or too long for an earlier version
// to have written (its lock file name had to fit in 255 bytes).
func (s *Store) legacyFileName(protocol, host string) string {
	e := escape(strings.ToLower(protocol + "_" + host))
	if len(e) <= maxEscapedName || len(e)+len(".json.lock") > 255 {
		return ""
	}
	return filepath.Join(s.Dir, e+".json")
}

// readIndex reads the index file of protocol and host, or, when there is
// none, the file an earlier version wrote under its legacy name. It
// reports whether the index came from the legacy file.
func (s *Store) readIndex(protocol, host string) (*indexFile, bool, error) {
	return s.readIndexOf(protocol, host, true)
}

// readIndexOf is readIndex; with resolve false, managed tokens keep the API
// URL the index has (see FindToCompare).
func (s *Store) readIndexOf(protocol, host string, resolve bool) (*indexFile, bool, error) {
	name := s.fileName(protocol, host)
	if legacy := s.legacyFileName(protocol, host); legacy != "" {
		if _, err := os.Lstat(name); errors.Is(err, fs.ErrNotExist) {
			if _, err := os.Lstat(legacy); err == nil {
				idx, err := s.readFileAs(legacy, resolve)
				return idx, true, err
			}
		}
	}
	idx, err := s.readFileAs(name, resolve)
	return idx, false, err
}

func (s *Store) readFile(name string) (*indexFile, error) {
	return s.readFileAs(name, true)
}

// readFileAs reads the index file name; with resolve, managed tokens get
// their API URL from APIURL.
func (s *Store) readFileAs(name string, resolve bool) (*indexFile, error) {
	// Bounded in time and size, and never a FIFO or a device: this is on
	// the path of every get.
	data, err := safefile.ReadFile(name, maxIndexSize)
	if errors.Is(err, fs.ErrNotExist) {
		return &indexFile{Version: indexVersion}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: read index: %w", err)
	}
	idx, err := decodeIndex(name, data)
	if err != nil {
		return nil, err
	}
	if s.APIURL != nil && resolve {
		for i := range idx.Records {
			if t := idx.Records[i].Token; t != nil {
				t.APIURL = s.APIURL(idx.Records[i].Host)
			}
			if o := idx.Records[i].OAuth; o != nil {
				o.APIURL = s.APIURL(idx.Records[i].Host)
			}
		}
	}
	return idx, nil
}

// update applies fn to the index of protocol and host under a lock that
// works across processes, then writes the index atomically. A corrupt index
// file is moved aside (never deleted) and replaced.
func (s *Store) update(ctx context.Context, protocol, host string, fn func(*indexFile) error) error {
	return s.updateIndex(ctx, protocol, host, false, fn)
}

// updateIndex is update; with rebuild, a corrupt index file is moved aside
// (never deleted: the person is told where) and a new one started. Only a
// store does that: it is how a person recovers, by storing again.
func (s *Store) updateIndex(ctx context.Context, protocol, host string, rebuild bool, fn func(*indexFile) error) error {
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	name := s.fileName(protocol, host)
	lctx, cancel := context.WithTimeout(ctx, lockWait)
	defer cancel()
	lock, err := filelock.Acquire(lctx, name+".lock")
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	defer lock.Unlock()
	idx, fromLegacy, err := s.readIndex(protocol, host)
	if err == nil && idx.Version > indexVersion {
		// A newer helper's: its records may say more than this one
		// would write back.
		return &NewerIndexError{File: name, Version: idx.Version}
	}
	if fromLegacy && err != nil {
		// A damaged file of an earlier version is left as it is.
		return err
	}
	if errors.Is(err, ErrCorruptIndex) && rebuild {
		aside := fmt.Sprintf("%s.corrupt-%d", name, s.Now().Unix())
		if rerr := os.Rename(name, aside); rerr != nil {
			return err
		}
		if s.Notice != nil {
			s.Notice(&SetAsideError{Aside: aside})
		}
		idx = &indexFile{Version: indexVersion}
	} else if err != nil {
		return err
	}
	before, _ := json.Marshal(idx)
	fnErr := fn(idx)
	after, err := json.MarshalIndent(idx, "", "  ")
	if err != nil {
		return err
	}
	if compact, _ := json.Marshal(idx); string(compact) != string(before) {
		if err := atomicfile.WriteFile(name, append(after, '\n'), 0o600); err != nil {
			return fmt.Errorf("store: %w", err)
		}
		if fromLegacy {
			// Its records are in the new file now.
			os.Remove(s.legacyFileName(protocol, host))
		}
	}
	return fnErr
}

func removeWhere(rs []Record, drop func(Record) bool) []Record {
	out := rs[:0]
	for _, r := range rs {
		if !drop(r) {
			out = append(out, r)
		}
	}
	return out
}

// maxEscapedName is the longest name EscapeName returns. File systems allow
// 255 bytes; the rest is left for the suffixes added to it (".json.lock",
// ".json.corrupt-1767225600", a temporary file's ".tmp-123456789").
const maxEscapedName = 200

// EscapeName turns s into a string safe as a file name on every platform.
// A name that would be too long (a 253-character host, a long username)
// is cut and ends in "~" and a hash of the whole: "~" is never produced
// by the escaping, so a cut name cannot equal an uncut one.
func EscapeName(s string) string {
	e := escape(s)
	if len(e) <= maxEscapedName {
		return e
	}
	sum := sha256.Sum256([]byte(s))
	return e[:maxEscapedName-1-32] + "~" + hex.EncodeToString(sum[:16])
}

// escape keeps letters, digits and ".-_" and percent-encodes every other
// byte, giving names safe on every file system and unambiguous in URLs.
func escape(s string) string { return escapeKeep(s, ".-_") }

// escapeKeep keeps letters, digits and the bytes of keep, and
// percent-encodes every other byte ("%" included, so it is injective).
func escapeKeep(s, keep string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte(keep, c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}
