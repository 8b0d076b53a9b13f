package cli

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
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/term"

	"github.com/glpat-dev/git-credential-glpat/internal/agefile"
	"github.com/glpat-dev/git-credential-glpat/internal/config"
)

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

// AskAccountUntil is AskAccount that ends with ErrInterrupted when ctx is
// done: login catches Ctrl-C while it runs, and the question must end on
// it as the hidden prompt does.
func AskAccountUntil(ctx context.Context, f *os.File, ui *UI, host string, accounts []string, def string) (string, error) {
	type answer struct {
		name string
		err  error
	}
	ch := make(chan answer, 1)
	go func() {
		name, err := AskAccount(f, ui, host, accounts, def)
		ch <- answer{name, err}
	}()
	select {
	case a := <-ch:
		return a.name, a.err
	case <-ctx.Done():
		fmt.Fprintln(ui.W)
		return "", ErrInterrupted
	}
}

// AskAccount asks the person at the terminal f which of the host's
// accounts a new token is for; an empty answer takes def.
func AskAccount(f *os.File, ui *UI, host string, accounts []string, def string) (string, error) {
	fmt.Fprintf(ui.W, "Accounts on %s: %s\n", host, strings.Join(accounts, ", "))
	if def != "" {
		fmt.Fprintf(ui.W, "Store the token under which account (a new name adds one)? [%s] ", def)
	} else {
		fmt.Fprintf(ui.W, "Store the token under which account (a new name adds one)? ")
	}
	line, err := bufio.NewReader(io.LimitReader(f, 1024)).ReadString('\n')
	if err != nil && (line == "" || !errors.Is(err, io.EOF)) {
		return "", ErrCancelled
	}
	name := strings.TrimSpace(line)
	if name == "" {
		return def, nil
	}
	if strings.ContainsAny(name, " \t/@:") {
		return "", fmt.Errorf("%q is not a username", name)
	}
	return name, nil
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

// Color reports whether w gets colour: a terminal, and NO_COLOR unset
// (https://no-color.org).
func Color(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb" && term.IsTerminal(int(f.Fd()))
}

// Progress tells a person at a terminal that a network step is under way,
// once it has taken longer than a moment; stop clears the line.
func Progress(ui *UI, what string) (stop func()) {
	f, ok := ui.W.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return func() {}
	}
	done := make(chan struct{})
	shown := make(chan bool, 1)
	go func() {
		select {
		case <-done:
			shown <- false
		case <-time.After(400 * time.Millisecond):
			fmt.Fprintf(ui.W, "%s…", what)
			<-done
			shown <- true
		}
	}()
	return func() {
		close(done)
		if <-shown {
			fmt.Fprint(ui.W, "\r\x1b[K")
		}
	}
}

// PassphraseReader reads passphrases from a hidden prompt or from stdin.
type PassphraseReader struct {
	Stdin     io.Reader
	FromStdin bool
	UI        *UI
	lines     *bufio.Reader
}

