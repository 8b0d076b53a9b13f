package config

import (
	"errors"
	"io/fs"
	"os"
)

// CheckStateDir refuses a state directory that is not private to the user
// (a *safefile.NotPrivateError): another user owns it, or group or others
// may write it. Whoever may write it decides what the helper serves, so
// every command refuses it. A missing one is fine: it is created private.
// It costs one stat call, so that every command, get included, can afford
// it. Where permissions are ACLs (Windows) it checks nothing. The config
// file is checked as it is read (Load, MayNameBackend).
func CheckStateDir(dir string) error {
	fi, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return checkStateDir(dir, fi)
}
