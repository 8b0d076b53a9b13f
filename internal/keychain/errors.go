package keychain

import (
	"errors"
	"fmt"
	"os/exec"

	"github.com/zalando/go-keyring"

	"github.com/glpat-dev/git-credential-glpat/internal/secrets"
)

var (
	// ErrNoSessionBus means there is no D-Bus session bus to reach the
	// Secret Service through (a login over SSH, a container, a cron job).
	// It errors.Is secrets.ErrUnavailable.
	ErrNoSessionBus error = &unavailableError{"no D-Bus session bus"}
	// ErrNoSecretService means the session bus is there but no keyring
	// daemon (gnome-keyring, KeePassXC, KWallet) owns
	// org.freedesktop.secrets on it. It errors.Is secrets.ErrUnavailable.
	ErrNoSecretService error = &unavailableError{"no Secret Service (org.freedesktop.secrets) on the D-Bus session bus"}
)

// unavailableError is a reason for secrets.ErrUnavailable with its own
// message.
type unavailableError struct{ msg string }

func (e *unavailableError) Error() string { return e.msg }
func (e *unavailableError) Unwrap() error { return secrets.ErrUnavailable }

// classify turns an error from go-keyring (or the godbus beneath it) into
// one that errors.Is the secrets sentinel it means, with a "keychain: op:"
// prefix. The original error stays in the chain for errors.As. Neither
// go-keyring nor godbus put the secret into an error, and neither do we.
func classify(op string, err error) error {
	switch {
	case errors.Is(err, keyring.ErrNotFound) || isVanishedItem(err):
		return &wrapped{fmt.Sprintf("keychain: %s: %v", op, secrets.ErrNotFound), []error{secrets.ErrNotFound, err}}
	case isLocked(err):
		return fmt.Errorf("keychain: %s: %w: %w", op, secrets.ErrLocked, err)
	case isNoSecretService(err):
		// The bus's own text ("The name … was not provided by any .service
		// files") adds nothing a person could use, so it is not repeated.
		return &wrapped{fmt.Sprintf("keychain: %s: %v", op, ErrNoSecretService), []error{ErrNoSecretService, err}}
	case isNoSessionBus(err):
		return fmt.Errorf("keychain: %s: %w: %w", op, ErrNoSessionBus, err)
	case errors.Is(err, keyring.ErrUnsupportedPlatform):
		return fmt.Errorf("keychain: %s: %w: %w", op, secrets.ErrUnavailable, err)
	}
	return fmt.Errorf("keychain: %s: %w", op, err)
}

// wrapped is an error with its own message that still wraps errs.
type wrapped struct {
	msg  string
	errs []error
}

func (e *wrapped) Error() string   { return e.msg }
func (e *wrapped) Unwrap() []error { return e.errs }

// isInteractionNotAllowed reports macOS's /usr/bin/security exiting with
// status 36, errSecInteractionNotAllowed: the keychain is locked and cannot
// prompt (https://developer.apple.com/documentation/security/errsecinteractionnotallowed).
// go-keyring hands back only the *exec.ExitError, not the tool's output.
func isInteractionNotAllowed(err error) bool {
	var ee *exec.ExitError
	return errors.As(err, &ee) && ee.ExitCode() == 36
}
