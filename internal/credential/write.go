package credential

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// WriteAnswer writes the reply of a storage helper's "get": username and
// password, then password_expiry_utc and oauth_refresh_token when known, in
// that fixed order, and nothing else (Git already knows protocol and host).
// An answer with an AuthType (for a request that announced
// capability[]=authtype) starts with capability[]=authtype, authtype and
// credential, as git-credential-cache answers (builtin/credential-cache--daemon.c:
// Git passes authtype and credential on only from a helper that announced
// the capability); username and password then follow only when the
// credential has them (HasUsername, HasPassword).
func WriteAnswer(w io.Writer, c *Credential) error {
	var b attrWriter
	if c.AuthType != "" {
		b.str("capability[]", "authtype")
		b.str("authtype", c.AuthType)
		b.opt("credential", c.Credential)
	}
	if c.AuthType == "" || c.HasUsername {
		b.str("username", c.Username)
	}
	if c.AuthType == "" || c.HasPassword {
		b.str("password", c.Password)
	}
	if c.PasswordExpiryUTC > 0 {
		b.str("password_expiry_utc", strconv.FormatInt(c.PasswordExpiryUTC, 10))
	}
	if c.OAuthRefreshToken != "" {
		b.str("oauth_refresh_token", c.OAuthRefreshToken)
	}
	return b.flush(w)
}

// Write writes every attribute c holds, in a fixed order, so that
// Read(Write(c)) gives c back. Empty optional attributes are left out.
func Write(w io.Writer, c *Credential) error {
	var b attrWriter
	b.opt("protocol", c.Protocol)
	b.opt("host", c.Host)
	b.opt("path", c.Path)
	if c.HasUsername {
		b.str("username", c.Username)
	}
	if c.HasPassword {
		b.str("password", c.Password)
	}
	if c.PasswordExpiryUTC > 0 {
		b.str("password_expiry_utc", strconv.FormatInt(c.PasswordExpiryUTC, 10))
	}
	b.opt("oauth_refresh_token", c.OAuthRefreshToken)
	for _, v := range c.Capability {
		b.str("capability[]", v)
	}
	b.opt("authtype", c.AuthType)
	b.opt("credential", c.Credential)
	if c.Ephemeral {
		b.str("ephemeral", "1")
	}
	for _, v := range c.State {
		b.str("state[]", v)
	}
	for _, v := range c.WWWAuth {
		b.str("wwwauth[]", v)
	}
	if c.Continue {
		b.str("continue", "1")
	}
	if c.Quit {
		b.str("quit", "1")
	}
	return b.flush(w)
}

// attrWriter collects key=value lines and refuses values the wire format
// cannot carry, so a bad value never splits into a forged attribute.
type attrWriter struct {
	lines []string
	err   error
}

func (b *attrWriter) opt(key, value string) {
	if value != "" {
		b.str(key, value)
	}
}

func (b *attrWriter) str(key, value string) {
	if b.err != nil {
		return
	}
	if strings.ContainsAny(value, "\n\r\x00") {
		b.err = fmt.Errorf("credential: value of %s cannot be written: it contains a newline, carriage return or NUL", key)
		return
	}
	if len(key)+1+len(value) > MaxLineBytes {
		b.err = fmt.Errorf("credential: value of %s is longer than the protocol allows", key)
		return
	}
	b.lines = append(b.lines, key+"="+value)
}

func (b *attrWriter) flush(w io.Writer) error {
	if b.err != nil {
		return b.err
	}
	bw := bufio.NewWriter(w)
	for _, l := range b.lines {
		bw.WriteString(l)
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

// HasCapability reports whether the request announced capability[]=name
// (git-credential(1): Git 2.46+ announces "authtype" and "state").
func (c *Credential) HasCapability(name string) bool {
	return slices.Contains(c.Capability, name)
}
