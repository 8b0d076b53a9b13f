package tty

import (
	"fmt"
	"io"
	"strings"

	"github.com/glpat-dev/git-credential-glpat/internal/gltoken"
)

// UI writes messages for people to stderr, in the house style:
// "git-credential-glpat: error: …", lower-case, one line each.
type UI struct {
	W io.Writer
}

func (u *UI) Errorf(format string, a ...any) { u.printf("error: ", format, a...) }

func (u *UI) Warningf(format string, a ...any) { u.printf("warning: ", format, a...) }

func (u *UI) Hintf(format string, a ...any) { u.printf("hint: ", format, a...) }

func (u *UI) printf(kind, format string, a ...any) {
	msg := gltoken.Redact(fmt.Sprintf(format, a...))
	msg = strings.ReplaceAll(msg, "\n", " ")
	fmt.Fprintf(u.W, "git-credential-glpat: %s%s\n", kind, msg)
}
