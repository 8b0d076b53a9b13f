// Package filelock takes exclusive locks on files that work across
// processes, so that only one process updates an index or rotates a token.
package filelock

import (
	"context"
	"errors"
	"fmt"
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
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", name, err)
	}
	delay := time.Millisecond
	for {
		ok, err := tryLock(f)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", name, err)
		}
		if ok {
			return &Lock{f: f}, nil
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", name, ErrTimeout)
		case <-time.After(delay):
		}
		if delay < 50*time.Millisecond {
			delay *= 2
		}
	}
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
