package credential

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestRead(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Credential
	}{
		{
			name: "basic request",
			in:   "protocol=https\nhost=example.com\n\n",
			want: Credential{Protocol: "https", Host: "example.com"},
		},
		{
			name: "eof without blank line",
			in:   "protocol=https\nhost=example.com:8443",
			want: Credential{Protocol: "https", Host: "example.com:8443"},
		},
		{
			name: "blank line ends input",
			in:   "protocol=https\n\nhost=ignored\n",
			want: Credential{Protocol: "https"},
		},
		{
			name: "empty username and password are present",
			in:   "protocol=https\nhost=sso.tld\nusername=\npassword=\n",
			want: Credential{Protocol: "https", Host: "sso.tld", HasUsername: true, HasPassword: true},
		},
		{
			name: "every attribute",
			in: "protocol=https\nhost=h\npath=a/b.git\nusername=u\npassword=p\npassword_expiry_utc=1700000000\n" +
				"oauth_refresh_token=r\nwwwauth[]=Basic realm=\"x\"\nwwwauth[]=Bearer\ncapability[]=authtype\n" +
				"capability[]=state\nauthtype=Bearer\ncredential=c\nephemeral=1\nstate[]=s1\nstate[]=s2\ncontinue=1\nquit=true\n",
			want: Credential{
				Protocol: "https", Host: "h", Path: "a/b.git", Username: "u", HasUsername: true,
				Password: "p", HasPassword: true, PasswordExpiryUTC: 1700000000, OAuthRefreshToken: "r",
				WWWAuth: []string{`Basic realm="x"`, "Bearer"}, Capability: []string{"authtype", "state"},
				AuthType: "Bearer", Credential: "c", Ephemeral: true, State: []string{"s1", "s2"},
				Continue: true, Quit: true,
			},
		},
		{
			name: "empty multi-valued key resets the list",
			in:   "wwwauth[]=a\nwwwauth[]=\nwwwauth[]=b\n",
			want: Credential{WWWAuth: []string{"b"}},
		},
		{
			name: "unknown keys are ignored",
			in:   "protocol=https\nfuture_key=x\n=odd\nhost=h\n",
			want: Credential{Protocol: "https", Host: "h"},
		},
		{
			name: "crlf line endings",
			in:   "protocol=https\r\nhost=h\r\n\r\n",
			want: Credential{Protocol: "https", Host: "h"},
		},
		{
			name: "unparseable expiry is ignored",
			in:   "password_expiry_utc=soon\n",
			want: Credential{},
		},
		{
			name: "url is expanded",
			in:   "url=https://us%40er:pa%3Ass@example.com:8443/group/repo.git/\n",
			want: Credential{Protocol: "https", Host: "example.com:8443", Path: "group/repo.git",
				Username: "us@er", HasUsername: true, Password: "pa:ss", HasPassword: true},
		},
		{
			name: "url resets earlier attributes, later ones override",
			in:   "username=old\nwwwauth[]=x\nurl=https://example.com\nusername=new\n",
			want: Credential{Protocol: "https", Host: "example.com", Username: "new", HasUsername: true},
		},
		{
			name: "url with user only",
			in:   "url=http://alice@h/\n",
			want: Credential{Protocol: "http", Host: "h", Username: "alice", HasUsername: true},
		},
		{
			name: "url takes the first at sign",
			in:   "url=https://a@b@h/p\n",
			want: Credential{Protocol: "https", Host: "b@h", Path: "p", Username: "a", HasUsername: true},
		},
		{
			name: "at sign after the slash is path",
			in:   "url=https://h/x@y\n",
			want: Credential{Protocol: "https", Host: "h", Path: "x@y"},
		},
		{
			name: "value may contain equals signs",
			in:   "password=a=b=c\n",
			want: Credential{Password: "a=b=c", HasPassword: true},
		},
		{
			name: "long line under the limit",
			in:   "wwwauth[]=" + strings.Repeat("a", MaxLineBytes-len("wwwauth[]=")) + "\n",
			want: Credential{WWWAuth: []string{strings.Repeat("a", MaxLineBytes-len("wwwauth[]="))}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Read(strings.NewReader(tt.in))
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if !reflect.DeepEqual(*got, tt.want) {
				t.Errorf("Read:\n got %+v\nwant %+v", *got, tt.want)
			}
		})
	}
}

