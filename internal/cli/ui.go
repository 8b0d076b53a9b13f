// Package cli is what people see and type at git-credential-glpat's commands: messages, flags, prompts, progress and status's table.
package cli

import (
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync"
)

// tokenPattern matches GitLab tokens (https://docs.gitlab.com/security/tokens/#token-prefixes).
// It is compiled on first use: the hot path never prints.
var tokenPattern = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`\b(glpat|gldt|glrt|glptt|glft|glsoat|gloas)-[0-9A-Za-z_.-]{20,}`)
})

// Redact replaces anything that looks like a GitLab token with a
// fingerprint (its prefix and last four characters). No code path puts a
// secret into a message; this is the second line of defence.
func Redact(s string) string {
	return tokenPattern().ReplaceAllStringFunc(s, func(tok string) string {
		prefix, _, _ := strings.Cut(tok, "-")
		return prefix + "-…" + tok[len(tok)-4:]
	})
}

// UI writes messages for people to stderr, in the house style:
// "git-credential-glpat: error: …", lower-case, one line each.
type UI struct {
	W   io.Writer
	Out io.Writer // stdout, for usage asked for with -h
}

func (u *UI) Errorf(format string, a ...any) { u.printf("error: ", format, a...) }

func (u *UI) Warningf(format string, a ...any) { u.printf("warning: ", format, a...) }

func (u *UI) Hintf(format string, a ...any) { u.printf("hint: ", format, a...) }

func (u *UI) printf(kind, format string, a ...any) {
	msg := Redact(fmt.Sprintf(format, a...))
	msg = strings.ReplaceAll(msg, "\n", " ")
	fmt.Fprintf(u.W, "git-credential-glpat: %s%s\n", kind, msg)
}
