package config

import (
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/BurntSushi/toml"
	"github.com/glpat-dev/git-credential-glpat/internal/editdist"
)

// The file as the TOML library decodes it: each table a struct, whose tags
// are the keys it may hold. A value is kept as the library parsed it, and
// validate checks its type and its meaning together: the library would
// decode a table's keys in map order and stop at the first mismatch, naming
// Go types, while problems here come in a fixed order and in the file's
// words. Hosts and accounts are Primitives, decoded one by one in file
// order, so that a table that is not one is blamed on the right host.
type (
	fileTOML struct {
		Backend any `toml:"backend"`
		rotationTOML
		Hosts toml.Primitive `toml:"hosts"`
	}
	hostTOML struct {
		APIURL   any `toml:"api_url"`
		Username any `toml:"username"`
		CAFile   any `toml:"ca_file"`
		// OAuthClientID is the Application ID login --oauth uses.
		OAuthClientID any `toml:"oauth_client_id"`
		rotationTOML
		Accounts toml.Primitive `toml:"accounts"`
	}
	// rotationTOML is what the top level sets for every host, and a host
	// for itself.
	rotationTOML struct {
		RotateBefore any `toml:"rotate_before"`
		Lifetime     any `toml:"lifetime"`
		AutoRotate   any `toml:"auto_rotate"`
	}
	accountTOML struct {
		Username any `toml:"username"`
		Paths    any `toml:"paths"`
	}
)

// The keys each table may hold: the tags above, again, because the library
// matches a key to a field in any case, and TOML keys are case-sensitive;
// unknownKey compares them exactly and suggests the closest.
// TestEveryKnownKeyIsDecoded holds the lists and the tags together.
var (
	fileKeys    = []string{"backend", "rotate_before", "lifetime", "auto_rotate", "hosts"}
	hostKeys    = []string{"api_url", "username", "ca_file", "oauth_client_id", "rotate_before", "lifetime", "auto_rotate", "accounts"}
	accountKeys = []string{"username", "paths"}
)

// parse decodes data into c, over the defaults already in c. It reports the
// first problem in a fixed order: TOML syntax, unknown keys in file order (a
// misspelt key is the likeliest cause of any later complaint), then each
// table in file order, the top level first, and in it each value's type and
// meaning in the order of the fields, then how its values go together.
func (c *Config) parse(data []byte) error {
	var f fileTOML
	md, err := toml.Decode(string(data), &f)
	if err != nil {
		// Every value decodes (into any or a Primitive), so this is the syntax.
		return c.syntaxError(err)
	}
	d := &decoder{c: c, data: data, md: md}
	d.unknownKey()
	d.validate(&f)
	return d.err
}

// decoder is one decoding of a file. It keeps the first problem found, and
// every later check does nothing.
type decoder struct {
	c    *Config
	data []byte
	md   toml.MetaData
	err  error
}

// bad records a problem with the value at p, unless one came first.
func (d *decoder) bad(p keyPath, format string, args ...any) {
	if d.err == nil {
		d.fail(p, p.describe()+": "+fmt.Sprintf(format, args...))
	}
}

func (d *decoder) fail(p keyPath, msg string) {
	d.err = &Error{File: d.c.Path, Line: d.line(p), Key: p.String(), Msg: msg}
}

// unknownKey reports the first key, in file order, that no table holds.
func (d *decoder) unknownKey() {
	for _, k := range d.md.Keys() {
		known := fileKeys
		for i, part := range k {
			switch {
			case i == 1 && k[0] == "hosts":
				known = hostKeys
				continue // part is a host name
			case i == 3 && k[2] == "accounts":
				known = accountKeys
			}
			if slices.Contains(known, part) {
				continue
			}
			var p keyPath
			for j, part := range k[:i+1] {
				if p = append(p, part); j == 2 && i > 2 && part == "accounts" {
					p = append(p, d.accountWith(k))
				}
			}
			msg := fmt.Sprintf("unknown key %q", part)
			if len(p) > 1 {
				msg += " in " + p[:len(p)-1].table()
			}
			d.fail(p, msg+didYouMean(part, known))
			return
		}
	}
}

