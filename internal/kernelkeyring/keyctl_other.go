//go:build !linux

package kernelkeyring

import (
	"errors"
	"time"
)

// realSyscalls fails every call: the kernel keyring exists only on Linux.
type realSyscalls struct{}

func (realSyscalls) getPersistent() (int, error)             { return 0, errNotLinux }
func (realSyscalls) unlinkFromSessions(int)                  {}
func (realSyscalls) userKeyring() (int, error)               { return 0, errNotLinux }
func (realSyscalls) search(int, string, string) (int, error) { return 0, errNotLinux }
func (realSyscalls) add(string, string, []byte, int) (int, error) {
	return 0, errNotLinux
}
func (realSyscalls) read(int) ([]byte, error)            { return nil, errNotLinux }
func (realSyscalls) describe(int) (string, error)        { return "", errNotLinux }
func (realSyscalls) setTimeout(int, time.Duration) error { return errNotLinux }
func (realSyscalls) setPerm(int, uint32) error           { return errNotLinux }
func (realSyscalls) unlink(int, int) error               { return errNotLinux }
func (realSyscalls) invalidate(int) error                { return errNotLinux }

func classOf(err error) errClass {
	if errors.Is(err, errNotLinux) {
		return classBlocked
	}
	return classOther
}

func blockedHint(error) string {
	return `use backend = "keyring" in the config on this system`
}
