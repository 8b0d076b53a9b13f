package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/glpat-dev/git-credential-glpat/internal/agefile"
	"github.com/glpat-dev/git-credential-glpat/internal/config"
	"github.com/glpat-dev/git-credential-glpat/internal/tty"
)

// encryptedFileOp runs init, unlock, lock or passphrase (cmd) on the
// encrypted file f, reading passphrases with pr, and returns the line that
// says what it did. unlockFor is unlock's --for (0: until reboot).
func encryptedFileOp(ctx context.Context, f *agefile.File, cmd string, pr *passphraseReader, unlockFor time.Duration) (string, error) {
	switch cmd {
	case "init":
		pass, err := pr.readNew()
		if err == nil {
			err = f.Init(ctx, pass, 0)
		}
		return fmt.Sprintf("created the encrypted credentials in %s; they are unlocked until reboot", f.Dir), err
	case "unlock":
		pass, err := pr.read("Passphrase")
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
		old, err := pr.read("Current passphrase")
		var nw string
		if err == nil {
			nw, err = pr.readNew()
		}
		if err == nil {
			err = f.ChangePassphrase(ctx, old, nw)
		}
		return "passphrase changed", err
	}
	return "", fmt.Errorf("%s is not a command of the encrypted file", cmd)
}

// passphraseReader reads passphrases from a hidden prompt or from stdin.
type passphraseReader struct {
	stdin     io.Reader
	fromStdin bool // --passphrase-stdin
	ui        *tty.UI
	lines     *bufio.Reader
}

// read reads one passphrase: at a hidden prompt that asks for what ("New
// passphrase"), or the next line of stdin.
func (p *passphraseReader) read(what string) (string, error) {
	if !p.fromStdin {
		f, ok := tty.Terminal(p.stdin)
		if !ok {
			return "", errors.New("no terminal to ask for the passphrase; use --passphrase-stdin")
		}
		b, err := tty.ReadHidden(f, p.ui.W, what+" (input is hidden): ")
		fmt.Fprintln(p.ui.W)
		return b, err
	}
	if p.lines == nil {
		p.lines = bufio.NewReader(io.LimitReader(p.stdin, 1<<16))
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

// readNew reads a new passphrase: once from stdin (as docker login
// --password-stdin does), twice at a terminal, where a typo would
// otherwise lock the person out; a refused one is asked for again, up to
// newPassphraseTries times. It reads before anything is changed.
func (p *passphraseReader) readNew() (string, error) {
	for try := 1; ; try++ {
		pass, err := p.readNewOnce()
		var refused *refusedPassphrase
		switch {
		case !errors.As(err, &refused):
			return pass, err
		case p.fromStdin:
			return "", err
		case try == newPassphraseTries:
			return "", fmt.Errorf("%w; nothing was changed", err)
		}
		p.ui.Errorf("%v; try again", err)
	}
}

func (p *passphraseReader) readNewOnce() (string, error) {
	a, err := p.read("New passphrase")
	if err != nil {
		return "", err
	}
	if n := utf8.RuneCountInString(a); n < minPassphrase {
		if n == 0 {
			return "", &refusedPassphrase{fmt.Sprintf("the passphrase is empty; it needs at least %d characters", minPassphrase)}
		}
		return "", &refusedPassphrase{fmt.Sprintf("the passphrase is too short (%d characters); it needs at least %d", n, minPassphrase)}
	}
	if p.fromStdin {
		return a, nil
	}
	b, err := p.read("Repeat the new passphrase")
	if err != nil {
		return "", err
	}
	if a != b {
		return "", &refusedPassphrase{"the two passphrases differ"}
	}
	return a, nil
}
