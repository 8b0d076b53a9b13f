package helper

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/glpat-dev/git-credential-glpat/internal/secrets"
	"github.com/glpat-dev/git-credential-glpat/internal/store"
)

// step is one call of the helper: op with stdin in, and the stdout Git must
// see. Git's own storage helper tests (t/lib-credential.sh) are the model.
type step struct {
	op, in, want string
}

type conformanceCase struct {
	name  string
	steps []step
}

// longValue mirrors LONG_VALUE in git's t/lib-credential.sh.
var longValue = "a" + strings.Repeat("a", 10000)

var conformanceCases = []conformanceCase{
	{"nothing stored, get prints nothing", []step{
		{"get", "protocol=https\nhost=example.com\n", ""},
	}},
	{"store then get", []step{
		{"store", "protocol=https\nhost=example.com\nusername=store-user\npassword=store-pass\n", ""},
		{"get", "protocol=https\nhost=example.com\n", "username=store-user\npassword=store-pass\n"},
	}},
	{"protocol must match", []step{
		{"store", "protocol=https\nhost=example.com\nusername=u\npassword=p\n", ""},
		{"get", "protocol=http\nhost=example.com\n", ""},
	}},
	{"host must match", []step{
		{"store", "protocol=https\nhost=example.com\nusername=u\npassword=p\n", ""},
		{"get", "protocol=https\nhost=other.tld\n", ""},
	}},
	{"port must match", []step{
		{"store", "protocol=https\nhost=example.com:8443\nusername=u\npassword=p\n", ""},
		{"get", "protocol=https\nhost=example.com\n", ""},
		{"get", "protocol=https\nhost=example.com:443\n", ""},
		{"get", "protocol=https\nhost=example.com:8443\n", "username=u\npassword=p\n"},
	}},
	{"username must match when given", []step{
		{"store", "protocol=https\nhost=example.com\nusername=u\npassword=p\n", ""},
		{"get", "protocol=https\nhost=example.com\nusername=other\n", ""},
		{"get", "protocol=https\nhost=example.com\nusername=u\n", "username=u\npassword=p\n"},
	}},
	{"path must match when stored with one", []step{
		{"store", "protocol=http\nhost=path.tld\npath=foo.git\nusername=user\npassword=pass\n", ""},
		{"get", "protocol=http\nhost=path.tld\npath=bar.git\n", ""},
		{"get", "protocol=http\nhost=path.tld\npath=foo.git\n", "username=user\npassword=pass\n"},
	}},
	{"store overwrites the same credential", []step{
		{"store", "protocol=https\nhost=example.com\nusername=u\npassword=old\n", ""},
		{"store", "protocol=https\nhost=example.com\nusername=u\npassword=new\n", ""},
		{"get", "protocol=https\nhost=example.com\n", "username=u\npassword=new\n"},
	}},
	{"erase with protocol and host forgets every user", []step{
		{"store", "protocol=https\nhost=example.com\nusername=user1\npassword=pass1\n", ""},
		{"store", "protocol=https\nhost=example.com\nusername=user2\npassword=pass2\n", ""},
		{"erase", "protocol=https\nhost=example.com\n", ""},
		{"get", "protocol=https\nhost=example.com\n", ""},
		{"get", "protocol=https\nhost=example.com\nusername=user1\n", ""},
	}},
	{"several users on one host", []step{
		{"store", "protocol=https\nhost=example.com\nusername=user1\npassword=pass1\n", ""},
		{"store", "protocol=https\nhost=example.com\nusername=user2\npassword=pass2\n", ""},
		{"get", "protocol=https\nhost=example.com\nusername=user1\n", "username=user1\npassword=pass1\n"},
		{"get", "protocol=https\nhost=example.com\nusername=user2\n", "username=user2\npassword=pass2\n"},
	}},
	{"most recently stored wins", []step{
		{"store", "protocol=https\nhost=example.com\nusername=user1\npassword=pass1\n", ""},
		{"store", "protocol=https\nhost=example.com\nusername=user2\npassword=pass2\n", ""},
		{"get", "protocol=https\nhost=example.com\n", "username=user2\npassword=pass2\n"},
	}},
	{"erase with a different password erases nothing", []step{
		{"store", "protocol=https\nhost=example.com\nusername=u\npassword=pass1\n", ""},
		{"erase", "protocol=https\nhost=example.com\nusername=u\npassword=pass2\n", ""},
		{"get", "protocol=https\nhost=example.com\n", "username=u\npassword=pass1\n"},
		{"erase", "protocol=https\nhost=example.com\nusername=u\npassword=pass1\n", ""},
		{"get", "protocol=https\nhost=example.com\n", ""},
	}},
	{"erase of one user keeps the others", []step{
		{"store", "protocol=https\nhost=example.com\nusername=user1\npassword=pass1\n", ""},
		{"store", "protocol=https\nhost=example.com\nusername=user2\npassword=pass2\n", ""},
		{"erase", "protocol=https\nhost=example.com\nusername=user1\n", ""},
		{"get", "protocol=https\nhost=example.com\nusername=user1\n", ""},
		{"get", "protocol=https\nhost=example.com\nusername=user2\n", "username=user2\npassword=pass2\n"},
	}},
	{"empty username and password", []step{
		{"store", "protocol=https\nhost=sso.tld\nusername=\npassword=\n", ""},
		{"get", "protocol=https\nhost=sso.tld\n", "username=\npassword=\n"},
	}},
	{"erase removes every match", []step{
		{"store", "protocol=https\nhost=example.com\nusername=u\npassword=p\n", ""},
		{"store", "protocol=https\nhost=example.com\npath=a.git\nusername=u\npassword=p\n", ""},
		{"store", "protocol=https\nhost=example.com\npath=b.git\nusername=v\npassword=p\n", ""},
		{"erase", "protocol=https\nhost=example.com\nusername=u\n", ""},
		{"get", "protocol=https\nhost=example.com\npath=a.git\n", ""},
		{"get", "protocol=https\nhost=example.com\npath=b.git\n", "username=v\npassword=p\n"},
	}},
	{"long wwwauth line does not leak another host", []step{
		{"store", "protocol=https\nhost=victim.example.com\nusername=user\npassword=to-be-stolen\n", ""},
		{"get", "protocol=https\nhost=badguy.example.com\nwwwauth[]=" + longValue + "\n", ""},
	}},
	{"password_expiry_utc is stored, returned and overwritten", []step{
		{"store", "protocol=https\nhost=example.com\nusername=user-expiry\npassword=pass\npassword_expiry_utc=9999999999\n", ""},
		{"get", "protocol=https\nhost=example.com\nusername=user-expiry\n", "username=user-expiry\npassword=pass\npassword_expiry_utc=9999999999\n"},
		{"store", "protocol=https\nhost=example.com\nusername=user-expiry\npassword=pass\npassword_expiry_utc=9999999998\n", ""},
		{"get", "protocol=https\nhost=example.com\nusername=user-expiry\n", "username=user-expiry\npassword=pass\npassword_expiry_utc=9999999998\n"},
	}},
	{"oauth_refresh_token is stored and returned", []step{
		{"store", "protocol=https\nhost=example.com\nusername=user4\npassword=pass\noauth_refresh_token=xyzzy\n", ""},
		{"get", "protocol=https\nhost=example.com\nusername=user4\n", "username=user4\npassword=pass\noauth_refresh_token=xyzzy\n"},
	}},
	{"expired password is not returned", []step{
		{"store", "protocol=https\nhost=example.com\nusername=u\npassword=p\npassword_expiry_utc=2000000000\n", ""},
		{"get", "protocol=https\nhost=example.com\n", "username=u\npassword=p\npassword_expiry_utc=2000000000\n"},
		{"advance", "", ""},
		{"get", "protocol=https\nhost=example.com\n", ""},
	}},
	{"an expired credential is not stored", []step{
		{"store", "protocol=https\nhost=example.com\nusername=u\npassword=p\npassword_expiry_utc=1000\n", ""},
		{"get", "protocol=https\nhost=example.com\n", ""},
	}},
	{"ephemeral credential is not stored", []step{
		{"store", "protocol=https\nhost=example.com\nusername=u\npassword=p\nephemeral=1\n", ""},
		{"get", "protocol=https\nhost=example.com\n", ""},
	}},
	{"url attribute is expanded", []step{
		{"store", "url=https://u@example.com/group/repo.git\npassword=p\n", ""},
		{"get", "url=https://example.com/group/repo.git\n", "username=u\npassword=p\n"},
		{"get", "url=https://example.com/group/other.git\n", ""},
	}},
	{"unknown operation does nothing", []step{
		{"store", "protocol=https\nhost=example.com\nusername=u\npassword=p\n", ""},
		{"frobnicate", "protocol=https\nhost=example.com\n", ""},
		{"get", "protocol=https\nhost=example.com\n", "username=u\npassword=p\n"},
	}},
}

// testConformance runs every case against a fresh store built by newSecrets.
func testConformance(t *testing.T, newSecrets func(t *testing.T) secrets.Store) {
	for _, tc := range conformanceCases {
		t.Run(tc.name, func(t *testing.T) {
			now := time.Unix(1900000000, 0)
			var warnings []string
			h := &Helper{
				Store: &store.Store{Secrets: newSecrets(t), Dir: t.TempDir(), Clock: func() time.Time { return now }},
				Warn:  func(f string, a ...any) { warnings = append(warnings, fmt.Sprintf(f, a...)) },
			}
			for i, s := range tc.steps {
				if s.op == "advance" {
					now = time.Unix(2000000000, 0)
					continue
				}
				var out bytes.Buffer
				if err := h.Run(context.Background(), s.op, strings.NewReader(s.in), &out); err != nil {
					t.Fatalf("step %d (%s): %v", i, s.op, err)
				}
				if out.String() != s.want {
					t.Errorf("step %d (%s): stdout = %q, want %q", i, s.op, out.String(), s.want)
				}
			}
			if len(warnings) > 0 {
				t.Errorf("helper spoke to the user: %q", warnings)
			}
		})
	}
}
