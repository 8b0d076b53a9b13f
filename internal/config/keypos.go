package config

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// The TOML library keeps the position of every key but does not export it
// (toml v1.6.0 has MetaData.Keys and Undecoded, without positions), so error
// messages find their line with this small scanner. It only runs on files
// that the TOML library has already accepted and that have an error, so it
// may assume valid TOML (https://toml.io/en/v1.1.0) and never runs on the
// hot path.

// keyLine is where a key, table header or array element starts.
type keyLine struct {
	path keyPath
	line int
}

type keyLines []keyLine

// find returns the line where path or anything under it first appears, or
// 0 when the scanner did not see it.
func (ls keyLines) find(path keyPath) int {
	for _, l := range ls {
		if len(l.path) >= len(path) && l.path[:len(path)].equal(path) {
			return l.line
		}
	}
	return 0
}

func (p keyPath) equal(q keyPath) bool {
	if len(p) != len(q) {
		return false
	}
	for i := range p {
		if p[i] != q[i] {
			return false
		}
	}
	return true
}

type keyScanner struct {
	src   string
	pos   int
	line  int
	out   keyLines
	count map[string]int // elements seen so far of each array of tables
}

// scanKeys lists the keys of a TOML document with their lines, in order.
// Elements of arrays of tables ([[a]] or a = [{…}]) are numbered as the
// decoder numbers them, so errors about the second account find its line.
func scanKeys(src string) (lines keyLines) {
	s := &keyScanner{src: src, line: 1, count: map[string]int{}}
	defer func() {
		// The input is valid TOML, so running off its end cannot happen;
		// but a missing line number must never turn into a crash. What
		// was found so far is still good.
		_ = recover()
		lines = s.out
	}()
	// A byte order mark may start the file; it is not part of a key.
	s.pos = len(src) - len(strings.TrimPrefix(src, "\ufeff"))
	s.document()
	return s.out
}

func (s *keyScanner) document() {
	var table keyPath
	for s.pos < len(s.src) {
		start := s.pos
		s.skipSpaceNewlinesComments()
		if s.pos >= len(s.src) {
			return
		}
		switch {
		case strings.HasPrefix(s.src[s.pos:], "[["):
			line := s.line
			s.pos += 2
			keys := s.key()
			s.pos += 2 // ]]
			table = s.resolve(keys[:len(keys)-1]).with(key(keys[len(keys)-1]))
			id := table.String()
			table = table.with(elem(s.count[id]))
			s.count[id]++
			s.out = append(s.out, keyLine{table, line})
		case s.src[s.pos] == '[':
			line := s.line
			s.pos++
			table = s.resolve(s.key())
			s.pos++ // ]
			s.out = append(s.out, keyLine{table, line})
		default:
			s.keyValue(table)
		}
		s.mustAdvance(start)
	}
}

// mustAdvance stops a scan that stopped moving, which input the scanner
// misunderstands could otherwise cause; scanKeys recovers.
func (s *keyScanner) mustAdvance(start int) {
	if s.pos <= start {
		panic("keyScanner: no progress")
	}
}

// resolve turns the keys of a table header into a path, stepping into the
// latest element of every array of tables on the way.
func (s *keyScanner) resolve(keys []string) keyPath {
	var p keyPath
	for _, k := range keys {
		p = p.with(key(k))
		if n := s.count[p.String()]; n > 0 {
			p = p.with(elem(n - 1))
		}
	}
	return p
}

// keyValue scans `a.b = value` and records a.b under table.
func (s *keyScanner) keyValue(table keyPath) {
	line := s.line
	p := table
	for _, k := range s.key() {
		p = p.with(key(k))
	}
	s.out = append(s.out, keyLine{p, line})
	s.skipSpace()
	s.pos++ // =
	s.skipSpace()
	s.value(p)
}

