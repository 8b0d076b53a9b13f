package config

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// pathElem is one step to a value in the file: a key, or (index >= 0) an
// element of an array.
type pathElem struct {
	key   string
	index int
}

func key(k string) pathElem { return pathElem{key: k, index: -1} }
func elem(i int) pathElem   { return pathElem{index: i} }

// keyPath is the full path to a value, like hosts → "gitlab.com" → accounts → [1] → paths.
type keyPath []pathElem

func (p keyPath) with(e pathElem) keyPath {
	return append(p[:len(p):len(p)], e)
}

// String writes p as a dotted TOML key, with array elements as [i]:
// `hosts."gitlab.com".accounts[1].paths`.
func (p keyPath) String() string {
	var b strings.Builder
	for i, e := range p {
		if e.index >= 0 {
			fmt.Fprintf(&b, "[%d]", e.index)
			continue
		}
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(tomlKey(e.key))
	}
	return b.String()
}

// describe names the value at p for an error message: `lifetime`,
// `lifetime in [hosts."gitlab.com"]`, `[hosts."gitlab.com"]`,
// `paths in account 2 of [hosts."gitlab.com"]` or `item 1 of …`.
func (p keyPath) describe() string {
	n := len(p)
	switch {
	case n == 0:
		return "the file"
	case p[n-1].index >= 0 && n >= 2 && p[n-2].key == "accounts":
		return fmt.Sprintf("account %d of [%s]", p[n-1].index+1, p[:n-2])
	case p[n-1].index >= 0:
		return fmt.Sprintf("item %d of %s", p[n-1].index+1, p[:n-1].describe())
	case n == 2 && p[0] == key("hosts"):
		return "[" + p.String() + "]"
	case n == 1:
		return tomlKey(p[0].key)
	}
	return tomlKey(p[n-1].key) + " in " + p[:n-1].table()
}

// table names the table at p: `[hosts."gitlab.com"]` or `account 2 of [hosts."gitlab.com"]`.
func (p keyPath) table() string {
	if n := len(p); n > 0 && p[n-1].index >= 0 {
		return p.describe()
	}
	return "[" + p.String() + "]"
}

// tomlKey quotes k when TOML requires it.
func tomlKey(k string) string {
	if k == "" {
		return `""`
	}
	for _, r := range k {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return strconv.Quote(k)
		}
	}
	return k
}

// line returns the line of the value at p, or 0. The TOML library keeps
// the position of every key, and tells it when an UnmarshalTOML fails: a
// probe that always fails, decoded at p, reads it. It keeps one position
// per key, without array indices: the last [[table]] of an array and the
// last occurrence of a key in one. So for an earlier [[table]], the file is
// cut before the next one; and an item of an inline array is found by
// counting from the array's start. Only files with a problem pay for this.
func (d *decoder) line(p keyPath) int { return lineIn(d.data, p) }

func lineIn(src string, p keyPath) int {
	var top map[string]toml.Primitive
	md, err := toml.Decode(src, &top)
	if err != nil || len(p) == 0 {
		return 0
	}
	var keys []string // p without indices
	v, ok := top[p[0].key]
	for _, e := range p {
		if e.index < 0 {
			if len(keys) > 0 {
				v, ok = field(md, v, e.key)
			}
			keys = append(keys, e.key)
		} else {
			var items []toml.Primitive
			if ok = ok && md.PrimitiveDecode(v, &items) == nil && e.index < len(items); ok {
				if md.Type(keys...) == "ArrayHash" && e.index < len(items)-1 {
					return lineIn(src[:start(md, v)], p) // cut before the last [[table]]
				}
				v = items[e.index]
			}
		}
		if !ok {
			break
		}
	}
	if ok {
		if last := p[len(p)-1]; last.index >= 0 && md.Type(keys...) == "Array" {
			if n := itemLine(src, start(md, v), last.index); n > 0 {
				return n
			}
		}
		if n := probeLine(md, v); n > 0 {
			return n
		}
	}
	// No position of its own (a table that only exists through its
	// sub-tables, like hosts."x" in [[hosts."x".accounts]], or an empty
	// key, whose position the library files under its table's): the first
	// key under it, else the table it is in.
	for _, k := range md.Keys() {
		if len(k) >= len(keys) && slices.Equal(k[:len(keys)], keys) {
			for n := len(k); n > 0; n-- {
				if l := keyLine(md, top, k[:n]); l > 0 {
					return l
				}
			}
		}
	}
	if len(p) > 1 {
		return lineIn(src, p[:len(p)-1])
	}
	return 0
}

