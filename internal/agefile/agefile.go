// Package agefile keeps secrets in one file of age-encrypted entries (https://age-encryption.org), readable once the passphrase-protected identity is unlocked into the kernel keyring, and writable without it.
package agefile

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"filippo.io/age"
	"filippo.io/age/armor"

	"github.com/glpat-dev/git-credential-glpat/internal/atomicfile"
	"github.com/glpat-dev/git-credential-glpat/internal/filelock"
	"github.com/glpat-dev/git-credential-glpat/internal/safefile"
	"github.com/glpat-dev/git-credential-glpat/internal/secrets"
)

// The files in Dir.
const (
	SecretsFile   = "secrets.age"
	IdentityFile  = "identity.age"
	RecipientFile = "recipient.txt"
	// Writes of secrets.age take one lock, writes of the identity and the
	// recipient another, so that scrypt's second of work in
	// ChangePassphrase does not hold up a Set.
	secretsLock  = "secrets.age.lock"
	identityLock = "identity.age.lock"
)

// cachePrefix starts the name of the cached identity in the IdentityCache;
// the recipient follows, so that each identity has its own entry and an
// identity cached for another directory is never used.
const cachePrefix = "git-credential-glpat-age-identity:"

// lockWait bounds how long a write waits for another process's write,
// which takes a few milliseconds.
const lockWait = 10 * time.Second

// maxFileSize bounds what is written to secrets.age: a thousand tokens
// take a megabyte. A write that would grow the file past it is refused
// (ErrTooLarge) and changes nothing, so that one store of large fields can
// never make the file unreadable.
const maxFileSize = 16 << 20

// maxReadSize bounds what is read of secrets.age and identity.age. It is
// well above maxFileSize, so that a file that grew past that somehow (an
// older version wrote it) can still be read, listed, erased from and
// migrated away from; it only keeps a damaged or planted file from eating
// the memory.
const maxReadSize = 256 << 20

// fileMagic is the first line of secrets.age.
const fileMagic = "git-credential-glpat secrets v1"

var (
	// ErrLocked is what Get returns while the identity is not unlocked.
	// Its message is the one a person should read. It errors.Is
	// secrets.ErrLocked.
	ErrLocked error = secrets.NewError("credentials are locked; run git-credential-glpat unlock", secrets.ErrLocked)
	// ErrNotInitialized means Dir has no identity (or no recipient) yet. It
	// errors.Is secrets.ErrUnavailable.
	ErrNotInitialized error = secrets.NewError("encrypted credentials are not set up; run git-credential-glpat init", secrets.ErrUnavailable)
	// ErrWrongPassphrase means the passphrase does not decrypt identity.age.
	ErrWrongPassphrase = errors.New("wrong passphrase")
	// ErrAlreadyInitialized means Init found an identity (or a secrets file)
	// that it will not overwrite.
	ErrAlreadyInitialized = errors.New("encrypted credentials are already set up")
	// ErrDamaged means a file is truncated, corrupt or was tampered with.
	// The error that wraps it names the file; nothing was written.
	ErrDamaged = errors.New("damaged")
	// ErrTooLarge means a write would grow secrets.age past maxFileSize;
	// nothing was written. It errors.Is secrets.ErrTooLarge.
	ErrTooLarge error = secrets.NewError("too large", secrets.ErrTooLarge)
)

// IdentityCache keeps the unlocked identity between processes.
// *kernelkeyring.Keyring is one: the identity stays in kernel memory,
// readable by the user's processes, until reboot, Lock or its expiry.
type IdentityCache interface {
	// Read returns the value stored under name; the error errors.Is
	// secrets.ErrNotFound when there is none.
	Read(ctx context.Context, name string) ([]byte, error)
	// Write stores value under name, replacing any; a positive expire
	// drops it after that long.
	Write(ctx context.Context, name string, value []byte, expire time.Duration) error
	// Remove drops name; the error errors.Is secrets.ErrNotFound when there
	// was none.
	Remove(ctx context.Context, name string) error
}

