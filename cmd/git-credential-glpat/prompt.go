package main

import (
	"errors"
	"io"
	"os"
	"unicode/utf8"

	"golang.org/x/term"
)

// errCancelled: the person ended the input (Ctrl-D) at a prompt.
var errCancelled = errors.New("cancelled")

// errInterrupted: the person pressed Ctrl-C at a hidden prompt.
var errInterrupted = errors.New("interrupted")

// maxHidden bounds what a hidden prompt accepts (a token, a passphrase).
const maxHidden = 4096

// readHidden reads one line from the terminal f without echoing it.
// term.ReadPassword cannot be used: on Unix it spins on Ctrl-D (a read of
// zero bytes is not EOF to it) instead of returning. In raw mode the line
// editing is ours: Enter ends the line, Backspace and Ctrl-U edit, Ctrl-D
// on an empty line cancels, Ctrl-C interrupts.
//
// The prompt is written once echo is off, so that nothing typed (or pasted)
// as soon as it shows is echoed.
func readHidden(f *os.File, w io.Writer, prompt string) (string, error) {
	fd := int(f.Fd())
	old, err := term.MakeRaw(fd)
	if err != nil {
		return "", err
	}
	defer term.Restore(fd, old)
	io.WriteString(w, prompt)
	var line []byte
	b := make([]byte, 1)
	for {
		n, err := f.Read(b)
		if n == 0 {
			if err == nil || errors.Is(err, io.EOF) {
				if len(line) > 0 {
					return string(line), nil
				}
				return "", errCancelled
			}
			return "", err
		}
		switch c := b[0]; c {
		case '\r', '\n':
			return string(line), nil
		case 3: // Ctrl-C
			return "", errInterrupted
		case 4: // Ctrl-D
			if len(line) == 0 {
				return "", errCancelled
			}
		case 127, 8: // Backspace: drop the last character, not byte
			if len(line) > 0 {
				_, size := utf8.DecodeLastRune(line)
				line = line[:len(line)-size]
			}
		case 21: // Ctrl-U
			line = line[:0]
		default:
			if c >= 32 || c == '\t' {
				if len(line) >= maxHidden {
					return "", errors.New("the input is too long")
				}
				line = append(line, c)
			}
		}
	}
}
