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
)

// The keys each table allows. Unknown keys are errors, so a typo cannot
// silently leave rotation off.
var (
	topKeys     = []string{"backend", "rotate_before", "lifetime", "auto_rotate", "hosts"}
	hostKeys    = []string{"api_url", "username", "ca_file", "rotate_before", "lifetime", "auto_rotate", "accounts"}
	accountKeys = []string{"username", "paths"}
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

// valueError is a problem with the value at a path; parse turns it into an
// *Error with the line number.
type valueError struct {
	path keyPath
	msg  string
	// whole means msg names the key itself and needs no lead.
	whole bool
}

func (e *valueError) Error() string {
	if e.whole {
		return e.msg
	}
	return e.path.describe() + ": " + e.msg
}

func bad(p keyPath, format string, args ...any) error {
	return &valueError{path: p, msg: fmt.Sprintf(format, args...)}
}

// parse decodes data into c, over the defaults already in c.
func (c *Config) parse(data []byte) error {
	var raw map[string]any
	if err := toml.Unmarshal(data, &raw); err != nil {
		return c.syntaxError(err, data)
	}
	errs := c.decode(raw)
	if len(errs) == 0 {
		return nil
	}
	// Report the problem nearest the top of the file: that is where a
	// person reading it starts. Finding lines costs a scan of the file,
	// which only files with errors pay.
	lines := scanKeys(string(data))
	var first *Error
	for _, err := range errs {
		var ve *valueError
		if !errors.As(err, &ve) {
			return err
		}
		e := &Error{File: c.Path, Line: lines.find(ve.path), Key: ve.path.String(), Msg: ve.Error()}
		if first == nil || e.Line > 0 && (first.Line == 0 || e.Line < first.Line) {
			first = e
		}
	}
	return first
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

// oneLine keeps the first line of s: our errors are one line each.
func oneLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// decode fills c from raw and returns every problem it finds.
func (c *Config) decode(raw map[string]any) []error {
	var errs []error
	for _, k := range sortedKeys(raw) {
		v, p := raw[k], keyPath{key(k)}
		var err error
		switch k {
		case "backend":
			c.Backend, err = decodeBackend(p, v)
		case "rotate_before":
			c.RotateBefore, err = decodeDuration(p, v)
		case "lifetime":
			c.Lifetime, err = decodeDuration(p, v)
		case "auto_rotate":
			c.AutoRotate, err = decodeBool(p, v)
		case "hosts":
			err = c.decodeHosts(p, v)
		default:
			err = unknownKey(p, topKeys)
		}
		errs = appendErr(errs, err)
	}
	if len(errs) > 0 {
		// Lifetimes are only compared once each is valid on its own.
		return errs
	}
	if err := checkLifetimes(nil, raw, c.RotateBefore, c.Lifetime); err != nil {
		return []error{err}
	}
	for _, k := range sortedKeys(c.hosts) {
		e := c.hosts[k]
		h := c.Host(e.name)
		p := keyPath{key("hosts"), key(e.name)}
		set := map[string]any{}
		if e.rotateBefore != nil {
			set["rotate_before"] = true
		}
		if e.lifetime != nil {
			set["lifetime"] = true
		}
		if len(set) == 0 {
			continue
		}
		errs = appendErr(errs, checkLifetimes(p, set, h.RotateBefore, h.Lifetime))
	}
	return errs
}

// appendErr appends err to errs unless it is nil, flattening joined errors.
func appendErr(errs []error, err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			errs = appendErr(errs, e)
		}
		return errs
	}
	if err != nil {
		errs = append(errs, err)
	}
	return errs
}

