package backend

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/glpat-dev/git-credential-glpat/internal/secrets"
)

// MigrateResult says what Migrate did.
type MigrateResult struct {
	// Moved are the accounts whose secret is now in the new backend only.
	Moved []string
	// Missing are the accounts the old backend had no secret for; nothing
	// was done about them.
	Missing []string
	// Kept are the accounts whose secret is in both backends because the
	// old one refused to delete it (see Migrate's error). Nothing is lost.
	Kept []string
}

// Migrate moves the secrets of accounts from one backend to another, so
// that nothing is ever lost:
//
//  1. It reads every secret from from; a read that fails (other than "not
//     found") stops it before anything changed.
//  2. It refuses to overwrite a different secret that to already holds for
//     one of the accounts.
//  3. It stores every secret in to, then reads every one back and compares.
//     If any of that fails, it removes what it stored in to and stops: from
//     still has every secret.
//  4. Only then does it delete the secrets from from.
//
// A Migrate interrupted at any point (a crash included) leaves every secret
// in from, and perhaps also in to; running it again finishes the job.
//
// Pass BeforeRemoving to point the config at the new backend between steps
// 3 and 4: until then the program reads the old backend, and must not find
// it emptied.
//
// from and to must be different storage: Migrate stores a probe in to and
// stops if from can read it, so that two handles on one backend do not
// copy each secret onto itself and then delete it.
func Migrate(ctx context.Context, from, to secrets.Store, accounts []string, opts ...MigrateOption) (MigrateResult, error) {
	var o migrateOptions
	for _, opt := range opts {
		opt(&o)
	}
	var res MigrateResult
	accounts = slices.Clone(accounts)
	slices.Sort(accounts)
	accounts = slices.Compact(accounts)

	if len(accounts) == 0 {
		// Nothing to move (the old backend need not even answer): only
		// the switch is left.
		if o.beforeRemoving != nil {
			if err := o.beforeRemoving(); err != nil {
				return res, fmt.Errorf("migrate: %w", err)
			}
		}
		return res, nil
	}
	if err := checkDistinct(ctx, from, to); err != nil {
		return res, err
	}

	// 1. Read everything first.
	type item struct {
		account, secret string
		inTo            bool // to already held this very secret
	}
	var items []item
	for _, a := range accounts {
		s, err := from.Get(ctx, a)
		if errors.Is(err, secrets.ErrNotFound) {
			res.Missing = append(res.Missing, a)
			continue
		}
		if err != nil {
			return res, fmt.Errorf("migrate: read %s from the old backend: %w; nothing was changed", a, err)
		}
		items = append(items, item{account: a, secret: s})
	}

	// 2. Never overwrite a different secret.
	for i := range items {
		got, err := to.Get(ctx, items[i].account)
		switch {
		case errors.Is(err, secrets.ErrNotFound):
		case err != nil:
			return res, fmt.Errorf("migrate: read %s from the new backend: %w; nothing was changed", items[i].account, err)
		case got == items[i].secret:
			items[i].inTo = true // an earlier, interrupted Migrate copied it
		default:
			return res, fmt.Errorf("migrate: the new backend already holds a different secret for %s; nothing was changed (remove one of them first)", items[i].account)
		}
	}

	// 3. Copy, then verify; undo the copies on any failure.
	var stored []string
	undo := func(cause error) error {
		var errs []error
		for _, a := range stored {
			if err := to.Delete(ctx, a); err != nil && !errors.Is(err, secrets.ErrNotFound) {
				errs = append(errs, err)
			}
		}
		if len(errs) > 0 {
			return fmt.Errorf("%w; the old backend still has every secret, but copies of %d remain in the new one: %w", cause, len(errs), errors.Join(errs...))
		}
		return fmt.Errorf("%w; nothing was moved: the old backend still has every secret", cause)
	}
	for _, it := range items {
		if it.inTo {
			continue
		}
		if err := to.Set(ctx, it.account, it.secret); err != nil {
			// A Set that failed may still have stored it (a keychain call
			// that timed out can complete later): undo it too.
			stored = append(stored, it.account)
			return res, undo(fmt.Errorf("migrate: store %s in the new backend: %w", it.account, err))
		}
		stored = append(stored, it.account)
	}
	for _, it := range items {
		got, err := to.Get(ctx, it.account)
		if err != nil {
			return res, undo(fmt.Errorf("migrate: read back %s from the new backend: %w", it.account, err))
		}
		if got != it.secret {
			return res, undo(fmt.Errorf("migrate: the new backend gave back a different secret for %s", it.account))
		}
	}

	if o.beforeRemoving != nil {
		if err := o.beforeRemoving(); err != nil {
			return res, undo(fmt.Errorf("migrate: %w", err))
		}
	}

	// 4. Every secret is safe in to: remove them from from.
	var errs []error
	for _, it := range items {
		// A rotation or a git store may have written a newer secret to
		// the old backend while this ran: carry it over before deleting,
		// never delete a value that was not copied.
		if cur, err := from.Get(ctx, it.account); err == nil && cur != it.secret {
			if err := to.Set(ctx, it.account, cur); err != nil {
				res.Kept = append(res.Kept, it.account)
				errs = append(errs, fmt.Errorf("migrate: %s changed during the move and could not be copied again: %w", it.account, err))
				continue
			}
		}
		err := from.Delete(ctx, it.account)
		if err != nil && !errors.Is(err, secrets.ErrNotFound) {
			res.Kept = append(res.Kept, it.account)
			errs = append(errs, err)
			continue
		}
		res.Moved = append(res.Moved, it.account)
	}
	if len(errs) > 0 {
		return res, fmt.Errorf("migrate: every secret is in the new backend, but %d could not be removed from the old one (%s): %w",
			len(res.Kept), strings.Join(res.Kept, ", "), errors.Join(errs...))
	}
	return res, nil
}