// Read reads one passphrase: at a hidden prompt that asks for what ("New
// passphrase"), or the next line of stdin.
func (p *PassphraseReader) Read(what string) (string, error) {
	if !p.FromStdin {
		f, ok := p.Stdin.(*os.File)
		if !ok || !term.IsTerminal(int(f.Fd())) {
			return "", errors.New("no terminal to ask for the passphrase; use --passphrase-stdin")
		}
		b, err := ReadHidden(f, p.UI.W, what+" (input is hidden): ")
		fmt.Fprintln(p.UI.W)
		return b, err
	}
	if p.lines == nil {
		p.lines = bufio.NewReader(io.LimitReader(p.Stdin, 1<<16))
	}
	line, err := p.lines.ReadString('\n')
	if err != nil && !(errors.Is(err, io.EOF) && line != "") {
		return "", errors.New("no passphrase on stdin")
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// minPassphrase is the shortest new passphrase accepted: the key file
// it protects may be copied off the machine and attacked offline.
const minPassphrase = 8

// newPassphraseTries is how often a person at a terminal may type a new
// passphrase that is refused (too short, repeated differently), as
// passwd(1) gives three tries.
const newPassphraseTries = 3

// refusedPassphrase is a new passphrase that was typed but cannot be
// taken: a person at a terminal is asked again.
type refusedPassphrase struct{ msg string }

func (e *refusedPassphrase) Error() string { return e.msg }

// ReadNew reads a new passphrase: once from stdin (as docker login
// --password-stdin does), twice at a terminal, where a typo would
// otherwise lock the person out; a refused one is asked for again, up to
// newPassphraseTries times. It reads before anything is changed.
func (p *PassphraseReader) ReadNew() (string, error) {
	for try := 1; ; try++ {
		pass, err := p.readNewOnce()
		var refused *refusedPassphrase
		switch {
		case !errors.As(err, &refused):
			return pass, err
		case p.FromStdin:
			return "", err
		case try == newPassphraseTries:
			return "", fmt.Errorf("%w; nothing was changed", err)
		}
		p.UI.Errorf("%v; try again", err)
	}
}

func (p *PassphraseReader) readNewOnce() (string, error) {
	a, err := p.Read("New passphrase")
	if err != nil {
		return "", err
	}
	if n := utf8.RuneCountInString(a); n < minPassphrase {
		if n == 0 {
			return "", &refusedPassphrase{fmt.Sprintf("the passphrase is empty; it needs at least %d characters", minPassphrase)}
		}
		return "", &refusedPassphrase{fmt.Sprintf("the passphrase is too short (%d characters); it needs at least %d", n, minPassphrase)}
	}
	if p.FromStdin {
		return a, nil
	}
	b, err := p.Read("Repeat the new passphrase")
	if err != nil {
		return "", err
	}
	if a != b {
		return "", &refusedPassphrase{"the two passphrases differ"}
	}
	return a, nil
}

// TerminalWidth is the width of the terminal w writes to, else def.
func TerminalWidth(w io.Writer, def int) int {
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		if cols, _, err := term.GetSize(int(f.Fd())); err == nil && cols > 0 {
			return cols
		}
	}
	return def
}

// EncryptedFile runs init, unlock, lock or passphrase (cmd) on the
// encrypted file f, reading passphrases with pr, and returns the line that
// says what it did. unlockFor is unlock's --for (0: until reboot).
func EncryptedFile(ctx context.Context, f *agefile.File, cmd string, pr *PassphraseReader, unlockFor time.Duration) (string, error) {
	switch cmd {
	case "init":
		pass, err := pr.ReadNew()
		if err == nil {
			err = f.Init(ctx, pass, 0)
		}
		return fmt.Sprintf("created the encrypted credentials in %s; they are unlocked until reboot", f.Dir), err
	case "unlock":
		pass, err := pr.Read("Passphrase")
		if err == nil {
			err = f.Unlock(ctx, pass, unlockFor)
		}
		until := "until reboot (or three days unused)"
		if unlockFor > 0 {
			until = "for " + config.Duration(unlockFor).String()
		}
		return "unlocked " + until, err
	case "lock":
		return "locked; git-credential-glpat unlock opens them again", f.Lock(ctx)
	case "passphrase":
		old, err := pr.Read("Current passphrase")
		var nw string
		if err == nil {
			nw, err = pr.ReadNew()
		}
		if err == nil {
			err = f.ChangePassphrase(ctx, old, nw)
		}
		return "passphrase changed", err
	}
	return "", fmt.Errorf("%s is not a command of the encrypted file", cmd)
}

// PromptToken shows the page that creates a least-privilege token (opens
// it in the browser with web) and reads the token at a hidden prompt on
// the terminal f.
func PromptToken(f *os.File, ui *UI, host, create string, web bool, scopes []string) (string, error) {
	list := strings.Join(scopes, ", ")
	switch {
	case web && OpenBrowser(create) == nil:
		fmt.Fprintf(ui.W, "Opened the page that creates a token with the scopes %s:\n    %s\n", list, create)
	case web:
		fmt.Fprintf(ui.W, "No browser found; open this page to create a token with the scopes %s:\n    %s\n", list, create)
	default:
		fmt.Fprintf(ui.W, "Create a token with the scopes %s at\n    %s\n", list, create)
	}
	tok, err := ReadHidden(f, ui.W, fmt.Sprintf("Token for %s (input is hidden): ", host))
	fmt.Fprintln(ui.W)
	return tok, err
}

// ReadLine reads one line of at most 4096 bytes from r (a token on stdin).
func ReadLine(r io.Reader) (string, error) {
	line, err := bufio.NewReader(io.LimitReader(r, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	return line, nil
}

// IsTerminal reports whether r is a terminal (not merely a character
// device: /dev/null is one too).
func IsTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// Interruptible is a context that Ctrl-C (os.Interrupt) cancels.
func Interruptible() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt)
}