func TestReadBadInput(t *testing.T) {
	const secret = "glpat-SECRETSECRETSECRET"
	tests := []struct {
		name    string
		in      string
		wantMsg string
	}{
		{"no equals sign", "protocol=https\n" + secret + "\n", "line 2 is not key=value"},
		{"nul byte", "host=a\x00b\n", "line 1 (host) contains a NUL byte"},
		{"invalid utf-8", "password=\xff\xfe" + secret + "\n", "line 1 (password) is not valid UTF-8"},
		{"carriage return inside value", "host=a\rb\n", "line 1 (host) contains a carriage return"},
		{"line too long", "wwwauth[]=" + strings.Repeat("a", MaxLineBytes) + "\n", "longer than 65535 bytes"},
		{"line too long without newline", strings.Repeat("a", MaxLineBytes+10), "longer than 65535 bytes"},
		{"input too large", strings.Repeat("wwwauth[]="+strings.Repeat("a", 60000)+"\n", 20), "larger than"},
		{"url newline", "url=https://h/a%0a" + secret + "\n", "newline"},
		{"url carriage return in host", "url=https://h%0d.com/\n", "carriage return in its host"},
		{"url without scheme", "url=" + secret + "@host\n", "url has no scheme"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Read(strings.NewReader(tt.in))
			if err == nil {
				t.Fatalf("Read = %+v, want error", got)
			}
			if !errors.Is(err, ErrBadInput) {
				t.Errorf("error %q does not wrap ErrBadInput", err)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("error %q, want it to contain %q", err, tt.wantMsg)
			}
			if strings.Contains(err.Error(), "SECRET") {
				t.Errorf("error message leaks the input value: %q", err)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error message is not one line: %q", err)
			}
		})
	}
}

func TestReadHugeInputIsBounded(t *testing.T) {
	// 100 MB of input must be refused after at most MaxInputBytes, not
	// read into memory.
	r := &countingReader{limit: 100 << 20}
	if _, err := Read(r); !errors.Is(err, ErrBadInput) {
		t.Fatalf("Read of 100 MB: err = %v, want ErrBadInput", err)
	}
	if r.n > 2*MaxInputBytes {
		t.Errorf("Read consumed %d bytes, want at most about %d", r.n, MaxInputBytes)
	}
}

type countingReader struct{ n, limit int }

func (r *countingReader) Read(p []byte) (int, error) {
	// Short lines, so only the total limit can stop the reader.
	for i := range p {
		if i%100 == 99 {
			p[i] = '\n'
		} else {
			p[i] = 'x'
		}
	}
	copy(p, "k=")
	r.n += len(p)
	return len(p), nil
}

func TestWriteAnswer(t *testing.T) {
	tests := []struct {
		name string
		c    Credential
		want string
	}{
		{"plain", Credential{Protocol: "https", Host: "h", Username: "u", Password: "p"}, "username=u\npassword=p\n"},
		{"empty values", Credential{}, "username=\npassword=\n"},
		{"expiry and refresh token", Credential{Username: "u", Password: "p", PasswordExpiryUTC: 42, OAuthRefreshToken: "r"},
			"username=u\npassword=p\npassword_expiry_utc=42\noauth_refresh_token=r\n"},
		{"credential only", Credential{AuthType: "Bearer", Credential: "tok"},
			"capability[]=authtype\nauthtype=Bearer\ncredential=tok\n"},
		{"credential with username", Credential{AuthType: "Bearer", Credential: "tok", Username: "u", HasUsername: true},
			"capability[]=authtype\nauthtype=Bearer\ncredential=tok\nusername=u\n"},
		{"credential and password", Credential{AuthType: "Bearer", Credential: "tok", Username: "u", HasUsername: true, Password: "p", HasPassword: true},
			"capability[]=authtype\nauthtype=Bearer\ncredential=tok\nusername=u\npassword=p\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := WriteAnswer(&b, &tt.c); err != nil {
				t.Fatal(err)
			}
			if b.String() != tt.want {
				t.Errorf("WriteAnswer = %q, want %q", b.String(), tt.want)
			}
		})
	}
}

func TestWriteRefusesForgedLines(t *testing.T) {
	for _, v := range []string{"p\nhost=evil", "p\rx", "p\x00"} {
		var b bytes.Buffer
		if err := WriteAnswer(&b, &Credential{Username: "u", Password: v}); err == nil {
			t.Errorf("WriteAnswer(password %q) = nil error, wrote %q", v, b.String())
		}
		if b.Len() != 0 {
			t.Errorf("WriteAnswer wrote %q before failing", b.String())
		}
	}
}