// File is the "encrypted-file" backend: a secrets.Store over the files in
// Dir. It is safe for concurrent use by goroutines and processes; its fields
// must not change while calls are in flight.
//
// # Files
//
// In the directory Dir (the state directory), all 0600:
//
//   - identity.age: an X25519 identity (AGE-SECRET-KEY-1…), encrypted with
//     the user's passphrase (age's scrypt recipient), armored. It is the only
//     place the identity is kept on disk.
//   - recipient.txt: the identity's public key (age1…), in clear. Writes
//     need nothing else.
//   - secrets.age: the secrets, one age ciphertext per account, each
//     encrypted to the recipient only (see the format below). It is not an
//     age file as a whole: `age -d` cannot read it.
//
// # Why one ciphertext per account
//
// Store and rotation write secrets when nobody is there to type a
// passphrase (a `git push` that rotates a token, a cron job). Because each
// entry is encrypted on its own, and to the public recipient only, Set and
// Delete rewrite the file without decrypting anything; Get decrypts the one
// entry it needs with the identity that Unlock left in the kernel keyring.
//
// # Format of secrets.age
//
//	git-credential-glpat secrets v1
//	recipient age1…
//	entry "https://alice@gitlab.com" <base64 of an age ciphertext>
//	…
//	sha256 <hex SHA-256 of every byte above this line>
//
// Entries are sorted by account. The plaintext of an entry is the account,
// quoted as Go quotes strings, a newline, and the secret: Get checks that
// the entry it decrypted is for the account it asked about, so entries
// cannot be swapped between accounts unnoticed. The checksum is not a
// secret; it turns a truncated or damaged file into a clear error for every
// call, Set and Delete included, which then write nothing.
//
// Writes are atomic (a temporary file, fsync, rename) and serialised by a
// lock file that works across processes, so a crash at any point leaves
// the previous file or the new one, never a mixture.
type File struct {
	// Dir holds the files; Init creates it 0700.
	Dir string
	// Cache holds the unlocked identity.
	Cache IdentityCache
	// WorkFactor is log2 of scrypt's N for a new passphrase; zero means
	// age's default, 18, about a second of work on a laptop. Tests lower it.
	WorkFactor int

	// parsed remembers the last identity read from the cache: parsing one
	// costs an X25519 scalar multiplication, as much as the decryption
	// itself. The cache is still read on every Get, so Lock takes effect at
	// once.
	mu     sync.Mutex
	parsed struct {
		raw string
		id  *age.X25519Identity
	}
}

var _ secrets.Store = (*File)(nil)

// New returns the File in dir whose identity is cached in cache.
func New(dir string, cache IdentityCache) *File {
	return &File{Dir: dir, Cache: cache}
}

func (f *File) path(name string) string { return filepath.Join(f.Dir, name) }

// Describe names the backend for status and doctor.
func (f *File) Describe() string {
	return "encrypted file " + f.path(SecretsFile) + " (age)"
}

