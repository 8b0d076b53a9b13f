//go:build (dragonfly && cgo) || (freebsd && cgo) || linux || netbsd || openbsd

package keychain

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/godbus/dbus/v5"
	"github.com/zalando/go-keyring"

	"github.com/glpat-dev/git-credential-glpat/internal/secrets"
)

// Names of the Secret Service API,
// https://specifications.freedesktop.org/secret-service/latest/.
const (
	secretsName     = "org.freedesktop.secrets"
	servicePath     = dbus.ObjectPath("/org/freedesktop/secrets")
	serviceIface    = "org.freedesktop.Secret.Service"
	collectionIface = "org.freedesktop.Secret.Collection"
	itemIface       = "org.freedesktop.Secret.Item"
	sessionIface    = "org.freedesktop.Secret.Session"
	busHello        = "org.freedesktop.DBus.Hello"
	propertiesGet   = "org.freedesktop.DBus.Properties.Get"
	dbusUnknownIfc  = "org.freedesktop.DBus.Error.UnknownInterface"
)

// The collections that go-keyring v0.2.8 keeps its items in: the one named
// login when the service has it, else the default collection
// (secret_service.GetLoginCollection in go-keyring). Get reads exactly
// there, so that it sees what go-keyring's Set wrote and nothing else (an
// item with the same attributes in another collection is not ours).
const (
	loginCollection   = dbus.ObjectPath("/org/freedesktop/secrets/collection/login")
	defaultCollection = dbus.ObjectPath("/org/freedesktop/secrets/aliases/default")
)

// get reads the secret over the session bus itself; see lookup. Only when
// the collection is locked does it go through go-keyring, whose Unlock
// shows the desktop's unlock prompt (a person at a locked desktop session
// types the password and git goes on) and fails at once where no desktop
// can show it; the deadline still bounds the wait.
func (k *Keychain) get(ctx context.Context, service, account string) (string, error) {
	secret, err := k.callOnBus(ctx, "get", func(ctx context.Context, bus string) (string, error) {
		return lookup(ctx, bus, service, account)
	})
	if errors.Is(err, secrets.ErrLocked) && ctx.Err() == nil {
		return k.call(ctx, "get", func() (string, error) {
			return keyring.Get(service, account)
		})
	}
	return secret, err
}

