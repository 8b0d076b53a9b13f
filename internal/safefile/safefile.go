// Package safefile reads the small files the helper keeps (index, config,
// encrypted secrets) bounded in size and in time, and refuses anything that
// is not a regular file, so that a FIFO, a device or a hung network file
// system where a file should be never hangs git. ReadPrivate also refuses
// a file that someone other than the user and root could change.
package safefile

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// Timeout bounds a whole ReadFile: open, stat and read. A local file takes
// microseconds; this only fires on a file system that stopped answering.
const Timeout = 10 * time.Second

// ErrNotRegular is wrapped by the error for a path that is a FIFO, a
// socket, a device or a directory.
var ErrNotRegular = errors.New("not a regular file")

// ErrTooLarge is wrapped by the error for a file larger than the limit.
var ErrTooLarge = errors.New("file too large")

// ReadFile reads name, which must be a regular file of at most max bytes.
// A missing file gives an error that errors.Is fs.ErrNotExist. It opens
// without blocking (a FIFO opened for reading would wait for a writer) and
// gives up after Timeout; the read then left behind ends with the process.
func ReadFile(name string, max int64) ([]byte, error) {
	return readBounded(name, max, false)
}

// ReadPrivate is ReadFile for a file whose content decides where a token
// is sent (the config file, a ca_file) or who can read the secrets (the
// encrypted-file backend's recipient). It refuses the file with a
// *NotPrivateError unless only the user and root can change what it holds
// (see resolvePrivate), and checks the file itself on the descriptor it
// reads from, so that the file read is the file checked. Where
// permissions are ACLs (Windows) it is ReadFile.
func ReadPrivate(name string, max int64) ([]byte, error) {
	return readBounded(name, max, true)
}

func readBounded(name string, max int64, private bool) ([]byte, error) {
	type result struct {
		data []byte
		err  error
	}
	done := make(chan result, 1)
	go func() {
		data, err := read(name, max, private)
		done <- result{data, err}
	}()
	t := time.NewTimer(Timeout)
	defer t.Stop()
	select {
	case r := <-done:
		return r.data, r.err
	case <-t.C:
		return nil, fmt.Errorf("read %s: no answer from the file system after %s", name, Timeout)
	}
}

func read(name string, max int64, private bool) ([]byte, error) {
	path, flags := name, os.O_RDONLY|openNonblock
	if private {
		var err error
		if path, err = resolvePrivate(name); err != nil {
			return nil, err
		}
		// path has no symlink left; one there now was not checked.
		flags |= openNoFollow
		if beforeOpen != nil {
			beforeOpen(path)
		}
	}
	f, err := os.OpenFile(path, flags, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is %w (%s); remove it", path, ErrNotRegular, fi.Mode().Type())
	}
	if private {
		if err := checkFile(path, fi); err != nil {
			return nil, err
		}
	}
	if fi.Size() > max {
		return nil, fmt.Errorf("%s: %w: %d bytes, more than %d", name, ErrTooLarge, fi.Size(), max)
	}
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%s: %w: more than %d bytes", name, ErrTooLarge, max)
	}
	return data, nil
}

// beforeOpen, when set by a test, runs between the check of the path and
// the open of the file it names.
var beforeOpen func(path string)

// NotPrivateError says that a file, or a directory or symlink on the way to
// it, is not private to the user: another user than the user and root owns
// it, or group or others may write it. Whoever can change it decides what
// the helper reads there, so it is refused.
type NotPrivateError struct {
	Path string
	// What is wrong, like "is writable by group or others (mode 0777)".
	Problem string
	// Fix is the command that fixes it, like "chmod go-w /path".
	Fix string
}

func (e *NotPrivateError) Error() string {
	return e.Path + " " + e.Problem + "; run " + e.Fix
}