// checkLifetimes checks that a rotated token is not due for rotation again
// at once. The error points at whichever of the two keys table sets, so a
// per-host override is blamed rather than the global value it conflicts with.
//
// GitLab expiry is a date, so a token rotated late in a UTC day lives up to a
// day less than lifetime: lifetime must exceed rotate_before by a day, or a
// fresh token could be due again at once and every git command would rotate.
func checkLifetimes(p keyPath, table map[string]any, rotateBefore, lifetime Duration) error {
	if rotateBefore+Duration(Day) <= lifetime {
		return nil
	}
	if _, ok := table["rotate_before"]; ok {
		return bad(p.with(key("rotate_before")), "%s is not at least a day shorter than lifetime %s: a rotated token would be due for rotation at once", rotateBefore, lifetime)
	}
	return bad(p.with(key("lifetime")), "%s is not at least a day longer than rotate_before %s: a rotated token would be due for rotation at once", lifetime, rotateBefore)
}

func (c *Config) decodeHosts(p keyPath, v any) error {
	table, ok := v.(map[string]any)
	if !ok {
		return bad(p, "want a table of hosts like [hosts.\"gitlab.com\"], not %s", typeName(v))
	}
	c.hosts = make(map[string]*hostEntry, len(table))
	var errs []error
	for _, name := range sortedKeys(table) {
		hp := p.with(key(name))
		if err := checkHostKey(hp, name); err != nil {
			errs = append(errs, err)
			continue
		}
		lower := strings.ToLower(name)
		if prev, dup := c.hosts[lower]; dup {
			errs = append(errs, bad(hp, "same host as [hosts.%s]: host names are not case-sensitive", tomlKey(prev.name)))
			continue
		}
		e, err := decodeHost(hp, name, table[name])
		errs = appendErr(errs, err)
		c.hosts[lower] = e
	}
	return errors.Join(errs...)
}

// checkHostKey accepts what Git sends as `host`: a host name or IP literal
// with an optional port (https://git-scm.com/docs/git-credential#IOFMT).
func checkHostKey(p keyPath, name string) error {
	if name == "" {
		return bad(p, "empty host name")
	}
	if strings.Contains(name, "://") || strings.ContainsAny(name, "/@") {
		return bad(p, "want a host name like \"gitlab.com\" or \"gitlab.example.com:8443\", not a URL")
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune(".-_:[]", r) || r > unicode.MaxASCII && unicode.IsLetter(r)) {
			return bad(p, "%q is not a host name", name)
		}
	}
	if i := strings.LastIndexByte(name, ':'); i >= 0 && !strings.HasSuffix(name, "]") {
		port, err := strconv.Atoi(name[i+1:])
		if err != nil || port < 1 || port > 65535 || name[i+1] == '0' {
			return bad(p, "%q has a bad port", name)
		}
	}
	return nil
}

// decodeHost decodes one host table. It returns the entry even when some
// values are bad, so that the other hosts can still be checked.
func decodeHost(p keyPath, name string, v any) (*hostEntry, error) {
	e := &hostEntry{name: name}
	table, ok := v.(map[string]any)
	if !ok {
		return e, bad(p, "want a table like [hosts.%s], not %s", tomlKey(name), typeName(v))
	}
	var errs []error
	for _, k := range sortedKeys(table) {
		v, kp := table[k], p.with(key(k))
		var err error
		switch k {
		case "api_url":
			e.apiURL, err = decodeAPIURL(kp, v)
		case "username":
			e.username, err = decodeUsername(kp, v)
		case "ca_file":
			e.caFile, err = decodeString(kp, v)
			if err == nil && !filepath.IsAbs(e.caFile) {
				err = bad(kp, "%q is not an absolute path", e.caFile)
			}
		case "rotate_before":
			var d Duration
			if d, err = decodeDuration(kp, v); err == nil {
				e.rotateBefore = &d
			}
		case "lifetime":
			var d Duration
			if d, err = decodeDuration(kp, v); err == nil {
				e.lifetime = &d
			}
		case "auto_rotate":
			var b bool
			if b, err = decodeBool(kp, v); err == nil {
				e.autoRotate = &b
			}
		case "accounts":
			e.accounts, err = decodeAccounts(kp, v)
		default:
			err = unknownKey(kp, hostKeys)
		}
		errs = appendErr(errs, err)
	}
	return e, errors.Join(errs...)
}

