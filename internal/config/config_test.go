package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
)

// writeConfig writes content to a config file in a fresh temp dir and
// returns its path.
func writeConfig(t testing.TB, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadMissingFileIsDefaults(t *testing.T) {
	path := filepath.Join(t.TempDir(), "absent", "config.toml")
	c, err := Load(path)
	if err != nil {
		t.Fatalf("Load(missing) = %v, want no error", err)
	}
	want := Default()
	want.Path = path
	if !reflect.DeepEqual(c, want) {
		t.Errorf("Load(missing) = %+v, want %+v", c, want)
	}
	if c.Backend != BackendKeyring || c.RotateBefore != Duration(30*Day) || c.Lifetime != Duration(90*Day) || !c.AutoRotate {
		t.Errorf("defaults = %v %v %v %v, want keyring 30d 90d true", c.Backend, c.RotateBefore, c.Lifetime, c.AutoRotate)
	}
	if h := c.Host("gitlab.com"); h.Known {
		t.Errorf("Host(gitlab.com).Known = true with no config file")
	}
	if got := c.Hosts(); len(got) != 0 {
		t.Errorf("Hosts() = %q, want none", got)
	}
}

const fullConfig = `# A config that sets everything.
backend       = "encrypted-file"
rotate_before = "14d"
lifetime      = "60d"
auto_rotate   = false

[hosts."gitlab.com"]
api_url   = "https://gitlab.com/api/v4/"
username  = "alice"
ca_file   = "/etc/ssl/my-ca.pem"
oauth_client_id = "0123456789abcdef"

[[hosts."gitlab.com".accounts]]
username = "alice-work"
paths    = ["acme/"]

[[hosts."gitlab.com".accounts]]
username = "alice-team"
paths    = ["/acme/team/", "other"]

[hosts."gitlab.example.com:8443"]
rotate_before = "7d"
lifetime      = "1w2d"
auto_rotate   = true
`

func TestLoadFullConfig(t *testing.T) {
	c, err := Load(writeConfig(t, fullConfig))
	if err != nil {
		t.Fatal(err)
	}
	if c.Backend != BackendEncryptedFile || c.RotateBefore != Duration(14*Day) || c.Lifetime != Duration(60*Day) || c.AutoRotate {
		t.Errorf("globals = %v %v %v %v, want encrypted-file 14d 60d false", c.Backend, c.RotateBefore, c.Lifetime, c.AutoRotate)
	}
	if got, want := c.Hosts(), []string{"gitlab.com", "gitlab.example.com:8443"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Hosts() = %q, want %q", got, want)
	}
	gotCom := c.Host("gitlab.com")
	wantCom := HostConfig{
		Host: "gitlab.com", Known: true,
		APIURL: "https://gitlab.com/api/v4", Username: "alice", CAFile: "/etc/ssl/my-ca.pem", OAuthClientID: "0123456789abcdef",
		RotateBefore: Duration(14 * Day), Lifetime: Duration(60 * Day), AutoRotate: false,
		Accounts: []Account{
			{Username: "alice-work", Paths: []string{"acme"}},
			{Username: "alice-team", Paths: []string{"acme/team", "other"}},
		},
	}
	if !reflect.DeepEqual(gotCom, wantCom) {
		t.Errorf("Host(gitlab.com) =\n%+v\nwant\n%+v", gotCom, wantCom)
	}
	gotEx := c.Host("gitlab.example.com:8443")
	wantEx := HostConfig{
		Host: "gitlab.example.com:8443", Known: true,
		RotateBefore: Duration(7 * Day), Lifetime: Duration(9 * Day), AutoRotate: true,
	}
	if !reflect.DeepEqual(gotEx, wantEx) {
		t.Errorf("Host(gitlab.example.com:8443) =\n%+v\nwant\n%+v", gotEx, wantEx)
	}
}

func TestLoadAccountsAsInlineTables(t *testing.T) {
	c, err := Load(writeConfig(t, `[hosts."gitlab.com"]
accounts = [
  { username = "a", paths = ["acme"] },
  { username = "b", paths = ["beta"] },
]
`))
	if err != nil {
		t.Fatal(err)
	}
	want := []Account{{"a", []string{"acme"}}, {"b", []string{"beta"}}}
	if got := c.Host("gitlab.com").Accounts; !reflect.DeepEqual(got, want) {
		t.Errorf("Accounts = %+v, want %+v", got, want)
	}
}

func TestHostLookup(t *testing.T) {
	c, err := Load(writeConfig(t, `lifetime = "80d"
[hosts."GitLab.Example.com"]
username = "alice"
rotate_before = "5d"
[hosts."gitlab.example.com:8443"]
username = "bob"
`))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, host    string
		wantKnown     bool
		wantHost      string
		wantUser      string
		wantRotBefore Duration
	}{
		{"exact case", "GitLab.Example.com", true, "GitLab.Example.com", "alice", Duration(5 * Day)},
		{"other case", "gitlab.example.COM", true, "GitLab.Example.com", "alice", Duration(5 * Day)},
		{"port is part of the host", "gitlab.example.com:8443", true, "gitlab.example.com:8443", "bob", Duration(30 * Day)},
		{"other port is another host", "gitlab.example.com:443", false, "gitlab.example.com:443", "", Duration(30 * Day)},
		{"trailing dot is another host", "gitlab.example.com.", false, "gitlab.example.com.", "", Duration(30 * Day)},
		{"unknown host gets globals", "gitlab.com", false, "gitlab.com", "", Duration(30 * Day)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := c.Host(tt.host)
			if h.Known != tt.wantKnown || h.Host != tt.wantHost || h.Username != tt.wantUser || h.RotateBefore != tt.wantRotBefore {
				t.Errorf("Host(%q) = {Known:%v Host:%q Username:%q RotateBefore:%v}, want {%v %q %q %v}",
					tt.host, h.Known, h.Host, h.Username, h.RotateBefore, tt.wantKnown, tt.wantHost, tt.wantUser, tt.wantRotBefore)
			}
			if h.Lifetime != Duration(80*Day) {
				t.Errorf("Host(%q).Lifetime = %v, want the global 80d", tt.host, h.Lifetime)
			}
		})
	}
}

