//go:build !((dragonfly && cgo) || (freebsd && cgo) || linux || netbsd || openbsd)

package keychain

import "context"

// DeleteMany removes the secrets of accounts, one Delete each, and returns
// one error per account (nil when it was deleted). Only the Secret Service
// has a cheaper way.
func (k *Keychain) DeleteMany(ctx context.Context, accounts []string) []error {
	return deleteEach(ctx, k, accounts)
}
