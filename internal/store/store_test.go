package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/glpat-dev/git-credential-glpat/internal/credential"
	"github.com/glpat-dev/git-credential-glpat/internal/keychain"
	"github.com/glpat-dev/git-credential-glpat/internal/keyringtest"
	"github.com/glpat-dev/git-credential-glpat/internal/secrets"
	"github.com/glpat-dev/git-credential-glpat/internal/secrets/secretstest"
)

func TestMain(m *testing.M) { os.Exit(keyringtest.Main(m)) }

func req(protocol, host, username string) *credential.Credential {
	return &credential.Credential{Protocol: protocol, Host: host, Username: username, HasUsername: username != ""}
}

// TestGetIsOneKeychainRead: however many credentials are stored, a get
// reads one index file and makes one keychain call.
func TestGetIsOneKeychainRead(t *testing.T) {
	mem := new(secretstest.Memory)
	s := &Store{Secrets: mem, Dir: t.TempDir()}
	ctx := context.Background()
	for h := 0; h < 50; h++ {
		for u := 0; u < 20; u++ {
			r := &Record{Protocol: "https", Host: fmt.Sprintf("h%d.example", h), Username: fmt.Sprintf("u%d", u)}
			if err := s.Put(ctx, r, &Secret{Password: "p"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	before := mem.Calls()
	rec, sec, err := s.Get(ctx, req("https", "h17.example", "u3"))
	if err != nil || rec == nil || sec.Password != "p" {
		t.Fatalf("Get = %v, %v, %v", rec, sec, err)
	}
	if n := mem.Calls() - before; n != 1 {
		t.Errorf("Get among 1,000 credentials made %d keychain calls, want 1", n)
	}
}

func TestFileModesAndLayout(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("POSIX modes")
	}
	dir := filepath.Join(t.TempDir(), "state", "index")
	s := &Store{Secrets: new(secretstest.Memory), Dir: dir}
	if err := s.Put(context.Background(), &Record{Protocol: "https", Host: "Example.COM:8443", Username: "u"}, &Secret{Password: "p"}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{dir, filepath.Dir(dir)} {
		fi, err := os.Stat(p)
		if err != nil || fi.Mode().Perm() != 0o700 {
			t.Errorf("%s: mode %v, %v; want 0700", p, fi.Mode().Perm(), err)
		}
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	for _, f := range files {
		fi, _ := os.Stat(f)
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", f, fi.Mode().Perm())
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "https_example.com%3A8443.json")); err != nil {
		t.Errorf("index file for a host with a port: %v (files %v)", err, files)
	}
}

// TestLockedKeychainDeletesNothing: with the real keyring locked, erase
// fails and removes nothing; after unlocking, everything is still there.
func TestLockedKeychainDeletesNothing(t *testing.T) {
	sess := keyringtest.Require(t)
	s := &Store{Secrets: keychain.New("glpat-store-locked"), Dir: t.TempDir()}
	ctx := context.Background()
	if err := s.Put(ctx, &Record{Protocol: "https", Host: "locked.example", Username: "u"}, &Secret{Password: "p"}); err != nil {
		t.Fatal(err)
	}
	if err := sess.Lock(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sess.Unlock() })
	if _, _, err := s.Get(ctx, req("https", "locked.example", "")); !isLocked(err) {
		t.Errorf("Get on a locked keychain: %v, want ErrLocked", err)
	}
	if n, err := s.Erase(ctx, req("https", "locked.example", "")); !isLocked(err) || n != 0 {
		t.Errorf("Erase on a locked keychain: %d, %v; want 0, ErrLocked", n, err)
	}
	if err := sess.Unlock(); err != nil {
		t.Fatal(err)
	}
	rec, sec, err := s.Get(ctx, req("https", "locked.example", ""))
	if err != nil || rec == nil || sec.Password != "p" {
		t.Errorf("after unlock: %v %v %v, want the credential intact", rec, sec, err)
	}
}

func isLocked(err error) bool { return err != nil && errors.Is(err, secrets.ErrLocked) }

// TestConcurrentPutsLoseNothing: many writers on one host, in parallel, on
// the real keyring: every record ends up in the index with its secret.
func TestConcurrentPutsLoseNothing(t *testing.T) {
	keyringtest.Require(t)
	dir := t.TempDir()
	ctx := context.Background()
	const n = 16
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// A Store per goroutine, as separate processes would have.
			s := &Store{Secrets: keychain.New("glpat-store-concurrent"), Dir: dir}
			if err := s.Put(ctx, &Record{Protocol: "https", Host: "busy.example", Username: fmt.Sprintf("u%d", i)}, &Secret{Password: fmt.Sprintf("p%d", i)}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	s := &Store{Secrets: keychain.New("glpat-store-concurrent"), Dir: dir}
	recs, err := s.List()
	if err != nil || len(recs) != n {
		t.Fatalf("List: %d records, %v; want %d", len(recs), err, n)
	}
	for i := 0; i < n; i++ {
		_, sec, err := s.Get(ctx, req("https", "busy.example", fmt.Sprintf("u%d", i)))
		if err != nil || sec == nil || sec.Password != fmt.Sprintf("p%d", i) {
			t.Errorf("u%d: %v %v", i, sec, err)
		}
	}
}

// TestStaleRecordIsDropped: a secret deleted behind our back (in Seahorse)
// makes get fall through to the next match and drops the index entry.
func TestStaleRecordIsDropped(t *testing.T) {
	mem := new(secretstest.Memory)
	now := time.Unix(1e9, 0)
	s := &Store{Secrets: mem, Dir: t.TempDir(), Clock: func() time.Time { now = now.Add(time.Second); return now }}
	ctx := context.Background()
	s.Put(ctx, &Record{Protocol: "https", Host: "h", Username: "old"}, &Secret{Password: "p-old"})
	s.Put(ctx, &Record{Protocol: "https", Host: "h", Username: "new"}, &Secret{Password: "p-new"})
	mem.Delete(ctx, AccountName("https", "h", "", "new"))
	rec, sec, err := s.Get(ctx, req("https", "h", ""))
	if err != nil || rec == nil || sec.Password != "p-old" {
		t.Fatalf("Get = %v %v %v, want the older credential", rec, sec, err)
	}
	recs, _ := s.List()
	if len(recs) != 1 {
		t.Errorf("index keeps %d records, want the stale one dropped", len(recs))
	}
}

func TestAccountName(t *testing.T) {
	tests := []struct{ protocol, host, path, user, want string }{
		{"https", "gitlab.com", "", "alice", "https://alice@gitlab.com"},
		{"https", "h:8443", "g/r.git", "a@b c", "https://a%40b%20c@h:8443/g/r.git"},
		{"https", "h", "", "", "https://@h"},
	}
	for _, tt := range tests {
		if got := AccountName(tt.protocol, tt.host, tt.path, tt.user); got != tt.want {
			t.Errorf("AccountName(%q,%q,%q,%q) = %q, want %q", tt.protocol, tt.host, tt.path, tt.user, got, tt.want)
		}
	}
}

// TestScoping: a credential stored for https://gitlab.example.com is never
// returned for look-alike requests.
func TestScoping(t *testing.T) {
	mem := new(secretstest.Memory)
	s := &Store{Secrets: mem, Dir: t.TempDir()}
	ctx := context.Background()
	if err := s.Put(ctx, &Record{Protocol: "https", Host: "gitlab.example.com", Username: "u"}, &Secret{Password: "p"}); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ name, protocol, host string }{
		{"plain http", "http", "gitlab.example.com"},
		{"another port", "https", "gitlab.example.com:8443"},
		{"explicit default port", "https", "gitlab.example.com:443"},
		{"suffix host", "https", "gitlab.example.com.evil.com"},
		{"prefix host", "https", "evil.gitlab.example.com"},
		{"host in a path", "https", "evil.com/gitlab.example.com"},
		{"upper case", "https", "GITLAB.example.com"},
		{"upper-case protocol", "HTTPS", "gitlab.example.com"},
		{"trailing dot", "https", "gitlab.example.com."},
		{"IDN look-alike (Cyrillic a)", "https", "gitl\u0430b.example.com"},
		{"punycode look-alike", "https", "xn--gitlb-2ye.example.com"},
		{"userinfo trick", "https", "gitlab.example.com@evil.com"},
		{"empty host", "https", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec, _, err := s.Get(ctx, req(tt.protocol, tt.host, ""))
			if err != nil || rec != nil {
				t.Errorf("Get(%s://%s) = %v, %v; want nothing", tt.protocol, tt.host, rec, err)
			}
		})
	}
	if rec, _, _ := s.Get(ctx, req("https", "gitlab.example.com", "")); rec == nil {
		t.Error("the exact request finds nothing")
	}
}

// TestPutKeepsDigestOfWhatItStores: the index's digest is always of the
// secret Put wrote, whatever the record brought along (a record copied from
// the one before a rotation brings the old token's), and only for a
// confirmed managed token.
func TestPutKeepsDigestOfWhatItStores(t *testing.T) {
	s := &Store{Secrets: new(secretstest.Memory), Dir: t.TempDir()}
	ctx := context.Background()
	tests := []struct {
		name string
		tok  *Token
		want string
	}{
		{"confirmed token", &Token{ID: 1}, Digest("glpat-new")},
		{"token not yet confirmed", &Token{Unverified: true}, ""},
		{"plain credential", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &Record{Protocol: "https", Host: "gitlab.example", Username: tt.name, Token: tt.tok, SecretSHA256: Digest("glpat-old")}
			if err := s.Put(ctx, r, &Secret{Password: "glpat-new"}); err != nil {
				t.Fatal(err)
			}
			recs, err := s.Find(req("https", "gitlab.example", tt.name))
			if err != nil || len(recs) != 1 {
				t.Fatalf("find: %v %v", recs, err)
			}
			if recs[0].SecretSHA256 != tt.want {
				t.Errorf("stored digest %q, want %q", recs[0].SecretSHA256, tt.want)
			}
			same, known := recs[0].SameSecret("glpat-new")
			if known != (tt.want != "") || same != known {
				t.Errorf("SameSecret(stored) = %v, %v; want %v, %v", same, known, known, tt.want != "")
			}
			if same, _ := recs[0].SameSecret("glpat-old"); same {
				t.Error("SameSecret of the old token is true")
			}
		})
	}
}

// TestTornStoreDropsTheDigest: a store killed between its secret and its
// index leaves the old record over the new secret; the record First
// rebuilds from the secret keeps no digest of the old token (its token is
// unverified until GitLab confirms it, and then gets the new one's).
func TestTornStoreDropsTheDigest(t *testing.T) {
	mem := new(secretstest.Memory)
	s := &Store{Secrets: mem, Dir: t.TempDir()}
	ctx := context.Background()
	r := &Record{Protocol: "https", Host: "gitlab.example", Username: "u", Token: &Token{ID: 1}}
	if err := s.Put(ctx, r, &Secret{Password: "glpat-old"}); err != nil {
		t.Fatal(err)
	}
	// What Put of the next token writes first, and then nothing more.
	raw, _ := json.Marshal(&Secret{Password: "glpat-new", StoredAt: r.StoredAt.Add(time.Second)})
	if err := mem.Set(ctx, r.Account, string(raw)); err != nil {
		t.Fatal(err)
	}
	got, sec, err := s.Get(ctx, req("https", "gitlab.example", "u"))
	if err != nil || got == nil || sec.Password != "glpat-new" {
		t.Fatalf("get after a torn store: %v, %v", got, err)
	}
	recs, _ := s.Find(req("https", "gitlab.example", "u"))
	for _, rec := range append(recs, *got) {
		if same, known := rec.SameSecret("glpat-old"); same || known || rec.SecretSHA256 != "" {
			t.Errorf("record after a torn store keeps digest %q (same as the old token: %v)", rec.SecretSHA256, same)
		}
	}
}

// TestKeepUserID: the GitLab user goes into the envelope of exactly the
// secret the caller read, in the real keychain, leaving its store time (so
// its record still describes it); a secret stored since, or one a torn
// store left newer than its record, is left alone.
func TestKeepUserID(t *testing.T) {
	keyringtest.Require(t)
	ctx := context.Background()
	s := &Store{Secrets: keychain.New("glpat-store-test " + t.Name()), Dir: t.TempDir()}
	put := func(password string) (*Record, *Secret) {
		t.Helper()
		if err := s.Put(ctx, &Record{Protocol: "https", Host: "gitlab.example", Username: "u", Token: &Token{ID: 1}}, &Secret{Password: password}); err != nil {
			t.Fatal(err)
		}
		r, sec, err := s.Lookup(ctx, "https", "gitlab.example", AccountName("https", "gitlab.example", "", "u"))
		if err != nil || r == nil {
			t.Fatalf("lookup: %v %v", r, err)
		}
		return r, sec
	}
	envelope := func(r *Record) *Secret {
		t.Helper()
		sec, err := s.ReadSecret(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		return sec
	}

	r, sec := put("first")
	if err := s.KeepUserID(ctx, r, sec, 42); err != nil {
		t.Fatal(err)
	}
	if got := envelope(r); got.UserID != 42 || got.Password != "first" || !got.StoredAt.Equal(r.StoredAt) || !Describes(r, got) {
		t.Errorf("envelope after KeepUserID: user %d, stored at %v; want user 42, stored at %v", got.UserID, got.StoredAt, r.StoredAt)
	}

	// Stored again since the caller read it.
	time.Sleep(time.Millisecond)
	r2, _ := put("second")
	if err := s.KeepUserID(ctx, r, sec, 7); err != nil {
		t.Fatal(err)
	}
	if got := envelope(r2); got.UserID != 0 || got.Password != "second" {
		t.Errorf("a secret stored since got user %d (password changed: %v)", got.UserID, got.Password != "second")
	}

	// A torn store: the secret is newer than its record.
	r3, sec3 := put("third")
	torn := Secret{Password: "fourth", StoredAt: sec3.StoredAt.Add(time.Second)}
	raw, _ := json.Marshal(&torn)
	if err := s.Secrets.Set(ctx, r3.Account, string(raw)); err != nil {
		t.Fatal(err)
	}
	if err := s.KeepUserID(ctx, r3, sec3, 7); err != nil {
		t.Fatal(err)
	}
	if got := envelope(r3); got.UserID != 0 || got.Password != "fourth" {
		t.Errorf("the secret of a torn store got user %d (password changed: %v)", got.UserID, got.Password != "fourth")
	}
}
