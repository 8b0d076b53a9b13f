package keyringtest

import (
	"bytes"
	"fmt"
	"os"
	"syscall"
	"time"
)

const supported = true

// sysProcAttr makes the kernel kill a daemon when the test process dies
// (a test binary killed by -timeout runs no Stop), so none outlives it.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

// freeze stops p and returns once the kernel reports it stopped, so that
// a call made right after cannot still be answered.
func freeze(p *os.Process) error {
	if err := p.Signal(syscall.SIGSTOP); err != nil {
		return err
	}
	stat := fmt.Sprintf("/proc/%d/stat", p.Pid)
	for deadline := time.Now().Add(time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		b, err := os.ReadFile(stat)
		if err != nil {
			return err
		}
		// "pid (comm) S ...": the state follows the last ')'.
		if i := bytes.LastIndexByte(b, ')'); i >= 0 && i+2 < len(b) && b[i+2] == 'T' {
			return nil
		}
	}
	return fmt.Errorf("pid %d did not stop", p.Pid)
}

func resume(p *os.Process) error { return p.Signal(syscall.SIGCONT) }
