package config

import (
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/BurntSushi/toml"
	"github.com/glpat-dev/git-credential-glpat/internal/editdist"
)

// The file as the TOML library decodes it. Adding a key is adding a field:
// its tag is the key, unknown keys are the ones no field names, and the
// field's type says what the value must be (text, flag and Duration check
// it in their UnmarshalTOML). validate then checks each value's meaning.
// Tables are Primitives so that each host and account is decoded on its
// own, in file order, and a problem is blamed on the right one.
type (
	fileTOML struct {
		Backend *text `toml:"backend"`
		rotationTOML
		Hosts toml.Primitive `toml:"hosts"`
	}
	hostTOML struct {
		APIURL   *text `toml:"api_url"`
		Username *text `toml:"username"`
		CAFile   *text `toml:"ca_file"`
		rotationTOML
		Accounts toml.Primitive `toml:"accounts"`
	}
	// rotationTOML is what the top level sets for every host, and a host
	// for itself.
	rotationTOML struct {
		RotateBefore *Duration `toml:"rotate_before"`
		Lifetime     *Duration `toml:"lifetime"`
		AutoRotate   *flag     `toml:"auto_rotate"`
	}
	accountTOML struct {
		Username *text  `toml:"username"`
		Paths    *paths `toml:"paths"`
	}
)

// paths is a TOML array; validate checks its items one by one, so that an
// error names the item.
type paths []any

func (p *paths) UnmarshalTOML(v any) error {
	list, ok := v.([]any)
	if !ok {
		return fmt.Errorf("want a list of paths like [\"my-group/\"], not %s", typeName(v))
	}
	*p = list
	return nil
}

// text is a TOML string without NUL characters.
type text string

func (t *text) UnmarshalTOML(v any) error {
	s, err := str(v)
	*t = text(s)
	return err
}

func str(v any) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("want a string, not %s", typeName(v))
	}
	if strings.ContainsRune(s, 0) {
		return "", errors.New("contains a NUL character")
	}
	return s, nil
}

// flag is a TOML boolean.
type flag bool

func (f *flag) UnmarshalTOML(v any) error {
	b, ok := v.(bool)
	if !ok {
		return fmt.Errorf("want true or false, not %s", typeName(v))
	}
	*f = flag(b)
	return nil
}

// UnmarshalTOML decodes a duration from a TOML string; other packages may
// decode Durations from their own TOML.
func (d *Duration) UnmarshalTOML(v any) error {
	s, ok := v.(string)
	if !ok {
		return fmt.Errorf("want a duration in quotes like \"30d\", not %s", typeName(v))
	}
	p, err := parseDuration(s)
	*d = Duration(p)
	return err
}

// decoder is one decoding of a file: the library's metadata, and what is
// needed to turn a problem into an *Error with a line.
type decoder struct {
	c    *Config
	data string
	md   toml.MetaData
}

// parse decodes data into c, over the defaults already in c. It reports the
// first problem in a fixed order: TOML syntax, unknown keys (a misspelt key
// is the likeliest cause of any later complaint), the type of each value
// (tables in file order, keys in field order), then what each value means
// (validate).
func (c *Config) parse(data []byte) error {
	d := &decoder{c: c, data: string(data)}
	var f fileTOML
	md, err := toml.Decode(d.data, &f)
	d.md = md
	if err != nil && len(md.Keys()) == 0 {
		return c.syntaxError(err, data)
	}
	if err := d.unknownKey(); err != nil {
		return err
	}
	if err != nil {
		return d.fieldError(nil, err)
	}
	var names []string
	var hosts []hostTOML
	var accounts [][]accountTOML
	if md.IsDefined("hosts") {
		var tables map[string]toml.Primitive
		// (The library decodes a value that is not a table into a map as nothing.)
		if err := md.PrimitiveDecode(f.Hosts, &tables); err != nil || tables == nil {
			return d.errorAt(keyPath{key("hosts")}, "want a table of hosts like [hosts.\"gitlab.com\"], not %s", d.typeOf(f.Hosts))
		}
		names = d.hostNames()
		for _, name := range names {
			h, a, err := d.decodeHost(name, tables[name])
			if err != nil {
				return err
			}
			hosts, accounts = append(hosts, h), append(accounts, a)
		}
	}
	return d.validate(f, names, hosts, accounts)
}

// hostNames lists the host tables in file order.
func (d *decoder) hostNames() []string {
	var names []string
	for _, k := range d.md.Keys() {
		if len(k) >= 2 && k[0] == "hosts" && !slices.Contains(names, k[1]) {
			names = append(names, k[1])
		}
	}
	return names
}

