package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/glpat-dev/git-credential-glpat/internal/tty"
)

// askAccountUntil is askAccount that ends with tty.ErrInterrupted when ctx is
// done: login catches Ctrl-C while it runs, and the question must end on
// it as the hidden prompt does.
func askAccountUntil(ctx context.Context, f *os.File, ui *tty.UI, host string, accounts []string, def string) (string, error) {
	type answer struct {
		name string
		err  error
	}
	ch := make(chan answer, 1)
	go func() {
		name, err := askAccount(f, ui, host, accounts, def)
		ch <- answer{name, err}
	}()
	select {
	case a := <-ch:
		return a.name, a.err
	case <-ctx.Done():
		fmt.Fprintln(ui.W)
		return "", tty.ErrInterrupted
	}
}

// askAccount asks the person at the terminal f which of the host's
// accounts a new token is for; an empty answer takes def.
func askAccount(f *os.File, ui *tty.UI, host string, accounts []string, def string) (string, error) {
	fmt.Fprintf(ui.W, "Accounts on %s: %s\n", host, strings.Join(accounts, ", "))
	if def != "" {
		fmt.Fprintf(ui.W, "Store the token under which account (a new name adds one)? [%s] ", def)
	} else {
		fmt.Fprintf(ui.W, "Store the token under which account (a new name adds one)? ")
	}
	line, err := bufio.NewReader(io.LimitReader(f, 1024)).ReadString('\n')
	if err != nil && (line == "" || !errors.Is(err, io.EOF)) {
		return "", tty.ErrCancelled
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

// promptToken shows the page that creates a least-privilege token (opens
// it in the browser with web) and reads the token at a hidden prompt on
// the terminal f.
func promptToken(f *os.File, ui *tty.UI, host, create string, web bool, scopes []string) (string, error) {
	list := strings.Join(scopes, ", ")
	switch {
	case web && tty.OpenBrowser(create) == nil:
		fmt.Fprintf(ui.W, "Opened the page that creates a token with the scopes %s:\n    %s\n", list, create)
	case web:
		fmt.Fprintf(ui.W, "No browser found; open this page to create a token with the scopes %s:\n    %s\n", list, create)
	default:
		fmt.Fprintf(ui.W, "Create a token with the scopes %s at\n    %s\n", list, create)
	}
	tok, err := tty.ReadHidden(f, ui.W, fmt.Sprintf("Token for %s (input is hidden): ", host))
	fmt.Fprintln(ui.W)
	return tok, err
}
