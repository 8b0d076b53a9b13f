// Package safefile reads the small files the helper keeps (index, config,
// encrypted secrets) bounded in size and in time, and refuses anything that
// is not a regular file, so that a FIFO, a device or a hung network file
// system where a file should be never hangs git.
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
	type result struct {
		data []byte
		err  error
	}
	done := make(chan result, 1)
	go func() {
		data, err := read(name, max)
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

func read(name string, max int64) ([]byte, error) {
	f, err := os.OpenFile(name, os.O_RDONLY|openNonblock, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is %w (%s); remove it", name, ErrNotRegular, fi.Mode().Type())
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