func (d *decoder) decodeHost(name string, table toml.Primitive) (hostTOML, []accountTOML, error) {
	var h hostTOML
	hp := keyPath{key("hosts"), key(name)}
	if err := d.md.PrimitiveDecode(table, &h); err != nil {
		if _, ok := err.(toml.ParseError); ok {
			return h, nil, d.fieldError(hp, err)
		}
		return h, nil, d.errorAt(hp, "want a table like [hosts.%s], not %s", tomlKey(name), d.typeOf(table))
	}
	if !d.md.IsDefined("hosts", name, "accounts") {
		return h, nil, nil
	}
	ap := hp.with(key("accounts"))
	var items []toml.Primitive
	if err := d.md.PrimitiveDecode(h.Accounts, &items); err != nil {
		return h, nil, d.errorAt(ap, "want [[hosts.….accounts]] tables, not %s", d.typeOf(h.Accounts))
	}
	accounts := make([]accountTOML, len(items))
	for i, item := range items {
		if err := d.md.PrimitiveDecode(item, &accounts[i]); err != nil {
			if _, ok := err.(toml.ParseError); ok {
				return h, nil, d.fieldError(ap.with(elem(i)), err)
			}
			return h, nil, d.errorAt(ap.with(elem(i)), "want a table with username and paths, not %s", d.typeOf(item))
		}
	}
	return h, accounts, nil
}

// fieldError turns an error from a field's UnmarshalTOML, in the table at
// p, into an *Error. The library says which key it was decoding and where.
func (d *decoder) fieldError(p keyPath, err error) error {
	var pe toml.ParseError
	if !errors.As(err, &pe) {
		return &Error{File: d.c.Path, Msg: oneLine(strings.TrimPrefix(err.Error(), "toml: "))}
	}
	// Fields are bare keys, so the last part of LastKey is the field.
	fp := p.with(key(pe.LastKey[strings.LastIndexByte(pe.LastKey, '.')+1:]))
	return &Error{File: d.c.Path, Line: pe.Position.Line, Key: fp.String(), Msg: fp.describe() + ": " + oneLine(pe.Message)}
}

// typeOf names the TOML type of a value, for messages.
func (d *decoder) typeOf(p toml.Primitive) string {
	var v any
	_ = d.md.PrimitiveDecode(p, &v)
	return typeName(v)
}

// errorAt is a problem with the value at p.
func (d *decoder) errorAt(p keyPath, format string, args ...any) error {
	return &Error{File: d.c.Path, Line: d.line(p), Key: p.String(), Msg: p.describe() + ": " + fmt.Sprintf(format, args...)}
}

// unknownKey reports the first key, in file order, that no field names.
// Keys are case-sensitive; the library, which matches field names without
// regard to case, is not asked (its Undecoded would miss "Lifetime").
func (d *decoder) unknownKey() error {
	schema := knownKeys()
	for _, k := range d.md.Keys() {
		known := schema[0]
		for i, part := range k {
			switch {
			case i == 1 && k[0] == "hosts":
				known = schema[1] // part is a host name
				continue
			case i == 3 && k[2] == "accounts":
				known = schema[2]
			}
			if !slices.Contains(known, part) {
				p := keyPath{}
				for j, part := range k[:i+1] {
					if p = p.with(key(part)); j == 2 && part == "accounts" {
						p = p.with(elem(d.accountWith(k)))
					}
				}
				msg := fmt.Sprintf("unknown key %q", part)
				if len(p) > 1 {
					msg += " in " + p[:len(p)-1].table()
				}
				return &Error{File: d.c.Path, Line: d.line(p), Key: p.String(), Msg: msg + didYouMean(part, known)}
			}
		}
	}
	return nil
}

// accountWith returns the index of the first account under hosts.<k[1]>
// that has key k[3].
func (d *decoder) accountWith(k toml.Key) int {
	var top struct {
		Hosts map[string]struct {
			Accounts []map[string]any `toml:"accounts"`
		} `toml:"hosts"`
	}
	if len(k) > 3 {
		_, _ = toml.Decode(d.data, &top)
		for i, a := range top.Hosts[k[1]].Accounts {
			if _, ok := a[k[3]]; ok {
				return i
			}
		}
	}
	return 0
}

// knownKeys lists the keys of the file's tables, the top level, a host and
// an account, from the fields' tags.
var knownKeys = sync.OnceValue(func() (keys [3][]string) {
	var tags func(t reflect.Type) []string
	tags = func(t reflect.Type) (out []string) {
		for i := range t.NumField() {
			if f := t.Field(i); f.Anonymous {
				out = append(out, tags(f.Type)...)
			} else {
				out = append(out, f.Tag.Get("toml"))
			}
		}
		return out
	}
	return [3][]string{tags(reflect.TypeFor[fileTOML]()), tags(reflect.TypeFor[hostTOML]()), tags(reflect.TypeFor[accountTOML]())}
})

