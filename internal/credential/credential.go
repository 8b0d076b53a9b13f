// Package credential reads and writes Git's credential helper protocol.
//
// The wire format is described in git-credential(1):
// https://git-scm.com/docs/git-credential#IOFMT
package credential

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Limits on what Read accepts. Git itself refuses to send a line longer than
// 65535 bytes; a request is a handful of lines, so 1 MiB in total is far more
// than any honest caller needs and keeps memory bounded on hostile input.
const (
	MaxLineBytes  = 65535
	MaxInputBytes = 1 << 20
)

// ErrBadInput is wrapped by every error Read returns for malformed input.
var ErrBadInput = errors.New("bad credential input")

// Credential is one request or answer of the protocol. Single-valued
// attributes that Git may send as empty strings carry a Has flag so that an
// empty username is told apart from a missing one, as Git does.
type Credential struct {
	Protocol string
	Host     string // with ":port" when the URL has one
	Path     string

	Username    string
	HasUsername bool
	Password    string
	HasPassword bool

	// PasswordExpiryUTC is a Unix time; 0 means no expiry is known.
	PasswordExpiryUTC int64
	OAuthRefreshToken string

	WWWAuth    []string
	Capability []string
	AuthType   string
	Credential string
	Ephemeral  bool
	State      []string
	Continue   bool
	Quit       bool
}

// Read parses attributes from r until EOF or a blank line. Unknown keys are
// ignored so that newer versions of Git keep working. A "url" attribute is
// expanded into its parts the way Git does it (see FromURL).
func Read(r io.Reader) (*Credential, error) {
	c := new(Credential)
	br := bufio.NewReaderSize(r, 4096)
	total := 0
	for n := 1; ; n++ {
		line, err := readLine(br)
		total += len(line) + 1
		if total > MaxInputBytes {
			return nil, fmt.Errorf("%w: input is larger than %d bytes", ErrBadInput, MaxInputBytes)
		}
		if err != nil && err != io.EOF {
			return nil, err
		}
		if line == "" {
			// A blank line ends the request, as does EOF.
			return c, nil
		}
		if perr := c.parseLine(n, line); perr != nil {
			return nil, perr
		}
		if err == io.EOF {
			return c, nil
		}
	}
}

// readLine returns the next line without its "\n" (and without a "\r"
// right before it, as Git's strbuf_getline does). It returns io.EOF with the
// last, unterminated line.
func readLine(br *bufio.Reader) (string, error) {
	var buf []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if len(buf)+len(chunk) > MaxLineBytes+2 {
			return "", fmt.Errorf("%w: a line is longer than %d bytes", ErrBadInput, MaxLineBytes)
		}
		buf = append(buf, chunk...)
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil && err != io.EOF {
			return "", fmt.Errorf("read credential input: %w", err)
		}
		line := strings.TrimSuffix(string(buf), "\n")
		if len(line) < len(buf) || err == nil {
			line = strings.TrimSuffix(line, "\r")
		}
		if len(line) > MaxLineBytes {
			return "", fmt.Errorf("%w: a line is longer than %d bytes", ErrBadInput, MaxLineBytes)
		}
		if err == io.EOF {
			return line, io.EOF
		}
		return line, nil
	}
}

// parseLine applies line number n. Error messages name the line and, when
// it is one of the protocol's keys, the key; never the value, which may be
// a secret.
func (c *Credential) parseLine(n int, line string) error {
	key, value, ok := strings.Cut(line, "=")
	if !ok {
		return fmt.Errorf("%w: line %d is not key=value", ErrBadInput, n)
	}
	bad := func(what string) error {
		if knownKey(key) {
			return fmt.Errorf("%w: line %d (%s) %s", ErrBadInput, n, key, what)
		}
		return fmt.Errorf("%w: line %d %s", ErrBadInput, n, what)
	}
	if strings.IndexByte(line, 0) >= 0 {
		return bad("contains a NUL byte")
	}
	if !utf8.ValidString(line) {
		return bad("is not valid UTF-8")
	}
	if strings.IndexByte(value, '\r') >= 0 {
		// Git refuses carriage returns in credential values
		// (CVE-2024-52006); so do we.
		return bad("contains a carriage return")
	}
	switch key {
	case "protocol":
		c.Protocol = value
	case "host":
		c.Host = value
	case "path":
		c.Path = value
	case "username":
		c.Username, c.HasUsername = value, true
	case "password":
		c.Password, c.HasPassword = value, true
	case "password_expiry_utc":
		// Git ignores a value it cannot parse; so do we.
		if t, err := strconv.ParseInt(value, 10, 64); err == nil && t > 0 {
			c.PasswordExpiryUTC = t
		} else {
			c.PasswordExpiryUTC = 0
		}
	case "oauth_refresh_token":
		c.OAuthRefreshToken = value
	case "url":
		u, err := FromURL(value)
		if err != nil {
			return err
		}
		*c = *u
	case "wwwauth[]":
		c.WWWAuth = appendMulti(c.WWWAuth, value)
	case "capability[]":
		c.Capability = appendMulti(c.Capability, value)
	case "state[]":
		c.State = appendMulti(c.State, value)
	case "authtype":
		c.AuthType = value
	case "credential":
		c.Credential = value
	case "ephemeral":
		c.Ephemeral = isTrue(value)
	case "continue":
		c.Continue = isTrue(value)
	case "quit":
		c.Quit = isTrue(value)
	}
	return nil
}

