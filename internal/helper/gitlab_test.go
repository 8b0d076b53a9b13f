package helper

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/glpat-dev/git-credential-glpat/internal/gitlabapi"
	"github.com/glpat-dev/git-credential-glpat/internal/gitlabtest"
	"github.com/glpat-dev/git-credential-glpat/internal/secrets/secretstest"
	"github.com/glpat-dev/git-credential-glpat/internal/store"
)

// TestDerivedAPIURLThat404s: GitLab served under a path (a relative URL
// root): the API URL derived from the host has no
// personal_access_tokens/self. The token Git stores is kept, as a plain
// credential, and the person is told to set api_url.
func TestDerivedAPIURLThat404s(t *testing.T) {
	gl := gitlabtest.New(t)
	tok, _ := gl.CreateToken(gitlabtest.TokenSpec{ExpiresAt: gitlabtest.DateOf(time.Now()).AddDays(30)})
	st := &store.Store{Secrets: new(secretstest.Memory), Dir: filepath.Join(t.TempDir(), "index")}
	var warnings []string
	h := &Helper{Store: st, Warn: func(f string, a ...any) { warnings = append(warnings, f) },
		// The derived https://HOST/api/v4 lands on GitLab's web routes:
		// the fake's root, outside its /api/v4.
		NewAPI: func(apiURL, caFile string) (TokenChecker, error) {
			return gitlabapi.New(gl.URL+"/elsewhere/api/v4", caFile)
		},
	}
	in := "protocol=https\nhost=gitlab.example.com\nusername=alice\npassword=" + tok + "\n"
	if err := h.Run(context.Background(), "store", strings.NewReader(in), nil); err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "set api_url") {
		t.Errorf("warnings %q, want one saying to set api_url", warnings)
	}
	recs, _ := st.List()
	if len(recs) != 1 || recs[0].Token != nil {
		t.Errorf("stored %+v, want one plain credential", recs)
	}
}
