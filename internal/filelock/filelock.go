// Package filelock takes locks on files that work across processes, so
// that only one process updates an index or rotates a token, and so that
// migrate waits for every command using the old backend to finish.
package filelock

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"
)

// ErrTimeout is returned when the lock could not be taken before the
// context's deadline.
var ErrTimeout = errors.New("timed out waiting for lock")

// Lock is a held lock. Release it with Unlock; the operating system also
// releases it when the process dies, so a crash never leaves a stale lock.
type Lock struct{ f *os.File }

// Acquire takes an exclusive lock on the file name (created 0600 if
// missing), polling until it is free or ctx is done.
func Acquire(ctx context.Context, name string) (*Lock, error) {
	return acquire(ctx, name, true)
}

// AcquireShared takes a shared lock on the file name (created 0600 if
// missing): any number of holders at once, none while another holds it
// exclusively. It polls until it can or ctx is done.
func AcquireShared(ctx context.Context, name string) (*Lock, error) {
	return acquire(ctx, name, false)
}

func acquire(ctx context.Context, name string, exclusive bool) (*Lock, error) {
	// Never waiting at the open: a FIFO where the lock file should be
	// (planted in the state dir) would wait for a writer for ever.
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|openNonblock, 0o600)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		// A lock file this user may only read (left by sudo, say) locks
		// as well: flock and LockFileEx need no write access.
		if rf, rerr := os.OpenFile(name, os.O_RDONLY|openNonblock, 0); rerr == nil {
			f, err = rf, nil
		}
	}
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", name, err)
	}
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		f.Close()
		if err == nil {
			err = fmt.Errorf("not a regular file (%s); remove it", fi.Mode().Type())
		}
		return nil, fmt.Errorf("lock %s: %w", name, err)
	}
	l := &Lock{f: f}
	if err := l.wait(ctx, name, exclusive); err != nil {
		f.Close()
		return nil, err
	}
	return l, nil
}

// wait polls until the lock is taken in the mode asked or ctx is done.
func (l *Lock) wait(ctx context.Context, name string, exclusive bool) error {
	delay := time.Millisecond
	for {
		ok, err := tryLock(l.f, exclusive)
		if err != nil {
			return fmt.Errorf("lock %s: %w", name, err)
		}
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("lock %s: %w", name, ErrTimeout)
		case <-time.After(delay):
		}
		if delay < 50*time.Millisecond {
			delay *= 2
		}
	}
}

// Exclusive turns a shared lock into an exclusive one, waiting until no one
// else holds it or ctx is done. It is not atomic: the shared lock is given
// up first, so another process may take the lock in between; re-check what
// the lock protects once Exclusive returns. On failure l holds nothing.
func (l *Lock) Exclusive(ctx context.Context) error {
	unlock(l.f)
	return l.wait(ctx, l.f.Name(), true)
}

// Unlock releases the lock.
func (l *Lock) Unlock() error {
	if l == nil || l.f == nil {
		return nil
	}
	unlock(l.f)
	err := l.f.Close()
	l.f = nil
	return err
}
