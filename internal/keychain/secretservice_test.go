//go:build (dragonfly && cgo) || (freebsd && cgo) || linux || netbsd || openbsd

package keychain

import (
	"errors"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"syscall"
	"testing"

	"github.com/godbus/dbus/v5"
)

// The errors go-keyring and godbus return, as measured against a real
// gnome-keyring (see the package tests) and in godbus's source.
func TestClassifySecretService(t *testing.T) {
	const serviceUnknown = "The name org.freedesktop.secrets was not provided by any .service files"
	const lockedText = "failed to unlock correct collection '/org/freedesktop/secrets/collection/login'"
	dialErr := func(errno syscall.Errno) error {
		return &net.OpError{Op: "dial", Net: "unix",
			Addr: &net.UnixAddr{Name: "/run/user/1000/bus", Net: "unix"},
			Err:  os.NewSyscallError("connect", errno)}
	}
	noBus := []string{"ErrUnavailable", "ErrNoSessionBus"}
	noService := []string{"ErrUnavailable", "ErrNoSecretService"}
	const noServiceMsg = "keychain: get: no Secret Service (org.freedesktop.secrets) on the D-Bus session bus"

	for _, tc := range []struct {
		name      string
		in        error
		wantKinds []string
		wantMsg   string
	}{
		{"locked, go-keyring's text", errors.New(lockedText), []string{"ErrLocked"},
			"keychain: get: secret storage is locked: " + lockedText},
		{"locked, Secret Service error", dbus.Error{Name: "org.freedesktop.Secret.Error.IsLocked", Body: []any{"Cannot get secret of a locked object"}},
			[]string{"ErrLocked"}, "keychain: get: secret storage is locked: Cannot get secret of a locked object"},
		{"no Secret Service, bus error", dbus.Error{Name: "org.freedesktop.DBus.Error.ServiceUnknown", Body: []any{serviceUnknown}},
			noService, noServiceMsg},
		{"no Secret Service, bus error by pointer", dbus.NewError("org.freedesktop.DBus.Error.ServiceUnknown", []any{serviceUnknown}),
			noService, noServiceMsg},
		{"no Secret Service, name has no owner", dbus.Error{Name: "org.freedesktop.DBus.Error.NameHasNoOwner", Body: []any{"Could not get owner of name 'org.freedesktop.secrets': no such name"}},
			noService, noServiceMsg},
		{"no Secret Service, text only", errors.New(serviceUnknown), noService, noServiceMsg},
		{"no bus, socket gone", dialErr(syscall.ENOENT), noBus,
			"keychain: get: no D-Bus session bus: dial unix /run/user/1000/bus: connect: no such file or directory"},
		{"no bus, nobody listens", dialErr(syscall.ECONNREFUSED), noBus,
			"keychain: get: no D-Bus session bus: dial unix /run/user/1000/bus: connect: connection refused"},
		{"no bus, text only", errors.New("dial unix /x/bus: connect: connection refused"), noBus,
			"keychain: get: no D-Bus session bus: dial unix /x/bus: connect: connection refused"},
		{"no bus, dbus-launch missing", &exec.Error{Name: "dbus-launch", Err: exec.ErrNotFound}, noBus,
			`keychain: get: no D-Bus session bus: exec: "dbus-launch": executable file not found in $PATH`},
		{"no bus, no address", errors.New("dbus: couldn't determine address of session bus"), noBus,
			"keychain: get: no D-Bus session bus: dbus: couldn't determine address of session bus"},
		{"item deleted meanwhile", dbus.Error{Name: "org.freedesktop.DBus.Error.UnknownMethod", Body: []any{"Object does not exist at path “/org/freedesktop/secrets/collection/login/7”"}},
			[]string{"ErrNotFound"}, "keychain: get: not found"},
		{"collection missing", dbus.Error{Name: "org.freedesktop.DBus.Error.UnknownMethod", Body: []any{"Object does not exist at path “/org/freedesktop/secrets/collection/nope”"}},
			nil, "keychain: get: Object does not exist at path “/org/freedesktop/secrets/collection/nope”"},
		{"other D-Bus error", dbus.Error{Name: "org.freedesktop.DBus.Error.NoReply", Body: []any{"Did not receive a reply"}}, nil,
			"keychain: get: Did not receive a reply"},
		{"other dial error", errors.New("dial unix /x/bus: connect: permission denied"), nil,
			"keychain: get: dial unix /x/bus: connect: permission denied"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := classify("get", tc.in)
			if k := kinds(got); !slices.Equal(k, tc.wantKinds) {
				t.Errorf("classify(%q) is %v, want %v", tc.in, k, tc.wantKinds)
			}
			if got.Error() != tc.wantMsg {
				t.Errorf("classify(%q) = %q, want %q", tc.in, got, tc.wantMsg)
			}
			if !keepsOriginal(got, tc.in) {
				t.Errorf("classify(%q) lost the original error from its chain", tc.in)
			}
		})
	}
}

// keepsOriginal reports whether in is in got's chain. A dbus.Error value
// holds a slice, so errors.Is cannot compare it; its name must do.
func keepsOriginal(got, in error) bool {
	var want, have dbus.Error
	if errors.As(in, &want) {
		return errors.As(got, &have) && have.Name == want.Name
	}
	return errors.Is(got, in)
}

