// Package store keeps Git credentials: each secret in a secrets.Store (the
// OS keychain by default) and a non-secret index on disk that says which
// credentials exist, so that a lookup costs one keychain read at most.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/glpat-dev/git-credential-glpat/internal/atomicfile"
	"github.com/glpat-dev/git-credential-glpat/internal/credential"
	"github.com/glpat-dev/git-credential-glpat/internal/filelock"
	"github.com/glpat-dev/git-credential-glpat/internal/secrets"
)

// indexVersion is written into every index file. Readers accept files of
// this version; new optional fields may be added without changing it.
const indexVersion = 1

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
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Warn tells a person about a damaged index that was set aside; nil
	// says nothing.
	Warn func(format string, args ...any)
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
	// Dead says why the token can no longer work ("expired", "revoked",
	// "rotation answer lost"), once GitLab has told us. A dead token is
	// never handed to Git.
	Dead   string    `json:"dead,omitempty"`
	DeadAt time.Time `json:"dead_at,omitzero"`
	// GitRefusedAt is when Git reported (by erase) that its server
	// refused the token while GitLab still accepted it or could not be
	// asked; it is not handed to Git again for a while.
	GitRefusedAt time.Time `json:"git_refused_at,omitzero"`
	// CannotRotate is set when GitLab refused a rotation for lack of scope.
	CannotRotate bool `json:"cannot_rotate,omitempty"`
	// NoSelfRotation says why this GitLab cannot rotate the token itself
	// (its self-rotate endpoint is missing: GitLab before 16.10, or 17.9
	// for project and group tokens), and NoSelfRotationAt when that was
	// found; asked again after a while, in case the server was upgraded.
	NoSelfRotation   string    `json:"no_self_rotation,omitempty"`
	NoSelfRotationAt time.Time `json:"no_self_rotation_at,omitzero"`
	// RotateFailedAt and RotateError record the last failed rotation, so
	// that a GitLab that is down is not asked again on every git command.
	RotateFailedAt time.Time `json:"rotate_failed_at,omitzero"`
	RotateError    string    `json:"rotate_error,omitempty"`
	// WarnedAt is when a person was last warned about this token, so that
	// a warning that needs no new action is not repeated on every call.
	WarnedAt time.Time `json:"warned_at,omitzero"`
}

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

// Secret is what goes into the secrets.Store for one credential.
type Secret struct {
	Password          string `json:"password"`
	OAuthRefreshToken string `json:"oauth_refresh_token,omitempty"`
	// Credential is a pre-encoded credential for the record's AuthType
	// (git 2.46+, capability[]=authtype).
	Credential string `json:"credential,omitempty"`
}

type indexFile struct {
	Version int      `json:"version"`
	Records []Record `json:"records"`
}

// AccountName is the name of the secret for a credential: a URL that a
// person recognises in Keychain Access, Credential Manager or Seahorse.
func AccountName(protocol, host, path, username string) string {
	var b strings.Builder
	b.WriteString(protocol)
	b.WriteString("://")
	b.WriteString(escape(username))
	b.WriteString("@")
	b.WriteString(host)
	if path != "" {
		b.WriteString("/")
		b.WriteString(path)
	}
	return b.String()
}

