// Package keychain stores secrets in the OS keychain through go-keyring (and reads them with its own lean Secret Service client on Linux), with a deadline on every call and errors that say what is wrong.
package keychain

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/zalando/go-keyring"

	"github.com/glpat-dev/git-credential-glpat/internal/secrets"
)

// DefaultTimeout bounds a call when Keychain.Timeout is zero. go-keyring has
// no deadline of its own: on Linux every call first asks the Secret Service to
// unlock the collection, and when that raises a prompt nobody answers (a
// desktop that is locked, a session over SSH) the call would block forever,
// and so would the git command that asked us. A healthy keychain answers in a
// few milliseconds, so ten seconds leaves ample room for a person who is
// typing the keyring password into a prompt that is already on screen.
const DefaultTimeout = 10 * time.Second

// Keychain is a secrets.Store over the OS keychain (Secret Service on Linux
// and the BSDs, Keychain on macOS, Credential Manager on Windows). Secrets are
// kept under the item attributes service=Service and username=account, so
// they are visible to (and can be edited by) the platform's own tools, such as
// `secret-tool lookup service S username A`.
//
// A Keychain is safe for concurrent use. Its fields must not change while
// calls are in flight.
type Keychain struct {
	// Service names the application in every item; it must not be empty.
	Service string
	// Timeout bounds every call; zero means DefaultTimeout. A deadline on
	// the call's context that comes sooner wins.
	Timeout time.Duration
}

var _ secrets.Store = (*Keychain)(nil)

// New returns a Keychain for service with the default timeout.
func New(service string) *Keychain {
	return &Keychain{Service: service, Timeout: DefaultTimeout}
}

// Get returns the secret stored for account. The error errors.Is
// secrets.ErrNotFound when there is none, and secrets.ErrLocked,
// secrets.ErrUnavailable or secrets.ErrTimeout when the keychain could not
// say (which never means there is no secret).
//
// On Linux and the BSDs it reads the item itself over D-Bus, in three
// round trips instead of go-keyring's eight, with go-keyring's answers (see
// lookup); elsewhere it calls go-keyring.
func (k *Keychain) Get(ctx context.Context, account string) (string, error) {
	return k.get(ctx, account)
}

// Set stores secret for account, replacing any previous one. A Set that
// timed out may still complete later, in the background.
func (k *Keychain) Set(ctx context.Context, account, secret string) error {
	_, err := k.call(ctx, "set", func() (string, error) {
		if err := introduce(); err != nil {
			return "", err
		}
		return "", keyring.Set(k.Service, account, secret)
	})
	return err
}

// Delete removes the secret for account. The error errors.Is
// secrets.ErrNotFound when there was none. A locked keychain deletes
// nothing and returns an error that errors.Is secrets.ErrLocked. A Delete
// that timed out may still complete later, in the background.
func (k *Keychain) Delete(ctx context.Context, account string) error {
	_, err := k.call(ctx, "delete", func() (string, error) {
		return "", keyring.Delete(k.Service, account)
	})
	return err
}

// call runs f, a go-keyring call, under the deadline of ctx and k.Timeout,
// whichever is sooner, and turns its error into one of ours. A context that
// is already done, or a missing session bus, fails the call before it
// starts.
//
// go-keyring cannot be cancelled, so f runs in its own goroutine; when the
// deadline fires, the goroutine is left to finish (or block) on its own and
// its result is dropped (Get's own D-Bus client, run by callOnBus, is
// told to stop, and does). The process of a credential helper is short-lived,
// so that goroutine does not outlive its usefulness by much.
func (k *Keychain) call(ctx context.Context, op string, f func() (string, error)) (string, error) {
	return k.callOnBus(ctx, op, func(context.Context, string) (string, error) { return f() })
}

// callOnBus is call for an f that talks to the session bus itself: f gets
// the bus address that the check resolved (empty where there is no bus to
// check), to dial it rather than let godbus look for one, and a context
// that ends at the call's deadline, when f should give up and release what
// it holds.
func (k *Keychain) callOnBus(ctx context.Context, op string, f func(ctx context.Context, bus string) (string, error)) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", contextError(op, ctx, 0)
	}
	bus, err := checkSessionBus()
	if err != nil {
		return "", fmt.Errorf("keychain: %s: %w", op, err)
	}
	return k.withDeadlineCtx(ctx, op, func(ctx context.Context) (string, error) { return f(ctx, bus) })
}

// withDeadlineCtx runs f, abandoning it when the deadline fires; f gets
// the deadline's context.
func (k *Keychain) withDeadlineCtx(ctx context.Context, op string, f func(context.Context) (string, error)) (string, error) {
	budget := k.Timeout
	if budget <= 0 {
		budget = DefaultTimeout
	}
	if d, ok := ctx.Deadline(); ok {
		if left := time.Until(d); left < budget {
			budget = left
		}
	}
	ctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()

	type result struct {
		secret string
		err    error
	}
	done := make(chan result, 1) // buffered: a late answer must not block the goroutine
	go func() {
		// A panic in go-keyring or godbus would print its value, which
		// may hold the secret; turn it into a plain error instead.
		defer func() {
			if v := recover(); v != nil {
				done <- result{"", fmt.Errorf("internal error in the keychain library (panic: %T)", v)}
			}
		}()
		s, err := f(ctx)
		done <- result{s, err}
	}()
	finish := func(r result) (string, error) {
		if r.err != nil {
			if ctx.Err() != nil {
				// Most likely f failed because the deadline told it to
				// stop (closed its connection); its error says less.
				return "", contextError(op, ctx, budget)
			}
			return "", classify(op, r.err)
		}
		return r.secret, nil
	}
	select {
	case r := <-done:
		return finish(r)
	case <-ctx.Done():
		select {
		case r := <-done: // answered just in time: a Set that happened is no timeout
			return finish(r)
		default:
			return "", contextError(op, ctx, budget)
		}
	}
}

// contextError reports why ctx ended before op could answer: a deadline is
// a timeout error naming op and how long it waited; a cancellation keeps
// the context's own error.
func contextError(op string, ctx context.Context, waited time.Duration) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return &timeoutError{op: op, after: waited}
	}
	return fmt.Errorf("keychain: %s: %w", op, ctx.Err())
}

// timeoutError reports a keychain call that did not answer before its
// deadline. It errors.Is secrets.ErrTimeout and context.DeadlineExceeded.
type timeoutError struct {
	op    string        // "get", "set" or "delete"
	after time.Duration // how long the call was given; zero if the deadline had passed before it started
}

func (e *timeoutError) Error() string {
	if e.after <= 0 {
		return fmt.Sprintf("keychain: %s: deadline passed before the call", e.op)
	}
	after := e.after
	switch {
	case after >= 50*time.Millisecond:
		// A deadline from the context is measured when the call starts,
		// a little after it was set: 99.7ms reads better as 100ms.
		after = after.Round(10 * time.Millisecond)
	case after >= time.Millisecond:
		after = after.Round(time.Millisecond)
	}
	return fmt.Sprintf("keychain: %s: no answer after %v (is an unlock prompt waiting?)", e.op, after)
}

// Is makes a timeoutError match secrets.ErrTimeout and context.DeadlineExceeded.
func (e *timeoutError) Is(target error) bool {
	return target == secrets.ErrTimeout || target == context.DeadlineExceeded
}

// Timeout reports true, like the timeout errors of package net.
func (e *timeoutError) Timeout() bool { return true }
