package filelock

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// TestReadOnlyFIFOIsRefused: a FIFO that the user may only read where a
// lock file should be (planted in the state dir) must not hang: opening a
// FIFO for reading waits for a writer that never comes. Every command
// takes the backend lock, get included.
//
// As root, file modes do not stop the open; the test then runs the lock
// on a thread whose file-system uid is another user's, which drops root's
// override of file modes for that thread (capabilities(7)).
func TestReadOnlyFIFOIsRefused(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "l.lock")
	if err := syscall.Mkfifo(name, 0o400); err != nil {
		t.Fatal(err)
	}
	uid := os.Getuid()
	if uid == 0 {
		uid = 65534
		for d := dir; d != filepath.Dir(d) && d != os.TempDir(); d = filepath.Dir(d) {
			os.Chmod(d, 0o755)
		}
		if err := os.Chown(name, uid, -1); err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
		if os.Getuid() == 0 {
			syscall.Setfsuid(uid)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		l, err := AcquireShared(ctx, name)
		if err == nil {
			l.Unlock()
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Errorf("a FIFO was taken for a lock file")
		}
	case <-time.After(time.Minute):
		t.Fatal("taking a lock hangs on a read-only FIFO")
	}
}
