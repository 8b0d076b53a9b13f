//go:build !linux

package keyringtest

import (
	"errors"
	"os"
	"syscall"
)

// Sessions need Linux: elsewhere Start reports ErrNotInstalled, and tests
// that Require a session skip.
const supported = false

func sysProcAttr() *syscall.SysProcAttr { return nil }

func freeze(*os.Process) error { return errors.ErrUnsupported }

func resume(*os.Process) error { return errors.ErrUnsupported }