// Init creates the identity, encrypted with passphrase, and leaves it
// unlocked for unlockFor (zero: until reboot). It refuses to overwrite an
// identity, a recipient or a secrets file that exists, with an error that
// errors.Is ErrAlreadyInitialized, and creates nothing when the identity
// cache cannot be used.
func (f *File) Init(ctx context.Context, passphrase string, unlockFor time.Duration) error {
	if passphrase == "" {
		return errors.New("encrypted file: init: the passphrase is empty")
	}
	// Without the cache nothing could ever be read back: fail before
	// anything is written. A name that is never stored tells.
	if _, err := f.Cache.Read(ctx, cachePrefix+"probe"); err != nil && !errors.Is(err, secrets.ErrNotFound) {
		return fmt.Errorf("encrypted file: init: %w", err)
	}
	if err := os.MkdirAll(f.Dir, 0o700); err != nil {
		return fmt.Errorf("encrypted file: init: %w", err)
	}
	lock, err := f.lock(ctx, identityLock)
	if err != nil {
		return fmt.Errorf("encrypted file: init: %w", err)
	}
	defer lock.Unlock()
	for _, name := range []string{IdentityFile, RecipientFile, SecretsFile} {
		if _, err := os.Lstat(f.path(name)); err == nil {
			return fmt.Errorf("encrypted file: init: %s exists: %w (to start over, move %s, %s and %s aside)",
				f.path(name), ErrAlreadyInitialized, IdentityFile, RecipientFile, SecretsFile)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("encrypted file: init: %w", err)
		}
	}
	id, err := age.GenerateX25519Identity()
	if err != nil {
		return fmt.Errorf("encrypted file: init: %w", err)
	}
	sealed, err := f.sealIdentity(id, passphrase)
	if err != nil {
		return fmt.Errorf("encrypted file: init: %w", err)
	}
	// The identity first: a crash before the recipient is written leaves
	// an identity that Unlock completes, never a recipient whose identity
	// is lost.
	if err := atomicfile.WriteFile(f.path(IdentityFile), sealed, 0o600); err != nil {
		return fmt.Errorf("encrypted file: init: %w", err)
	}
	if err := atomicfile.WriteFile(f.path(RecipientFile), []byte(id.Recipient().String()+"\n"), 0o600); err != nil {
		return fmt.Errorf("encrypted file: init: %w", err)
	}
	if err := f.Cache.Write(ctx, cachePrefix+id.Recipient().String(), []byte(id.String()), unlockFor); err != nil {
		return fmt.Errorf("encrypted file: init: set up, but not unlocked: %w", err)
	}
	return nil
}

// Unlock decrypts the identity with passphrase and puts it in the cache for
// unlockFor (zero: until reboot, or until the cache drops it). A wrong
// passphrase gives an error that errors.Is ErrWrongPassphrase and caches
// nothing. It also writes recipient.txt if a crash during Init left it out.
func (f *File) Unlock(ctx context.Context, passphrase string, unlockFor time.Duration) error {
	id, err := f.openIdentity(ctx, passphrase)
	if err != nil {
		return fmt.Errorf("encrypted file: unlock: %w", err)
	}
	r := id.Recipient().String()
	stored, err := f.recipient()
	switch {
	case errors.Is(err, ErrNotInitialized):
		if err := f.writeRecipient(ctx, r); err != nil {
			return fmt.Errorf("encrypted file: unlock: %w", err)
		}
	case err != nil:
		return fmt.Errorf("encrypted file: unlock: %w", err)
	case stored.String() != r:
		return fmt.Errorf("encrypted file: unlock: %s holds %s, but the identity in %s is for %s: %w",
			f.path(RecipientFile), stored, f.path(IdentityFile), r, ErrDamaged)
	}
	if err := f.Cache.Write(ctx, cachePrefix+r, []byte(id.String()), unlockFor); err != nil {
		return fmt.Errorf("encrypted file: unlock: %w", err)
	}
	return nil
}

// Lock drops the unlocked identity from the cache. Locking what is locked
// is no error.
func (f *File) Lock(ctx context.Context) error {
	r, err := f.recipient()
	if err != nil {
		return fmt.Errorf("encrypted file: lock: %w", err)
	}
	if err := f.Cache.Remove(ctx, cachePrefix+r.String()); err != nil && !errors.Is(err, secrets.ErrNotFound) {
		return fmt.Errorf("encrypted file: lock: %w", err)
	}
	return nil
}

// Unlocked reports whether the identity is in the cache.
func (f *File) Unlocked(ctx context.Context) (bool, error) {
	r, err := f.recipient()
	if err != nil {
		return false, err
	}
	_, err = f.Cache.Read(ctx, cachePrefix+r.String())
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, secrets.ErrNotFound):
		return false, nil
	}
	return false, fmt.Errorf("encrypted file: %w", err)
}

// Initialized reports whether Init has created the identity.
func (f *File) Initialized() (bool, error) {
	_, err := os.Stat(f.path(IdentityFile))
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	}
	return false, fmt.Errorf("encrypted file: %w", err)
}