func TestAccountFor(t *testing.T) {
	c, err := Load(writeConfig(t, `[hosts."gitlab.com"]
username = "default-user"
[[hosts."gitlab.com".accounts]]
username = "work"
paths = ["acme/"]
[[hosts."gitlab.com".accounts]]
username = "team"
paths = ["acme/team"]
[hosts."nodefault.example"]
[[hosts."nodefault.example".accounts]]
username = "only"
paths = ["grp"]
`))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, host, path string
		wantUser         string
		wantOK           bool
	}{
		{"group match", "gitlab.com", "acme/app.git", "work", true},
		{"group itself", "gitlab.com", "acme", "work", true},
		{"longest prefix wins", "gitlab.com", "acme/team/app.git", "team", true},
		{"longest prefix wins with leading slash", "gitlab.com", "/acme/team/app.git", "team", true},
		{"segments, not bytes", "gitlab.com", "acmex/app.git", "default-user", true},
		{"segment prefix of sub-group", "gitlab.com", "acme/teamx/app.git", "work", true},
		{"case-insensitive like GitLab", "gitlab.com", "ACME/app.git", "work", true},
		{"no path uses the host user", "gitlab.com", "", "default-user", true},
		{"host key case-insensitive", "GitLab.com", "acme/x", "work", true},
		{"no match and no default", "nodefault.example", "other/x", "", false},
		{"match without default", "nodefault.example", "grp/x", "only", true},
		{"unknown host", "example.org", "acme/x", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			user, ok := c.AccountFor(tt.host, tt.path)
			if user != tt.wantUser || ok != tt.wantOK {
				t.Errorf("AccountFor(%q, %q) = %q, %v, want %q, %v", tt.host, tt.path, user, ok, tt.wantUser, tt.wantOK)
			}
		})
	}
}

func TestLoadOverridesMixWithGlobals(t *testing.T) {
	c, err := Load(writeConfig(t, `rotate_before = "10d"
[hosts."a.example"]
lifetime = "20d"
[hosts."b.example"]
auto_rotate = false
`))
	if err != nil {
		t.Fatal(err)
	}
	a, b := c.Host("a.example"), c.Host("b.example")
	if a.RotateBefore != Duration(10*Day) || a.Lifetime != Duration(20*Day) || !a.AutoRotate {
		t.Errorf("a.example = %v %v %v, want 10d 20d true", a.RotateBefore, a.Lifetime, a.AutoRotate)
	}
	if b.RotateBefore != Duration(10*Day) || b.Lifetime != Duration(90*Day) || b.AutoRotate {
		t.Errorf("b.example = %v %v %v, want 10d 90d false", b.RotateBefore, b.Lifetime, b.AutoRotate)
	}
}

