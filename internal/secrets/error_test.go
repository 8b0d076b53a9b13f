package secrets

import (
	"errors"
	"io/fs"
	"testing"
)

func TestErrorKeepsItsMessageAndMatchesWhatItWraps(t *testing.T) {
	cause := &fs.PathError{Op: "open", Path: "/x", Err: fs.ErrPermission}
	err := NewError("backend: get: not found", ErrNotFound, cause)
	if err.Error() != "backend: get: not found" {
		t.Errorf("Error() = %q", err.Error())
	}
	var pe *fs.PathError
	if !errors.Is(err, ErrNotFound) || !errors.Is(err, fs.ErrPermission) || !errors.As(err, &pe) {
		t.Errorf("%v does not match what it wraps", err)
	}
	if errors.Is(err, ErrLocked) {
		t.Errorf("%v matches ErrLocked", err)
	}
}
