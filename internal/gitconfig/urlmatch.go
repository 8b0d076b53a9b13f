package gitconfig

import (
	"strconv"
	"strings"
)

// This file replays how Git picks the credential.<url>.* settings that apply
// to a URL. `git config --get-urlmatch` cannot answer that question: it keeps
// only the best-matching value of a key, while credential helpers accumulate
// every matching credential.<url>.helper in config order (an empty value
// clearing the list), and Git also matches keys whose <url> is not a full
// URL ("gitlab.com", "gitlab.com/group") field by field. The code follows
// Git's urlmatch.c (url_normalize_1, match_host, url_match_prefix,
// match_urls) and credential.c (credential_apply_config with select_all and
// match_partial_url, credential_from_url_1); the tests check it against the
// real git.
// See https://git-scm.com/docs/gitcredentials#_credential_contexts.

const (
	urlAlphaDigit   = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	urlSchemeChars  = urlAlphaDigit + "+.-"
	urlHostChars    = urlAlphaDigit + ".-_[:]" // IPv6 literals need [:]
	urlUnsafeChars  = " <>\"%{}|\\^`"
	urlReservedChar = ":/?#[]@" + "!$&'()*+,;="
)

// normURL is a URL as Git's url_normalize leaves it.
type normURL struct {
	scheme  string
	hasUser bool   // the URL has an "@" before the host (user may still be empty)
	user    string // normalized, without any ":password"
	host    string // lower-cased, without the port
	port    string // empty for the scheme's default port
	path    string // starts with "/"; for a pattern, any ?query or #fragment is kept on it, as Git does
}

// normalizeURL is Git's url_normalize_1. ok is false where Git fails to
// normalize (and, for a config key, falls back to a partial match).
func normalizeURL(s string, allowGlobs bool) (u normURL, ok bool) {
	n := span(s, urlSchemeChars)
	if n == 0 || !isAlpha(s[0]) || n+3 > len(s) || s[n:n+3] != "://" {
		return u, false
	}
	u.scheme = strings.ToLower(s[:n])
	rest := s[n+3:]

	slash := strings.IndexAny(rest, "/?#")
	if slash < 0 {
		slash = len(rest)
	}
	if at := strings.IndexByte(rest, '@'); at >= 0 && at < slash {
		u.hasUser = true
		userinfo, ok := normalizeEscapes(rest[:at], urlReservedChar)
		if !ok {
			return u, false
		}
		u.user, _, _ = strings.Cut(userinfo, ":")
		rest = rest[at+1:]
		slash -= at + 1
	}

	if rest == "" || strings.IndexByte(":/?#", rest[0]) >= 0 {
		return u, false // no host; only file: URLs may do without, and no helper context is one
	}
	colon := slash - 1
	for colon > 0 && rest[colon] != ':' && rest[colon] != ']' {
		colon--
	}
	if colon < 0 || rest[colon] != ':' {
		colon = slash
	}
	hostChars := urlHostChars
	if allowGlobs {
		hostChars += "*"
	}
	if span(rest, hostChars) < colon {
		return u, false
	}
	u.host = strings.ToLower(rest[:colon])

	if colon < slash {
		port := strings.TrimLeft(rest[colon+1:slash], "0")
		if port == "" && colon+1 < slash {
			port = "0" // all zeros: keep the last one, which is then invalid
		}
		switch {
		case port == "" && colon+1 == slash: // "host:" is the default port
		case u.scheme == "http" && port == "80", u.scheme == "https" && port == "443":
			port = ""
		default:
			if span(port, "0123456789") < len(port) || len(port) > 5 {
				return u, false
			}
			if p, _ := strconv.Atoi(port); p < 1 || p > 65535 {
				return u, false
			}
		}
		u.port = port
	}
	rest = rest[slash:]

	// The path: segments up to "?" or "#", with "." and ".." resolved.
	end := strings.IndexAny(rest, "?#")
	if end < 0 {
		end = len(rest)
	}
	p, tail := strings.TrimPrefix(rest[:end], "/"), rest[end:]
	var segs []string
	for _, seg := range strings.Split(p, "/") {
		seg, ok := normalizeEscapes(seg, urlReservedChar)
		if !ok {
			return u, false
		}
		switch seg {
		case ".":
			continue
		case "..":
			if len(segs) == 0 {
				return u, false
			}
			segs = segs[:len(segs)-1]
			continue
		}
		segs = append(segs, seg)
	}
	u.path = "/" + strings.Join(segs, "/")
	if tail != "" {
		t, ok := normalizeEscapes(tail, urlReservedChar)
		if !ok {
			return u, false
		}
		u.path += t
	}
	return u, true
}