// lookup returns the secret of the item with the attributes service and
// username in go-keyring's collection, with the answers go-keyring's Get
// gives (keyring.ErrNotFound, a locked collection, the bus's errors), in
// three round trips where go-keyring makes eight (connect and Hello,
// Collections, Unlock, SearchItems, OpenSession, Unlock, GetSecret,
// Close):
//
//  1. Hello and the service's Collections property, sent together: the
//     bus handles a connection's messages in order, so nothing needs to
//     wait for Hello's answer;
//  2. SearchItems on the collection go-keyring would choose, and
//     OpenSession, sent together;
//  3. GetSecret of the first item found, as go-keyring takes the first.
//
// Step 1 must be answered before step 2 is sent. gnome-keyring learns of
// a new client in an idle callback that its message filter queues for
// each message, which GLib may run after the method call itself
// (gkd-secret-service.c, service_message_filter): a first message that
// needs the client then fails ("Method SearchItems is not implemented"),
// and an OpenSession crashes the daemon. Reading Collections does not
// need the client, and once it is answered the client's callback is
// queued ahead of anything sent later. go-keyring is safe for the same
// reason: it reads Collections first, and waits.
//
// Only unusual cases cost more: a search that finds nothing reads the
// collection's Locked property (go-keyring fails on a locked collection
// before it searches, so a miss there is "locked", not "not found"), and
// so does a GetSecret that says the item is locked.
//
// lookup never unlocks anything: go-keyring's unlock prompt cannot be
// answered where no desktop shows it, and there it fails at once. A
// locked collection is an error that says what go-keyring says. Session
// and connection are closed before lookup returns; when ctx ends, the
// connection is closed, which ends every call still waiting.
func lookup(ctx context.Context, bus, service, account string) (string, error) {
	conn, err := dbus.Dial(bus, dbus.WithContext(ctx))
	if err != nil {
		return "", err
	}
	defer conn.Close()
	if err := conn.Auth(nil); err != nil {
		return "", err
	}
	svc := conn.Object(secretsName, servicePath)

	hello := conn.BusObject().Go(busHello, 0, nil)
	listed := svc.Go(propertiesGet, 0, nil, serviceIface, "Collections")
	if err := (<-hello.Done).Err; err != nil {
		return "", err
	}
	var collections []dbus.ObjectPath
	if err := (<-listed.Done).Store(&collections); err != nil {
		return "", err
	}
	collection := searchedCollection(collections)

	// go-keyring's search (keyring_unix.go, findItem).
	attrs := map[string]string{"username": account, "service": service}
	search := conn.Object(secretsName, collection).Go(collectionIface+".SearchItems", 0, nil, attrs)
	open := svc.Go(serviceIface+".OpenSession", 0, nil, "plain", dbus.MakeVariant(""))
	var items []dbus.ObjectPath
	if err := (<-search.Done).Store(&items); err != nil {
		if collection == defaultCollection && isNoSuchObject(err) {
			// No default collection either. go-keyring's Unlock of the
			// alias unlocks nothing, which it reports as this failure.
			return "", &lockedError{path: collection, err: err}
		}
		return "", err
	}
	if len(items) == 0 {
		locked, err := isLockedCollection(conn, collection)
		if err != nil {
			return "", err
		}
		if locked {
			return "", &lockedError{path: collection}
		}
		return "", keyring.ErrNotFound
	}

	var session dbus.ObjectPath
	var algorithmOutput dbus.Variant
	if err := (<-open.Done).Store(&algorithmOutput, &session); err != nil {
		return "", err
	}
	// No need to wait for the answer: the session ends with the
	// connection anyway, and this is only tidiness.
	defer conn.Object(secretsName, session).Go(sessionIface+".Close", dbus.FlagNoReplyExpected, nil)

	// The Secret struct, (oayays).
	var secret struct {
		Session     dbus.ObjectPath
		Parameters  []byte
		Value       []byte
		ContentType string
	}
	err = conn.Object(secretsName, items[0]).Call(itemIface+".GetSecret", 0, session).Store(&secret)
	if dbusErrorName(err) == secretIsLocked {
		// go-keyring would have asked to unlock the collection (or, were
		// that unlocked, the item), and failed, naming what it asked for.
		locked := collection
		if collLocked, lerr := isLockedCollection(conn, collection); lerr == nil && !collLocked {
			locked = items[0]
		}
		return "", &lockedError{path: locked, err: err}
	}
	if err != nil {
		return "", err
	}
	return string(secret.Value), nil
}

// searchedCollection returns the collection that go-keyring uses, given
// the Secret Service's Collections property.
func searchedCollection(collections []dbus.ObjectPath) dbus.ObjectPath {
	if slices.Contains(collections, loginCollection) {
		return loginCollection
	}
	return defaultCollection
}

// isNoSuchObject reports an error that means the object called does not
// exist: gnome-keyring answers UnknownMethod "Object does not exist at
// path …"; other services use the names meant for it.
func isNoSuchObject(err error) bool {
	switch dbusErrorName(err) {
	case dbusUnknownMethod, dbusUnknownObject, dbusUnknownIfc, secretNoSuchObject:
		return true
	}
	return false
}

// isLockedCollection reads a collection's Locked property.
func isLockedCollection(conn *dbus.Conn, collection dbus.ObjectPath) (bool, error) {
	var locked bool
	err := conn.Object(secretsName, collection).Call(propertiesGet, 0, collectionIface, "Locked").Store(&locked)
	return locked, err
}

// lockedError is a collection (or item) that is locked. Its text is what
// go-keyring says when it cannot unlock it, so that messages do not change
// with the code path that found it.
type lockedError struct {
	path dbus.ObjectPath
	err  error // the Secret Service's own error, if it gave one
}

func (e *lockedError) Error() string {
	return fmt.Sprintf("failed to unlock correct collection '%v'", e.path)
}

func (e *lockedError) Unwrap() error { return e.err }