// Matches reports whether r answers request c, as Git's own helpers decide
// it (credential_match in git's credential.c): protocol and host must be
// equal; path and username must be equal when the request has them. The
// one exception is a managed GitLab token, which has no path.
func (r *Record) Matches(c *credential.Credential) bool {
	if r.Protocol != c.Protocol || r.Host != c.Host {
		return false
	}
	// A managed GitLab token is stored without a path and is good for
	// every repository of its account, so it also answers requests that
	// carry a path (credential.useHttpPath).
	if c.Path != "" && r.Path != c.Path && (r.Token == nil || r.Path != "") {
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

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Find returns the index records that match c, most recently stored first.
// It reads one index file and never touches the secrets.Store.
func (s *Store) Find(c *credential.Credential) ([]Record, error) {
	idx, err := s.read(c.Protocol, c.Host)
	if err != nil {
		return nil, err
	}
	var out []Record
	// Newest last in the file: walk it backwards so that equal times
	// still put the later store first.
	for i := len(idx.Records) - 1; i >= 0; i-- {
		if r := idx.Records[i]; r.Matches(c) {
			out = append(out, r)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].StoredAt.After(out[j].StoredAt) })
	return out, nil
}

// Lookup returns the record named account on protocol and host, and its
// secret; (nil, nil, nil) when the index has no such record.
func (s *Store) Lookup(ctx context.Context, protocol, host, account string) (*Record, *Secret, error) {
	idx, err := s.read(protocol, host)
	if err != nil {
		return nil, nil, err
	}
	for i := range idx.Records {
		if r := &idx.Records[i]; r.Account == account {
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
	now := s.now()
	for i := range recs {
		r := &recs[i]
		// A managed token's expiry is the lifecycle's to judge: it tells
		// the person to log in again instead of staying silent.
		if r.Token == nil && r.Expired(now) {
			continue
		}
		sec, err := s.ReadSecret(ctx, r)
		if errors.Is(err, secrets.ErrNotFound) {
			s.dropStale(ctx, *r)
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		return r, sec, nil
	}
	return nil, nil, nil
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
	return &sec, nil
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
	r.StoredAt = s.now().UTC()
	raw, err := json.Marshal(sec)
	if err != nil {
		return err
	}
	return s.updateIndex(ctx, r.Protocol, r.Host, true, func(idx *indexFile) error {
		if err := s.Secrets.Set(ctx, r.Account, string(raw)); err != nil {
			return err
		}
		idx.Records = removeWhere(idx.Records, func(x Record) bool { return x.Account == r.Account })
		idx.Records = append(idx.Records, *r)
		return nil
	})
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
	err := s.update(ctx, c.Protocol, c.Host, func(idx *indexFile) error {
		var firstErr error
		idx.Records = removeWhere(idx.Records, func(r Record) bool {
			if firstErr != nil || !r.Matches(c) || (only != nil && !only(&r)) {
				return false
			}
			if c.HasPassword || c.Credential != "" {
				sec, err := s.ReadSecret(ctx, &r)
				switch {
				case errors.Is(err, secrets.ErrNotFound):
					return true // stale record: nothing to compare, nothing to keep
				case err != nil:
					firstErr = err
					return false
				case c.HasPassword && sec.Password != c.Password,
					c.Credential != "" && sec.Credential != c.Credential:
					return false
				}
			}
			err := s.Secrets.Delete(ctx, r.Account)
			if err != nil && !errors.Is(err, secrets.ErrNotFound) {
				firstErr = err
				return false
			}
			n++
			return true
		})
		return firstErr
	})
	return n, err
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
			errs = append(errs, fmt.Errorf("store: %s is a damaged index set aside; the credentials it listed are still in the keychain but unlisted (store or log in again, then delete it)", filepath.Join(s.Dir, name)))
			continue
		}
		if !strings.HasSuffix(name, ".json") || strings.HasPrefix(name, ".") {
			continue
		}
		idx, err := s.readFile(filepath.Join(s.Dir, name))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, idx.Records...)
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
	return filepath.Join(s.Dir, escape(strings.ToLower(protocol+"_"+host))+".json")
}

func (s *Store) read(protocol, host string) (*indexFile, error) {
	return s.readFile(s.fileName(protocol, host))
}

func (s *Store) readFile(name string) (*indexFile, error) {
	data, err := os.ReadFile(name)
	if errors.Is(err, fs.ErrNotExist) {
		return &indexFile{Version: indexVersion}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: read index: %w", err)
	}
	var idx indexFile
	if err := json.Unmarshal(data, &idx); err != nil || idx.Version != indexVersion {
		return nil, fmt.Errorf("store: %s: %w", name, ErrCorruptIndex)
	}
	return &idx, nil
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
	idx, err := s.readFile(name)
	if errors.Is(err, ErrCorruptIndex) && rebuild {
		aside := fmt.Sprintf("%s.corrupt-%d", name, s.now().Unix())
		if rerr := os.Rename(name, aside); rerr != nil {
			return err
		}
		if s.Warn != nil {
			s.Warn("the index of %s://%s was damaged; it is kept as %s, and the credentials it listed stay in the keychain unlisted: store them again (or log in again) to see them", protocol, host, aside)
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

// EscapeName turns s into a string safe as a file name on every platform.
func EscapeName(s string) string { return escape(s) }

// escape keeps letters, digits and ".-_" and percent-encodes every other
// byte, giving names safe on every file system and unambiguous in URLs.
func escape(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '-' || c == '_' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}