// validate checks what each value means, in the order of the file's
// tables and of the fields, and fills c.
func (d *decoder) validate(f fileTOML, names []string, hosts []hostTOML, accounts [][]accountTOML) error {
	c := d.c
	if f.Backend != nil {
		b, err := d.backend(keyPath{key("backend")}, string(*f.Backend))
		if err != nil {
			return err
		}
		c.Backend = b
	}
	if err := d.rotation(nil, f.rotationTOML, c.RotateBefore, c.Lifetime); err != nil {
		return err
	}
	c.RotateBefore, c.Lifetime, c.AutoRotate = f.apply(c.RotateBefore, c.Lifetime, c.AutoRotate)
	if names != nil {
		c.hosts = make(map[string]*hostEntry, len(names))
	}
	for i, name := range names {
		e, err := d.host(name, hosts[i], accounts[i])
		if err != nil {
			return err
		}
		c.hosts[strings.ToLower(name)] = e
	}
	return nil
}

func (d *decoder) host(name string, h hostTOML, accounts []accountTOML) (*hostEntry, error) {
	p := keyPath{key("hosts"), key(name)}
	if err := d.hostKey(p, name); err != nil {
		return nil, err
	}
	if prev, dup := d.c.hosts[strings.ToLower(name)]; dup {
		return nil, d.errorAt(p, "same host as [hosts.%s]: host names are not case-sensitive", tomlKey(prev.name))
	}
	e := &hostEntry{name: name, rotation: h.rotationTOML}
	var err error
	if h.APIURL != nil {
		if e.apiURL, err = d.apiURL(p.with(key("api_url")), string(*h.APIURL)); err != nil {
			return nil, err
		}
	}
	if h.Username != nil {
		if e.username, err = d.username(p.with(key("username")), string(*h.Username)); err != nil {
			return nil, err
		}
	}
	if h.CAFile != nil {
		if e.caFile = string(*h.CAFile); !filepath.IsAbs(e.caFile) {
			return nil, d.errorAt(p.with(key("ca_file")), "%q is not an absolute path", e.caFile)
		}
	}
	if err := d.rotation(p, h.rotationTOML, d.c.RotateBefore, d.c.Lifetime); err != nil {
		return nil, err
	}
	if e.accounts, err = d.accounts(p.with(key("accounts")), accounts); err != nil {
		return nil, err
	}
	return e, nil
}

// apply returns the values a table inherits with r's over them.
func (r rotationTOML) apply(rotateBefore, lifetime Duration, autoRotate bool) (Duration, Duration, bool) {
	if r.RotateBefore != nil {
		rotateBefore = *r.RotateBefore
	}
	if r.Lifetime != nil {
		lifetime = *r.Lifetime
	}
	if r.AutoRotate != nil {
		autoRotate = bool(*r.AutoRotate)
	}
	return rotateBefore, lifetime, autoRotate
}

// rotation checks rotate_before and lifetime in the table at p. Each must
// be more than zero (to stop rotating, auto_rotate = false says so plainly)
// and at most the longest lifetime GitLab allows. And a rotated token must
// not be due for rotation again at once: GitLab expiry is a date, so a token
// rotated late in a UTC day lives up to a day less than lifetime, and
// lifetime must exceed rotate_before by a day, or every git command would
// rotate. That error points at rotate_before when the table sets it, else
// at lifetime, so a per-host override is blamed rather than the global
// value it conflicts with.
func (d *decoder) rotation(p keyPath, r rotationTOML, rotateBefore, lifetime Duration) error {
	for _, v := range []struct {
		name string
		d    *Duration
	}{{"rotate_before", r.RotateBefore}, {"lifetime", r.Lifetime}} {
		switch kp := p.with(key(v.name)); {
		case v.d == nil:
		case *v.d <= 0 && v.name == "rotate_before":
			return d.errorAt(kp, "must be more than 0 (to stop rotating, set auto_rotate = false)")
		case *v.d <= 0:
			return d.errorAt(kp, "must be more than 0")
		case *v.d > MaxLifetime:
			return d.errorAt(kp, "%s is more than %s, the longest lifetime GitLab allows", *v.d, MaxLifetime)
		case v.name == "lifetime" && *v.d < Duration(Day):
			return d.errorAt(kp, "%s is less than 1d; GitLab gives tokens an expiry date, not a time", *v.d)
		}
	}
	rotateBefore, lifetime, _ = r.apply(rotateBefore, lifetime, false)
	switch {
	case rotateBefore+Duration(Day) <= lifetime:
		return nil
	case r.RotateBefore != nil:
		return d.errorAt(p.with(key("rotate_before")), "%s is not at least a day shorter than lifetime %s: a rotated token would be due for rotation at once", rotateBefore, lifetime)
	}
	return d.errorAt(p.with(key("lifetime")), "%s is not at least a day longer than rotate_before %s: a rotated token would be due for rotation at once", lifetime, rotateBefore)
}

