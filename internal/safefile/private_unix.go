//go:build unix

package safefile

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// openNoFollow refuses a symlink as the last component of a path.
const openNoFollow = syscall.O_NOFOLLOW

// maxSymlinks is how many symlinks one path may go through, as Linux's
// MAXSYMLINKS (path_resolution(7)).
const maxSymlinks = 40

// resolvePrivate resolves name as the kernel would, one component at a
// time, and returns it free of symlinks. It refuses name with a
// *NotPrivateError unless every directory and symlink on the way (Lstat'ed,
// in order from /) belongs to the user or root, and no directory on the
// way may be written by group or others, except a sticky one (/tmp): there
// only the owner of an entry may remove or rename it, and the next
// component is the user's or root's. Checked in that order, each step can
// be changed afterwards by the user and root only, so the path the caller
// opens next is the path checked. The file itself is not checked here:
// checkFile checks it on the descriptor it is read from. A relative name
// is taken from the working directory.
func resolvePrivate(name string) (string, error) {
	// Not filepath.Abs: it would drop "dir/.." before dir is resolved,
	// where the kernel resolves dir first (it may be a symlink).
	abs := name
	if !filepath.IsAbs(name) {
		wd, err := os.Getwd()
		if err != nil {
			return "", err
		}
		abs = wd + "/" + name
	}
	fi, err := os.Lstat("/")
	if err != nil {
		return "", err
	}
	if err := checkDir("/", fi); err != nil {
		return "", err
	}
	resolved, rest, links := "/", strings.Split(abs, "/"), 0
	for len(rest) > 0 {
		c := rest[0]
		rest = rest[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			resolved = filepath.Dir(resolved) // resolved has no symlink
			continue
		}
		next := filepath.Join(resolved, c)
		fi, err := os.Lstat(next)
		if err != nil {
			return "", err
		}
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			// A symlink's own mode means nothing; whoever owns it may
			// replace it in a sticky directory.
			if err := checkOwner(next, fi, "-h "); err != nil {
				return "", err
			}
			if links++; links > maxSymlinks {
				return "", &fs.PathError{Op: "open", Path: name, Err: syscall.ELOOP}
			}
			target, err := os.Readlink(next)
			if err != nil {
				return "", err
			}
			if filepath.IsAbs(target) {
				resolved = "/"
			}
			rest = append(strings.Split(target, "/"), rest...)
		case last(rest):
			return next, nil
		case fi.IsDir():
			if err := checkDir(next, fi); err != nil {
				return "", err
			}
			resolved = next
		default:
			return "", &fs.PathError{Op: "open", Path: name, Err: syscall.ENOTDIR}
		}
	}
	return resolved, nil
}

// last reports whether no component is left in rest.
func last(rest []string) bool {
	for _, c := range rest {
		if c != "" && c != "." {
			return false
		}
	}
	return true
}

// checkDir refuses a directory on the way to a private file (see
// resolvePrivate).
func checkDir(path string, fi fs.FileInfo) error {
	if err := checkOwner(path, fi, ""); err != nil {
		return err
	}
	if fi.Mode()&fs.ModeSticky == 0 {
		return checkMode(path, fi)
	}
	return nil
}

// checkFile refuses the private file itself, from the fstat of the
// descriptor it is read from.
func checkFile(path string, fi fs.FileInfo) error {
	if err := checkOwner(path, fi, ""); err != nil {
		return err
	}
	return checkMode(path, fi)
}

// checkOwner refuses path unless the user or root owns it; chownFlag is
// "-h " for a symlink.
func checkOwner(path string, fi fs.FileInfo, chownFlag string) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	if uid := os.Geteuid(); int(st.Uid) != uid && st.Uid != 0 {
		return &NotPrivateError{Path: path,
			Problem: fmt.Sprintf("belongs to uid %d, not to you (uid %d) or root", st.Uid, uid),
			Fix:     "chown " + chownFlag + strconv.Itoa(uid) + " " + path + " (or use another path)"}
	}
	return nil
}

// checkMode refuses path if group or others may write it.
func checkMode(path string, fi fs.FileInfo) error {
	if fi.Mode().Perm()&0o022 != 0 {
		return &NotPrivateError{Path: path,
			Problem: fmt.Sprintf("is writable by group or others (mode %04o)", fi.Mode().Perm()),
			Fix:     "chmod go-w " + path}
	}
	return nil
}