func decodeAccounts(p keyPath, v any) ([]Account, error) {
	var items []any
	switch v := v.(type) {
	case []map[string]any: // [[hosts."…".accounts]]
		for _, m := range v {
			items = append(items, m)
		}
	case []any: // accounts = [{…}, {…}]
		items = v
	default:
		return nil, bad(p, "want [[hosts.….accounts]] tables, not %s", typeName(v))
	}
	accounts := make([]Account, 0, len(items))
	owner := map[string]int{} // lower-cased path → account index
	var errs []error
	for i, item := range items {
		ap := p.with(elem(i))
		table, ok := item.(map[string]any)
		if !ok {
			errs = append(errs, bad(ap, "want a table with username and paths, not %s", typeName(item)))
			continue
		}
		var a Account
		unknown := false
		for _, k := range sortedKeys(table) {
			v, kp := table[k], ap.with(key(k))
			var err error
			switch k {
			case "username":
				a.Username, err = decodeUsername(kp, v)
			case "paths":
				a.Paths, err = decodePaths(kp, v)
			default:
				err = unknownKey(kp, accountKeys)
				unknown = true
			}
			errs = appendErr(errs, err)
		}
		// A missing key next to an unknown one is most likely misspelt:
		// the unknown key is the error worth reading.
		if _, ok := table["username"]; !ok && !unknown {
			errs = append(errs, bad(ap, "missing username"))
		}
		if _, ok := table["paths"]; !ok && !unknown {
			errs = append(errs, bad(ap, "missing paths, like paths = [\"my-group/\"]"))
		}
		for j, path := range a.Paths {
			lower := strings.ToLower(path)
			if other, dup := owner[lower]; dup {
				errs = append(errs, bad(ap.with(key("paths")).with(elem(j)), "%q is already in the paths of account %d", path, other+1))
				continue
			}
			owner[lower] = i
		}
		accounts = append(accounts, a)
	}
	return accounts, errors.Join(errs...)
}

func decodePaths(p keyPath, v any) ([]string, error) {
	list, ok := v.([]any)
	if !ok {
		return nil, bad(p, "want a list of paths like [\"my-group/\"], not %s", typeName(v))
	}
	if len(list) == 0 {
		return nil, bad(p, "empty list; give the group paths this account is for")
	}
	paths := make([]string, 0, len(list))
	for i, item := range list {
		s, err := decodeString(p.with(elem(i)), item)
		if err != nil {
			return nil, err
		}
		trimmed := strings.Trim(s, "/")
		if trimmed == "" {
			return nil, bad(p.with(elem(i)), "empty path; set username in the host's table for its default account")
		}
		if strings.Contains(trimmed, "//") || hasControl(trimmed) {
			return nil, bad(p.with(elem(i)), "%q is not a group path", s)
		}
		paths = append(paths, trimmed)
	}
	return paths, nil
}

func decodeString(p keyPath, v any) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", bad(p, "want a string, not %s", typeName(v))
	}
	if strings.ContainsRune(s, 0) {
		return "", bad(p, "contains a NUL character")
	}
	return s, nil
}

// decodeUsername refuses control characters: the username is written into
// the credential protocol, where a newline would start a new attribute
// (https://git-scm.com/docs/git-credential#IOFMT).
func decodeUsername(p keyPath, v any) (string, error) {
	s, err := decodeString(p, v)
	if err != nil {
		return "", err
	}
	if s == "" {
		return "", bad(p, "empty username")
	}
	if hasControl(s) {
		return "", bad(p, "contains a control character")
	}
	return s, nil
}

func hasControl(s string) bool {
	return strings.ContainsFunc(s, unicode.IsControl)
}

