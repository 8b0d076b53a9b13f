// Package tty is what git-credential-glpat does at a terminal: tell
// whether a command's stdin or output is one, read hidden input, show
// progress, colour and fit the width, catch Ctrl-C, open a browser; and
// the error, warning and hint lines it writes for people (UI).
package tty

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"time"
	"unicode/utf8"

	"golang.org/x/term"
)

// Terminal returns the terminal that rw, a command's stdin, stdout or
// stderr, is; ok is false when it is none (a pipe, a file, /dev/null,
// which is a character device but no terminal). Every question "is a
// person at a terminal here?" is asked here.
func Terminal(rw any) (f *os.File, ok bool) {
	f, ok = rw.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil, false
	}
	return f, true
}

// ErrCancelled: the person ended the input (Ctrl-D) at a prompt.
var ErrCancelled = errors.New("cancelled")

// ErrInterrupted: the person pressed Ctrl-C at a hidden prompt.
var ErrInterrupted = errors.New("interrupted")

// maxHidden bounds what a hidden prompt accepts (a token, a passphrase).
const maxHidden = 4096

// ReadHidden reads one line from the terminal f without echoing it.
// term.ReadPassword cannot be used: on Unix it spins on Ctrl-D (a read of
// zero bytes is not EOF to it) instead of returning. In raw mode the line
// editing is ours: Enter ends the line, Backspace and Ctrl-U edit, Ctrl-D
// on an empty line cancels, Ctrl-C interrupts.
//
// The prompt is written once echo is off, so that nothing typed (or pasted)
// as soon as it shows is echoed.
func ReadHidden(f *os.File, w io.Writer, prompt string) (string, error) {
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
				return "", ErrCancelled
			}
			return "", err
		}
		switch c := b[0]; c {
		case '\r', '\n':
			return string(line), nil
		case 3: // Ctrl-C
			return "", ErrInterrupted
		case 4: // Ctrl-D
			if len(line) == 0 {
				return "", ErrCancelled
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

// ReadLine reads one line of at most 4096 bytes from r (a token on stdin).
func ReadLine(r io.Reader) (string, error) {
	line, err := bufio.NewReader(io.LimitReader(r, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	return line, nil
}

// Color reports whether w gets colour: a terminal, and NO_COLOR unset
// (https://no-color.org).
func Color(w io.Writer) bool {
	_, ok := Terminal(w)
	return ok && os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb"
}

// Width is the width of the terminal w writes to, else def.
func Width(w io.Writer, def int) int {
	if f, ok := Terminal(w); ok {
		if cols, _, err := term.GetSize(int(f.Fd())); err == nil && cols > 0 {
			return cols
		}
	}
	return def
}

// Progress tells a person at the terminal w (stderr) that a network step
// is under way, once it has taken longer than a moment; stop clears the
// line.
func Progress(w io.Writer, what string) (stop func()) {
	if _, ok := Terminal(w); !ok {
		return func() {}
	}
	done := make(chan struct{})
	shown := make(chan bool, 1)
	go func() {
		select {
		case <-done:
			shown <- false
		case <-time.After(400 * time.Millisecond):
			fmt.Fprintf(w, "%s…", what)
			<-done
			shown <- true
		}
	}()
	return func() {
		close(done)
		if <-shown {
			fmt.Fprint(w, "\r\x1b[K")
		}
	}
}

// Interruptible is a context that Ctrl-C (os.Interrupt) cancels.
func Interruptible() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt)
}

// OpenBrowser opens url in the desktop's browser, without waiting for it.
func OpenBrowser(url string) error {
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		cmd = exec.Command("open", url)
	case "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", url)
	default:
		if os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
			return errors.New("no graphical session")
		}
		cmd = exec.Command("xdg-open", url)
	}
	cmd.Stdout, cmd.Stderr = nil, nil
	if err := cmd.Start(); err != nil {
		return err
	}
	go cmd.Wait()
	return nil
}
