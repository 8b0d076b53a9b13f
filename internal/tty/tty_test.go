package tty

import (
	"os"
	"strings"
	"testing"
)

// TestTerminalIsNoneOfTheOthers: a reader that is no file, a pipe and
// /dev/null (a character device) are not terminals.
func TestTerminalIsNoneOfTheOthers(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	null, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	for name, rw := range map[string]any{"a strings.Reader": strings.NewReader("x"), "a pipe's end": r, "a pipe's other end": w, os.DevNull: null, "nil": nil} {
		if f, ok := Terminal(rw); ok || f != nil {
			t.Errorf("Terminal(%s) = %v, %v; want none", name, f, ok)
		}
	}
}