func TestLoadBoundaries(t *testing.T) {
	tests := []struct {
		name, content string
		wantErr       string // empty: must load
	}{
		{"lifetime exactly 365d", `lifetime = "365d"`, ""},
		{"lifetime 365d and a nanosecond", `lifetime = "365d1ns"`, `lifetime: 365d1ns is more than 365d, the longest lifetime GitLab allows`},
		{"lifetime 52w1d", `lifetime = "52w1d"`, ""},
		{"lifetime 2d, rotate_before 1d", "lifetime = \"2d\"\nrotate_before = \"1d\"", ""},
		{"lifetime just under 1d", "lifetime = \"23h59m59s\"\nrotate_before = \"1h\"", `lifetime: 23h59m59s is less than 1d; GitLab gives tokens an expiry date, not a time`},
		{"rotate_before a day under lifetime", "lifetime = \"30d\"\nrotate_before = \"29d\"", ""},
		{"rotate_before a second over a day under lifetime", "lifetime = \"30d\"\nrotate_before = \"29d1s\"", `rotate_before: 29d1s is not at least a day shorter than lifetime 30d: a rotated token would be due for rotation at once`},
		{"rotate_before equal to lifetime", "lifetime = \"30d\"\nrotate_before = \"30d\"", `rotate_before: 30d is not at least a day shorter than lifetime 30d: a rotated token would be due for rotation at once`},
		{"rotate_before one nanosecond", `rotate_before = "1ns"`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeConfig(t, tt.content)
			_, err := Load(path)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Load: %v, want success", err)
				}
				return
			}
			if err == nil || !strings.HasSuffix(err.Error(), tt.wantErr) {
				t.Fatalf("Load error = %v, want … %s", err, tt.wantErr)
			}
		})
	}
}

