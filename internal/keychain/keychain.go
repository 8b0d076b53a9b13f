// Package keychain stores secrets in the OS keychain through go-keyring (and reads them with its own lean Secret Service client on Linux), with a deadline on every call and errors that say what is wrong.
package keychain

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
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
// `secret-tool lookup service S username A`. A secret too large for one item
// of the system's keychain is split over several (see split.go).
//
// A Keychain is safe for concurrent use. Its fields must not change while
// calls are in flight.
type Keychain struct {
	// Service names the application in every item; it must not be empty.
	Service string
	// Timeout bounds every call; zero means DefaultTimeout. A deadline on
	// the call's context that comes sooner wins.
	Timeout time.Duration

	// lib stands in for go-keyring in tests: a keychain with another
	// system's limits, or one that dies part way. Nil is go-keyring (with
	// this package's own reader on the Secret Service).
	lib keyring.Keyring
	// fits, when set, replaces this system's limit on one item (tests).
	fits itemFits
	// now is the clock of split writes; nil means time.Now.
	now func() time.Time
}

var _ secrets.Store = (*Keychain)(nil)

// New returns a Keychain for service with the default timeout.
func New(service string) *Keychain {
	return &Keychain{Service: service, Timeout: DefaultTimeout}
}

// Describe names the keychain for status and doctor: the OS keychain of
// this system.
func (k *Keychain) Describe() string {
	switch runtime.GOOS {
	case "darwin":
		return "OS keychain (macOS Keychain)"
	case "windows":
		return "OS keychain (Windows Credential Manager)"
	}
	return "OS keychain (Secret Service on the D-Bus session bus)"
}

// Get returns the secret stored for account. The error errors.Is
// secrets.ErrNotFound when there is none, and secrets.ErrLocked,
// secrets.ErrUnavailable or secrets.ErrTimeout when the keychain could not
// say (which never means there is no secret).
//
// A secret that fits one item, as every token and password does, costs one
// read: on Linux and the BSDs this package reads the item itself over
// D-Bus, in three round trips instead of go-keyring's eight, with
// go-keyring's answers (see lookup); elsewhere it calls go-keyring. A split
// secret costs one read more per part.
func (k *Keychain) Get(ctx context.Context, account string) (string, error) {
	v, err := k.getItem(ctx, k.Service, account)
	if err != nil || !strings.HasPrefix(v, headMarker) {
		return v, err
	}
	return k.getSplit(ctx, account, v)
}

// Set stores secret for account, replacing any previous one. A secret that
// fits one item of this system's keychain is one write; a larger one is
// split (see setSplit), and one past maxSplitSecret is refused with an
// error that errors.Is secrets.ErrTooLarge. A Set that timed out may still
// complete later, in the background.
func (k *Keychain) Set(ctx context.Context, account, secret string) error {
	fits := k.limit()
	marked := strings.HasPrefix(secret, headMarker)
	if !marked && (fits == nil || fits(k.Service, account, len(secret))) {
		return k.setItem(ctx, k.Service, account, secret)
	}
	if marked {
		// A secret that looks like a head is kept inside one, so that Get
		// returns it as it is.
		v := headMarker + inlineLine + secret
		if fits == nil || fits(k.Service, account, len(v)) {
			return k.setItem(ctx, k.Service, account, v)
		}
	}
	return k.setSplit(ctx, fits, account, secret)
}

// Delete removes the secret for account. The error errors.Is
// secrets.ErrNotFound when there was none. A locked keychain deletes
// nothing and returns an error that errors.Is secrets.ErrLocked. A Delete
// that timed out may still complete later, in the background.
//
// Where secrets may be split (Windows and macOS), Delete reads the
// account's list of parts first, and removes the parts after the item
// that names them.
func (k *Keychain) Delete(ctx context.Context, account string) error {
	if k.limit() == nil {
		return k.deleteItem(ctx, k.Service, account)
	}
	return k.deleteSplit(ctx, account)
}

// limit is the limit on one item in use: this system's, or the one a test
// set. Nil means none.
func (k *Keychain) limit() itemFits {
	if k.fits != nil {
		return k.fits
	}
	return platformFits
}

// getItem reads one item.
func (k *Keychain) getItem(ctx context.Context, service, account string) (string, error) {
	if lib := k.lib; lib != nil {
		return k.call(ctx, "get", func() (string, error) { return lib.Get(service, account) })
	}
	return k.get(ctx, service, account)
}

// setItem writes one item, replacing any with the same service and account.
func (k *Keychain) setItem(ctx context.Context, service, account, value string) error {
	lib := k.lib
	_, err := k.call(ctx, "set", func() (string, error) {
		if lib != nil {
			return "", lib.Set(service, account, value)
		}
		if err := introduce(); err != nil {
			return "", err
		}
		return "", keyring.Set(service, account, value)
	})
	return err
}

// deleteItem deletes one item.
func (k *Keychain) deleteItem(ctx context.Context, service, account string) error {
	lib := k.lib
	_, err := k.call(ctx, "delete", func() (string, error) {
		if lib != nil {
			return "", lib.Delete(service, account)
		}
		return "", keyring.Delete(service, account)
	})
	return err
}

// deleteEach deletes accounts one Delete each, and stops trying once the
// context is done: the rest get the same error.
func deleteEach(ctx context.Context, k *Keychain, accounts []string) []error {
	errs := make([]error, len(accounts))
	for i, a := range accounts {
		errs[i] = k.Delete(ctx, a)
		if errs[i] != nil && ctx.Err() != nil {
			for j := i + 1; j < len(accounts); j++ {
				errs[j] = errs[i]
			}
			break
		}
	}
	return errs
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
	var bus string
	if k.lib == nil { // a test's stand-in needs no bus
		var err error
		if bus, err = checkSessionBus(); err != nil {
			return "", fmt.Errorf("keychain: %s: %w", op, err)
		}
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
