package gitsetup

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/glpat-dev/git-credential-glpat/internal/gitconfig"
)

// Git's config CLI cannot remove one of several equal values, so for that
// case this file edits the config file itself. It is careful in three ways:
// its parser must read the file exactly as git does (checked against
// `git config --list`), the edited file must read exactly as before minus
// the removed values (checked again with git), and the write takes git's
// own lock file, <file>.lock, so it cannot interleave with a `git config`.
// Syntax: https://git-scm.com/docs/git-config#_syntax

// cfgEntry is one variable in a git config file.
type cfgEntry struct {
	key      string // as git prints it: section and name lower-case
	value    string
	hasValue bool // false for a bare "name" (boolean true)
	// start and end span the whole lines the entry is on; alone is false
	// when something else (a section header) shares its first line.
	start, end int
	alone      bool
}

var errSyntax = errors.New("cannot parse")

// parseGitConfig reads a git config file the way git's config.c does.
func parseGitConfig(data []byte) (entries []cfgEntry, err error) {
	if bytes.IndexByte(data, 0) >= 0 {
		return nil, errSyntax // git's C strings end there; leave such a file alone
	}
	p := &cfgParser{src: data}
	p.pos = len(data) - len(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")))
	defer func() {
		if r := recover(); r != nil {
			entries, err = nil, errSyntax
		}
	}()
	var section string
	lineStart, lineClean := p.pos, true // lineClean: only blanks so far on this line
	comment := false
	for {
		c, eof := p.next()
		if eof {
			return p.out, nil
		}
		switch {
		case c == '\n':
			comment = false
			lineStart, lineClean = p.pos, true
		case comment || isSpace(c):
		case c == '#' || c == ';':
			comment = true
		case c == '[':
			section = p.header()
			lineClean = false
		case isAlpha(c):
			e := p.variable(section, c)
			e.start, e.alone = lineStart, lineClean
			e.end = p.pos
			p.out = append(p.out, e)
			// The value ended at a newline (consumed) or the end of file.
			lineStart, lineClean = p.pos, true
		default:
			return nil, errSyntax
		}
	}
}

type cfgParser struct {
	src []byte
	pos int
	out []cfgEntry
}

// next returns the next byte, with "\r\n" read as "\n", and eof at the end
// (where git reads a final "\n").
func (p *cfgParser) next() (byte, bool) {
	if p.pos >= len(p.src) {
		return '\n', true
	}
	c := p.src[p.pos]
	p.pos++
	if c == '\r' && p.pos < len(p.src) && p.src[p.pos] == '\n' {
		p.pos++
		return '\n', false
	}
	return c, false
}

func (p *cfgParser) mustNext() byte {
	c, eof := p.next()
	if eof {
		panic(errSyntax)
	}
	return c
}

// header reads "[section]", "[section "sub"]" or the old "[section.sub]"
// after the "[", and returns the key prefix git uses.
func (p *cfgParser) header() string {
	var name strings.Builder
	for {
		c := p.mustNext()
		switch {
		case c == ']':
			return name.String()
		case isSpace(c):
			return name.String() + "." + p.subsection(c)
		case isKeyChar(c) || c == '.':
			name.WriteByte(lower(c))
		default:
			panic(errSyntax)
		}
	}
}

func (p *cfgParser) subsection(c byte) string {
	for isSpace(c) {
		if c == '\n' {
			panic(errSyntax)
		}
		c = p.mustNext()
	}
	if c != '"' {
		panic(errSyntax)
	}
	var sub strings.Builder
	for {
		c := p.mustNext()
		if c == '\n' {
			panic(errSyntax)
		}
		if c == '"' {
			break
		}
		if c == '\\' {
			if c = p.mustNext(); c == '\n' {
				panic(errSyntax)
			}
		}
		sub.WriteByte(c)
	}
	if p.mustNext() != ']' {
		panic(errSyntax)
	}
	return sub.String()
}

// variable reads "name = value" or a bare "name", first byte c.
func (p *cfgParser) variable(section string, c byte) cfgEntry {
	if section == "" {
		panic(errSyntax) // a variable before any section
	}
	name := []byte{lower(c)}
	for {
		c, eof := p.next()
		if eof || !isKeyChar(c) {
			for !eof && (c == ' ' || c == '\t') {
				c, eof = p.next()
			}
			key := section + "." + string(name)
			if c == '\n' {
				return cfgEntry{key: key}
			}
			if c != '=' {
				panic(errSyntax)
			}
			return cfgEntry{key: key, value: p.value(), hasValue: true}
		}
		name = append(name, lower(c))
	}
}

// value reads a value up to and including its newline, as git's
// parse_value does: quotes toggle, backslash escapes \n \t \b \\ \" and
// joins lines, comments start at # or ; outside quotes, runs of blanks
// inside become that many spaces, and blanks at either end are dropped.
func (p *cfgParser) value() string {
	var v strings.Builder
	quote, comment, space := false, false, 0
	for {
		c, _ := p.next()
		if c == '\n' { // git reads the end of the file as a newline too
			if quote {
				panic(errSyntax)
			}
			return v.String()
		}
		if comment {
			continue
		}
		if isSpace(c) && !quote {
			if v.Len() > 0 {
				space++
			}
			continue
		}
		if !quote && (c == ';' || c == '#') {
			comment = true
			continue
		}
		for ; space > 0; space-- {
			v.WriteByte(' ')
		}
		switch c {
		case '\\':
			switch e := p.mustNext(); e {
			case '\n':
			case 't':
				v.WriteByte('\t')
			case 'b':
				v.WriteByte('\b')
			case 'n':
				v.WriteByte('\n')
			case '\\', '"':
				v.WriteByte(e)
			default:
				panic(errSyntax)
			}
		case '"':
			quote = !quote
		default:
			v.WriteByte(c)
		}
	}
}

// isSpace is git's own isspace (sane_ctype in git's ctype.c), which unlike
// C's leaves out \v and \f.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r'
}
func isAlpha(c byte) bool   { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isKeyChar(c byte) bool { return isAlpha(c) || c >= '0' && c <= '9' || c == '-' }
func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// gitList reads a config file with `git config --list`, in the same form
// as parseGitConfig.
func (g *gitRunner) gitList(ctx context.Context, file string) ([]cfgEntry, error) {
	entries, err := gitconfig.ListFile(ctx, g.r, file, "")
	if err != nil {
		return nil, fmt.Errorf("gitsetup: %w", err)
	}
	var list []cfgEntry
	for _, e := range entries {
		list = append(list, cfgEntry{key: e.Key, value: e.Value, hasValue: !e.NoValue})
	}
	return list, nil
}

func sameEntries(a, b []cfgEntry) bool {
	return slices.EqualFunc(a, b, func(x, y cfgEntry) bool {
		return x.key == y.key && x.value == y.value && x.hasValue == y.hasValue
	})
}

// removeEntries removes from file the values of key at positions (counted
// among key's values in file, from 0) and nothing else.
func (g *gitRunner) removeEntries(ctx context.Context, file, key string, positions []int) error {
	fail := func(why string) error {
		return fmt.Errorf("gitsetup: cannot remove %s from %s safely (%s); remove the lines by hand with: git config --global --edit", key, file, why)
	}
	// Write through a symlink, as git does (dotfile managers link ~/.gitconfig).
	real, err := filepath.EvalSymlinks(file)
	if err != nil {
		return fail(err.Error())
	}
	fi, err := os.Stat(real)
	if err != nil {
		return fail(err.Error())
	}
	data, err := os.ReadFile(real)
	if err != nil {
		return fail(err.Error())
	}
	parsed, err := parseGitConfig(data)
	if err != nil {
		return fail("its syntax is beyond this program")
	}
	before, err := g.gitList(ctx, real)
	if err != nil {
		return err
	}
	if !sameEntries(parsed, before) {
		return fail("git reads it differently from this program")
	}

	var drop []int // indexes into parsed
	n := 0
	for i, e := range parsed {
		if e.key != key {
			continue
		}
		if slices.Contains(positions, n) {
			if !e.alone {
				return fail("the value shares a line with a section header")
			}
			drop = append(drop, i)
		}
		n++
	}
	if len(drop) != len(positions) {
		return fail("the file changed while reading it")
	}
	var edited []byte
	var want []cfgEntry
	last := 0
	for i, e := range parsed {
		if slices.Contains(drop, i) {
			edited = append(edited, data[last:e.start]...)
			last = e.end
			continue
		}
		want = append(want, e)
	}
	edited = append(edited, data[last:]...)

	lock := real + ".lock"
	f, err := os.OpenFile(lock, os.O_WRONLY|os.O_CREATE|os.O_EXCL, fi.Mode().Perm())
	if err != nil {
		return fail(err.Error())
	}
	committed := false
	defer func() {
		if !committed {
			f.Close()
			os.Remove(lock)
		}
	}()
	if _, err := f.Write(edited); err != nil {
		return fail(err.Error())
	}
	if err := f.Sync(); err != nil {
		return fail(err.Error())
	}
	if err := f.Close(); err != nil {
		return fail(err.Error())
	}
	after, err := g.gitList(ctx, lock)
	if err != nil {
		return err
	}
	if !sameEntries(after, want) {
		return fail("the edit would have changed other values")
	}
	if err := os.Rename(lock, real); err != nil {
		return fail(err.Error())
	}
	committed = true
	// Make the rename durable; best effort, as some systems cannot sync a
	// directory and the rename is atomic anyway.
	if d, err := os.Open(filepath.Dir(real)); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}