// accountWith returns the index of the first account under hosts.<k[1]>
// that has key k[3]: the library's keys do not say which account a key is in.
func (d *decoder) accountWith(k toml.Key) int {
	var top struct {
		Hosts map[string]struct {
			Accounts []map[string]any `toml:"accounts"`
		} `toml:"hosts"`
	}
	_, _ = toml.Decode(string(d.data), &top)
	for i, a := range top.Hosts[k[1]].Accounts {
		if _, ok := a[k[3]]; ok {
			return i
		}
	}
	return 0
}

// validate checks each value's type and meaning, table by table in file
// order and in each in the order of the fields, and fills c. (A value's
// path is built only for its error: this runs on every git fetch.)
func (d *decoder) validate(f *fileTOML) {
	c := d.c
	if s, ok := d.str(nil, "backend", f.Backend); ok {
		if c.Backend = Backend(s); !slices.Contains(backends, c.Backend) {
			names := make([]string, len(backends))
			for i, b := range backends {
				names[i] = string(b)
			}
			hint := didYouMean(s, names)
			if hint == "" {
				quoted := make([]string, len(names))
				for i, n := range names {
					quoted[i] = strconv.Quote(n)
				}
				hint = "; want " + strings.Join(quoted[:len(quoted)-1], ", ") + " or " + quoted[len(quoted)-1]
			}
			d.bad(keyPath{"backend"}, "unknown backend %q%s", s, hint)
		}
	}
	c.RotateBefore, c.Lifetime, c.AutoRotate = d.rotation(nil, f.rotationTOML, c.RotateBefore, c.Lifetime, c.AutoRotate)
	if !d.md.IsDefined("hosts") {
		return
	}
	// (The library decodes a value that is not a table into a map as nothing.)
	var tables map[string]toml.Primitive
	if d.md.PrimitiveDecode(f.Hosts, &tables); tables == nil {
		d.bad(keyPath{"hosts"}, "want a table of hosts like [hosts.\"gitlab.com\"], not %s", d.typeOf(f.Hosts))
		return
	}
	c.hosts = make(map[string]HostConfig, len(tables))
	for _, k := range d.md.Keys() {
		if len(k) >= 2 && k[0] == "hosts" && !c.known(k[1]) {
			d.host(k[1], tables[k[1]])
		}
	}
}

// known reports whether c holds the host written as name (in this case).
func (c *Config) known(name string) bool {
	h, ok := c.hosts[strings.ToLower(name)]
	return ok && h.Host == name
}

// host checks the table [hosts."name"] and its accounts, and adds it to c.
func (d *decoder) host(name string, v toml.Primitive) {
	p := keyPath{"hosts", name}
	var t hostTOML
	if err := d.md.PrimitiveDecode(v, &t); err != nil {
		d.bad(p, "want a table like [hosts.%s], not %s", tomlKey(name), d.typeOf(v))
	}
	d.hostName(p, name)
	c := d.c
	if prev, dup := c.hosts[strings.ToLower(name)]; dup {
		d.bad(p, "same host as [hosts.%s]: host names are not case-sensitive", tomlKey(prev.Host))
	}
	e := HostConfig{Host: name, Known: true}
	if s, ok := d.str(p, "api_url", t.APIURL); ok {
		if problem := apiURLProblem(s); problem != "" {
			d.bad(p.with("api_url"), "%s", problem)
		}
		e.APIURL = strings.TrimRight(s, "/") // so that paths join cleanly
	}
	if s, ok := d.str(p, "username", t.Username); ok {
		e.Username = d.username(p, s)
	}
	if s, ok := d.str(p, "ca_file", t.CAFile); ok && !filepath.IsAbs(s) {
		d.bad(p.with("ca_file"), "%q is not an absolute path", s)
	} else if ok {
		e.CAFile = s
	}
	if s, ok := d.str(p, "oauth_client_id", t.OAuthClientID); ok {
		e.OAuthClientID = d.clientID(p, s)
	}
	e.RotateBefore, e.Lifetime, e.AutoRotate = d.rotation(p, t.rotationTOML, c.RotateBefore, c.Lifetime, c.AutoRotate)
	if d.md.IsDefined("hosts", name, "accounts") {
		e.Accounts = d.accounts(p.with("accounts"), t.Accounts)
	}
	c.hosts[strings.ToLower(name)] = e
}

