package keychain

import (
	"context"

	"github.com/zalando/go-keyring"
)

// On macOS go-keyring runs /usr/bin/security; there is no bus to check.
func checkSessionBus() (string, error) { return "", nil }

// get reads the secret through go-keyring.
func (k *Keychain) get(ctx context.Context, service, account string) (string, error) {
	return k.call(ctx, "get", func() (string, error) {
		return keyring.Get(service, account)
	})
}

// isLocked reports a keychain that could not be unlocked: security exits
// with status 36 (errSecInteractionNotAllowed) when the login keychain is
// locked and no unlock dialog can be shown, as over SSH.
func isLocked(err error) bool { return isInteractionNotAllowed(err) }

func isNoSecretService(error) bool { return false }

func isNoSessionBus(error) bool { return false }

func isVanishedItem(error) bool { return false }

// introduce is needed only with the Secret Service.
func introduce() error { return nil }
