//go:build !((dragonfly && cgo) || (freebsd && cgo) || linux || netbsd || openbsd)

package keychain

import "context"

// DeleteMany removes the secrets of accounts, one Delete each, and returns
// one error per account (nil when it was deleted). Only the Secret Service
// has a cheaper way.
func (k *Keychain) DeleteMany(ctx context.Context, accounts []string) []error {
	errs := make([]error, len(accounts))
	for i, a := range accounts {
		errs[i] = k.Delete(ctx, a)
		if errs[i] != nil && ctx.Err() != nil {
			for j := i + 1; j < len(accounts); j++ {
				errs[j] = errs[i]
			}
			break
		}
	}
	return errs
}
