//go:build unix

package gitlabapi

import (
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestCAFileFIFOIsRefused: ca_file is read on the get path (a rotation, a
// token check), which must never hang: a FIFO there is refused at once.
func TestCAFileFIFOIsRefused(t *testing.T) {
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := syscall.Mkfifo(ca, 0o600); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := New("https://gitlab.example.com/api/v4", ca)
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Error("a FIFO was accepted as ca_file")
		}
	case <-time.After(time.Minute):
		t.Fatal("New hangs on a FIFO ca_file")
	}
}
