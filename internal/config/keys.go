package config

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"
)

// keyPath is the full path to a value: keys (strings) and indices of
// array items (ints), like hosts → "gitlab.com" → accounts → 1 → paths.
type keyPath []any

func (p keyPath) with(e ...any) keyPath {
	return append(p[:len(p):len(p)], e...)
}

// String writes p as a dotted TOML key, with array items as [i]:
// `hosts."gitlab.com".accounts[1].paths`.
func (p keyPath) String() string {
	var b strings.Builder
	for i, e := range p {
		if k, ok := e.(string); !ok {
			fmt.Fprintf(&b, "[%d]", e)
		} else if i > 0 {
			b.WriteString("." + tomlKey(k))
		} else {
			b.WriteString(tomlKey(k))
		}
	}
	return b.String()
}

// describe names the value at p for an error message: `lifetime`,
// `lifetime in [hosts."gitlab.com"]`, `[hosts."gitlab.com"]`,
// `paths in account 2 of [hosts."gitlab.com"]` or `item 1 of …`.
func (p keyPath) describe() string {
	n := len(p)
	i, isItem := p[n-1].(int)
	switch {
	case isItem && n >= 2 && p[n-2] == "accounts":
		return fmt.Sprintf("account %d of [%s]", i+1, p[:n-2])
	case isItem:
		return fmt.Sprintf("item %d of %s", i+1, p[:n-1].describe())
	case n == 2 && p[0] == "hosts":
		return "[" + p.String() + "]"
	case n == 1:
		return p.String()
	}
	return p[n-1:].String() + " in " + p[:n-1].table()
}

// table names the table at p: `[hosts."gitlab.com"]` or `account 2 of [hosts."gitlab.com"]`.
func (p keyPath) table() string {
	if _, isItem := p[len(p)-1].(int); isItem {
		return p.describe()
	}
	return "[" + p.String() + "]"
}

// tomlKey quotes k when TOML requires it.
func tomlKey(k string) string { return toml.Key{k}.String() }

// line returns the line of the value at p, or 0. The TOML library keeps
// the position of every key, and tells it when an UnmarshalTOML fails: a
// probe that always fails, decoded at p, reads it. It keeps one position
// per key, without array indices: the last [[table]] of an array and the
// last occurrence of a key in one. So for an earlier [[table]], the file is
// cut before the next one; and an item of an inline array is found by
// counting from the array's start, an inline table in one by reading it as
// a file of its own. Only files with a problem pay for this.
func (d *decoder) line(p keyPath) int { return lineIn(d.data, p) }

func lineIn(src string, p keyPath) int {
	var root toml.Primitive
	md, err := toml.Decode(src, &root)
	if err != nil {
		return 0
	}
	var keys toml.Key // p without indices
	v, ok := root, true
	for n := 0; ok && n < len(p); n++ {
		i, isItem := p[n].(int)
		if !isItem {
			v, ok = field(md, v, p[n].(string))
			keys = append(keys, p[n].(string))
			continue
		}
		var items []toml.Primitive
		if ok = md.PrimitiveDecode(v, &items) == nil && i < len(items); !ok {
			break
		}
		if md.Type(keys...) == "ArrayHash" {
			if i < len(items)-1 {
				return lineIn(src[:pos(md, v).Start], p) // cut before the last [[table]]
			}
			v = items[i]
			continue
		}
		from, to := itemSpan(src, pos(md, v).Start, i)
		switch {
		case from < 0:
			ok = false
		case n == len(p)-1:
			return strings.Count(src[:from], "\n") + 1
		default: // in an inline table: read it alone, on the lines it is on
			return lineIn(strings.Repeat("\n", strings.Count(src[:from], "\n"))+"item = "+src[from:to], append(keyPath{"item"}, p[n+1:]...))
		}
	}
	if l := pos(md, v).Line; ok && l > 0 {
		return l
	}
	// No position of its own (a table that only exists through its
	// sub-tables, like hosts."x" in [[hosts."x".accounts]], or an empty
	// key, whose position the library files under its table's): the first
	// key under it, else the table it is in.
	for _, k := range md.Keys() {
		for ; len(k) > len(keys) && slices.Equal(k[:len(keys)], keys); k = k[:len(k)-1] {
			v, ok := root, true
			for _, part := range k {
				v, ok = field(md, v, part)
			}
			if l := pos(md, v).Line; ok && l > 0 {
				return l
			}
		}
	}
	if len(p) > 1 {
		return lineIn(src, p[:len(p)-1])
	}
	return 0
}

// field returns the value of key in the table v or, for an array of
// tables, in the last of its tables that has key.
func field(md toml.MetaData, v toml.Primitive, key string) (toml.Primitive, bool) {
	var items []toml.Primitive
	if md.PrimitiveDecode(v, &items) != nil {
		items = []toml.Primitive{v} // a table
	}
	for i := len(items) - 1; i >= 0; i-- {
		var m map[string]toml.Primitive
		if _ = md.PrimitiveDecode(items[i], &m); m != nil {
			if v, ok := m[key]; ok {
				return v, true
			}
		}
	}
	return toml.Primitive{}, false
}

// pos is where the library places v: a probe whose decoding always fails
// reads it from the error.
func pos(md toml.MetaData, v toml.Primitive) toml.Position {
	var pe toml.ParseError
	errors.As(md.PrimitiveDecode(v, probe{}), &pe)
	return pe.Position
}

type probe struct{}

func (probe) UnmarshalTOML(any) error { return errors.New("probe") }

// itemSpan returns where item i of an inline array starts and ends, or -1.
// from is where the library places the array: just after its "[", or,
// inside an inline table, at its key.
func itemSpan(src string, from, i int) (start, end int) {
	if from == 0 || src[from-1] != '[' {
		j := strings.IndexByte(src[from:], '[') // at the key: the array follows
		if j < 0 {
			return -1, -1
		}
		from += j + 1
	}
	for start := skipSpace(src, from); start < len(src) && src[start] != ']'; i-- {
		// The library reads the item as a value of its own, and stops
		// (with an error) at what follows it.
		end, v := len(src), any(nil)
		var pe toml.ParseError
		if _, err := toml.Decode("v="+src[start:], &v); errors.As(err, &pe) {
			end = skipSpace(src, start+pe.Position.Start-2)
		}
		if i == 0 {
			return start, end
		}
		if end >= len(src) || src[end] != ',' {
			break
		}
		start = skipSpace(src, end+1)
	}
	return -1, -1
}

// skipSpace returns the offset of the first thing from pos on that is not
// white space or a comment.
func skipSpace(src string, pos int) int {
	for ; pos < len(src) && strings.IndexByte(" \t\r\n#", src[pos]) >= 0; pos++ {
		if j := strings.IndexByte(src[pos:], '\n'); src[pos] == '#' && j < 0 {
			return len(src)
		} else if src[pos] == '#' {
			pos += j
		}
	}
	return pos
}
