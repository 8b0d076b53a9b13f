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
// field's type says what the value must be. validate then checks each
// value's meaning. Hosts and accounts are Primitives so that each is
// decoded on its own, in file order, and a problem is blamed on the right one.
type (
	fileTOML struct {
		Backend *leaf[string] `toml:"backend"`
		rotationTOML
		Hosts toml.Primitive `toml:"hosts"`
	}
	hostTOML struct {
		APIURL   *leaf[string] `toml:"api_url"`
		Username *leaf[string] `toml:"username"`
		CAFile   *leaf[string] `toml:"ca_file"`
		// OAuthClientID is the Application ID login --oauth uses.
		OAuthClientID *leaf[string] `toml:"oauth_client_id"`
		rotationTOML
		Accounts toml.Primitive `toml:"accounts"`
	}
	// rotationTOML is what the top level sets for every host, and a host
	// for itself.
	rotationTOML struct {
		RotateBefore *leaf[Duration] `toml:"rotate_before"`
		Lifetime     *leaf[Duration] `toml:"lifetime"`
		AutoRotate   *leaf[bool]     `toml:"auto_rotate"`
	}
	accountTOML struct {
		Username *leaf[string] `toml:"username"`
		Paths    *leaf[[]any]  `toml:"paths"` // items are checked one by one, so that an error names the item
	}
)

// leaf is a value the library hands over as it parsed it. A value of the
// wrong type is kept as an error rather than returned: the library decodes
// a table's keys in map order, and problems are reported in field order.
type leaf[T string | bool | Duration | []any] struct {
	v   T
	err error
}

func (l *leaf[T]) UnmarshalTOML(v any) error {
	switch p := any(&l.v).(type) {
	case *string:
		*p, l.err = str(v)
	case *bool:
		*p, l.err = as[bool](v, "true or false")
	case *[]any:
		*p, l.err = as[[]any](v, `a list of paths like ["my-group/"]`)
	case *Duration:
		var s string
		if s, l.err = as[string](v, `a duration in quotes like "30d"`); l.err == nil {
			d, err := parseDuration(s)
			*p, l.err = Duration(d), err
		}
	}
	return nil
}

func (l *leaf[T]) typeError() error {
	if l == nil {
		return nil
	}
	return l.err
}

// as returns v as a T, or an error that says what was wanted.
func as[T any](v any, want string) (T, error) {
	t, ok := v.(T)
	if !ok {
		return t, fmt.Errorf("want %s, not %s", want, typeName(v))
	}
	return t, nil
}

func str(v any) (string, error) {
	s, err := as[string](v, "a string")
	if err == nil && strings.ContainsRune(s, 0) {
		err = errors.New("contains a NUL character")
	}
	return s, err
}

// host is one [hosts."…"] table and its accounts, as decoded.
type host struct {
	name string
	hostTOML
	accounts []accountTOML
}

// decoder is one decoding of a file. It keeps the first problem found,
// and every later check does nothing; the checks run in the order their
// problems are reported in.
type decoder struct {
	c    *Config
	data string
	md   toml.MetaData
	err  error
}

// bad records a problem with the value at p, unless one came first.
func (d *decoder) bad(p keyPath, format string, args ...any) {
	if d.err == nil {
		d.err = &Error{File: d.c.Path, Line: d.line(p), Key: p.String(), Msg: p.describe() + ": " + fmt.Sprintf(format, args...)}
	}
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
	if err != nil {
		return c.syntaxError(err, data)
	}
	d.md = md
	d.unknownKey()
	d.typeError(nil, &f)
	hosts := d.hosts(f.Hosts)
	if d.err == nil {
		d.validate(&f, hosts)
	}
	return d.err
}

