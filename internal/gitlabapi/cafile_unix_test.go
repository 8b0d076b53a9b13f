//go:build unix

package gitlabapi

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/glpat-dev/git-credential-glpat/internal/gitlabtest"
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

// TestCAFileMustBePrivate: whoever could write ca_file, or a directory on
// the way to it, could vouch for a server of theirs and have the token
// sent there: it is refused, naming what to fix.
func TestCAFileMustBePrivate(t *testing.T) {
	gl := gitlabtest.NewTLS(t)
	dir := filepath.Join(t.TempDir(), "certs")
	os.Mkdir(dir, 0o755)
	ca := filepath.Join(dir, "ca.pem")
	gl.WriteCA(ca)
	os.Chmod(ca, 0o644)
	if _, err := New(gl.APIURL(), ca); err != nil {
		t.Fatalf("a ca_file only its owner may write: %v", err)
	}
	os.Chmod(dir, 0o777)
	if _, err := New(gl.APIURL(), ca); err == nil || !strings.Contains(err.Error(), "chmod go-w "+dir) {
		t.Errorf("a ca_file in a directory others may write: %v", err)
	}
	os.Chmod(dir, 0o755)
	os.Chmod(ca, 0o664)
	if _, err := New(gl.APIURL(), ca); err == nil || !strings.Contains(err.Error(), "chmod go-w "+ca) {
		t.Errorf("a ca_file the group may write: %v", err)
	}
}