// loadErrorTests are files Load must refuse; FuzzLoad starts from them too.
var loadErrorTests = []struct {
	name    string
	content string
	want    string // error text after "config: <path>"
	wantKey string
}{
	{
		name:    "unknown top-level key with suggestion",
		content: "backend = \"keyring\"\n\n\n\n\n\nrotate_befor = \"10d\"\n",
		want:    `:7: unknown key "rotate_befor" (did you mean "rotate_before"?)`,
		wantKey: "rotate_befor",
	},
	{
		name:    "unknown key in different case",
		content: `Lifetime = "10d"`,
		want:    `:1: unknown key "Lifetime" (did you mean "lifetime"?)`,
		wantKey: "Lifetime",
	},
	{
		name:    "unknown key without suggestion",
		content: "# comment\ncolour = \"blue\"\n",
		want:    `:2: unknown key "colour"`,
		wantKey: "colour",
	},
	{
		name:    "unknown table",
		content: "[host.\"gitlab.com\"]\nusername = \"x\"\n",
		want:    `:1: unknown key "host" (did you mean "hosts"?)`,
		wantKey: "host",
	},
	{
		name:    "unknown key in host table",
		content: "[hosts.\"gitlab.com\"]\nusername = \"alice\"\nrotate_befor = \"10d\"\n",
		want:    `:3: unknown key "rotate_befor" in [hosts."gitlab.com"] (did you mean "rotate_before"?)`,
		wantKey: `hosts."gitlab.com".rotate_befor`,
	},
	{
		name:    "unknown key as dotted key",
		content: "hosts.\"gitlab.com\".apiurl = \"https://x/api/v4\"\n",
		want:    `:1: unknown key "apiurl" in [hosts."gitlab.com"] (did you mean "api_url"?)`,
		wantKey: `hosts."gitlab.com".apiurl`,
	},
	{
		name:    "unknown key in second account",
		content: "[hosts.\"gitlab.com\"]\n[[hosts.\"gitlab.com\".accounts]]\nusername = \"a\"\npaths = [\"a\"]\n[[hosts.\"gitlab.com\".accounts]]\nusername = \"b\"\npath = [\"b\"]\n",
		want:    `:7: unknown key "path" in account 2 of [hosts."gitlab.com"] (did you mean "paths"?)`,
		wantKey: `hosts."gitlab.com".accounts[1].path`,
	},
	{
		name:    "unknown key in inline account",
		content: "[hosts.\"gitlab.com\"]\naccounts = [\n  {username = \"a\", paths = [\"a\"]},\n  {username = \"b\",\n   pahts = [\"b\"]},\n]\n",
		want:    `:2: unknown key "pahts" in account 2 of [hosts."gitlab.com"] (did you mean "paths"?)`,
		wantKey: `hosts."gitlab.com".accounts[1].pahts`,
	},
	{
		name:    "syntax error: unterminated string",
		content: "backend = \"keyring\"\nlifetime = \"30d\n",
		want:    `:2: bad TOML: strings cannot contain newlines`,
	},
	{
		name:    "syntax error: unquoted duration",
		content: "\nlifetime = 30d\n",
		want:    `:2: bad TOML: expected a top-level item to end with a newline, comment, or EOF, but got 'd' instead`,
	},
	{
		name:    "syntax error: duplicate key",
		content: "lifetime = \"30d\"\nlifetime = \"40d\"\n",
		want:    `:2: bad TOML: key 'lifetime' has already been defined`,
	},
	{
		// The parser finds an unclosed header at the newline that ends it,
		// and the library names the line after it.
		name:    "syntax error: unclosed table header",
		content: "a = 1\n[hosts.\"x\"\nusername = \"u\"\n",
		want:    `:3: bad TOML: expected '.' or ']' to end table name, but got '\n' instead`,
	},
	{
		name:    "syntax error: two keys on a line",
		content: "# c\n\nrotate_before = \"30d\" lifetime = \"10d\"\n",
		want:    `:3: bad TOML: expected a top-level item to end with a newline, comment, or EOF, but got 'l' instead`,
	},
	{
		name:    "syntax error: unclosed list at the end",
		content: "x = [\n",
		want:    `:1: bad TOML: unexpected EOF; expected value`,
	},
	{
		name:    "bad duration unit",
		content: "lifetime = \"30x\"\n",
		want:    `:1: lifetime: bad duration "30x": unknown unit "x" (use w, d, h, m or s, like "30d" or "1d12h")`,
		wantKey: "lifetime",
	},
	{
		name:    "duration as number",
		content: "\nrotate_before = 30\n",
		want:    `:2: rotate_before: want a duration in quotes like "30d", not a number`,
		wantKey: "rotate_before",
	},
	{
		name:    "negative duration",
		content: "rotate_before = \"-1d\"\n",
		want:    `:1: rotate_before: bad duration "-1d": must not be negative`,
		wantKey: "rotate_before",
	},
	{
		name:    "zero rotate_before",
		content: "rotate_before = \"0\"\n",
		want:    `:1: rotate_before: must be more than 0 (to stop rotating, set auto_rotate = false)`,
		wantKey: "rotate_before",
	},
	{
		name:    "lifetime too long",
		content: "lifetime = \"400d\"\n",
		want:    `:1: lifetime: 400d is more than 365d, the longest lifetime GitLab allows`,
		wantKey: "lifetime",
	},
	{
		name:    "rotate_before not below default lifetime",
		content: "\n\nrotate_before = \"90d\"\n",
		want:    `:3: rotate_before: 90d is not at least a day shorter than lifetime 90d: a rotated token would be due for rotation at once`,
		wantKey: "rotate_before",
	},
	{
		name:    "lifetime not above default rotate_before",
		content: "lifetime = \"20d\"\n",
		want:    `:1: lifetime: 20d is not at least a day longer than rotate_before 30d: a rotated token would be due for rotation at once`,
		wantKey: "lifetime",
	},
	{
		name:    "host override conflicts with global",
		content: "rotate_before = \"30d\"\n[hosts.\"gitlab.com\"]\nlifetime = \"25d\"\n",
		want:    `:3: lifetime in [hosts."gitlab.com"]: 25d is not at least a day longer than rotate_before 30d: a rotated token would be due for rotation at once`,
		wantKey: `hosts."gitlab.com".lifetime`,
	},
	{
		name:    "host rotate_before too long for global lifetime",
		content: "lifetime = \"60d\"\n[hosts.\"gitlab.com\"]\nusername = \"a\"\nrotate_before = \"2mo\"\n",
		want:    `:4: rotate_before in [hosts."gitlab.com"]: bad duration "2mo": unknown unit "mo" (use w, d, h, m or s, like "30d" or "1d12h")`,
		wantKey: `hosts."gitlab.com".rotate_before`,
	},
	{
		name:    "host lifetime over the limit",
		content: "[hosts.\"gitlab.com\"]\nlifetime = \"53w\"\n",
		want:    `:2: lifetime in [hosts."gitlab.com"]: 371d is more than 365d, the longest lifetime GitLab allows`,
		wantKey: `hosts."gitlab.com".lifetime`,
	},
	{
		name:    "unknown backend",
		content: "backend = \"keychain\"\n",
		want:    `:1: backend: unknown backend "keychain"; want "keyring", "encrypted-file" or "kernel"`,
		wantKey: "backend",
	},
	{
		name:    "misspelt backend",
		content: "backend = \"encrypted_file\"\n",
		want:    `:1: backend: unknown backend "encrypted_file" (did you mean "encrypted-file"?)`,
		wantKey: "backend",
	},
	{
		name:    "auto_rotate as string",
		content: "auto_rotate = \"yes\"\n",
		want:    `:1: auto_rotate: want true or false, not a string`,
		wantKey: "auto_rotate",
	},
	{
		name:    "api_url not http",
		content: "[hosts.\"gitlab.com\"]\napi_url = \"ftp://gitlab.com/api/v4\"\n",
		want:    `:2: api_url in [hosts."gitlab.com"]: "ftp://gitlab.com/api/v4" is not an http or https URL, like "https://gitlab.example.com/api/v4"`,
		wantKey: `hosts."gitlab.com".api_url`,
	},
	{
		name:    "api_url without scheme",
		content: "[hosts.\"gitlab.com\"]\napi_url = \"gitlab.com/api/v4\"\n",
		want:    `:2: api_url in [hosts."gitlab.com"]: "gitlab.com/api/v4" is not an http or https URL, like "https://gitlab.example.com/api/v4"`,
		wantKey: `hosts."gitlab.com".api_url`,
	},
	{
		name:    "api_url with userinfo",
		content: "[hosts.\"gitlab.com\"]\napi_url = \"https://me:secret@gitlab.com/api/v4\"\n",
		want:    `:2: api_url in [hosts."gitlab.com"]: must not contain a username or password; tokens live in the keychain`,
		wantKey: `hosts."gitlab.com".api_url`,
	},
	{
		name:    "api_url with query",
		content: "[hosts.\"gitlab.com\"]\napi_url = \"https://gitlab.com/api/v4?x=1\"\n",
		want:    `:2: api_url in [hosts."gitlab.com"]: "https://gitlab.com/api/v4?x=1" must not have a query or fragment`,
		wantKey: `hosts."gitlab.com".api_url`,
	},
	{
		name:    "api_url without host",
		content: "[hosts.\"gitlab.com\"]\napi_url = \"https:///api/v4\"\n",
		want:    `:2: api_url in [hosts."gitlab.com"]: "https:///api/v4" has no host`,
		wantKey: `hosts."gitlab.com".api_url`,
	},
	{
		name:    "host written as URL",
		content: "[hosts.\"https://gitlab.com\"]\nusername = \"a\"\n",
		want:    `:1: [hosts."https://gitlab.com"]: want a host name like "gitlab.com" or "gitlab.example.com:8443", not a URL`,
		wantKey: `hosts."https://gitlab.com"`,
	},
	{
		name:    "host with bad port",
		content: "[hosts.\"gitlab.com:99999\"]\n",
		want:    `:1: [hosts."gitlab.com:99999"]: "gitlab.com:99999" has a bad port`,
		wantKey: `hosts."gitlab.com:99999"`,
	},
	{
		name:    "same host in two cases",
		content: "[hosts.\"GitLab.com\"]\nusername = \"a\"\n[hosts.\"gitlab.com\"]\nusername = \"b\"\n",
		want:    `:3: [hosts."gitlab.com"]: same host as [hosts."GitLab.com"]: host names are not case-sensitive`,
		wantKey: `hosts."gitlab.com"`,
	},
	{
		name:    "hosts not a table",
		content: "hosts = \"gitlab.com\"\n",
		want:    `:1: hosts: want a table of hosts like [hosts."gitlab.com"], not a string`,
		wantKey: "hosts",
	},
	{
		name:    "host not a table",
		content: "[hosts]\n\"gitlab.com\" = true\n",
		want:    `:2: [hosts."gitlab.com"]: want a table like [hosts."gitlab.com"], not true or false`,
		wantKey: `hosts."gitlab.com"`,
	},
	{
		name:    "username with newline",
		content: "[hosts.\"gitlab.com\"]\nusername = \"alice\\npassword=x\"\n",
		want:    `:2: username in [hosts."gitlab.com"]: contains a control character`,
		wantKey: `hosts."gitlab.com".username`,
	},
	{
		name:    "empty username",
		content: "[hosts.\"gitlab.com\"]\nusername = \"\"\n",
		want:    `:2: username in [hosts."gitlab.com"]: empty username`,
		wantKey: `hosts."gitlab.com".username`,
	},
	{
		name:    "relative ca_file",
		content: "[hosts.\"gitlab.com\"]\nca_file = \"certs/ca.pem\"\n",
		want:    `:2: ca_file in [hosts."gitlab.com"]: "certs/ca.pem" is not an absolute path`,
		wantKey: `hosts."gitlab.com".ca_file`,
	},
	{
		name:    "oauth_client_id with a space",
		content: "[hosts.\"gitlab.com\"]\noauth_client_id = \"abc def\"\n",
		want:    `:2: oauth_client_id in [hosts."gitlab.com"]: "abc def" is not an application ID (GitLab's Application ID, without spaces)`,
		wantKey: `hosts."gitlab.com".oauth_client_id`,
	},
	{
		name:    "empty oauth_client_id",
		content: "[hosts.\"gitlab.com\"]\noauth_client_id = \"\"\n",
		want:    `:2: oauth_client_id in [hosts."gitlab.com"]: empty; remove the line or give the Application ID`,
		wantKey: `hosts."gitlab.com".oauth_client_id`,
	},
	{
		name:    "account without username",
		content: "[hosts.\"gitlab.com\"]\n\n[[hosts.\"gitlab.com\".accounts]]\npaths = [\"acme\"]\n",
		want:    `:3: account 1 of [hosts."gitlab.com"]: missing username`,
		wantKey: `hosts."gitlab.com".accounts[0]`,
	},
	{
		name:    "account without paths",
		content: "[[hosts.\"gitlab.com\".accounts]]\nusername = \"a\"\n",
		want:    `:1: account 1 of [hosts."gitlab.com"]: missing paths, like paths = ["my-group/"]`,
		wantKey: `hosts."gitlab.com".accounts[0]`,
	},
	{
		name:    "account with a username of the wrong type and no paths",
		content: "[[hosts.\"gitlab.com\".accounts]]\nusername = 1\n",
		want:    `:2: username in account 1 of [hosts."gitlab.com"]: want a string, not a number`,
		wantKey: `hosts."gitlab.com".accounts[0].username`,
	},
	{
		// The library keeps one position per key, not per item of a list:
		// an item is placed at its list's line.
		name:    "account with empty path",
		content: "[[hosts.\"gitlab.com\".accounts]]\nusername = \"a\"\npaths = [\"acme\",\n  \"/\"]\n",
		want:    `:3: item 2 of paths in account 1 of [hosts."gitlab.com"]: empty path; set username in the host's table for its default account`,
		wantKey: `hosts."gitlab.com".accounts[0].paths[1]`,
	},
	{
		name:    "path in two accounts",
		content: "[[hosts.\"gitlab.com\".accounts]]\nusername = \"a\"\npaths = [\"acme\"]\n[[hosts.\"gitlab.com\".accounts]]\nusername = \"b\"\npaths = [\"Acme/\"]\n",
		want:    `:6: item 1 of paths in account 2 of [hosts."gitlab.com"]: "Acme" is already in the paths of account 1`,
		wantKey: `hosts."gitlab.com".accounts[1].paths[0]`,
	},
	{
		name:    "paths not a list",
		content: "[[hosts.\"gitlab.com\".accounts]]\nusername = \"a\"\npaths = \"acme\"\n",
		want:    `:3: paths in account 1 of [hosts."gitlab.com"]: want a list of paths like ["my-group/"], not a string`,
		wantKey: `hosts."gitlab.com".accounts[0].paths`,
	},
	{
		// Checks run in a fixed order, and unknown keys come first: a
		// misspelt key is the likeliest cause of anything else.
		name:    "several problems: an unknown key is reported first",
		content: "[hosts.\"zz.example\"]\nlifetime = \"bad\"\n[hosts.\"aa.example\"]\nusernme = \"x\"\n",
		want:    `:4: unknown key "usernme" in [hosts."aa.example"] (did you mean "username"?)`,
		wantKey: `hosts."aa.example".usernme`,
	},
	{
		name:    "several problems: the first host in the file is reported",
		content: "[hosts.\"zz.example\"]\nlifetime = \"bad\"\n[hosts.\"aa.example\"]\nlifetime = \"worse\"\n",
		want:    `:2: lifetime in [hosts."zz.example"]: bad duration "bad": expected a number at "bad" (use w, d, h, m or s, like "30d" or "1d12h")`,
		wantKey: `hosts."zz.example".lifetime`,
	},
	{
		// Then the values, table by table: a value out of bounds in an
		// earlier table comes before a value of the wrong type in a later one.
		name:    "several problems: the top level before the hosts",
		content: "lifetime = \"400d\"\n[hosts.\"a.example\"]\nusername = 1\n",
		want:    `:1: lifetime: 400d is more than 365d, the longest lifetime GitLab allows`,
		wantKey: "lifetime",
	},
	{
		name:    "item of paths in the first of two accounts",
		content: "[[hosts.\"g.example\".accounts]]\nusername = \"a\"\npaths = [\"x\",\n  \"/\"]\n[[hosts.\"g.example\".accounts]]\nusername = \"b\"\npaths = [\"y\", \"z\"]\n",
		want:    `:3: item 2 of paths in account 1 of [hosts."g.example"]: empty path; set username in the host's table for its default account`,
		wantKey: `hosts."g.example".accounts[0].paths[1]`,
	},
	{
		name:    "first of two accounts without username",
		content: "\n[[hosts.\"g.example\".accounts]]\npaths = [\"x\"]\n[[hosts.\"g.example\".accounts]]\nusername = \"b\"\npaths = [\"y\"]\n",
		want:    `:2: account 1 of [hosts."g.example"]: missing username`,
		wantKey: `hosts."g.example".accounts[0]`,
	},
	{
		// An inline table in a list has no line of its own either; a key
		// in it is placed at the list's line.
		name:    "inline account without username",
		content: "[hosts.\"g.example\"]\naccounts = [\n  {username = \"a\", paths = [\"x\"]},\n  {paths = [\"y\"]},\n]\n",
		want:    `:2: account 2 of [hosts."g.example"]: missing username`,
		wantKey: `hosts."g.example".accounts[1]`,
	},
	{
		name:    "account not a table",
		content: "[hosts.\"g.example\"]\naccounts = [\n  {username = \"a\", paths = [\"x\"]},\n  3,\n]\n",
		want:    `:2: account 2 of [hosts."g.example"]: want a table with username and paths, not a number`,
		wantKey: `hosts."g.example".accounts[1]`,
	},
	{
		name:    "path not a string",
		content: "[[hosts.\"g.example\".accounts]]\nusername = \"a\"\npaths = [\"x\", # a comment, \"quoted\"\n  '''y, ''', true]\n",
		want:    `:3: item 3 of paths in account 1 of [hosts."g.example"]: want a string, not true or false`,
		wantKey: `hosts."g.example".accounts[0].paths[2]`,
	},
	{
		name:    "wrong type in the first of two accounts",
		content: "[[hosts.\"g.example\".accounts]]\nusername = 1\npaths = [\"x\"]\n[[hosts.\"g.example\".accounts]]\nusername = \"b\"\npaths = [\"y\"]\n",
		want:    `:2: username in account 1 of [hosts."g.example"]: want a string, not a number`,
		wantKey: `hosts."g.example".accounts[0].username`,
	},
	{
		name:    "bad username in the first of two inline accounts",
		content: "[hosts.\"g.example\"]\naccounts = [\n  {username = \"\", paths = [\"x\"]},\n  {username = \"b\", paths = [\"y\"]},\n]\n",
		want:    `:2: username in account 1 of [hosts."g.example"]: empty username`,
		wantKey: `hosts."g.example".accounts[0].username`,
	},
	{
		name:    "item of paths in the first of two inline accounts",
		content: "[hosts.\"g.example\"]\naccounts = [\n  {username = \"a\", paths = [\"x\", \"/\"]},\n  {username = \"b\",\n   paths = [\"y\", \"z\"]},\n]\n",
		want:    `:2: item 2 of paths in account 1 of [hosts."g.example"]: empty path; set username in the host's table for its default account`,
		wantKey: `hosts."g.example".accounts[0].paths[1]`,
	},
	{
		// The library decodes a table's keys in map order; problems come
		// in field order all the same (TestLoadErrorsInFieldOrder).
		name:    "two values of the wrong type in one table",
		content: "[hosts.\"g.example\"]\nca_file = 3\nlifetime = 4\nusername = 1\n",
		want:    `:4: username in [hosts."g.example"]: want a string, not a number`,
		wantKey: `hosts."g.example".username`,
	},
	{
		name:    "line found after multi-line strings and inline tables",
		content: "# \"\"\" not a string\n[hosts.\"a.example\"]\nca_file = '''\n/x\n'''\naccounts = [{username = \"\"\"\nu\"\"\", paths = ['''p''']}]\n[hosts.'b.example']\nrotate_before = \"1x\"\n",
		want:    `:9: rotate_before in [hosts."b.example"]: bad duration "1x": unknown unit "x" (use w, d, h, m or s, like "30d" or "1d12h")`,
		wantKey: `hosts."b.example".rotate_before`,
	},
}

