//go:build !((dragonfly && cgo) || (freebsd && cgo) || linux || netbsd || openbsd || darwin)

package keychain

import (
	"context"

	"github.com/zalando/go-keyring"
)

// Windows' Credential Manager (and go-keyring's fallback on other systems)
// needs no bus and has no locked state that go-keyring reports.
func checkSessionBus() (string, error) { return "", nil }

// get reads the secret through go-keyring.
func (k *Keychain) get(ctx context.Context, service, account string) (string, error) {
	return k.call(ctx, "get", func() (string, error) {
		return keyring.Get(service, account)
	})
}

func isLocked(error) bool { return false }

func isNoSecretService(error) bool { return false }

func isNoSessionBus(error) bool { return false }

func isVanishedItem(error) bool { return false }

// introduce is needed only with the Secret Service.
func introduce() error { return nil }