// ChangePassphrase re-encrypts the identity with newPassphrase. The
// identity itself, and so every secret and the unlocked state, stay as they
// are. A wrong oldPassphrase gives an error that errors.Is
// ErrWrongPassphrase and changes nothing.
func (f *File) ChangePassphrase(ctx context.Context, oldPassphrase, newPassphrase string) error {
	if newPassphrase == "" {
		return errors.New("encrypted file: change passphrase: the new passphrase is empty")
	}
	lock, err := f.lock(ctx, identityLock)
	if err != nil {
		return fmt.Errorf("encrypted file: change passphrase: %w", err)
	}
	defer lock.Unlock()
	id, err := f.openIdentity(ctx, oldPassphrase)
	if err != nil {
		return fmt.Errorf("encrypted file: change passphrase: %w", err)
	}
	sealed, err := f.sealIdentity(id, newPassphrase)
	if err != nil {
		return fmt.Errorf("encrypted file: change passphrase: %w", err)
	}
	if err := atomicfile.WriteFile(f.path(IdentityFile), sealed, 0o600); err != nil {
		return fmt.Errorf("encrypted file: change passphrase: %w", err)
	}
	return nil
}

// Check reports whether the backend can answer a Get now: set up, unlocked
// and with an undamaged secrets file. Its error says what is wrong.
func (f *File) Check(ctx context.Context) error {
	if _, err := f.unlockedIdentity(ctx); err != nil {
		return err
	}
	if _, err := f.load(); err != nil {
		return err
	}
	return nil
}

// Get decrypts the secret stored for account: one read of the cache, one
// of the file, one decryption. The error errors.Is secrets.ErrNotFound when
// there is none, and secrets.ErrLocked (it is ErrLocked) when the identity
// is not unlocked, whether or not the account has a secret.
func (f *File) Get(ctx context.Context, account string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("encrypted file: get: %w", err)
	}
	id, err := f.unlockedIdentity(ctx)
	if err != nil {
		return "", err
	}
	e, err := f.load()
	if err != nil {
		return "", err
	}
	if e.recipient != "" && e.recipient != id.Recipient().String() {
		return "", fmt.Errorf("encrypted file: get: %s is encrypted to %s, not to the unlocked identity's %s: %w",
			f.path(SecretsFile), e.recipient, id.Recipient(), ErrDamaged)
	}
	ct, ok := e.entries[account]
	if !ok {
		return "", fmt.Errorf("encrypted file: get %s: %w", account, secrets.ErrNotFound)
	}
	return f.openEntry(id, account, ct)
}

// Set stores secret for account. It needs no passphrase and no unlocked
// identity: the entry is encrypted to the recipient, which is public.
func (f *File) Set(ctx context.Context, account, secret string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("encrypted file: set: %w", err)
	}
	r, err := f.recipient()
	if err != nil {
		return fmt.Errorf("encrypted file: set: %w", err)
	}
	ct, err := sealEntry(r, account, secret)
	if err != nil {
		return fmt.Errorf("encrypted file: set: %w", err)
	}
	return f.update(ctx, "set", r, func(e *entryFile) error {
		e.entries[account] = ct
		return nil
	})
}

// Delete removes the secret for account, without a passphrase. The error
// errors.Is secrets.ErrNotFound when there was none.
func (f *File) Delete(ctx context.Context, account string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("encrypted file: delete: %w", err)
	}
	r, err := f.recipient()
	if err != nil {
		return fmt.Errorf("encrypted file: delete: %w", err)
	}
	return f.update(ctx, "delete", r, func(e *entryFile) error {
		if _, ok := e.entries[account]; !ok {
			return fmt.Errorf("encrypted file: delete %s: %w", account, secrets.ErrNotFound)
		}
		delete(e.entries, account)
		return nil
	})
}

// List returns the accounts that have a secret, sorted. It needs no
// unlocked identity.
func (f *File) List(ctx context.Context) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("encrypted file: list: %w", err)
	}
	e, err := f.load()
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(e.entries))
	for a := range e.entries {
		out = append(out, a)
	}
	slices.Sort(out)
	return out, nil
}