// decodeAPIURL accepts an http(s) URL without credentials, query or
// fragment, and drops a trailing slash so that paths join cleanly.
func decodeAPIURL(p keyPath, v any) (string, error) {
	s, err := decodeString(p, v)
	if err != nil {
		return "", err
	}
	u, err := url.Parse(s)
	if err != nil || hasControl(s) {
		return "", bad(p, "%q is not a URL", s)
	}
	switch {
	case u.Scheme != "https" && u.Scheme != "http":
		return "", bad(p, "%q is not an http or https URL, like \"https://gitlab.example.com/api/v4\"", s)
	case u.User != nil:
		return "", bad(p, "must not contain a username or password; tokens live in the keychain")
	case u.Host == "" || u.Opaque != "":
		return "", bad(p, "%q has no host", s)
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return "", bad(p, "%q must not have a query or fragment", s)
	}
	return strings.TrimRight(s, "/"), nil
}

func decodeBackend(p keyPath, v any) (Backend, error) {
	s, err := decodeString(p, v)
	if err != nil {
		return "", err
	}
	if slices.Contains(backends, Backend(s)) {
		return Backend(s), nil
	}
	names := make([]string, len(backends))
	for i, b := range backends {
		names[i] = string(b)
	}
	if hint := didYouMean(s, names); hint != "" {
		return "", bad(p, "unknown backend %q%s", s, hint)
	}
	return "", bad(p, "unknown backend %q; want %q, %q or %q", s, backends[0], backends[1], backends[2])
}

func decodeBool(p keyPath, v any) (bool, error) {
	b, ok := v.(bool)
	if !ok {
		return false, bad(p, "want true or false, not %s", typeName(v))
	}
	return b, nil
}

// decodeDuration decodes rotate_before and lifetime, which have the same
// bounds: more than zero (to stop rotating, auto_rotate = false says so
// plainly) and at most the longest lifetime GitLab allows.
func decodeDuration(p keyPath, v any) (Duration, error) {
	s, ok := v.(string)
	if !ok {
		return 0, bad(p, "want a duration in quotes like \"30d\", not %s", typeName(v))
	}
	d, err := parseDuration(s)
	if err != nil {
		return 0, bad(p, "%v", err)
	}
	switch name := p[len(p)-1].key; {
	case d <= 0:
		if name == "rotate_before" {
			return 0, bad(p, "must be more than 0 (to stop rotating, set auto_rotate = false)")
		}
		return 0, bad(p, "must be more than 0")
	case Duration(d) > MaxLifetime:
		return 0, bad(p, "%s is more than %s, the longest lifetime GitLab allows", Duration(d), MaxLifetime)
	case name == "lifetime" && d < time.Duration(Day):
		return 0, bad(p, "%s is less than 1d; GitLab gives tokens an expiry date, not a time", Duration(d))
	}
	return Duration(d), nil
}

func unknownKey(p keyPath, known []string) error {
	name := p[len(p)-1].key
	msg := fmt.Sprintf("unknown key %q", name)
	if parent := p[:len(p)-1]; len(parent) > 0 {
		msg += " in " + parent.table()
	}
	return &valueError{path: p, msg: msg + didYouMean(name, known), whole: true}
}

// didYouMean suggests the known name closest to name, if any is close.
func didYouMean(name string, known []string) string {
	if len(name) > 64 {
		return "" // no key is that long; skip the quadratic work
	}
	best, bestDist := "", 1<<30
	for _, k := range known {
		if d := editDistance(strings.ToLower(name), k); d < bestDist {
			best, bestDist = k, d
		}
	}
	// Allow about one typo per four letters.
	if best == "" || bestDist > max(1, len(best)/4) {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// editDistance is the optimal string alignment distance between a and b,
// in bytes: insertions, deletions, substitutions and swaps of neighbours
// ("pahts") each count one.
func editDistance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}

func typeName(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case int64:
		return "a number"
	case float64:
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

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
