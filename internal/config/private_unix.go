//go:build unix

package config

import (
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"syscall"
)

func checkPrivateDir(dir string, fi fs.FileInfo) error {
	if err := checkPrivate(dir, fi, false); err != nil {
		return err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		// Readable by others, not writable: ours to tighten.
		if err := os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("config: make state directory private: %w", err)
		}
	}
	return nil
}

// checkPrivate refuses path unless the user owns it and neither group nor
// others may write it. With parent, path is a directory holding the config
// file: root may own it (/etc), and a sticky directory (/tmp) is allowed,
// since there nobody may replace a file they do not own.
func checkPrivate(path string, fi fs.FileInfo, parent bool) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	uid := os.Getuid()
	if int(st.Uid) != uid && !(parent && st.Uid == 0) {
		return &NotPrivateError{Path: path,
			Problem: fmt.Sprintf("belongs to uid %d, not to you (uid %d)", st.Uid, uid),
			Fix:     "chown " + strconv.Itoa(uid) + " " + path + " (or use another path)"}
	}
	if fi.Mode().Perm()&0o022 != 0 && !(parent && fi.Mode()&fs.ModeSticky != 0) {
		return &NotPrivateError{Path: path,
			Problem: fmt.Sprintf("is writable by group or others (mode %04o)", fi.Mode().Perm()),
			Fix:     "chmod go-w " + path}
	}
	return nil
}

// checkConfigFile refuses a config file that is not private: api_url
// decides where tokens are sent.
func checkConfigFile(path string, fi fs.FileInfo) error {
	if err := checkPrivate(path, fi, false); err != nil {
		return &Error{File: path, Msg: err.(*NotPrivateError).Problem + "; run " + err.(*NotPrivateError).Fix}
	}
	return nil
}
