package cli

import (
	"errors"

	"github.com/glpat-dev/git-credential-glpat/internal/agefile"
	"github.com/glpat-dev/git-credential-glpat/internal/keychain"
	"github.com/glpat-dev/git-credential-glpat/internal/secrets"
)

// Explain turns an error into the one line a person reads, with what to do
// about it when we know.
func Explain(err error) string {
	switch {
	case errors.Is(err, keychain.ErrNoSessionBus):
		return err.Error() + "; run git inside a desktop session, or start one with dbus-run-session"
	case errors.Is(err, keychain.ErrNoSecretService):
		return err.Error() + "; start a keyring daemon such as gnome-keyring-daemon"
	case errors.Is(err, agefile.ErrLocked):
		return err.Error()
	case errors.Is(err, secrets.ErrLocked):
		return "the keychain is locked; unlock it (log in to the desktop, or open Seahorse) and retry"
	}
	// Bad input, bad requests and the rest already say what is wrong.
	return err.Error()
}
