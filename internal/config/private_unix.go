//go:build unix

package config

import (
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"syscall"

	"github.com/glpat-dev/git-credential-glpat/internal/safefile"
)

func checkPrivateDir(dir string, fi fs.FileInfo) error {
	if err := checkStateDir(dir, fi); err != nil {
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

// checkStateDir refuses the state directory unless the user owns it and
// neither group nor others may write it.
func checkStateDir(dir string, fi fs.FileInfo) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	if uid := os.Getuid(); int(st.Uid) != uid {
		return &safefile.NotPrivateError{Path: dir,
			Problem: fmt.Sprintf("belongs to uid %d, not to you (uid %d)", st.Uid, uid),
			Fix:     "chown " + strconv.Itoa(uid) + " " + dir + " (or use another path)"}
	}
	if fi.Mode().Perm()&0o022 != 0 {
		return &safefile.NotPrivateError{Path: dir,
			Problem: fmt.Sprintf("is writable by group or others (mode %04o)", fi.Mode().Perm()),
			Fix:     "chmod go-w " + dir}
	}
	return nil
}
