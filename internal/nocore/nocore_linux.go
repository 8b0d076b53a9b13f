package nocore

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// Enable makes the process non-dumpable and sets its core-file limit to 0,
// soft and hard, so that nothing later in the process can raise it. Git
// runs helpers in the repository, where a core file (SIGQUIT from Ctrl-\
// with GOTRACEBACK=crash and `ulimit -c unlimited`) could be committed,
// token and all. Each closes a gap the other leaves (core(5)): the kernel
// writes no core file over RLIMIT_CORE 0, but still runs a core_pattern
// pipe handler; it dumps a non-dumpable process nowhere unless
// fs.suid_dumpable is 2, and then only to root. A non-dumpable process
// can also not be ptrace-attached by the user's other processes, nor its
// /proc/PID/mem read (prctl(2), PR_SET_DUMPABLE). Programs the helper runs
// are dumpable again after execve, and inherit the limit. Two syscalls.
func Enable() error {
	if err := syscall.Setrlimit(syscall.RLIMIT_CORE, &syscall.Rlimit{}); err != nil {
		return err
	}
	return unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0)
}