// str returns v, the value of key k in the table at p, when it is a string
// (k is an index when the table is a list); any other value is reported.
// ok is false when there is no usable string.
func (d *decoder) str(p keyPath, k, v any) (s string, ok bool) {
	if v == nil {
		return "", false
	}
	switch s, ok = v.(string); {
	case !ok:
		d.bad(p.with(k), "want a string, not %s", typeName(v))
	case strings.ContainsRune(s, 0):
		d.bad(p.with(k), "contains a NUL character")
		ok = false
	}
	return s, ok
}

// rotation checks rotate_before, lifetime and auto_rotate in the table at p,
// and returns them, or what the table inherits where it sets none. Each
// duration must be more than zero (to stop rotating, auto_rotate = false
// says so plainly) and at most the longest lifetime GitLab allows. And a
// rotated token must not be due for rotation again at once: GitLab expiry
// is a date, so a token rotated late in a UTC day lives up to a day less
// than lifetime, and lifetime must exceed rotate_before by a day, or every
// git command would rotate. That error points at rotate_before when the
// table sets it, else at lifetime, so a per-host override is blamed rather
// than the global value it conflicts with.
func (d *decoder) rotation(p keyPath, r rotationTOML, rotateBefore, lifetime Duration, autoRotate bool) (Duration, Duration, bool) {
	rb, setsRotateBefore := d.duration(p, "rotate_before", r.RotateBefore)
	if setsRotateBefore {
		rotateBefore = rb
	}
	if lt, ok := d.duration(p, "lifetime", r.Lifetime); ok {
		lifetime = lt
	}
	if r.AutoRotate != nil {
		b, ok := r.AutoRotate.(bool)
		if !ok {
			d.bad(p.with("auto_rotate"), "want true or false, not %s", typeName(r.AutoRotate))
		}
		autoRotate = b
	}
	switch {
	case rotateBefore+Duration(Day) <= lifetime:
	case setsRotateBefore:
		d.bad(p.with("rotate_before"), "%s is not at least a day shorter than lifetime %s: a rotated token would be due for rotation at once", rotateBefore, lifetime)
	default:
		d.bad(p.with("lifetime"), "%s is not at least a day longer than rotate_before %s: a rotated token would be due for rotation at once", lifetime, rotateBefore)
	}
	return rotateBefore, lifetime, autoRotate
}

// duration returns v, the value of rotate_before or lifetime (k) in the
// table at p, when it is a duration like "30d" in the bounds rotation
// describes.
func (d *decoder) duration(p keyPath, k string, v any) (Duration, bool) {
	if v == nil {
		return 0, false
	}
	s, ok := v.(string)
	if !ok {
		d.bad(p.with(k), "want a duration in quotes like \"30d\", not %s", typeName(v))
		return 0, false
	}
	t, err := parseDuration(s)
	switch dur := Duration(t); {
	case err != nil:
		d.bad(p.with(k), "%v", err)
	case dur <= 0 && k == "rotate_before":
		d.bad(p.with(k), "must be more than 0 (to stop rotating, set auto_rotate = false)")
	case dur <= 0:
		d.bad(p.with(k), "must be more than 0")
	case dur > MaxLifetime:
		d.bad(p.with(k), "%s is more than %s, the longest lifetime GitLab allows", dur, MaxLifetime)
	case k == "lifetime" && dur < Duration(Day):
		d.bad(p.with(k), "%s is less than 1d; GitLab gives tokens an expiry date, not a time", dur)
	}
	return Duration(t), err == nil
}

// hostName accepts what Git sends as `host`: a host name or IP literal
// with an optional port (https://git-scm.com/docs/git-credential#IOFMT).
func (d *decoder) hostName(p keyPath, name string) {
	i := strings.LastIndexByte(name, ':')
	port, err := strconv.Atoi(name[i+1:])
	switch {
	case name == "":
		d.bad(p, "empty host name")
	case strings.ContainsAny(name, "/@"):
		d.bad(p, "want a host name like \"gitlab.com\" or \"gitlab.example.com:8443\", not a URL")
	case strings.ContainsFunc(name, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune(".-_:[]", r) || r > unicode.MaxASCII && unicode.IsLetter(r))
	}):
		d.bad(p, "%q is not a host name", name)
	case i >= 0 && !strings.HasSuffix(name, "]") && (err != nil || port < 1 || port > 65535 || name[i+1] == '0'):
		d.bad(p, "%q has a bad port", name)
	}
}

