package keyringtest

import (
	"errors"
	"fmt"
	"sync"

	"github.com/godbus/dbus/v5"
)

// Names on the bus, from the Secret Service API
// (https://specifications.freedesktop.org/secret-service/) and
// gnome-keyring's own interface for unlocking without a prompt.
const (
	secretsName     = "org.freedesktop.secrets"
	servicePath     = "/org/freedesktop/secrets"
	serviceIface    = "org.freedesktop.Secret.Service"
	sessionIface    = "org.freedesktop.Secret.Session"
	lockedProp      = "org.freedesktop.Secret.Collection.Locked"
	gnomeUnlock     = "org.gnome.keyring.InternalUnsupportedGuiltRiddenInterface.UnlockWithMasterPassword"
	loginCollection = dbus.ObjectPath("/org/freedesktop/secrets/collection/login")
	noPrompt        = dbus.ObjectPath("/")
)

// errBusOnly is returned by the methods that need a keyring daemon on a
// Session from StartBusOnly.
var errBusOnly = errors.New("keyringtest: this session has no Secret Service (it was made by StartBusOnly)")

// loginReady returns nil once gnome-keyring owns org.freedesktop.secrets
// and its login collection exists and is unlocked. Asking the name's owner
// first matters: the daemon forks off its work and may answer late.
func (s *Session) loginReady() error {
	var owned bool
	if err := s.conn.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, secretsName).Store(&owned); err != nil {
		return err
	}
	if !owned {
		return errors.New(secretsName + " has no owner yet")
	}
	locked, err := s.Locked()
	if err != nil {
		return err
	}
	if locked {
		return errors.New("the login collection is locked")
	}
	return nil
}

// Locked reports whether the login collection is locked.
func (s *Session) Locked() (bool, error) {
	if s.keyring == nil {
		return false, errBusOnly
	}
	v, err := s.conn.Object(secretsName, loginCollection).GetProperty(lockedProp)
	if err != nil {
		return false, fmt.Errorf("keyringtest: read %s of %s: %w", lockedProp, loginCollection, err)
	}
	locked, ok := v.Value().(bool)
	if !ok {
		return false, fmt.Errorf("keyringtest: %s is %s, not a boolean", lockedProp, v.Signature())
	}
	return locked, nil
}

// Lock locks the login collection through the Secret Service's own Lock
// method, as a screen locker would. go-keyring then fails on every call,
// since it cannot show an unlock prompt here. Unlock undoes it; a test that
// locks the shared Session must unlock it again (in t.Cleanup), since the
// tests after it share the keyring.
func (s *Session) Lock() error {
	if s.keyring == nil {
		return errBusOnly
	}
	var locked []dbus.ObjectPath
	var prompt dbus.ObjectPath
	err := s.conn.Object(secretsName, servicePath).
		Call(serviceIface+".Lock", 0, []dbus.ObjectPath{loginCollection}).
		Store(&locked, &prompt)
	if err != nil {
		return fmt.Errorf("keyringtest: lock: %w", err)
	}
	if prompt != noPrompt {
		return fmt.Errorf("keyringtest: lock: the Secret Service wants a prompt (%s)", prompt)
	}
	return s.wantLocked(true)
}

// Unlock unlocks the login collection with Password, without a prompt,
// through gnome-keyring's private UnlockWithMasterPassword method.
func (s *Session) Unlock() error {
	if s.keyring == nil {
		return errBusOnly
	}
	service := s.conn.Object(secretsName, servicePath)
	var output dbus.Variant
	var session dbus.ObjectPath
	err := service.Call(serviceIface+".OpenSession", 0, "plain", dbus.MakeVariant("")).Store(&output, &session)
	if err != nil {
		return fmt.Errorf("keyringtest: unlock: open session: %w", err)
	}
	defer s.conn.Object(secretsName, session).Call(sessionIface+".Close", 0)

	// The Secret struct of the Secret Service API: (oayays).
	secret := struct {
		Session     dbus.ObjectPath
		Parameters  []byte
		Value       []byte
		ContentType string
	}{session, []byte{}, []byte(Password), "text/plain"}
	if err := service.Call(gnomeUnlock, 0, loginCollection, secret).Err; err != nil {
		return fmt.Errorf("keyringtest: unlock: %w", err)
	}
	return s.wantLocked(false)
}

func (s *Session) wantLocked(want bool) error {
	got, err := s.Locked()
	if err != nil {
		return err
	}
	if got != want {
		return fmt.Errorf("keyringtest: the login collection has Locked=%v, want %v", got, want)
	}
	return nil
}

// Freeze stops the keyring daemon (SIGSTOP), so that every Secret Service
// call waits for an answer that does not come, as when an unlock prompt is
// waiting for a person. The returned thaw resumes it (SIGCONT); calling it
// again does nothing. Stop thaws a frozen daemon before ending it.
func (s *Session) Freeze() (thaw func() error, err error) {
	if s.keyring == nil {
		return nil, errBusOnly
	}
	p := s.keyring.cmd.Process
	if err := freeze(p); err != nil {
		resume(p)
		return nil, fmt.Errorf("keyringtest: freeze gnome-keyring-daemon: %w", err)
	}
	var once sync.Once
	var thawErr error
	return func() error {
		once.Do(func() { thawErr = resume(p) })
		return thawErr
	}, nil
}