// MigrateOption changes what Migrate does.
type MigrateOption func(*migrateOptions)

type migrateOptions struct {
	beforeRemoving func() error
}

// BeforeRemoving makes Migrate call f once every secret is stored and
// verified in the new backend, before it removes any from the old one: the
// moment to switch the config over. When f fails, Migrate removes the copies
// from the new backend and returns f's error: nothing was moved.
func BeforeRemoving(f func() error) MigrateOption {
	return func(o *migrateOptions) { o.beforeRemoving = f }
}

// probePrefix names the probe account checkDistinct stores.
const probePrefix = "git-credential-glpat-migrate-probe-"

// checkDistinct stores a probe in to and fails if from sees it.
func checkDistinct(ctx context.Context, from, to secrets.Store) error {
	var b [8]byte
	rand.Read(b[:])
	probe := probePrefix + hex.EncodeToString(b[:])
	if err := to.Set(ctx, probe, "probe"); err != nil {
		return fmt.Errorf("migrate: the new backend: %w; nothing was changed", err)
	}
	_, err := from.Get(ctx, probe)
	if derr := to.Delete(ctx, probe); derr != nil && !errors.Is(derr, secrets.ErrNotFound) {
		return fmt.Errorf("migrate: the new backend: remove probe %s: %w", probe, derr)
	}
	switch {
	case err == nil:
		return errors.New("migrate: the old and the new backend are the same storage; nothing was changed")
	case errors.Is(err, secrets.ErrNotFound):
		return nil
	}
	return fmt.Errorf("migrate: the old backend: %w; nothing was changed", err)
}

// Accounts returns the accounts to migrate out of s: those the store's
// index names (indexed, from store.Store.List) and, when s can list, those
// it holds, sorted and without repeats.
func Accounts(ctx context.Context, s secrets.Store, indexed []string) ([]string, error) {
	out := slices.Clone(indexed)
	if l, ok := s.(Lister); ok {
		held, err := l.List(ctx)
		if err != nil {
			return nil, err
		}
		for _, a := range held {
			if !strings.HasPrefix(a, probePrefix) { // left by a Migrate that crashed
				out = append(out, a)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}