// keyLine returns the line of key k, or 0; in arrays of tables, of its
// last occurrence.
func keyLine(md toml.MetaData, top map[string]toml.Primitive, k toml.Key) int {
	v, ok := top[k[0]]
	for _, part := range k[1:] {
		if !ok {
			return 0
		}
		v, ok = field(md, v, part)
	}
	if !ok {
		return 0
	}
	return probeLine(md, v)
}

// field returns the value of key in the table v or, for an array of
// tables, in the last of its tables that has key.
func field(md toml.MetaData, v toml.Primitive, key string) (toml.Primitive, bool) {
	var m map[string]toml.Primitive
	var items []toml.Primitive
	// (The library decodes a value that is not a table into a map as nothing.)
	if md.PrimitiveDecode(v, &m); m == nil && md.PrimitiveDecode(v, &items) == nil {
		for i := len(items) - 1; i >= 0; i-- {
			m = nil
			if _ = md.PrimitiveDecode(items[i], &m); m != nil {
				if _, ok := m[key]; ok {
					break
				}
			}
		}
	}
	v, ok := m[key]
	return v, ok
}

func probeLine(md toml.MetaData, v toml.Primitive) int {
	var pe toml.ParseError
	errors.As(md.PrimitiveDecode(v, probe{}), &pe)
	return pe.Position.Line
}

// start is the offset of v in the file, as the library records it.
func start(md toml.MetaData, v toml.Primitive) int {
	var pe toml.ParseError
	errors.As(md.PrimitiveDecode(v, probe{}), &pe)
	return pe.Position.Start
}

// probe is a value whose decoding always fails.
type probe struct{}

func (probe) UnmarshalTOML(any) error { return errors.New("probe") }

// itemLine returns the line of item i of an inline array. from is where
// the library places the array: at its first item, or, inside an inline
// table, at its key.
func itemLine(src string, from, i int) int {
	if strings.TrimRight(src[:from], " \t\r\n") == strings.TrimRight(src[:from], " \t\r\n[") {
		j := strings.IndexByte(src[from:], '[') // at the key: the array follows
		if j < 0 {
			return 0
		}
		from += j + 1
	}
	depth, n, atItem := 0, 0, true
	for pos := from; pos < len(src); {
		switch c := src[pos]; {
		case c == '#':
			for pos < len(src) && src[pos] != '\n' {
				pos++
			}
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			pos++
		case depth == 0 && c == ']':
			return 0
		case depth == 0 && c == ',':
			n, atItem = n+1, true
			pos++
		default:
			if atItem && depth == 0 && n == i {
				return strings.Count(src[:pos], "\n") + 1
			}
			atItem = false
			switch c {
			case '"', '\'':
				pos = skipString(src, pos)
			case '[', '{':
				depth++
				pos++
			case ']', '}':
				depth--
				pos++
			default:
				pos++
			}
		}
	}
	return 0
}

// skipString returns the offset after the TOML string that starts at pos:
// basic or literal, single-line or multi-line.
func skipString(src string, pos int) int {
	q := src[pos : pos+1]
	if strings.HasPrefix(src[pos:], q+q+q) {
		q = q + q + q
	}
	for i := pos + len(q); i < len(src); i++ {
		if src[i] == '\\' && q[0] == '"' {
			i++
			continue
		}
		if strings.HasPrefix(src[i:], q) {
			end := i + len(q)
			for len(q) == 3 && end < len(src) && src[end] == q[0] && end-i < 5 {
				end++ // up to two more quotes belong to the string
			}
			return end
		}
	}
	return len(src)
}
