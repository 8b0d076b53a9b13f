package keychain

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/glpat-dev/git-credential-glpat/internal/secrets"
)

// A secret larger than one item of the system's keychain (Windows'
// Credential Manager holds 2,560 bytes an item, macOS's `security` takes
// commands of 4,096 bytes) is split: its bytes go into parts, items of
// their own under the service Service+partSuffix, named by a random
// generation and their index; then the item under the account, the head,
// is written, naming the generation, the number of parts, the size and
// the SHA-256 of the whole (kept beside the secret, in the keychain; the
// index never holds it). Get follows the head and checks the digest.
// Until the head is written, the account's old value is whole; from then
// on, the new one. Nothing else names parts, so nothing that lists
// credentials (the index, migrate, doctor) ever sees one.
//
// Parts that no head names any more (a value overwritten or deleted, a
// write that died part way) are removed by the next split write or
// Delete of the same account. To find them, each account with parts has a
// journal, an item under Service+journalSuffix and the account: the
// generations it has parts of, when each write began, and whether its
// head was written. A generation whose head was written and is no longer
// the account's value is garbage; one whose head was never written is
// garbage once writeHorizon has passed since its write began (a writer
// gives up before writing its head after maxWriteTime). The head's own
// generation never is. When writers of one account run at the same time
// (the store serialises them), the value is one writer's, whole; the
// journal may then miss a generation, whose parts stay, never read.
//
// A secret that fits one item costs what it always did: one read for Get,
// one write for Set. Only Delete, where secrets may be split, reads the
// journal first (a miss, for a secret that was never split).
const (
	// headMarker starts every head; a secret that itself starts so is
	// kept inside a head (inlineLine), so that Get returns it as it is.
	headMarker = "git-credential-glpat split secret v1\n"
	inlineLine = "inline\n"
	// journalMarker starts every journal.
	journalMarker = "git-credential-glpat split parts v1\n"

	partSuffix    = "/part"
	journalSuffix = "/journal"

	// maxSplitSecret bounds a split secret: Git sends at most a few
	// fields of at most 65,535 bytes each.
	maxSplitSecret = 1 << 20
	// maxParts bounds the parts a head may name: maxSplitSecret in parts
	// of Windows' 2,560 bytes, with room.
	maxParts = 1000

	// writeHorizon is how long after a split write began its parts may
	// still become the account's value; maxWriteTime is when the writer
	// gives up instead of writing its head, well inside it.
	writeHorizon = time.Hour
	maxWriteTime = writeHorizon / 2
)

// errSplitDamaged is a head whose parts are missing or do not add up to
// what it names, even when read again.
var errSplitDamaged = errors.New("they do not add up (changed or removed outside git-credential-glpat); store the credential again")

// head is what the item under an account says about a split secret.
type head struct {
	gen   string // 32 hex digits
	parts int
	size  int
	sum   string // hex SHA-256 of the whole secret
}

func (h head) encode() string {
	return fmt.Sprintf("%s%s %d %d %s\n", headMarker, h.gen, h.parts, h.size, h.sum)
}

// parseHead reads the item v of an account that starts with headMarker:
// a split secret's head, or a secret kept inline.
func parseHead(v string) (h head, inline string, isInline bool, err error) {
	rest := strings.TrimPrefix(v, headMarker)
	if s, ok := strings.CutPrefix(rest, inlineLine); ok {
		return head{}, s, true, nil
	}
	f := strings.Split(strings.TrimSuffix(rest, "\n"), " ")
	if len(f) == 4 {
		h.gen, h.sum = f[0], f[3]
		var e1, e2 error
		h.parts, e1 = strconv.Atoi(f[1])
		h.size, e2 = strconv.Atoi(f[2])
		if e1 == nil && e2 == nil && isHex(h.gen, 32) && isHex(h.sum, 64) &&
			h.parts >= 1 && h.parts <= maxParts && h.size >= 0 && h.size <= maxSplitSecret && h.encode() == v {
			return h, "", false, nil
		}
	}
	return head{}, "", false, errors.New("keychain: get: the keychain item of this credential is damaged (a split secret's head in a form this version does not read); store the credential again")
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !('0' <= s[i] && s[i] <= '9' || 'a' <= s[i] && s[i] <= 'f') {
			return false
		}
	}
	return true
}

