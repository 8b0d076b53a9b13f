// Package secrets declares the small interface every secret storage backend
// implements, and the errors that carry meaning across backends.
package secrets

import (
	"context"
	"errors"
)

// Store keeps secrets by account name. Implementations must be safe for
// concurrent use by several processes and must honour the context's deadline
// on every call (a keychain unlock prompt can otherwise block forever).
type Store interface {
	// Get returns the secret stored for account, or an error that
	// errors.Is ErrNotFound when there is none.
	Get(ctx context.Context, account string) (string, error)
	// Set stores secret for account, replacing any previous one. A
	// secret the backend cannot hold is refused with an error that
	// errors.Is ErrTooLarge, and the previous one is kept.
	Set(ctx context.Context, account, secret string) error
	// Delete removes the secret for account; it returns an error that
	// errors.Is ErrNotFound when there was none.
	Delete(ctx context.Context, account string) error
}

var (
	// ErrNotFound means the backend answered and holds no such secret.
	ErrNotFound = errors.New("not found")
	// ErrUnavailable means the backend could not be reached at all (no
	// session bus, no Secret Service, unsupported platform). Nothing can be
	// concluded about what is stored.
	ErrUnavailable = errors.New("secret storage unavailable")
	// ErrLocked means the backend is reachable but locked. A locked store
	// is never "no credential": callers must not delete anything because of it.
	ErrLocked = errors.New("secret storage is locked")
	// ErrTimeout means a call did not finish before its deadline.
	ErrTimeout = errors.New("secret storage did not answer in time")
	// ErrTooLarge means the backend refused to store a secret because of
	// its size (a limit of the backend, or the room it has left). Nothing
	// was changed: the previous secret, if any, is still there.
	ErrTooLarge = errors.New("secret too large for this storage")
)

// Error is an error with a message of its own that still matches what it
// wraps (errors.Is, errors.As): a backend's sentinel that is one of this
// package's, or a backend's own error classified as one of them, in words
// a person can act on.
type Error struct {
	Msg  string
	Errs []error
}

// NewError returns an *Error with message msg that wraps errs.
func NewError(msg string, errs ...error) *Error { return &Error{msg, errs} }

func (e *Error) Error() string   { return e.Msg }
func (e *Error) Unwrap() []error { return e.Errs }
