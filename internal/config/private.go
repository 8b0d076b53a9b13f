package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
)

// NotPrivateError says that the state directory or the config file (or the
// directory holding it) is not private to the user: another user owns it,
// or group or others may write it. Whoever can write either decides what
// the helper serves and where tokens are sent, so every command refuses it.
type NotPrivateError struct {
	Path string
	// What is wrong, like "is writable by group or others (mode 0777)".
	Problem string
	// Fix is the command that fixes it, like "chmod go-w /path".
	Fix string
}

func (e *NotPrivateError) Error() string {
	return e.Path + " " + e.Problem + "; only you may own and write it: run " + e.Fix
}

// CheckPrivate refuses a state directory or config file that is not
// private to the user (see NotPrivateError). Missing ones are fine: they
// are created private. It costs a few stat calls, so that every command,
// get included, can afford it. Where permissions are ACLs (Windows) it
// checks nothing.
func CheckPrivate(stateDir, configPath string) error {
	if fi, err := os.Stat(stateDir); err == nil {
		if err := checkPrivate(stateDir, fi, false); err != nil {
			return err
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return checkConfigPrivate(configPath)
}

// checkConfigPrivate checks the config file and the directory holding it
// (someone who may write there may replace the file).
func checkConfigPrivate(path string) error {
	dir := filepath.Dir(path)
	if fi, err := os.Stat(dir); err == nil {
		if err := checkPrivate(dir, fi, true); err != nil {
			return err
		}
	}
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := checkPrivate(path, fi, false); err != nil {
		return err
	}
	// A symlinked config (a dotfiles checkout) is only as safe as the
	// directory of the file it points to.
	if lfi, err := os.Lstat(path); err == nil && lfi.Mode()&fs.ModeSymlink != 0 {
		real, err := filepath.EvalSymlinks(path)
		if err != nil {
			return err
		}
		if rdir := filepath.Dir(real); rdir != dir {
			if dfi, err := os.Stat(rdir); err == nil {
				return checkPrivate(rdir, dfi, true)
			}
		}
	}
	return nil
}
