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
	ErrNoSessionBus error = secrets.NewError("no D-Bus session bus", secrets.ErrUnavailable)
	// ErrNoSecretService means the session bus is there but no keyring
	// daemon (gnome-keyring, KeePassXC, KWallet) owns
	// org.freedesktop.secrets on it. It errors.Is secrets.ErrUnavailable.
	ErrNoSecretService error = secrets.NewError("no Secret Service (org.freedesktop.secrets) on the D-Bus session bus", secrets.ErrUnavailable)
)

// classify turns an error from go-keyring (or the godbus beneath it) into
// one that errors.Is the secrets sentinel it means, with a "keychain: op:"
// prefix. The original error stays in the chain for errors.As. Neither
// go-keyring nor godbus put the secret into an error, and neither do we.
func classify(op string, err error) error {
	switch {
	case errors.Is(err, keyring.ErrNotFound) || isVanishedItem(err):
		return secrets.NewError(fmt.Sprintf("keychain: %s: %v", op, secrets.ErrNotFound), secrets.ErrNotFound, err)
	case isLocked(err):
		return fmt.Errorf("keychain: %s: %w: %w", op, secrets.ErrLocked, err)
	case isNoSecretService(err):
		// The bus's own text ("The name … was not provided by any .service
		// files") adds nothing a person could use, so it is not repeated.
		return secrets.NewError(fmt.Sprintf("keychain: %s: %v", op, ErrNoSecretService), ErrNoSecretService, err)
	case isNoSessionBus(err):
		return fmt.Errorf("keychain: %s: %w: %w", op, ErrNoSessionBus, err)
	case errors.Is(err, keyring.ErrSetDataTooBig):
		// Set splits what does not fit one item; this is a limit it
		// does not know of.
		return secrets.NewError(fmt.Sprintf("keychain: %s: the keychain refused an item this large (%v); nothing was changed (the encrypted-file backend holds it: git-credential-glpat migrate --to encrypted-file)", op, err), secrets.ErrTooLarge, err)
	case errors.Is(err, keyring.ErrUnsupportedPlatform):
		return fmt.Errorf("keychain: %s: %w: %w", op, secrets.ErrUnavailable, err)
	}
	return fmt.Errorf("keychain: %s: %w", op, err)
}

// isInteractionNotAllowed reports macOS's /usr/bin/security exiting with
// status 36, errSecInteractionNotAllowed: the keychain is locked and cannot
// prompt (https://developer.apple.com/documentation/security/errsecinteractionnotallowed).
// go-keyring hands back only the *exec.ExitError, not the tool's output.
func isInteractionNotAllowed(err error) bool {
	var ee *exec.ExitError
	return errors.As(err, &ee) && ee.ExitCode() == 36
}