func TestLoadErrors(t *testing.T) {
	for _, tt := range loadErrorTests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeConfig(t, tt.content)
			c, err := Load(path)
			if err == nil {
				t.Fatalf("Load = %+v, want error %q", c, tt.want)
			}
			if got, want := err.Error(), "config: "+path+tt.want; got != want {
				t.Errorf("error:\n got %s\nwant %s", got, want)
			}
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("error is %T, want *Error", err)
			}
			if ce.Key != tt.wantKey {
				t.Errorf("Error.Key = %q, want %q", ce.Key, tt.wantKey)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error has more than one line: %q", err)
			}
		})
	}
}

// TestEveryKnownKeyIsDecoded: the key lists that unknownKey checks name
// the same keys as the struct tags the library decodes into. fullConfig
// sets every listed key, and decoding it leaves none undecoded.
func TestEveryKnownKeyIsDecoded(t *testing.T) {
	c := Default()
	var f fileTOML
	md, err := toml.Decode(fullConfig, &f)
	if err != nil {
		t.Fatal(err)
	}
	d := &decoder{c: c, data: []byte(fullConfig), md: md}
	if d.validate(&f); d.err != nil {
		t.Fatal(d.err)
	}
	if u := d.md.Undecoded(); len(u) > 0 {
		t.Errorf("keys no field took: %q", u)
	}
	set := map[string]bool{}
	for _, k := range md.Keys() {
		for _, part := range k {
			set[part] = true
		}
	}
	for _, k := range slices.Concat(fileKeys, hostKeys, accountKeys) {
		if !set[k] {
			t.Errorf("fullConfig does not set %q", k)
		}
	}
}

