package credential

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// FuzzReadWrite checks that the parser never panics, that whatever it
// accepts stays inside the limits, and that Write then Read gives the same
// credential back.
func FuzzReadWrite(f *testing.F) {
	for _, s := range []string{
		"protocol=https\nhost=example.com\n\n",
		"protocol=https\nhost=example.com\nusername=u\npassword=p\npassword_expiry_utc=9999999999\n",
		"url=https://a:b@h:1/p/\n",
		"wwwauth[]=Basic realm=\"GitLab\"\ncapability[]=authtype\nstate[]=x\n",
		"host=a\x00b\n",
		"username=\npassword=\n",
		"url=https://h/%0a\n",
		"protocol=https\r\nhost=h\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		c, err := Read(bytes.NewReader(in))
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("multi-line error %q", err)
			}
			return
		}
		var out bytes.Buffer
		if err := Write(&out, c); err != nil {
			// Only values that the wire cannot carry may fail.
			return
		}
		c2, err := Read(&out)
		if err != nil {
			t.Fatalf("re-reading written credential: %v\n%q", err, out.String())
		}
		if !reflect.DeepEqual(normalize(c), normalize(c2)) {
			t.Fatalf("round trip changed credential:\n in  %+v\n out %+v", c, c2)
		}
		var ans bytes.Buffer
		if err := WriteAnswer(&ans, c); err == nil {
			if bytes.Count(ans.Bytes(), []byte("\n")) > 4 {
				t.Fatalf("answer has more than four lines: %q", ans.String())
			}
		}
	})
}

// normalize erases what Write leaves out by design (empty strings of
// optional attributes are written as absent).
func normalize(c *Credential) Credential {
	n := *c
	if len(n.WWWAuth) == 0 {
		n.WWWAuth = nil
	}
	if len(n.Capability) == 0 {
		n.Capability = nil
	}
	if len(n.State) == 0 {
		n.State = nil
	}
	return n
}

func FuzzFromURL(f *testing.F) {
	for _, s := range []string{"https://u:p@h:1/a/b/", "http://h", "https://%0a@h", "cert:///etc/x.pem", "h"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := FromURL(s)
		if err != nil {
			if !errors.Is(err, ErrBadInput) {
				t.Fatalf("error %v does not wrap ErrBadInput", err)
			}
			return
		}
		for _, v := range []string{c.Protocol, c.Host, c.Path, c.Username, c.Password} {
			if strings.ContainsAny(v, "\n\r\x00") {
				t.Fatalf("FromURL(%q) let a control character through: %+v", s, c)
			}
		}
		if strings.HasPrefix(c.Path, "/") || strings.HasSuffix(c.Path, "/") {
			t.Fatalf("FromURL(%q) path %q keeps a slash", s, c.Path)
		}
	})
}