// update applies fn to the entries under the lock and writes them back
// atomically; when fn fails, nothing is written. A damaged file fails the
// update: it is never replaced.
func (f *File) update(ctx context.Context, op string, r *age.X25519Recipient, fn func(*entryFile) error) error {
	lock, err := f.lock(ctx, secretsLock)
	if err != nil {
		return fmt.Errorf("encrypted file: %s: %w", op, err)
	}
	defer lock.Unlock()
	e, err := f.load()
	if err != nil {
		return err
	}
	if e.recipient == "" {
		e.recipient = r.String()
	}
	if e.recipient != r.String() {
		return fmt.Errorf("encrypted file: %s: %s is encrypted to %s, but %s holds %s: %w",
			op, f.path(SecretsFile), e.recipient, f.path(RecipientFile), r, ErrDamaged)
	}
	if err := fn(e); err != nil {
		return err
	}
	data := e.encode()
	if len(data) > maxFileSize && len(data) > e.size {
		// Shrinking an oversized file is always allowed: it is the way out.
		return fmt.Errorf("encrypted file: %s: %s would grow to %d bytes, past its limit of %d MiB: %w; nothing was changed (erase credentials you no longer need, or migrate --to keyring)",
			op, f.path(SecretsFile), len(data), maxFileSize>>20, ErrTooLarge)
	}
	if err := atomicfile.WriteFile(f.path(SecretsFile), data, 0o600); err != nil {
		return fmt.Errorf("encrypted file: %s: %w", op, err)
	}
	return nil
}

func (f *File) lock(ctx context.Context, name string) (*filelock.Lock, error) {
	ctx, cancel := context.WithTimeout(ctx, lockWait)
	defer cancel()
	return filelock.Acquire(ctx, f.path(name))
}

// recipient reads recipient.txt. It is private to the user: whoever
// could write it would have every secret stored from then on encrypted to
// them.
func (f *File) recipient() (*age.X25519Recipient, error) {
	data, err := safefile.ReadPrivate(f.path(RecipientFile), 1<<10)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotInitialized
	}
	if err != nil {
		return nil, err
	}
	r, err := age.ParseX25519Recipient(strings.TrimSpace(string(data)))
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %v", f.path(RecipientFile), ErrDamaged, err)
	}
	return r, nil
}

func (f *File) writeRecipient(ctx context.Context, r string) error {
	lock, err := f.lock(ctx, identityLock)
	if err != nil {
		return err
	}
	defer lock.Unlock()
	return atomicfile.WriteFile(f.path(RecipientFile), []byte(r+"\n"), 0o600)
}

// unlockedIdentity returns the identity from the cache, or ErrLocked.
func (f *File) unlockedIdentity(ctx context.Context) (*age.X25519Identity, error) {
	r, err := f.recipient()
	if errors.Is(err, ErrNotInitialized) {
		return nil, err // says it all
	}
	if err != nil {
		return nil, fmt.Errorf("encrypted file: %w", err)
	}
	data, err := f.Cache.Read(ctx, cachePrefix+r.String())
	if errors.Is(err, secrets.ErrNotFound) {
		return nil, ErrLocked
	}
	if err != nil {
		return nil, fmt.Errorf("encrypted file: read unlocked identity: %w", err)
	}
	id, err := f.parseIdentity(data)
	if err != nil || id.Recipient().String() != r.String() {
		// Not something Unlock put there.
		return nil, fmt.Errorf("encrypted file: the unlocked identity in the kernel keyring is not for %s: %w (run git-credential-glpat lock, then unlock)", r, ErrDamaged)
	}
	return id, nil
}

// parseIdentity parses an identity from the cache, or returns the one it
// parsed last time when data is the same.
func (f *File) parseIdentity(data []byte) (*age.X25519Identity, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.parsed.id != nil && f.parsed.raw == string(data) {
		return f.parsed.id, nil
	}
	id, err := age.ParseX25519Identity(string(data))
	if err != nil {
		return nil, err
	}
	f.parsed.raw, f.parsed.id = string(data), id
	return id, nil
}

