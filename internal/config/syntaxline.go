package config

import (
	"bytes"

	"github.com/BurntSushi/toml"
)

// syntaxLine is the line to point a person at for a TOML syntax error at
// pos. The parser finds an unfinished line (an unclosed table header,
// string or array) only at the newline that ends it, or at the end of the
// file, and reports the next line; the mistake is on the last line before
// it that has anything on it.
func syntaxLine(data []byte, pos toml.Position) int {
	at := pos.Start
	if at < 0 || at > len(data) {
		return pos.Line
	}
	if at < len(data) && data[at] != '\n' && data[at] != '\r' {
		return pos.Line
	}
	before := bytes.TrimRight(data[:at], " \t\r\n")
	if len(before) == 0 {
		return pos.Line
	}
	return bytes.Count(before, []byte("\n")) + 1
}
