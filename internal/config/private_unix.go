//go:build unix

package config

import (
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

func checkPrivateDir(dir string, fi fs.FileInfo) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	if uid := os.Getuid(); int(st.Uid) != uid {
		return fmt.Errorf("config: state directory %s belongs to uid %d, not to you (uid %d)", dir, st.Uid, uid)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("config: make state directory private: %w", err)
		}
	}
	return nil
}

// checkConfigFile refuses a config file that anyone may write: api_url
// decides where tokens are sent, so a world-writable file would let any
// local user redirect them. Group-writable files are allowed, since many
// systems give each user a private group and a umask of 002.
func checkConfigFile(path string, fi fs.FileInfo) error {
	if fi.Mode().Perm()&0o002 != 0 {
		return &Error{File: path, Msg: fmt.Sprintf("file is writable by every user (mode %04o); run: chmod o-w %s", fi.Mode().Perm(), path)}
	}
	return nil
}