// normalizeEscapes is Git's append_normalized_escapes with esc_extra "":
// %XX escapes are decoded unless the character must stay escaped (unsafe,
// or a reserved delimiter that was escaped), and unsafe characters are
// escaped, always with upper-case hex.
func normalizeEscapes(s, escOK string) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		ch, wasEsc := s[i], false
		if ch == '%' {
			if i+2 >= len(s) {
				return "", false
			}
			v, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
			if err != nil {
				return "", false
			}
			ch, wasEsc = byte(v), true
			i += 2
		}
		if ch <= 0x1f || ch >= 0x7f || strings.IndexByte(urlUnsafeChars, ch) >= 0 ||
			(wasEsc && strings.IndexByte(escOK, ch) >= 0) {
			b.WriteString("%" + strings.ToUpper(strconv.FormatUint(uint64(ch)|0x100, 16)[1:]))
		} else {
			b.WriteByte(ch)
		}
	}
	return b.String(), true
}

// matchHost is Git's match_host: labels compared one by one, a pattern
// label of just "*" matching any label.
func matchHost(url, pat string) bool {
	for url != "" && pat != "" {
		ul, pl := cutLabel(url), cutLabel(pat)
		if pl != "*" && pl != ul {
			return false
		}
		url, pat = skipLabel(url, ul), skipLabel(pat, pl)
	}
	return url == "" && pat == ""
}

func cutLabel(s string) string {
	if i := strings.IndexByte(s, '.'); i >= 0 {
		return s[:i]
	}
	return s
}

func skipLabel(s, label string) string {
	s = s[len(label):]
	return strings.TrimPrefix(s, ".")
}

// matchPathPrefix is Git's url_match_prefix: prefix matches path when it is
// the same or a prefix of it that ends at a "/".
func matchPathPrefix(path, prefix string) bool {
	if prefix == "" || prefix == "/" {
		return path == "" || path[0] == '/'
	}
	prefix = strings.TrimSuffix(prefix, "/")
	if !strings.HasPrefix(path, prefix) {
		return false
	}
	return len(path) == len(prefix) || path[len(prefix)] == '/'
}

// matchURLs is Git's match_urls: does the pattern apply to url?
func matchURLs(url, pat normURL) bool {
	if url.scheme != pat.scheme {
		return false
	}
	if pat.hasUser && (!url.hasUser || url.user != pat.user) {
		return false
	}
	return matchHost(url.host, pat.host) && url.port == pat.port && matchPathPrefix(url.path, pat.path)
}

// partialURL is what Git's credential_from_potentially_partial_url makes of
// a config key's <url> that is not a full URL, like "gitlab.com" or
// "gitlab.com/group". An absent field matches anything.
type partialURL struct {
	protocol, host, username, path *string
}

func parsePartialURL(s string) (partialURL, bool) {
	var p partialURL
	cp := s
	if i := strings.Index(s, "://"); i >= 0 {
		if i > 0 {
			proto := s[:i]
			p.protocol = &proto
		}
		cp = s[i+3:]
	}
	slash := strings.IndexAny(cp, "/?#")
	if slash < 0 {
		slash = len(cp)
	}
	host := cp
	at := strings.IndexByte(cp, '@')
	colon := strings.IndexByte(cp, ':')
	if at >= 0 && at < slash {
		userEnd := at
		if colon >= 0 && colon < at {
			userEnd = colon
		}
		user, ok := urlDecode(cp[:userEnd])
		if !ok {
			return p, false
		}
		p.username = &user
		host = cp[at+1:]
		slash -= at + 1
	}
	if slash > 0 {
		h, ok := urlDecode(host[:slash])
		if !ok {
			return p, false
		}
		p.host = &h
	}
	rest := strings.TrimLeft(host[slash:], "/")
	if rest != "" {
		path, ok := urlDecode(rest)
		if !ok {
			return p, false
		}
		for len(path) > 1 && strings.HasSuffix(path, "/") {
			path = path[:len(path)-1]
		}
		p.path = &path
	}
	return p, true
}

