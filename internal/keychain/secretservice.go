//go:build (dragonfly && cgo) || (freebsd && cgo) || linux || netbsd || openbsd

// On these systems go-keyring talks to the freedesktop Secret Service over
// the D-Bus session bus (https://specifications.freedesktop.org/secret-service/).

package keychain

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/godbus/dbus/v5"
)

// runUserDir is where systemd-logind makes each user's runtime directory;
// a variable so that tests can point it at an empty directory.
var runUserDir = "/run/user"

// checkSessionBus makes sure that go-keyring will find a session bus without
// godbus falling back to exec'ing dbus-launch: with dbus-x11 installed that
// starts a new dbus-daemon (and a gnome-keyring) on every call, which outlive
// the process; without it, it fails only after a fork and exec. When
// DBUS_SESSION_BUS_ADDRESS is unset, the socket that logind provides is put
// into it (godbus looks only under /run/user, not at XDG_RUNTIME_DIR). It
// returns the address, for the calls that dial the bus themselves, and
// costs a stat or two and no D-Bus round trip.
func checkSessionBus() (string, error) {
	addr := os.Getenv("DBUS_SESSION_BUS_ADDRESS")
	found, err := resolveSessionBus(addr, os.Getenv("XDG_RUNTIME_DIR"), os.Getuid(), exists)
	if err != nil {
		return "", err
	}
	if found != addr {
		// godbus reads the variable when it first connects.
		if err := os.Setenv("DBUS_SESSION_BUS_ADDRESS", found); err != nil {
			return "", fmt.Errorf("%w: %w", ErrNoSessionBus, err)
		}
	}
	return found, nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// resolveSessionBus returns the session bus address to use, given the
// values of DBUS_SESSION_BUS_ADDRESS and XDG_RUNTIME_DIR, or an error that
// errors.Is ErrNoSessionBus when there is certainly no bus. Addresses that
// cannot be checked by looking at a file (abstract sockets, tcp) are left
// for godbus to try.
//
// Address syntax: https://dbus.freedesktop.org/doc/dbus-specification.html#addresses
func resolveSessionBus(addr, runtimeDir string, uid int, exists func(string) bool) (string, error) {
	if addr != "" && !strings.HasPrefix(addr, "autolaunch:") {
		var missing []string
		for _, a := range strings.Split(addr, ";") {
			path, ok := unixPath(a)
			if !ok || exists(path) {
				return addr, nil
			}
			missing = append(missing, path)
		}
		if len(missing) == 1 {
			return "", fmt.Errorf("%w: DBUS_SESSION_BUS_ADDRESS names %s, which does not exist", ErrNoSessionBus, missing[0])
		}
		return "", fmt.Errorf("%w: DBUS_SESSION_BUS_ADDRESS names %s, none of which exists", ErrNoSessionBus, strings.Join(missing, ", "))
	}

	// Unset, or "autolaunch:", which would make godbus exec dbus-launch.
	var candidates []string
	if filepath.IsAbs(runtimeDir) {
		candidates = append(candidates, filepath.Join(runtimeDir, "bus"))
	}
	if p := filepath.Join(runUserDir, strconv.Itoa(uid), "bus"); len(candidates) == 0 || candidates[0] != p {
		candidates = append(candidates, p)
	}
	for _, p := range candidates {
		if exists(p) {
			return "unix:path=" + dbus.EscapeBusAddressValue(p), nil
		}
	}
	what := "unset"
	if addr != "" {
		what = strconv.Quote(addr)
	}
	none := candidates[0] + " does not exist"
	if len(candidates) == 2 {
		none = fmt.Sprintf("neither %s nor %s exists", candidates[0], candidates[1])
	}
	return "", fmt.Errorf("%w: DBUS_SESSION_BUS_ADDRESS is %s and %s", ErrNoSessionBus, what, none)
}

// unixPath returns the socket path of a "unix:path=…" address; ok is false
// for any other kind of address, or one whose path cannot be read.
func unixPath(addr string) (path string, ok bool) {
	keys, ok := strings.CutPrefix(addr, "unix:")
	if !ok {
		return "", false
	}
	for kv := range strings.SplitSeq(keys, ",") {
		if v, ok := strings.CutPrefix(kv, "path="); ok {
			p, err := dbus.UnescapeBusAddressValue(v)
			return p, err == nil && p != ""
		}
	}
	return "", false
}

// D-Bus error names: https://dbus.freedesktop.org/doc/dbus-specification.html
// and https://specifications.freedesktop.org/secret-service/latest/errors.html
const (
	dbusUnknownMethod  = "org.freedesktop.DBus.Error.UnknownMethod"
	dbusUnknownObject  = "org.freedesktop.DBus.Error.UnknownObject"
	secretNoSuchObject = "org.freedesktop.Secret.Error.NoSuchObject"
	dbusServiceUnknown = "org.freedesktop.DBus.Error.ServiceUnknown"
	dbusNameHasNoOwner = "org.freedesktop.DBus.Error.NameHasNoOwner"
	secretIsLocked     = "org.freedesktop.Secret.Error.IsLocked"
)

func dbusErrorName(err error) string {
	var de dbus.Error
	if errors.As(err, &de) {
		return de.Name
	}
	var dp *dbus.Error
	if errors.As(err, &dp) && dp != nil {
		return dp.Name
	}
	return ""
}

// isLocked reports a collection that stayed locked: go-keyring asks the
// Secret Service to unlock it before every call and fails with this text
// when the prompt was dismissed or could not be shown (a headless session).
func isLocked(err error) bool {
	var le *lockedError
	return errors.As(err, &le) || dbusErrorName(err) == secretIsLocked ||
		strings.Contains(err.Error(), "failed to unlock correct collection")
}

// isVanishedItem reports an item that was deleted (by another process)
// between go-keyring's search and its next call on the item. gnome-keyring
// answers UnknownMethod "Object does not exist at path
// “/org/freedesktop/secrets/collection/login/7”". Only an item path counts:
// a missing collection is not the same as a missing secret.
func isVanishedItem(err error) bool {
	switch dbusErrorName(err) {
	case dbusUnknownMethod, dbusUnknownObject, secretNoSuchObject:
	default:
		return false
	}
	const collections = "/org/freedesktop/secrets/collection/"
	_, rest, ok := strings.Cut(err.Error(), collections)
	if !ok {
		return false
	}
	collection, item, ok := strings.Cut(rest, "/")
	item, _, _ = strings.Cut(item, "/")
	item = strings.TrimRight(item, "”\"' .")
	return ok && collection != "" && item != ""
}

// isNoSecretService reports a bus on which nobody owns
// org.freedesktop.secrets and nothing could be activated to own it.
func isNoSecretService(err error) bool {
	switch dbusErrorName(err) {
	case dbusServiceUnknown, dbusNameHasNoOwner:
		return true
	}
	return strings.Contains(err.Error(), "was not provided by any .service files")
}

// isNoSessionBus reports a session bus that could not be reached: its
// socket is gone or nobody listens on it (a dbus-daemon that died), or godbus
// had no address and could not launch one.
func isNoSessionBus(err error) bool {
	if errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ECONNREFUSED) {
		return true
	}
	if errors.Is(err, exec.ErrNotFound) {
		return true // exec: "dbus-launch": executable file not found in $PATH
	}
	msg := err.Error()
	return strings.HasPrefix(msg, "dial unix ") &&
		(strings.HasSuffix(msg, "no such file or directory") || strings.HasSuffix(msg, "connection refused")) ||
		strings.Contains(msg, "couldn't determine address of session bus")
}

// introduce makes this process known to the Secret Service before
// go-keyring's Set talks to it. go-keyring's Set sends OpenSession as the
// first message of a new connection, and gnome-keyring registers a new
// client in an idle callback that GLib may run after that method: the
// OpenSession then finds no client and the daemon aborts (seen here in the
// benchmark: "plain_negotiate: assertion 'session' failed", then the
// keyring daemon of the whole session is gone). Reading the Collections
// property needs no client; once it is answered, the registration is
// queued ahead of anything sent later on the same connection, and
// go-keyring uses that same shared connection (dbus.SessionBus). See
// lookup for the same rule on the Get path.
func introduce() error {
	conn, err := dbus.SessionBus()
	if err != nil {
		return err
	}
	_, err = conn.Object(secretsName, servicePath).GetProperty(serviceIface + ".Collections")
	return err
}