// hostKey accepts what Git sends as `host`: a host name or IP literal with
// an optional port (https://git-scm.com/docs/git-credential#IOFMT).
func (d *decoder) hostKey(p keyPath, name string) error {
	if name == "" {
		return d.errorAt(p, "empty host name")
	}
	if strings.Contains(name, "://") || strings.ContainsAny(name, "/@") {
		return d.errorAt(p, "want a host name like \"gitlab.com\" or \"gitlab.example.com:8443\", not a URL")
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune(".-_:[]", r) || r > unicode.MaxASCII && unicode.IsLetter(r)) {
			return d.errorAt(p, "%q is not a host name", name)
		}
	}
	if i := strings.LastIndexByte(name, ':'); i >= 0 && !strings.HasSuffix(name, "]") {
		port, err := strconv.Atoi(name[i+1:])
		if err != nil || port < 1 || port > 65535 || name[i+1] == '0' {
			return d.errorAt(p, "%q has a bad port", name)
		}
	}
	return nil
}

func (d *decoder) accounts(p keyPath, in []accountTOML) ([]Account, error) {
	if in == nil {
		return nil, nil
	}
	out := make([]Account, len(in))
	owner := map[string]int{} // lower-cased path → account index
	for i, a := range in {
		ap := p.with(elem(i))
		switch {
		case a.Username == nil:
			return nil, d.errorAt(ap, "missing username")
		case a.Paths == nil:
			return nil, d.errorAt(ap, "missing paths, like paths = [\"my-group/\"]")
		case len(*a.Paths) == 0:
			return nil, d.errorAt(ap.with(key("paths")), "empty list; give the group paths this account is for")
		}
		var err error
		if out[i].Username, err = d.username(ap.with(key("username")), string(*a.Username)); err != nil {
			return nil, err
		}
		for j, v := range *a.Paths {
			pp := ap.with(key("paths")).with(elem(j))
			s, err := str(v)
			if err != nil {
				return nil, d.errorAt(pp, "%v", err)
			}
			path := strings.Trim(s, "/")
			switch other, dup := owner[strings.ToLower(path)]; {
			case path == "":
				return nil, d.errorAt(pp, "empty path; set username in the host's table for its default account")
			case strings.Contains(path, "//") || hasControl(path):
				return nil, d.errorAt(pp, "%q is not a group path", s)
			case dup:
				return nil, d.errorAt(pp, "%q is already in the paths of account %d", path, other+1)
			}
			owner[strings.ToLower(path)] = i
			out[i].Paths = append(out[i].Paths, path)
		}
	}
	return out, nil
}

// username refuses control characters: the username is written into the
// credential protocol, where a newline would start a new attribute
// (https://git-scm.com/docs/git-credential#IOFMT).
func (d *decoder) username(p keyPath, s string) (string, error) {
	switch {
	case s == "":
		return "", d.errorAt(p, "empty username")
	case hasControl(s):
		return "", d.errorAt(p, "contains a control character")
	}
	return s, nil
}

func hasControl(s string) bool {
	return strings.ContainsFunc(s, unicode.IsControl)
}

// apiURL accepts an http(s) URL without credentials, query or fragment, and
// drops a trailing slash so that paths join cleanly.
func (d *decoder) apiURL(p keyPath, s string) (string, error) {
	u, err := url.Parse(s)
	switch {
	case err != nil || hasControl(s):
		return "", d.errorAt(p, "%q is not a URL", s)
	case u.Scheme != "https" && u.Scheme != "http":
		return "", d.errorAt(p, "%q is not an http or https URL, like \"https://gitlab.example.com/api/v4\"", s)
	case u.User != nil:
		return "", d.errorAt(p, "must not contain a username or password; tokens live in the keychain")
	case u.Host == "" || u.Opaque != "":
		return "", d.errorAt(p, "%q has no host", s)
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return "", d.errorAt(p, "%q must not have a query or fragment", s)
	}
	return strings.TrimRight(s, "/"), nil
}

func (d *decoder) backend(p keyPath, s string) (Backend, error) {
	if slices.Contains(backends, Backend(s)) {
		return Backend(s), nil
	}
	names := make([]string, len(backends))
	for i, b := range backends {
		names[i] = string(b)
	}
	if hint := didYouMean(s, names); hint != "" {
		return "", d.errorAt(p, "unknown backend %q%s", s, hint)
	}
	return "", d.errorAt(p, "unknown backend %q; want %q, %q or %q", s, backends[0], backends[1], backends[2])
}

// syntaxError turns a TOML syntax error into a one-line *Error.
func (c *Config) syntaxError(err error, data []byte) error {
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
	return &Error{File: c.Path, Line: syntaxLine(data, pe.Position), Msg: "bad TOML: " + msg}
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
