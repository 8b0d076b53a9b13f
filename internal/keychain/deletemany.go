//go:build (dragonfly && cgo) || (freebsd && cgo) || linux || netbsd || openbsd

package keychain

import (
	"context"
	"errors"

	"github.com/godbus/dbus/v5"
	"github.com/zalando/go-keyring"
)

// deleteBatch is how many accounts DeleteMany removes in one deadline-bound
// call (one connection). gnome-keyring rewrites its keyring file after each
// delete, so a delete costs more the more items there are (about 20 ms each
// with 3,000): a hundred fit well inside one call's deadline.
const deleteBatch = 100

// inFlight is how many calls deleteItems sends before it waits for their
// answers: the bus refuses more than 128 pending replies per connection
// (max_replies_per_connection in dbus-daemon's session.conf).
const inFlight = 64

// errNeedsGoKeyring makes DeleteMany hand an account (or all of them) to
// go-keyring's Delete: a locked collection, or a delete that wants a
// prompt, which only go-keyring knows how to answer.
var errNeedsGoKeyring = errors.New("needs go-keyring")

// DeleteMany removes the secrets of accounts and returns one error per
// account (nil when it was deleted; one that errors.Is secrets.ErrNotFound
// when there was none). It does what Delete does for each, over one
// connection with the calls sent together: erasing every credential of a
// host with thousands costs a fraction of one Delete each (go-keyring
// connects and searches anew for every item).
func (k *Keychain) DeleteMany(ctx context.Context, accounts []string) []error {
	errs := make([]error, len(accounts))
	if k.lib != nil || k.limit() != nil {
		// Not the Secret Service (a test's stand-in), or one where
		// secrets may be split, whose parts only Delete knows of.
		return deleteEach(ctx, k, accounts)
	}
	for start := 0; start < len(accounts); start += deleteBatch {
		chunk := accounts[start:min(start+deleteBatch, len(accounts))]
		cerrs := make([]error, len(chunk))
		_, err := k.callOnBus(ctx, "delete", func(ctx context.Context, bus string) (string, error) {
			return "", deleteItems(ctx, bus, k.Service, chunk, cerrs)
		})
		for i, a := range chunk {
			switch {
			case errors.Is(err, errNeedsGoKeyring) || errors.Is(cerrs[i], errNeedsGoKeyring):
				errs[start+i] = k.Delete(ctx, a)
			case err != nil:
				errs[start+i] = err
			case cerrs[i] != nil:
				errs[start+i] = classify("delete", cerrs[i])
			}
		}
		if err != nil && !errors.Is(err, errNeedsGoKeyring) {
			// The keychain cannot be reached (or timed out): the rest
			// would fail the same way, after the same wait.
			for i := start + len(chunk); i < len(accounts); i++ {
				errs[i] = err
			}
			return errs
		}
	}
	return errs
}

// deleteItems deletes the item of each account in go-keyring's collection,
// as go-keyring's Delete does (the first item with the attributes service
// and username), putting each account's error in errs. The searches are
// sent together, then the deletes: two waits in all.
func deleteItems(ctx context.Context, bus, service string, accounts []string, errs []error) error {
	conn, err := dbus.Dial(bus, dbus.WithContext(ctx))
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := conn.Auth(nil); err != nil {
		return err
	}
	svc := conn.Object(secretsName, servicePath)
	// As in lookup: Collections must be answered before anything that
	// needs the client is sent.
	hello := conn.BusObject().Go(busHello, 0, nil)
	listed := svc.Go(propertiesGet, 0, nil, serviceIface, "Collections")
	if err := (<-hello.Done).Err; err != nil {
		return err
	}
	var collections []dbus.ObjectPath
	if err := (<-listed.Done).Store(&collections); err != nil {
		return err
	}
	collection := searchedCollection(collections)
	locked, err := isLockedCollection(conn, collection)
	if err != nil || locked {
		// go-keyring unlocks (or says why it cannot), item by item.
		return errNeedsGoKeyring
	}
	coll := conn.Object(secretsName, collection)
	for start := 0; start < len(accounts); start += inFlight {
		end := min(start+inFlight, len(accounts))
		deleteWindow(conn, coll, service, accounts[start:end], errs[start:end])
	}
	return nil
}

// deleteWindow sends the searches for accounts together, then the deletes
// of what they found: two waits for up to inFlight accounts.
func deleteWindow(conn *dbus.Conn, coll dbus.BusObject, service string, accounts []string, errs []error) {
	searches := make([]*dbus.Call, len(accounts))
	for i, a := range accounts {
		searches[i] = coll.Go(collectionIface+".SearchItems", 0, nil, map[string]string{"username": a, "service": service})
	}
	deletes := make([]*dbus.Call, len(accounts))
	for i, c := range searches {
		var items []dbus.ObjectPath
		if err := (<-c.Done).Store(&items); err != nil {
			errs[i] = err
			continue
		}
		if len(items) == 0 {
			errs[i] = keyring.ErrNotFound
			continue
		}
		deletes[i] = conn.Object(secretsName, items[0]).Go(itemIface+".Delete", 0, nil)
	}
	for i, c := range deletes {
		if c == nil {
			continue
		}
		var prompt dbus.ObjectPath
		if err := (<-c.Done).Store(&prompt); err != nil {
			errs[i] = err
			continue
		}
		if prompt != "/" {
			errs[i] = errNeedsGoKeyring // a prompt to answer: go-keyring's job
		}
	}
}
