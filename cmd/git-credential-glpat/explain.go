package main

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"

	"github.com/glpat-dev/git-credential-glpat/internal/agefile"
	"github.com/glpat-dev/git-credential-glpat/internal/hostarg"
	"github.com/glpat-dev/git-credential-glpat/internal/keychain"
	"github.com/glpat-dev/git-credential-glpat/internal/lifecycle"
	"github.com/glpat-dev/git-credential-glpat/internal/schedule"
	"github.com/glpat-dev/git-credential-glpat/internal/secrets"
	"github.com/glpat-dev/git-credential-glpat/internal/store"
)

// explain turns an error into the one line a person reads, with what to do
// about it when we know.
func explain(err error) string {
	return explainOn(err, runtime.GOOS, os.Getenv, os.Getuid())
}

// explainOn is explain on system goos, with its environment and user id.
func explainOn(err error, goos string, getenv func(string) string, uid int) string {
	if j, ok := err.(interface{ Unwrap() []error }); ok && fmt.Sprintf("%T", err) == "*errors.joinError" {
		// errors.Join's (store.List's, one for each index file): each
		// says its own. Other errors that wrap several say it whole.
		var lines []string
		for _, e := range j.Unwrap() {
			lines = append(lines, explainOn(e, goos, getenv, uid))
		}
		return strings.Join(lines, "; ")
	}
	var elsewhere *store.ElsewhereError
	var inconsistent *store.InconsistentError
	var aside *store.SetAsideError
	switch {
	case errors.As(err, &elsewhere):
		r := &elsewhere.Record
		return hostarg.Format(r.Protocol, r.Host) + " (" + r.Username + "): " + lifecycle.Elsewhere(r, elsewhere.Backend).Line()
	case errors.As(err, &inconsistent):
		return err.Error() + ": delete the file or store the credentials again"
	case errors.As(err, &aside):
		return err.Error() + ": store them again (or log in again) to see them, then delete the file"
	case errors.Is(err, keychain.ErrNoSessionBus):
		// Often a cron job's (cron starts it with no session bus), and
		// then "run it in a desktop session" is no help.
		return err.Error() + "; " + schedule.KeychainNeeds(uid)
	case errors.Is(err, keychain.ErrNoSecretService):
		return err.Error() + "; start a keyring daemon such as gnome-keyring-daemon"
	case errors.Is(err, agefile.ErrLocked):
		return err.Error()
	case errors.Is(err, secrets.ErrLocked):
		return "the keychain is locked; " + unlockAdvice(goos, getenv)
	case errors.Is(err, store.ErrNewerIndex):
		// Writing it would drop what the newer helper recorded.
		return err.Error() + ": a newer git-credential-glpat wrote it; upgrade this one (" + executable() + ")"
	}
	// Bad input, bad requests and the rest already say what is wrong.
	return err.Error()
}

// unlockAdvice says how to unlock the OS keychain where the person is: a
// dialog only where a display can show it.
func unlockAdvice(goos string, getenv func(string) string) string {
	switch {
	case goos == "darwin":
		return "unlock it with `security unlock-keychain ~/Library/Keychains/login.keychain-db`, then retry"
	case goos != "linux":
		return "unlock it, then retry"
	case getenv("DISPLAY") == "" && getenv("WAYLAND_DISPLAY") == "":
		return "no unlock dialog can reach you here: unlock it from a shell with `gnome-keyring-daemon --replace --unlock --components=secrets` (type the keyring password, then Ctrl-D), or log in to the desktop, then retry"
	}
	return "unlock it in Passwords and Keys (Seahorse), or by logging in to the desktop, then retry"
}

// executable is this program's path, "git-credential-glpat" when not known.
func executable() string {
	if p, err := os.Executable(); err == nil {
		return p
	}
	return "git-credential-glpat"
}