// getSplit returns the secret that the head v of account names. A part
// that is missing, or parts that do not match the head, may be a writer
// that replaced the head and removed these parts meanwhile: the head is
// read again and, if it changed, followed.
func (k *Keychain) getSplit(ctx context.Context, account, v string) (string, error) {
	for tries := 1; ; tries++ {
		h, inline, isInline, err := parseHead(v)
		if err != nil {
			return "", err
		}
		if isInline {
			return inline, nil
		}
		secret, err := k.readParts(ctx, h)
		if !errors.Is(err, errSplitDamaged) {
			return secret, err
		}
		again, gerr := k.getItem(ctx, k.Service, account)
		switch {
		case gerr != nil:
			return "", gerr
		case again == v || tries == 3:
			return "", fmt.Errorf("keychain: get: the secret is split over %d keychain items, and %w", h.parts, errSplitDamaged)
		case !strings.HasPrefix(again, headMarker):
			return again, nil
		}
		v = again
	}
}

// readParts reads and joins the parts h names, and checks them against h.
func (k *Keychain) readParts(ctx context.Context, h head) (string, error) {
	var b strings.Builder
	b.Grow(h.size)
	for i := range h.parts {
		p, err := k.getItem(ctx, k.Service+partSuffix, partName(h.gen, i))
		if errors.Is(err, secrets.ErrNotFound) {
			return "", errSplitDamaged
		}
		if err != nil {
			return "", err
		}
		if b.Len()+len(p) > h.size {
			return "", errSplitDamaged
		}
		b.WriteString(p)
	}
	s := b.String()
	if len(s) != h.size || digest(s) != h.sum {
		return "", errSplitDamaged
	}
	return s, nil
}

func partName(gen string, i int) string { return gen + "." + strconv.Itoa(i) }

func digest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// setSplit stores secret for account as parts and a head: it removes what
// earlier writes left (tidy), records the new generation in the journal,
// writes the parts, then the head, then marks the generation written and
// removes the parts of the value it replaced. Until the head is written,
// the old value is whole; a failure before that returns an error and
// leaves it.
func (k *Keychain) setSplit(ctx context.Context, fits itemFits, account, secret string) error {
	if len(secret) > maxSplitSecret {
		return secrets.NewError(fmt.Sprintf("keychain: set: the secret is %d bytes, more than the %d KiB one credential may take in the keychain; nothing was changed (the encrypted-file backend holds more: git-credential-glpat migrate --to encrypted-file)",
			len(secret), maxSplitSecret>>10), secrets.ErrTooLarge)
	}
	h := head{gen: newGeneration(), size: len(secret), sum: digest(secret)}
	size := partSize(fits, k.Service+partSuffix, h.gen)
	if size > 0 {
		h.parts = max(1, (len(secret)+size-1)/size)
	}
	if size == 0 || h.parts > maxParts || !fits(k.Service, account, len(h.encode())) ||
		!fits(k.Service+journalSuffix, account, len(journal{{gen: h.gen, parts: h.parts, since: k.clock().Unix()}}.encode())) {
		return secrets.NewError(fmt.Sprintf("keychain: set: the credential's name is %d bytes, too long for the keychain here to hold a large secret under it; nothing was changed (a shorter username or path fits; credential.useHttpPath=false leaves the path out)",
			len(account)), secrets.ErrTooLarge)
	}
	start := time.Now()
	j, replaced, err := k.tidy(ctx, account)
	if err != nil {
		return err
	}
	j = append(j, generation{gen: h.gen, parts: h.parts, since: k.clock().Unix()})
	if err := k.writeJournal(ctx, account, j); err != nil {
		return err
	}
	for i := range h.parts {
		part := secret[min(i*size, len(secret)):min((i+1)*size, len(secret))]
		if err := k.setItem(ctx, k.Service+partSuffix, partName(h.gen, i), part); err != nil {
			return err
		}
	}
	if took := time.Since(start); took > maxWriteTime {
		// Parts this old may be removed as left by a write that died.
		return fmt.Errorf("keychain: set: writing the secret's %d parts took %v; it was not stored", h.parts, took.Round(time.Second))
	}
	if err := k.setItem(ctx, k.Service, account, h.encode()); err != nil {
		return err
	}
	// The new value is whole. What follows only tidies up: what it
	// leaves is removed by the next write or Delete.
	k.finish(ctx, account, h.gen, replaced)
	return nil
}

