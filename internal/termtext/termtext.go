// Package termtext words and colours what the commands write for a person
// at a terminal.
package termtext

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// ANSI colours (SGR codes) for Paint.
const (
	Red    = "31"
	Green  = "32"
	Yellow = "33"
	Cyan   = "36"
)

// Paint wraps s in the ANSI colour code; an empty code leaves s as it is.
// Callers decide whether their output gets colour (a terminal, NO_COLOR
// unset: https://no-color.org).
func Paint(code, s string) string {
	if code == "" {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}

// Plural is "1 day", "2 days": n and unit, with an s unless n is 1.
func Plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

// Wrap breaks s into lines of at most width runes at spaces; a word longer
// than width (a path, a URL) gets a line of its own, never broken.
func Wrap(s string, width int) []string {
	if width < 20 {
		width = 20
	}
	var lines []string
	var cur strings.Builder
	n := 0
	for _, word := range strings.Fields(s) {
		wl := utf8.RuneCountInString(word)
		if n > 0 && n+1+wl > width {
			lines = append(lines, cur.String())
			cur.Reset()
			n = 0
		}
		if n > 0 {
			cur.WriteByte(' ')
			n++
		}
		cur.WriteString(word)
		n += wl
	}
	return append(lines, cur.String())
}