// accounts checks the [[hosts."…".accounts]] tables at p, in file order.
func (d *decoder) accounts(p keyPath, v toml.Primitive) []Account {
	var items []toml.Primitive
	if err := d.md.PrimitiveDecode(v, &items); err != nil {
		d.bad(p, "want [[hosts.….accounts]] tables, not %s", d.typeOf(v))
	}
	out := make([]Account, len(items))
	owner := map[string]int{} // lower-cased path → account index
	for i, item := range items {
		ap := p.with(i)
		var a accountTOML
		if err := d.md.PrimitiveDecode(item, &a); err != nil {
			d.bad(ap, "want a table with username and paths, not %s", d.typeOf(item))
		}
		switch s, ok := d.str(ap, "username", a.Username); {
		case a.Username == nil:
			d.bad(ap, "missing username")
		case ok:
			out[i].Username = d.username(ap, s)
		}
		paths, isList := a.Paths.([]any)
		switch {
		case a.Paths == nil:
			d.bad(ap, "missing paths, like paths = [\"my-group/\"]")
		case !isList:
			d.bad(ap.with("paths"), "want a list of paths like [\"my-group/\"], not %s", typeName(a.Paths))
		case len(paths) == 0:
			d.bad(ap.with("paths"), "empty list; give the group paths this account is for")
		}
		out[i].Paths = make([]string, 0, len(paths))
		pp := ap.with("paths")
		for j, v := range paths {
			s, ok := d.str(pp, j, v)
			path := strings.Trim(s, "/")
			switch other, dup := owner[strings.ToLower(path)]; {
			case !ok:
			case path == "":
				d.bad(pp.with(j), "empty path; set username in the host's table for its default account")
			case strings.Contains(path, "//") || hasControl(path):
				d.bad(pp.with(j), "%q is not a group path", s)
			case dup:
				d.bad(pp.with(j), "%q is already in the paths of account %d", path, other+1)
			}
			owner[strings.ToLower(path)] = i
			out[i].Paths = append(out[i].Paths, path)
		}
	}
	return out
}

// username refuses control characters in the username of the table at p:
// it is written into the credential protocol, where a newline would start
// a new attribute (https://git-scm.com/docs/git-credential#IOFMT).
func (d *decoder) username(p keyPath, s string) string {
	switch {
	case s == "":
		d.bad(p.with("username"), "empty username")
	case hasControl(s):
		d.bad(p.with("username"), "contains a control character")
	}
	return s
}

// clientID accepts as the oauth_client_id of the table at p an OAuth
// application's ID: GitLab's are 64 hex digits, but any visible characters
// without spaces are taken.
func (d *decoder) clientID(p keyPath, s string) string {
	switch {
	case s == "":
		d.bad(p.with("oauth_client_id"), "empty; remove the line or give the Application ID")
	case strings.ContainsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }):
		d.bad(p.with("oauth_client_id"), "%q is not an application ID (GitLab's Application ID, without spaces)", s)
	}
	return s
}

func hasControl(s string) bool {
	return strings.ContainsFunc(s, unicode.IsControl)
}

// apiURLProblem says what is wrong with s as an api_url: it must be an
// http(s) URL without credentials, query or fragment.
func apiURLProblem(s string) string {
	u, err := url.Parse(s)
	switch {
	case err != nil || hasControl(s):
		return fmt.Sprintf("%q is not a URL", s)
	case u.Scheme != "https" && u.Scheme != "http":
		return fmt.Sprintf("%q is not an http or https URL, like \"https://gitlab.example.com/api/v4\"", s)
	case u.User != nil:
		return "must not contain a username or password; tokens live in the keychain"
	case u.Host == "" || u.Opaque != "":
		return fmt.Sprintf("%q has no host", s)
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return fmt.Sprintf("%q must not have a query or fragment", s)
	}
	return ""
}

// syntaxError turns a TOML syntax error into a one-line *Error, on the
// line the library names. (An unclosed [table header or string is found at
// the newline that ends it, and the library counts that newline's line as
// the next one.)
func (c *Config) syntaxError(err error) error {
	var pe toml.ParseError
	if !errors.As(err, &pe) {
		return &Error{File: c.Path, Msg: oneLine(strings.TrimPrefix(err.Error(), "toml: "))}
	}
	msg := oneLine(pe.Message)
	// The TOML library writes some messages as sentences; ours are not.
	msg = strings.TrimSuffix(msg, ".")
	if r := []rune(msg); len(r) > 1 && unicode.IsUpper(r[0]) && !unicode.IsUpper(r[1]) {
		msg = string(unicode.ToLower(r[0])) + string(r[1:])
	}
	return &Error{File: c.Path, Line: pe.Position.Line, Msg: "bad TOML: " + msg}
}

