//go:build linux

package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/glpat-dev/git-credential-glpat/internal/kerneltest"
)

// TestGetLeavesNoCoreFile: with `ulimit -c unlimited` and GOTRACEBACK=crash,
// as a person may have them, SIGQUIT (Ctrl-\ during a git push) to a `get`
// blocked on its input writes no core file into its working directory (git
// runs helpers in the repository), because the helper made itself
// non-dumpable and set its core-file limit to 0 first. It runs as another
// uid than the test's: the kernel gives /proc/PID of a non-dumpable process
// to root, so the owner of /proc/PID/status says whether it is dumpable.
func TestGetLeavesNoCoreFile(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("this test runs the helper as another uid, which needs root")
	}
	// A directory that uid can reach and write: t.TempDir's parent is 0700.
	base, err := os.MkdirTemp("", "glpat-nocore-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	os.Chmod(base, 0o755)
	home := filepath.Join(base, "repo")
	if err := os.Mkdir(home, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(home, kerneltest.Other, kerneltest.Other); err != nil {
		t.Fatal(err)
	}

	// A copy that uid can run: binPath's directory is 0700 too.
	bin := filepath.Join(base, "git-credential-glpat")
	if b, err := os.ReadFile(binPath); err != nil {
		t.Fatal(err)
	} else if err := os.WriteFile(bin, b, 0o755); err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command("/bin/sh", "-c", `ulimit -c unlimited && exec "$0" get`, bin)
	cmd.Dir = home
	cmd.Env = []string{"HOME=" + home, "PATH=" + os.Getenv("PATH"), "GOTRACEBACK=crash",
		"GLPAT_STATE_DIR=" + filepath.Join(home, "state"), "GLPAT_CONFIG=" + filepath.Join(home, "config.toml")}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: kerneltest.Other, Gid: kerneltest.Other}}
	stdin, err := cmd.StdinPipe() // never written: get waits for the request
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	pid := cmd.Process.Pid
	proc := fmt.Sprintf("/proc/%d", pid)

	// Wait until one of its threads is in read(2) of its standard input,
	// as /proc/PID/task/TID/syscall shows it ("<nr> 0x0 ...").
	reading := fmt.Sprintf("%d 0x0 ", unix.SYS_READ)
	for deadline := time.Now().Add(time.Minute); !threadIn(proc, reading); time.Sleep(time.Millisecond) {
		select {
		case err := <-exited:
			t.Fatalf("get exited before reading its input: %v\n%s", err, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("get never blocked reading its input")
		}
	}

	var st syscall.Stat_t
	if err := syscall.Stat(proc+"/status", &st); err != nil {
		t.Fatal(err)
	} else if st.Uid != 0 {
		t.Errorf("%s/status belongs to uid %d: the process is dumpable", proc, st.Uid)
	}
	if limits, err := os.ReadFile(proc + "/limits"); err != nil {
		t.Fatal(err)
	} else if !strings.Contains(strings.Join(strings.Fields(string(limits)), " "), "Max core file size 0 0 bytes") {
		t.Errorf("the core-file limit is not 0:\n%s", limits)
	}

	cmd.Process.Signal(syscall.SIGQUIT)
	err = <-exited
	ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() {
		t.Fatalf("get after SIGQUIT with GOTRACEBACK=crash: %v; want it killed by a signal", err)
	}
	if ws.CoreDump() {
		t.Errorf("get dumped core (%v)", ws.Signal())
	}
	entries, _ := os.ReadDir(home)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "core") {
			t.Errorf("a core file was written in the working directory: %s", e.Name())
		}
	}
}

// threadIn reports whether a thread of the process at proc is in the
// system call that /proc/PID/task/TID/syscall shows as starting with call.
func threadIn(proc, call string) bool {
	tasks, _ := filepath.Glob(proc + "/task/*/syscall")
	for _, f := range tasks {
		if b, err := os.ReadFile(f); err == nil && strings.HasPrefix(string(b), call) {
			return true
		}
	}
	return false
}