func (s *keyScanner) value(p keyPath) {
	switch c := s.src[s.pos]; c {
	case '"', '\'':
		s.skipString()
	case '[':
		s.pos++
		for i := 0; ; i++ {
			start := s.pos
			s.skipSpaceNewlinesComments()
			if s.src[s.pos] == ']' {
				s.pos++
				return
			}
			ep := p.with(elem(i))
			s.out = append(s.out, keyLine{ep, s.line})
			s.value(ep)
			s.skipSpaceNewlinesComments()
			if s.src[s.pos] == ',' {
				s.pos++
			}
			s.mustAdvance(start)
		}
	case '{':
		s.pos++
		for {
			start := s.pos
			s.skipSpaceNewlinesComments() // TOML 1.1 allows newlines here
			if s.src[s.pos] == '}' {
				s.pos++
				return
			}
			s.keyValue(p)
			s.skipSpaceNewlinesComments()
			if s.src[s.pos] == ',' {
				s.pos++
			}
			s.mustAdvance(start)
		}
	default:
		// A number, boolean or date: runs to a delimiter. Dates may hold a
		// space ("1979-05-27 07:32:00Z"), so spaces do not end it.
		end := strings.IndexAny(s.src[s.pos:], ",]}#\r\n")
		if end < 0 {
			end = len(s.src) - s.pos
		}
		s.pos += end
	}
}

// key scans a dotted key and returns its parts, unquoted.
func (s *keyScanner) key() []string {
	var keys []string
	for {
		s.skipSpace()
		switch s.src[s.pos] {
		case '"':
			keys = append(keys, s.basicString())
		case '\'':
			end := strings.IndexByte(s.src[s.pos+1:], '\'')
			keys = append(keys, s.src[s.pos+1:s.pos+1+end])
			s.pos += end + 2
		default:
			start := s.pos
			for s.pos < len(s.src) && isBareKeyByte(s.src[s.pos]) {
				s.pos++
			}
			keys = append(keys, s.src[start:s.pos])
		}
		s.skipSpace()
		if s.pos >= len(s.src) || s.src[s.pos] != '.' {
			return keys
		}
		s.pos++
	}
}

func isBareKeyByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// basicString scans a one-line "…" string and returns its value.
func (s *keyScanner) basicString() string {
	var b strings.Builder
	s.pos++
	for {
		c := s.src[s.pos]
		switch c {
		case '"':
			s.pos++
			return b.String()
		case '\\':
			s.pos++
			e := s.src[s.pos]
			s.pos++
			switch e {
			case 'b':
				b.WriteByte('\b')
			case 't':
				b.WriteByte('\t')
			case 'n':
				b.WriteByte('\n')
			case 'f':
				b.WriteByte('\f')
			case 'r':
				b.WriteByte('\r')
			case 'e':
				b.WriteByte(0x1b)
			case 'x', 'u', 'U':
				n := map[byte]int{'x': 2, 'u': 4, 'U': 8}[e]
				r, _ := strconv.ParseUint(s.src[s.pos:s.pos+n], 16, 32)
				b.WriteRune(rune(r))
				s.pos += n
			default: // \" and \\
				b.WriteByte(e)
			}
		default:
			_, size := utf8.DecodeRuneInString(s.src[s.pos:])
			b.WriteString(s.src[s.pos : s.pos+size])
			s.pos += size
		}
	}
}

// skipString skips a string value of any of the four kinds, counting the
// lines that multi-line strings span.
func (s *keyScanner) skipString() {
	q := s.src[s.pos]
	delim := strings.Repeat(string(q), 3)
	if !strings.HasPrefix(s.src[s.pos:], delim) {
		s.pos++
		for s.src[s.pos] != q {
			if q == '"' && s.src[s.pos] == '\\' {
				s.pos++
			}
			s.pos++
		}
		s.pos++
		return
	}
	s.pos += 3
	for {
		switch {
		case q == '"' && s.src[s.pos] == '\\':
			if s.src[s.pos+1] == '\n' {
				s.line++
			}
			s.pos += 2
		case strings.HasPrefix(s.src[s.pos:], delim):
			// Up to two more quotes may close the string: """a""""" is `a""`.
			s.pos += 3
			for i := 0; i < 2 && s.pos < len(s.src) && s.src[s.pos] == q; i++ {
				s.pos++
			}
			return
		default:
			if s.src[s.pos] == '\n' {
				s.line++
			}
			s.pos++
		}
	}
}

func (s *keyScanner) skipSpace() {
	for s.pos < len(s.src) && (s.src[s.pos] == ' ' || s.src[s.pos] == '\t') {
		s.pos++
	}
}

func (s *keyScanner) skipSpaceNewlinesComments() {
	for s.pos < len(s.src) {
		switch s.src[s.pos] {
		case ' ', '\t', '\r':
			s.pos++
		case '\n':
			s.line++
			s.pos++
		case '#':
			end := strings.IndexByte(s.src[s.pos:], '\n')
			if end < 0 {
				s.pos = len(s.src)
				return
			}
			s.pos += end
		default:
			return
		}
	}
}