// hosts decodes the host tables in file order, and the accounts of each.
func (d *decoder) hosts(v toml.Primitive) []host {
	var tables map[string]toml.Primitive
	if !d.md.IsDefined("hosts") {
		return nil
	}
	// (The library decodes a value that is not a table into a map as nothing.)
	if d.md.PrimitiveDecode(v, &tables); tables == nil {
		d.bad(keyPath{"hosts"}, "want a table of hosts like [hosts.\"gitlab.com\"], not %s", d.typeOf(v))
		return nil
	}
	var hosts []host
	for _, k := range d.md.Keys() {
		if len(k) < 2 || k[0] != "hosts" || slices.ContainsFunc(hosts, func(h host) bool { return h.name == k[1] }) {
			continue
		}
		h, p := host{name: k[1]}, keyPath{"hosts", k[1]}
		if err := d.md.PrimitiveDecode(tables[h.name], &h.hostTOML); err != nil {
			d.bad(p, "want a table like [hosts.%s], not %s", tomlKey(h.name), d.typeOf(tables[h.name]))
			continue
		}
		d.typeError(p, &h.hostTOML)
		var items []toml.Primitive
		if d.md.IsDefined("hosts", h.name, "accounts") && d.md.PrimitiveDecode(h.Accounts, &items) != nil {
			d.bad(p.with("accounts"), "want [[hosts.….accounts]] tables, not %s", d.typeOf(h.Accounts))
		}
		h.accounts = make([]accountTOML, len(items))
		for i, item := range items {
			if err := d.md.PrimitiveDecode(item, &h.accounts[i]); err != nil {
				d.bad(p.with("accounts", i), "want a table with username and paths, not %s", d.typeOf(item))
			}
			d.typeError(p.with("accounts", i), &h.accounts[i])
		}
		hosts = append(hosts, h)
	}
	return hosts
}

// typeError reports the first value in the table t, in field order, that
// has the wrong type.
func (d *decoder) typeError(p keyPath, t any) {
	v := reflect.ValueOf(t).Elem()
	tab := tables()[v.Type()]
	for i, index := range tab.fields {
		if l, ok := v.FieldByIndex(index).Interface().(interface{ typeError() error }); ok && l.typeError() != nil {
			d.bad(p.with(tab.keys[i]), "%v", l.typeError())
			return
		}
	}
}

// table is the keys of one of the file's tables, and the fields of its
// struct that hold them.
type table struct {
	keys   []string
	fields [][]int
}

var tables = sync.OnceValue(func() map[reflect.Type]table {
	m := map[reflect.Type]table{}
	for _, t := range []reflect.Type{reflect.TypeFor[fileTOML](), reflect.TypeFor[hostTOML](), reflect.TypeFor[accountTOML]()} {
		var tab table
		for _, f := range reflect.VisibleFields(t) {
			if !f.Anonymous {
				tab.keys, tab.fields = append(tab.keys, f.Tag.Get("toml")), append(tab.fields, f.Index)
			}
		}
		m[t] = tab
	}
	return m
})

// typeOf names the TOML type of a value, for messages.
func (d *decoder) typeOf(p toml.Primitive) string {
	var v any
	_ = d.md.PrimitiveDecode(p, &v)
	return typeName(v)
}