// oneLine keeps the first line of s: our errors are one line each. The
// library quotes what it read, and that may hold a carriage return.
func oneLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return strings.ReplaceAll(s, "\r", `\r`)
}

// didYouMean suggests the known name closest to name, if any is close.
func didYouMean(name string, known []string) string {
	if len(name) > 64 {
		return "" // no key is that long; skip the quadratic work
	}
	best, bestDist := "", 1<<30
	for _, k := range known {
		if d := editdist.Distance(strings.ToLower(name), k); d < bestDist {
			best, bestDist = k, d
		}
	}
	// Allow about one typo per four letters.
	if best == "" || bestDist > max(1, len(best)/4) {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// typeOf names the TOML type of a value not yet decoded, for messages.
func (d *decoder) typeOf(p toml.Primitive) string {
	var v any
	_ = d.md.PrimitiveDecode(p, &v)
	return typeName(v)
}

func typeName(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case int64, float64:
		return "a number"
	case bool:
		return "true or false"
	case time.Time:
		return "a date"
	case []any, []map[string]any:
		return "a list"
	case map[string]any:
		return "a table"
	}
	return fmt.Sprintf("%T", v)
}

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

// line returns the line of the value at p, or 0. The library keeps the
// position of every key, but hands it out only in the ParseError of a value
// whose UnmarshalTOML fails; so the value is decoded once more, into one
// that always fails. Only files with a problem pay for this.
func (d *decoder) line(p keyPath) int { return lineIn(string(d.data), p) }

// lineIn is line in data. A position is per key, not per item of a list:
// of [[tables]] the library places the last, so for an earlier one the file
// is cut before the last until it is the last; an item of an inline list,
// and whatever is in it, is placed at the list's key.
func lineIn(data string, p keyPath) int {
	var root toml.Primitive
	md, err := toml.Decode(data, &root)
	if err != nil {
		return 0
	}
	// at returns the line of the value at p, or 0; or the offset to cut the
	// file at, or -1.
	at := func(p keyPath) (line, cut int) {
		v, key := root, toml.Key{}
		for _, e := range p {
			if k, isKey := e.(string); isKey {
				var t map[string]toml.Primitive
				_ = md.PrimitiveDecode(v, &t)
				var ok bool
				if v, ok = t[k]; !ok {
					return 0, -1
				}
				key = append(key, k)
				continue
			}
			var items []toml.Primitive
			_ = md.PrimitiveDecode(v, &items)
			i := e.(int)
			if md.Type(key...) != "ArrayHash" || i >= len(items) {
				break // an inline list
			}
			if i < len(items)-1 {
				return 0, position(md, v).Start
			}
			v = items[i]
		}
		return position(md, v).Line, -1
	}
	line, cut := at(p)
	switch {
	case cut >= 0:
		return lineIn(data[:cut], p)
	case line > 0:
		return line
	}
	// No position of its own: a table that only exists through the keys
	// under it (hosts."x" in [[hosts."x".accounts]]) has the first of
	// theirs; an empty key ("" = 1), whose position the library files as
	// its table's, has that.
	var key toml.Key
	for _, e := range p {
		if k, ok := e.(string); ok {
			key = append(key, k)
		}
	}
	for _, k := range md.Keys() {
		for ; len(k) > len(key) && slices.Equal(k[:len(key)], key); k = k[:len(k)-1] {
			q := p
			for _, part := range k[len(key):] {
				q = q.with(part)
			}
			if line, cut := at(q); cut < 0 && line > 0 {
				return line
			}
		}
	}
	if len(p) > 1 {
		return lineIn(data, p[:len(p)-1])
	}
	return 0
}

// position is where the library places v: a value that always fails to
// decode reads it from the error.
func position(md toml.MetaData, v toml.Primitive) toml.Position {
	var pe toml.ParseError
	errors.As(md.PrimitiveDecode(v, refuse{}), &pe)
	return pe.Position
}

// refuse is a value that no TOML decodes into.
type refuse struct{}

func (refuse) UnmarshalTOML(any) error { return errors.New("refused") }