// TestLoadErrorsInFieldOrder: of two problems of the same kind in one
// table, the same is reported every time.
func TestLoadErrorsInFieldOrder(t *testing.T) {
	path := writeConfig(t, "auto_rotate = 1\nrotate_before = 2\nbackend = 3\nlifetime = 4\n")
	want := "config: " + path + ":3: backend: want a string, not a number"
	for range 20 {
		if _, err := Load(path); err == nil || err.Error() != want {
			t.Fatalf("Load = %v, want %s", err, want)
		}
	}
}

func TestLoadFileErrors(t *testing.T) {
	t.Run("directory", func(t *testing.T) {
		dir := t.TempDir()
		_, err := Load(dir)
		if want := "config: " + dir + ": is a directory, not a file"; err == nil || err.Error() != want {
			t.Errorf("Load(dir) = %v, want %s", err, want)
		}
	})
	t.Run("too large", func(t *testing.T) {
		path := writeConfig(t, "# "+strings.Repeat("x", maxFileSize)+"\n")
		_, err := Load(path)
		if want := "config: " + path + ": file is larger than 1 MiB; this is not a config file"; err == nil || err.Error() != want {
			t.Errorf("Load(big) = %v, want %s", err, want)
		}
	})
	t.Run("unreadable", func(t *testing.T) {
		path := writeConfig(t, "")
		want := "config: " + path + ": cannot read: permission denied"
		if os.Geteuid() == 0 {
			// Root reads every file; a path through a file is unreadable
			// for everyone, and must not count as "no config file".
			path = filepath.Join(path, "config.toml")
			want = "config: " + path + ": cannot read: not a directory"
		} else if err := os.Chmod(path, 0); err != nil {
			t.Fatal(err)
		}
		_, err := Load(path)
		if err == nil || err.Error() != want {
			t.Errorf("Load(unreadable) = %v, want %s", err, want)
		}
	})
}

func TestDurationDecodesWithTOML(t *testing.T) {
	// Other packages may decode Durations from their own TOML.
	var v struct{ D Duration }
	if _, err := toml.Decode("D = \"1d12h\"", &v); err != nil {
		t.Fatal(err)
	}
	if time.Duration(v.D) != 36*time.Hour {
		t.Errorf("decoded %v, want 36h", time.Duration(v.D))
	}
	if _, err := toml.Decode("D = \"soon\"", &v); err == nil || !strings.Contains(err.Error(), `bad duration "soon"`) {
		t.Errorf("decoding a bad duration: %v, want bad duration error", err)
	}
}