// openIdentity decrypts identity.age with passphrase.
func (f *File) openIdentity(ctx context.Context, passphrase string) (*age.X25519Identity, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	name := f.path(IdentityFile)
	data, err := readLimited(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotInitialized
	}
	if err != nil {
		return nil, err
	}
	if passphrase == "" {
		return nil, fmt.Errorf("%w for %s (it is empty)", ErrWrongPassphrase, name)
	}
	si, err := age.NewScryptIdentity(passphrase)
	if err != nil {
		return nil, err
	}
	r, err := age.Decrypt(armor.NewReader(bytes.NewReader(data)), si)
	var nomatch *age.NoIdentityMatchError
	switch {
	case errors.As(err, &nomatch) && slices.Equal(nomatch.StanzaTypes, []string{"scrypt"}):
		return nil, fmt.Errorf("%w for %s", ErrWrongPassphrase, name)
	case err != nil:
		return nil, fmt.Errorf("%s: %w: %v", name, ErrDamaged, err)
	}
	plain, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %v", name, ErrDamaged, err)
	}
	id, err := age.ParseX25519Identity(strings.TrimSpace(string(plain)))
	if err != nil {
		return nil, fmt.Errorf("%s: %w: it does not hold an X25519 identity", name, ErrDamaged)
	}
	return id, nil
}