// partSize is the most bytes one part may hold: the largest value that
// fits an item under service with the longest part name of gen.
func partSize(fits itemFits, service, gen string) int {
	name := partName(gen, maxParts)
	lo, hi := 0, maxSplitSecret // fits(lo) holds, or lo is 0
	if !fits(service, name, 0) {
		return 0
	}
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if fits(service, name, mid) {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return lo
}

func newGeneration() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (k *Keychain) clock() time.Time {
	if k.now != nil {
		return k.now()
	}
	return time.Now()
}

// tidy reads account's journal and then its head, removes the parts of
// every generation that is garbage (see the top of this file), and
// returns the rest of the journal and the generation the head names
// (nil for a secret that is not split, or none).
//
// The order of the reads matters: a generation found written in the
// journal had its head written before, so a head read after that which
// names another one has replaced it for good.
func (k *Keychain) tidy(ctx context.Context, account string) (journal, *generation, error) {
	j, _, err := k.readJournal(ctx, account)
	if err != nil {
		return nil, nil, err
	}
	cur, err := k.headGeneration(ctx, account)
	if err != nil {
		return nil, nil, err
	}
	now := k.clock()
	var keep journal
	for _, g := range j {
		if (cur != nil && g.gen == cur.gen) || !g.garbage(now) || !k.deleteParts(ctx, g) {
			keep = append(keep, g)
		}
	}
	return keep, cur, nil
}

// headGeneration returns the generation account's head names: nil when
// the account holds no split secret.
func (k *Keychain) headGeneration(ctx context.Context, account string) (*generation, error) {
	v, err := k.getItem(ctx, k.Service, account)
	if errors.Is(err, secrets.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if !strings.HasPrefix(v, headMarker) {
		return nil, nil
	}
	h, _, isInline, err := parseHead(v)
	if err != nil || isInline {
		return nil, nil // a damaged head names nothing that can be read
	}
	return &generation{gen: h.gen, parts: h.parts, written: true}, nil
}

// finish marks gen written in account's journal, and removes the parts of
// replaced, the generation whose head gen's head replaced. Best effort.
func (k *Keychain) finish(ctx context.Context, account, gen string, replaced *generation) {
	j, _, err := k.readJournal(ctx, account)
	if err != nil {
		return
	}
	for i := range j {
		if j[i].gen == gen {
			j[i].written = true
		}
	}
	if replaced != nil && k.deleteParts(ctx, *replaced) {
		j = j.without(replaced.gen)
	}
	k.writeJournal(ctx, account, j)
}

// deleteSplit is Delete where secrets may be split: it reads the
// journal, deletes the head (from then on the secret is gone), then the
// parts of every generation whose head was written, and of those whose
// write died, and what remains of the journal.
func (k *Keychain) deleteSplit(ctx context.Context, account string) error {
	j, exists, err := k.readJournal(ctx, account)
	if err != nil {
		return err
	}
	derr := k.deleteItem(ctx, k.Service, account)
	if !exists || (derr != nil && !errors.Is(derr, secrets.ErrNotFound)) {
		return derr
	}
	now := k.clock()
	var keep journal
	for _, g := range j {
		// With the head gone, no generation whose head was written is
		// the value any more.
		if !(g.written || g.garbage(now)) || !k.deleteParts(ctx, g) {
			keep = append(keep, g)
		}
	}
	k.writeJournal(ctx, account, keep)
	return derr
}

// deleteParts deletes the parts of g, and reports whether none is left.
func (k *Keychain) deleteParts(ctx context.Context, g generation) bool {
	for i := range g.parts {
		err := k.deleteItem(ctx, k.Service+partSuffix, partName(g.gen, i))
		if err != nil && !errors.Is(err, secrets.ErrNotFound) {
			return false
		}
	}
	return true
}

// generation is a journal's line: the parts of one split write.
type generation struct {
	gen     string
	parts   int
	since   int64 // when the write began, in Unix seconds
	written bool  // its head was written: it is, or was, the value
}

// garbage reports whether g's parts can no longer become the value,
// unless g is the generation the head names now: its head was written
// (and then replaced), or its writer has given up.
func (g generation) garbage(now time.Time) bool {
	return g.written || now.Sub(time.Unix(g.since, 0)) >= writeHorizon
}

// journal is the list of an account's generations that may have parts.
type journal []generation

func (j journal) encode() string {
	var b strings.Builder
	b.WriteString(journalMarker)
	for _, g := range j {
		state := "writing"
		if g.written {
			state = "written"
		}
		fmt.Fprintf(&b, "%s %d %d %s\n", g.gen, g.parts, g.since, state)
	}
	return b.String()
}

func (j journal) without(gen string) journal {
	var out journal
	for _, g := range j {
		if g.gen != gen {
			out = append(out, g)
		}
	}
	return out
}

// parseJournal reads a journal; ok is false for one that is damaged.
func parseJournal(v string) (j journal, ok bool) {
	rest, ok := strings.CutPrefix(v, journalMarker)
	if !ok {
		return nil, false
	}
	for line := range strings.Lines(rest) {
		f := strings.Split(strings.TrimSuffix(line, "\n"), " ")
		if len(f) != 4 || !isHex(f[0], 32) || (f[3] != "writing" && f[3] != "written") {
			return nil, false
		}
		parts, e1 := strconv.Atoi(f[1])
		since, e2 := strconv.ParseInt(f[2], 10, 64)
		if e1 != nil || e2 != nil || parts < 1 || parts > maxParts {
			return nil, false
		}
		j = append(j, generation{gen: f[0], parts: parts, since: since, written: f[3] == "written"})
	}
	return j, true
}

// readJournal reads account's journal; exists is false when there is
// none. A damaged journal reads as empty: the parts it named stay, never
// read, and it is replaced.
func (k *Keychain) readJournal(ctx context.Context, account string) (j journal, exists bool, err error) {
	v, err := k.getItem(ctx, k.Service+journalSuffix, account)
	if errors.Is(err, secrets.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	j, _ = parseJournal(v)
	return j, true, nil
}

// writeJournal stores j as account's journal, or deletes the journal when
// j is empty.
func (k *Keychain) writeJournal(ctx context.Context, account string, j journal) error {
	if len(j) == 0 {
		err := k.deleteItem(ctx, k.Service+journalSuffix, account)
		if errors.Is(err, secrets.ErrNotFound) {
			return nil
		}
		return err
	}
	v := j.encode()
	if fits := k.limit(); fits != nil && !fits(k.Service+journalSuffix, account, len(v)) {
		return fmt.Errorf("keychain: set: %d earlier writes of this credential's secret died part way in the last %v, and their parts are still kept; try again later", len(j)-1, writeHorizon)
	}
	return k.setItem(ctx, k.Service+journalSuffix, account, v)
}
