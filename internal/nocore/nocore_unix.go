//go:build unix && !linux

package nocore

import "syscall"

// Enable sets the process's core-file limit to 0, soft and hard, so that
// nothing later in the process can raise it: Git runs helpers in the
// repository, where a core file could be committed, token and all. macOS
// and the BSDs have no PR_SET_DUMPABLE; the limit alone stops the core
// file, which the kernel writes only up to RLIMIT_CORE (core(5),
// getrlimit(2)).
func Enable() error {
	return syscall.Setrlimit(syscall.RLIMIT_CORE, &syscall.Rlimit{})
}
