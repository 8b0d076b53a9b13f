package helper

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/glpat-dev/git-credential-glpat/internal/config"
	"github.com/glpat-dev/git-credential-glpat/internal/gitlabapi"
	"github.com/glpat-dev/git-credential-glpat/internal/gitlabtest"
	"github.com/glpat-dev/git-credential-glpat/internal/secrets/secretstest"
	"github.com/glpat-dev/git-credential-glpat/internal/store"
)

// TestStoreManagesTokensOfAnyPrefix: a token git stores after a person
// typed it at the prompt is managed when GitLab confirms it, whatever
// prefix the instance gives its tokens: on a host the config names, any
// password is asked about; elsewhere, tokens whose shape says they are
// GitLab's access tokens (glpat-, an instance prefix before it, routable
// tokens, which carry a checksum, of any prefix). A classic token with a
// custom prefix looks like any password: only the config can say.
func TestStoreManagesTokensOfAnyPrefix(t *testing.T) {
	tests := []struct {
		name        string
		prefix      string
		format      gitlabtest.TokenFormat
		named       bool // the config names the host (setup or login did)
		wantManaged bool
	}{
		{"routable, custom prefix", "acme-pat_", gitlabtest.Routable, false, true},
		{"routable, instance prefix", "acme-glpat-", gitlabtest.Routable, false, true},
		{"classic, instance prefix", "acme-glpat-", gitlabtest.Classic, false, true},
		{"classic glpat-", "", gitlabtest.Classic, false, true},
		{"classic, custom prefix, host named", "acme_", gitlabtest.Classic, true, true},
		{"classic, custom prefix, host not named", "acme_", gitlabtest.Classic, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gl := gitlabtest.New(t)
			gl.SetTokenPrefix(tt.prefix)
			gl.SetTokenFormat(tt.format)
			tok, id := gl.CreateToken(gitlabtest.TokenSpec{ExpiresAt: gitlabtest.DateOf(time.Now()).AddDays(30)})
			cfgPath := filepath.Join(t.TempDir(), "config.toml")
			if tt.named {
				os.WriteFile(cfgPath, []byte("[hosts.\"gitlab.example.com\"]\n"), 0o600)
			}
			st := &store.Store{Secrets: new(secretstest.Memory), Dir: filepath.Join(t.TempDir(), "index")}
			h := &Helper{Store: st,
				Config: func() (*config.Config, error) { return config.Load(cfgPath) },
				NewAPI: func(apiURL, caFile string) (TokenChecker, error) {
					if apiURL != "https://gitlab.example.com/api/v4" {
						t.Errorf("asked %s", apiURL)
					}
					return gitlabapi.New(gl.APIURL(), caFile)
				},
			}
			in := "protocol=https\nhost=gitlab.example.com\nusername=alice\npassword=" + tok + "\n"
			if err := h.Run(context.Background(), "store", strings.NewReader(in), nil); err != nil {
				t.Fatal(err)
			}
			recs, _ := st.List()
			if len(recs) != 1 {
				t.Fatalf("stored %d records, want 1", len(recs))
			}
			managed := recs[0].Token != nil && recs[0].Token.ID == int64(id)
			if managed != tt.wantManaged {
				t.Errorf("managed = %v (token %+v), want %v", managed, recs[0].Token, tt.wantManaged)
			}
		})
	}
}