// unknownKey reports the first key, in file order, that no field names.
// Keys are case-sensitive; the library, which matches field names without
// regard to case, is not asked (its Undecoded would miss "Lifetime").
func (d *decoder) unknownKey() {
	schema := tables()
	top, host, account := schema[reflect.TypeFor[fileTOML]()].keys, schema[reflect.TypeFor[hostTOML]()].keys, schema[reflect.TypeFor[accountTOML]()].keys
	for _, k := range d.md.Keys() {
		known := top
		for i, part := range k {
			switch {
			case i == 1 && k[0] == "hosts":
				known = host // part is a host name
				continue
			case i == 3 && k[2] == "accounts":
				known = account
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
			d.err = &Error{File: d.c.Path, Line: d.line(p), Key: p.String(), Msg: msg + didYouMean(part, known)}
			return
		}
	}
}

// accountWith returns the index of the first account under hosts.<k[1]>
// that has key k[3].
func (d *decoder) accountWith(k toml.Key) int {
	var top struct {
		Hosts map[string]struct {
			Accounts []map[string]any `toml:"accounts"`
		} `toml:"hosts"`
	}
	_, _ = toml.Decode(d.data, &top)
	for i, a := range top.Hosts[k[1]].Accounts {
		if _, ok := a[k[3]]; ok {
			return i
		}
	}
	return 0
}

// validate checks what each value means, in the order of the file's
// tables and of the fields, and fills c.
func (d *decoder) validate(f *fileTOML, hosts []host) {
	c := d.c
	if f.Backend != nil {
		if c.Backend = Backend(f.Backend.v); !slices.Contains(backends, c.Backend) {
			names := make([]string, len(backends))
			for i, b := range backends {
				names[i] = string(b)
			}
			hint := didYouMean(f.Backend.v, names)
			if hint == "" {
				hint = fmt.Sprintf("; want %q, %q or %q", backends[0], backends[1], backends[2])
			}
			d.bad(keyPath{"backend"}, "unknown backend %q%s", c.Backend, hint)
		}
	}
	d.rotation(nil, f.rotationTOML, c.RotateBefore, c.Lifetime)
	c.RotateBefore, c.Lifetime, c.AutoRotate = f.apply(c.RotateBefore, c.Lifetime, c.AutoRotate)
	if hosts != nil {
		c.hosts = make(map[string]HostConfig, len(hosts))
	}
	for _, h := range hosts {
		p := keyPath{"hosts", h.name}
		d.hostName(p, h.name)
		if prev, dup := c.hosts[strings.ToLower(h.name)]; dup {
			d.bad(p, "same host as [hosts.%s]: host names are not case-sensitive", tomlKey(prev.Host))
		}
		e := HostConfig{Host: h.name, Known: true}
		if h.APIURL != nil {
			e.APIURL = d.apiURL(p.with("api_url"), h.APIURL.v)
		}
		if h.Username != nil {
			e.Username = d.username(p.with("username"), h.Username.v)
		}
		if h.CAFile != nil && !filepath.IsAbs(h.CAFile.v) {
			d.bad(p.with("ca_file"), "%q is not an absolute path", h.CAFile.v)
		} else if h.CAFile != nil {
			e.CAFile = h.CAFile.v
		}
		if h.OAuthClientID != nil {
			e.OAuthClientID = d.clientID(p.with("oauth_client_id"), h.OAuthClientID.v)
		}
		d.rotation(p, h.rotationTOML, c.RotateBefore, c.Lifetime)
		e.RotateBefore, e.Lifetime, e.AutoRotate = h.apply(c.RotateBefore, c.Lifetime, c.AutoRotate)
		e.Accounts = d.accounts(p.with("accounts"), h.accounts)
		c.hosts[strings.ToLower(h.name)] = e
	}
}

// apply returns the values a table inherits with r's over them.
func (r rotationTOML) apply(rotateBefore, lifetime Duration, autoRotate bool) (Duration, Duration, bool) {
	if r.RotateBefore != nil {
		rotateBefore = r.RotateBefore.v
	}
	if r.Lifetime != nil {
		lifetime = r.Lifetime.v
	}
	if r.AutoRotate != nil {
		autoRotate = r.AutoRotate.v
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
func (d *decoder) rotation(p keyPath, r rotationTOML, rotateBefore, lifetime Duration) {
	bound := func(k string, v *leaf[Duration], zero string) {
		switch {
		case v == nil:
		case v.v <= 0:
			d.bad(p.with(k), "must be more than 0%s", zero)
		case v.v > MaxLifetime:
			d.bad(p.with(k), "%s is more than %s, the longest lifetime GitLab allows", v.v, MaxLifetime)
		case k == "lifetime" && v.v < Duration(Day):
			d.bad(p.with(k), "%s is less than 1d; GitLab gives tokens an expiry date, not a time", v.v)
		}
	}
	bound("rotate_before", r.RotateBefore, " (to stop rotating, set auto_rotate = false)")
	bound("lifetime", r.Lifetime, "")
	rotateBefore, lifetime, _ = r.apply(rotateBefore, lifetime, false)
	switch {
	case rotateBefore+Duration(Day) <= lifetime:
	case r.RotateBefore != nil:
		d.bad(p.with("rotate_before"), "%s is not at least a day shorter than lifetime %s: a rotated token would be due for rotation at once", rotateBefore, lifetime)
	default:
		d.bad(p.with("lifetime"), "%s is not at least a day longer than rotate_before %s: a rotated token would be due for rotation at once", lifetime, rotateBefore)
	}
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

func (d *decoder) accounts(p keyPath, in []accountTOML) []Account {
	var out []Account
	owner := map[string]int{} // lower-cased path → account index
	for i, a := range in {
		switch ap := p.with(i); {
		case a.Username == nil:
			d.bad(ap, "missing username")
		case a.Paths == nil:
			d.bad(ap, "missing paths, like paths = [\"my-group/\"]")
		case len(a.Paths.v) == 0:
			d.bad(ap.with("paths"), "empty list; give the group paths this account is for")
		default:
			out = append(out, Account{Username: d.username(ap.with("username"), a.Username.v)})
			for j, v := range a.Paths.v {
				pp := ap.with("paths", j)
				s, err := str(v)
				path := strings.Trim(s, "/")
				switch other, dup := owner[strings.ToLower(path)]; {
				case err != nil:
					d.bad(pp, "%v", err)
				case path == "":
					d.bad(pp, "empty path; set username in the host's table for its default account")
				case strings.Contains(path, "//") || hasControl(path):
					d.bad(pp, "%q is not a group path", s)
				case dup:
					d.bad(pp, "%q is already in the paths of account %d", path, other+1)
				}
				owner[strings.ToLower(path)] = i
				out[i].Paths = append(out[i].Paths, path)
			}
		}
		if d.err != nil {
			return nil
		}
	}
	return out
}

// username refuses control characters: the username is written into the
// credential protocol, where a newline would start a new attribute
// (https://git-scm.com/docs/git-credential#IOFMT).
func (d *decoder) username(p keyPath, s string) string {
	switch {
	case s == "":
		d.bad(p, "empty username")
	case hasControl(s):
		d.bad(p, "contains a control character")
	}
	return s
}

// clientID accepts an OAuth application's ID: GitLab's are 64 hex digits,
// but any visible characters without spaces are taken.
func (d *decoder) clientID(p keyPath, s string) string {
	switch {
	case s == "":
		d.bad(p, "empty; remove the line or give the Application ID")
	case strings.ContainsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }):
		d.bad(p, "%q is not an application ID (GitLab's Application ID, without spaces)", s)
	}
	return s
}

func hasControl(s string) bool {
	return strings.ContainsFunc(s, unicode.IsControl)
}

// apiURL accepts an http(s) URL without credentials, query or fragment, and
// drops a trailing slash so that paths join cleanly.
func (d *decoder) apiURL(p keyPath, s string) string {
	u, err := url.Parse(s)
	switch {
	case err != nil || hasControl(s):
		d.bad(p, "%q is not a URL", s)
	case u.Scheme != "https" && u.Scheme != "http":
		d.bad(p, "%q is not an http or https URL, like \"https://gitlab.example.com/api/v4\"", s)
	case u.User != nil:
		d.bad(p, "must not contain a username or password; tokens live in the keychain")
	case u.Host == "" || u.Opaque != "":
		d.bad(p, "%q has no host", s)
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		d.bad(p, "%q must not have a query or fragment", s)
	}
	return strings.TrimRight(s, "/")
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
