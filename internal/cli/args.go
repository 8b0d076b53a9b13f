package cli

import (
	"fmt"
	"strings"

	"github.com/glpat-dev/git-credential-glpat/internal/editdist"
)

// ArgError reports a usage error in cmd's arguments in the style of its
// flag errors, "CMD: what is wrong (what it takes)", and returns the exit
// status of a usage error, 2.
func (u *UI) ArgError(cmd, format string, a ...any) int {
	u.Errorf("%s: %s", cmd, fmt.Sprintf(format, a...))
	return 2
}

// NoArgs reports whether cmd, which takes no positional arguments, got
// none; it reports the first one it got otherwise.
func NoArgs(ui *UI, cmd string, pos []string) bool {
	if len(pos) > 0 {
		ui.ArgError(cmd, "unexpected argument %q", pos[0])
		return false
	}
	return true
}

// Word is the one positional argument of cmd, which must be one of words
// (schedule's action, completion's shell; noun says what they are).
func Word(ui *UI, cmd, noun string, pos, words []string) (string, bool) {
	switch {
	case len(pos) == 0:
		ui.ArgError(cmd, "missing the %s (%s)", noun, OrList(words))
		return "", false
	case len(pos) > 1:
		ui.ArgError(cmd, "unexpected argument %q", pos[1])
		return "", false
	}
	for _, w := range words {
		if pos[0] == w {
			return w, true
		}
	}
	UnknownWord(ui, cmd, "unknown "+noun+" %q", pos[0], words)
	return "", false
}

// UnknownWord reports got, which is none of words: what (a format with
// one %q) and the nearest word, or all of them when none is near. It
// returns the exit status of a usage error.
func UnknownWord(ui *UI, cmd, what, got string, words []string) int {
	msg := fmt.Sprintf(what, got)
	if near := editdist.Nearest(got, words); near != "" {
		return ui.ArgError(cmd, "%s (did you mean %s?)", msg, near)
	}
	return ui.ArgError(cmd, "%s (%s)", msg, OrList(words))
}

// OrList writes words as "a, b or c".
func OrList(words []string) string {
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
}