// knownKey reports whether key is one that git-credential(1) defines. (A
// switch, not a map: a map literal is built at start-up by every process.)
func knownKey(key string) bool {
	switch key {
	case "protocol", "host", "path", "username",
		"password", "password_expiry_utc", "oauth_refresh_token",
		"url", "wwwauth[]", "capability[]", "authtype",
		"credential", "ephemeral", "state[]", "continue",
		"quit":
		return true
	}
	return false
}

// appendMulti handles a multi-valued key: an empty value resets the list,
// as git-credential(1) specifies for "key[]=".
func appendMulti(list []string, value string) []string {
	if value == "" {
		return nil
	}
	return append(list, value)
}

// isTrue follows Git's boolean parsing for the few boolean attributes.
func isTrue(v string) bool {
	switch strings.ToLower(v) {
	case "1", "true", "yes", "on":
		return true
	}
	return false
}

// FromURL expands a "url" attribute the way Git's credential_from_url does:
// every attribute is reset, then protocol, username, password, host (with
// port) and path are taken from the URL, percent-decoded, with leading and
// trailing slashes of the path removed. A component that decodes to a
// newline is refused, as Git refuses it (CVE-2020-5260).
func FromURL(raw string) (*Credential, error) {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok || scheme == "" {
		return nil, fmt.Errorf("%w: url has no scheme", ErrBadInput)
	}
	if strings.ContainsAny(scheme, "\n\r\x00/@") || !utf8.ValidString(scheme) {
		// Found by FuzzFromURL: a scheme holding a NUL reached Protocol.
		return nil, fmt.Errorf("%w: url has a malformed scheme", ErrBadInput)
	}
	c := &Credential{Protocol: scheme}
	slash := strings.IndexAny(rest, "/?#")
	if slash < 0 {
		slash = len(rest)
	}
	authority, path := rest[:slash], rest[slash:]
	host := authority
	if at := strings.IndexByte(authority, '@'); at >= 0 { // Git takes the first "@", as strchr does
		host = authority[at+1:]
		userinfo := authority[:at]
		user, pass, hasPass := strings.Cut(userinfo, ":")
		var err error
		if c.Username, err = decodeComponent("username", user); err != nil {
			return nil, err
		}
		c.HasUsername = true
		if hasPass {
			if c.Password, err = decodeComponent("password", pass); err != nil {
				return nil, err
			}
			c.HasPassword = true
		}
	}
	var err error
	if c.Host, err = decodeComponent("host", host); err != nil {
		return nil, err
	}
	path = strings.TrimLeft(path, "/")
	if path != "" {
		if c.Path, err = decodeComponent("path", path); err != nil {
			return nil, err
		}
		c.Path = strings.TrimRight(c.Path, "/")
	}
	return c, nil
}

func decodeComponent(what, s string) (string, error) {
	// Git decodes %XX sequences and leaves malformed ones as they are.
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			if h, ok := unhex(s[i+1]); ok {
				if l, ok := unhex(s[i+2]); ok {
					b.WriteByte(h<<4 | l)
					i += 2
					continue
				}
			}
		}
		b.WriteByte(s[i])
	}
	out := b.String()
	if strings.ContainsAny(out, "\n\x00") {
		return "", fmt.Errorf("%w: url contains a newline or NUL in its %s component", ErrBadInput, what)
	}
	if strings.IndexByte(out, '\r') >= 0 {
		return "", fmt.Errorf("%w: url contains a carriage return in its %s component", ErrBadInput, what)
	}
	if !utf8.ValidString(out) {
		return "", fmt.Errorf("%w: url %s component is not valid UTF-8", ErrBadInput, what)
	}
	return out, nil
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