// sealIdentity encrypts id with passphrase, armored.
func (f *File) sealIdentity(id *age.X25519Identity, passphrase string) ([]byte, error) {
	sr, err := age.NewScryptRecipient(passphrase)
	if err != nil {
		return nil, err
	}
	if f.WorkFactor > 0 {
		sr.SetWorkFactor(f.WorkFactor)
	}
	var buf bytes.Buffer
	aw := armor.NewWriter(&buf)
	w, err := age.Encrypt(aw, sr)
	if err != nil {
		return nil, err
	}
	if _, err := io.WriteString(w, id.String()+"\n"); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	if err := aw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// sealEntry encrypts the plaintext of one entry to r.
func sealEntry(r age.Recipient, account, secret string) (string, error) {
	var buf bytes.Buffer
	w, err := age.Encrypt(&buf, r)
	if err != nil {
		return "", err
	}
	if _, err := io.WriteString(w, strconv.Quote(account)+"\n"+secret); err != nil {
		return "", err
	}
	if err := w.Close(); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}

// openEntry decrypts the entry ct that the file has for account.
func (f *File) openEntry(id age.Identity, account, ct string) (string, error) {
	name := f.path(SecretsFile)
	raw, err := base64.StdEncoding.DecodeString(ct)
	if err != nil { // load checked it
		return "", fmt.Errorf("encrypted file: %s: entry for %s: %w", name, account, ErrDamaged)
	}
	r, err := age.Decrypt(bytes.NewReader(raw), id)
	var nomatch *age.NoIdentityMatchError
	if errors.As(err, &nomatch) {
		return "", fmt.Errorf("encrypted file: %s: entry for %s: %w: it is encrypted to another identity", name, account, ErrDamaged)
	}
	if err != nil {
		return "", fmt.Errorf("encrypted file: %s: entry for %s: %w: %v", name, account, ErrDamaged, err)
	}
	plain, err := io.ReadAll(r)
	if err != nil {
		return "", fmt.Errorf("encrypted file: %s: entry for %s: %w: %v", name, account, ErrDamaged, err)
	}
	quoted, err := strconv.QuotedPrefix(string(plain))
	if err != nil || len(plain) == len(quoted) || plain[len(quoted)] != '\n' {
		return "", fmt.Errorf("encrypted file: %s: entry for %s: %w: no account inside", name, account, ErrDamaged)
	}
	if got, _ := strconv.Unquote(quoted); got != account {
		return "", fmt.Errorf("encrypted file: %s: entry for %s holds the secret of %s: %w (it was moved there by hand, or tampered with)", name, account, got, ErrDamaged)
	}
	return string(plain[len(quoted)+1:]), nil
}

// entryFile is secrets.age, decoded.
type entryFile struct {
	recipient string            // empty for a file that does not exist yet
	entries   map[string]string // account → base64 age ciphertext
	size      int               // bytes of the file as read
}

// load reads and checks secrets.age. A missing file is an empty one.
func (f *File) load() (*entryFile, error) {
	name := f.path(SecretsFile)
	data, err := readLimited(name)
	if errors.Is(err, fs.ErrNotExist) {
		return &entryFile{entries: map[string]string{}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("encrypted file: %w", err)
	}
	e, err := decode(data)
	if err != nil {
		return nil, fmt.Errorf("encrypted file: %s: %w: %v; nothing was written to it", name, ErrDamaged, err)
	}
	e.size = len(data)
	return e, nil
}

func (e *entryFile) encode() []byte {
	var b bytes.Buffer
	b.WriteString(fileMagic + "\n")
	b.WriteString("recipient " + e.recipient + "\n")
	accounts := make([]string, 0, len(e.entries))
	for a := range e.entries {
		accounts = append(accounts, a)
	}
	slices.Sort(accounts)
	for _, a := range accounts {
		b.WriteString("entry " + strconv.Quote(a) + " " + e.entries[a] + "\n")
	}
	sum := sha256.Sum256(b.Bytes())
	b.WriteString("sha256 " + hex.EncodeToString(sum[:]) + "\n")
	return b.Bytes()
}

// decode parses secrets.age; its errors say what is wrong with it.
func decode(data []byte) (*entryFile, error) {
	if len(data) == 0 {
		return nil, errors.New("the file is empty")
	}
	if data[len(data)-1] != '\n' {
		return nil, errors.New("truncated: it does not end with a line break")
	}
	body := data[:len(data)-1]
	i := bytes.LastIndexByte(body, '\n')
	trailer := string(body[i+1:])
	body = data[:i+1]
	want, ok := strings.CutPrefix(trailer, "sha256 ")
	if i < 0 || !ok {
		return nil, errors.New("truncated: the checksum line at its end is missing")
	}
	sum := sha256.Sum256(body)
	if want != hex.EncodeToString(sum[:]) {
		return nil, errors.New("checksum mismatch: it was changed outside git-credential-glpat, or corrupted")
	}
	e := &entryFile{entries: map[string]string{}}
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(nil, maxFileSize)
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		switch {
		case line == 1:
			if text != fileMagic {
				return nil, fmt.Errorf("line 1: %q is not %q", shorten(text), fileMagic)
			}
		case line == 2:
			r, ok := strings.CutPrefix(text, "recipient ")
			if !ok {
				return nil, fmt.Errorf("line 2: no recipient")
			}
			if _, err := age.ParseX25519Recipient(r); err != nil {
				return nil, fmt.Errorf("line 2: %v", err)
			}
			e.recipient = r
		default:
			rest, ok := strings.CutPrefix(text, "entry ")
			if !ok {
				return nil, fmt.Errorf("line %d: not an entry", line)
			}
			quoted, err := strconv.QuotedPrefix(rest)
			if err != nil {
				return nil, fmt.Errorf("line %d: the account is not quoted", line)
			}
			account, _ := strconv.Unquote(quoted)
			ct, ok := strings.CutPrefix(rest[len(quoted):], " ")
			if !ok {
				return nil, fmt.Errorf("line %d: no ciphertext", line)
			}
			if _, err := base64.StdEncoding.DecodeString(ct); err != nil || ct == "" {
				return nil, fmt.Errorf("line %d: the ciphertext is not base64", line)
			}
			if _, dup := e.entries[account]; dup {
				return nil, fmt.Errorf("line %d: a second entry for %s", line, account)
			}
			e.entries[account] = ct
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if e.recipient == "" {
		return nil, errors.New("no recipient line")
	}
	return e, nil
}

// readLimited reads name, refusing files larger than maxReadSize.
func readLimited(name string) ([]byte, error) {
	data, err := safefile.ReadFile(name, maxReadSize)
	if errors.Is(err, safefile.ErrTooLarge) {
		return nil, fmt.Errorf("%s: %w: larger than %d bytes", name, ErrDamaged, maxReadSize)
	}
	return data, err
}

func shorten(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