// macOS's security tool exits 36 when the keychain is locked and cannot
// prompt; the check is tested here, where a process can exit 36.
func TestInteractionNotAllowed(t *testing.T) {
	for _, tc := range []struct {
		name string
		code int
		want bool
	}{
		{"exit 36", 36, true},
		{"exit 44 (item not found)", 44, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := exec.Command("sh", "-c", "exit "+strconv.Itoa(tc.code)).Run()
			if got := isInteractionNotAllowed(err); got != tc.want {
				t.Errorf("isInteractionNotAllowed(%v) = %v, want %v", err, got, tc.want)
			}
		})
	}
}

func TestResolveSessionBus(t *testing.T) {
	const uid = 1000
	for _, tc := range []struct {
		name       string
		addr       string
		runtimeDir string
		sockets    []string // paths that exist
		want       string
		wantErr    string
		wantStats  int
	}{
		{name: "set, socket exists", addr: "unix:path=/run/user/1000/bus", sockets: []string{"/run/user/1000/bus"},
			want: "unix:path=/run/user/1000/bus", wantStats: 1},
		{name: "set with guid", addr: "unix:path=/tmp/b/bus,guid=0123", sockets: []string{"/tmp/b/bus"},
			want: "unix:path=/tmp/b/bus,guid=0123", wantStats: 1},
		{name: "set, escaped path", addr: "unix:path=/tmp/a%20b/bus", sockets: []string{"/tmp/a b/bus"},
			want: "unix:path=/tmp/a%20b/bus", wantStats: 1},
		{name: "set, socket gone", addr: "unix:path=/tmp/gone/bus", runtimeDir: "/run/user/1000", sockets: []string{"/run/user/1000/bus"},
			wantErr: "no D-Bus session bus: DBUS_SESSION_BUS_ADDRESS names /tmp/gone/bus, which does not exist", wantStats: 1},
		{name: "abstract socket is left to godbus", addr: "unix:abstract=/tmp/dbus-x",
			want: "unix:abstract=/tmp/dbus-x"},
		{name: "tcp is left to godbus", addr: "tcp:host=localhost,port=4711",
			want: "tcp:host=localhost,port=4711"},
		{name: "list, second exists", addr: "unix:path=/gone;unix:path=/x/bus", sockets: []string{"/x/bus"},
			want: "unix:path=/gone;unix:path=/x/bus", wantStats: 2},
		{name: "list, none exists", addr: "unix:path=/gone;unix:path=/gone2",
			wantErr: "no D-Bus session bus: DBUS_SESSION_BUS_ADDRESS names /gone, /gone2, none of which exists", wantStats: 2},
		{name: "list, then tcp", addr: "unix:path=/gone;tcp:host=localhost,port=1",
			want: "unix:path=/gone;tcp:host=localhost,port=1", wantStats: 1},
		{name: "unset, XDG_RUNTIME_DIR has the bus", runtimeDir: "/tmp/xdg", sockets: []string{"/tmp/xdg/bus", "/run/user/1000/bus"},
			want: "unix:path=/tmp/xdg/bus", wantStats: 1},
		{name: "unset, /run/user has the bus", runtimeDir: "/tmp/xdg", sockets: []string{"/run/user/1000/bus"},
			want: "unix:path=/run/user/1000/bus", wantStats: 2},
		{name: "unset, escaped", runtimeDir: "/tmp/a b,c", sockets: []string{"/tmp/a b,c/bus"},
			want: "unix:path=/tmp/a%20b%2cc/bus", wantStats: 1},
		{name: "unset, relative XDG_RUNTIME_DIR is ignored", runtimeDir: "run", sockets: []string{"run/bus"},
			wantErr: "no D-Bus session bus: DBUS_SESSION_BUS_ADDRESS is unset and /run/user/1000/bus does not exist", wantStats: 1},
		{name: "unset, no bus", runtimeDir: "/run/user/1000",
			wantErr: "no D-Bus session bus: DBUS_SESSION_BUS_ADDRESS is unset and /run/user/1000/bus does not exist", wantStats: 1},
		{name: "unset, no bus in either place", runtimeDir: "/tmp/xdg",
			wantErr: "no D-Bus session bus: DBUS_SESSION_BUS_ADDRESS is unset and neither /tmp/xdg/bus nor /run/user/1000/bus exists", wantStats: 2},
		{name: "autolaunch, bus found", addr: "autolaunch:", sockets: []string{"/run/user/1000/bus"},
			want: "unix:path=/run/user/1000/bus", wantStats: 1},
		{name: "autolaunch, no bus", addr: "autolaunch:scope=*user",
			wantErr: `no D-Bus session bus: DBUS_SESSION_BUS_ADDRESS is "autolaunch:scope=*user" and /run/user/1000/bus does not exist`, wantStats: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stats := 0
			exists := func(p string) bool { stats++; return slices.Contains(tc.sockets, p) }
			got, err := resolveSessionBus(tc.addr, tc.runtimeDir, uid, exists)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Errorf("err = %v, want %q", err, tc.wantErr)
				}
				if !errors.Is(err, ErrNoSessionBus) {
					t.Errorf("err = %v, want it to be ErrNoSessionBus", err)
				}
			} else if err != nil || got != tc.want {
				t.Errorf("got %q, %v; want %q, nil", got, err, tc.want)
			}
			if stats != tc.wantStats {
				t.Errorf("%d stats, want %d", stats, tc.wantStats)
			}
		})
	}
}
