package filelock

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

func TestExclusiveWithinProcess(t *testing.T) {
	name := filepath.Join(t.TempDir(), "l")
	var mu sync.Mutex
	inside := 0
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l, err := Acquire(context.Background(), name)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			inside++
			if inside != 1 {
				t.Errorf("%d holders at once", inside)
			}
			mu.Unlock()
			time.Sleep(2 * time.Millisecond)
			mu.Lock()
			inside--
			mu.Unlock()
			l.Unlock()
		}()
	}
	wg.Wait()
}

func TestTimeout(t *testing.T) {
	name := filepath.Join(t.TempDir(), "l")
	l, err := Acquire(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if _, err := Acquire(ctx, name); !errors.Is(err, ErrTimeout) {
		t.Fatalf("second Acquire: err = %v, want ErrTimeout", err)
	}
}

// TestHelperProcess holds the lock for a child process of TestAcrossProcesses.
func TestHelperProcess(t *testing.T) {
	name := os.Getenv("FILELOCK_TEST_LOCK")
	if name == "" {
		return
	}
	l, err := Acquire(context.Background(), name)
	if err != nil {
		os.Exit(3)
	}
	os.WriteFile(name+".held", nil, 0o600)
	time.Sleep(300 * time.Millisecond)
	l.Unlock()
	os.Exit(0)
}

func TestAcrossProcessesAndCrash(t *testing.T) {
	name := filepath.Join(t.TempDir(), "l")
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), "FILELOCK_TEST_LOCK="+name)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		if _, err := os.Stat(name + ".held"); err == nil {
			break
		}
		if i > 500 {
			t.Fatal("child never took the lock")
		}
		time.Sleep(5 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	_, err := Acquire(ctx, name)
	cancel()
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("lock held by another process: err = %v, want ErrTimeout", err)
	}
	// A killed holder releases the lock.
	cmd.Process.Kill()
	cmd.Wait()
	ctx, cancel = context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	l, err := Acquire(ctx, name)
	if err != nil {
		t.Fatalf("after the holder was killed: %v", err)
	}
	l.Unlock()
}

func TestShared(t *testing.T) {
	name := filepath.Join(t.TempDir(), "l")
	short := func() context.Context {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
		t.Cleanup(cancel)
		return ctx
	}
	a, err := AcquireShared(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	b, err := AcquireShared(short(), name)
	if err != nil {
		t.Fatalf("a second shared lock: %v, want it granted", err)
	}
	if _, err := Acquire(short(), name); !errors.Is(err, ErrTimeout) {
		t.Fatalf("exclusive while shared is held: err = %v, want ErrTimeout", err)
	}
	// b turns exclusive once a lets go, and then keeps everyone out.
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		done <- b.Exclusive(ctx)
	}()
	select {
	case err := <-done:
		t.Fatalf("Exclusive returned (%v) while another shared lock was held", err)
	case <-time.After(50 * time.Millisecond):
	}
	a.Unlock()
	if err := <-done; err != nil {
		t.Fatalf("Exclusive after the other holder left: %v", err)
	}
	if _, err := AcquireShared(short(), name); !errors.Is(err, ErrTimeout) {
		t.Fatalf("shared while exclusive is held: err = %v, want ErrTimeout", err)
	}
	b.Unlock()
	c, err := AcquireShared(short(), name)
	if err != nil {
		t.Fatalf("shared after the exclusive holder left: %v", err)
	}
	c.Unlock()
}

// TestReadOnlyLockFile: a descriptor opened only for reading, which is
// what acquire falls back to for a lock file this user may not write, takes
// a lock that excludes others.
func TestReadOnlyLockFile(t *testing.T) {
	name := filepath.Join(t.TempDir(), "l")
	if err := os.WriteFile(name, nil, 0o400); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if ok, err := tryLock(f, false); !ok || err != nil {
		t.Fatalf("shared lock on a read-only descriptor: %v, %v", ok, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if _, err := Acquire(ctx, name); !errors.Is(err, ErrTimeout) {
		t.Fatalf("exclusive while a read-only descriptor holds it shared: err = %v, want ErrTimeout", err)
	}
}