// urlDecode decodes %XX escapes as Git's url_decode_mem does (a "%" not
// followed by two hex digits stays as it is); a component with a line
// break is refused, as Git refuses it.
func urlDecode(s string) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+3], 16, 8); err == nil {
				b.WriteByte(byte(v))
				i += 2
				continue
			}
		}
		b.WriteByte(s[i])
	}
	out := b.String()
	return out, !strings.ContainsAny(out, "\n")
}

// Target is the credential git looks helpers up for: its protocol, host
// (with ":port"), and the username and path when the remote URL has them.
type Target struct {
	Protocol, Host, Username, Path string
}

// String is the target as a URL, for a person.
func (t Target) String() string {
	s := t.Protocol + "://"
	if t.Username != "" {
		s += t.Username + "@"
	}
	s += t.Host
	if t.Path != "" {
		s += "/" + t.Path
	}
	return s
}

// url is the URL git builds for the target (credential_format) and
// normalizes before matching config keys against it.
func (t Target) url() (normURL, bool) {
	s := t.Protocol + "://"
	if t.Username != "" {
		s += escapeComponent(t.Username) + "@"
	}
	s += t.Host
	if t.Path != "" {
		s += "/" + escapeComponent(t.Path)
	}
	return normalizeURL(s, false)
}

// escapeComponent percent-encodes what would otherwise end a URL part.
func escapeComponent(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if strings.IndexByte(urlAlphaDigit+"-._~/", c) >= 0 {
			b.WriteByte(c)
		} else {
			b.WriteString("%" + strings.ToUpper(strconv.FormatUint(uint64(c)|0x100, 16)[1:]))
		}
	}
	return b.String()
}

// matchPartial is Git's credential_match(want, have, 0) for a partial URL.
func matchPartial(p partialURL, t Target) bool {
	check := func(want *string, have string) bool { return want == nil || (have != "" && *want == have) }
	return check(p.protocol, t.Protocol) && check(p.host, t.Host) && check(p.path, t.Path) && check(p.username, t.Username)
}

// KeyApplies reports whether the config key context (the <url> of
// credential.<url>.helper; "" for credential.helper) applies to t. Partial
// URLs are matched only when partial is true (Git 2.26 and later).
func KeyApplies(context string, t Target, partial bool) bool {
	if context == "" {
		return true
	}
	if pat, ok := normalizeURL(context, true); ok {
		u, ok := t.url()
		return ok && matchURLs(u, pat)
	}
	if !partial {
		return false
	}
	p, ok := parsePartialURL(context)
	return ok && matchPartial(p, t)
}

// narrower returns, for a context that does not apply to every URL of the
// host t names but does apply to some (those with a given user or under a
// given path), a target that it applies to. ok is false when the context
// applies to all of the host's URLs or to none.
func narrower(context string, t Target, partial bool) (Target, bool) {
	if context == "" || KeyApplies(context, t, partial) {
		return t, false
	}
	n := t
	if pat, ok := normalizeURL(context, true); ok {
		if pat.hasUser {
			u, ok := urlDecode(pat.user)
			if !ok || u == "" {
				return t, false
			}
			n.Username = u
		}
		if p := strings.Trim(pat.path, "/"); p != "" {
			d, ok := urlDecode(p)
			if !ok {
				return t, false
			}
			n.Path = d
		}
	} else if p, ok := parsePartialURL(context); ok && partial {
		if p.username != nil {
			n.Username = *p.username
		}
		if p.path != nil {
			n.Path = *p.path
		}
	} else {
		return t, false
	}
	if n == t || !KeyApplies(context, n, partial) {
		return t, false
	}
	return n, true
}

func span(s, chars string) int {
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(chars, s[i]) < 0 {
			return i
		}
	}
	return len(s)
}

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
