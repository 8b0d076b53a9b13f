package gitlabtest_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/glpat-dev/git-credential-glpat/internal/gitlabtest"
)

// TestSelfRotateOnOlderVersions: what POST .../self/rotate answers on a
// GitLab without the self-rotate endpoint, per version, kind and user, and
// that none of it rotates anything.
func TestSelfRotateOnOlderVersions(t *testing.T) {
	tests := []struct {
		version  string
		kind     gitlabtest.Kind
		admin    bool
		wantCode int
		wantBody string
	}{
		{"16.10.0", gitlabtest.Personal, false, 200, ""},
		{"16.9.2", gitlabtest.Personal, false, 401, `{"message":"401 Unauthorized"}`},
		{"16.8.1", gitlabtest.Personal, true, 404, `{"message":"404 Not found"}`},
		{"16.0.0", gitlabtest.Personal, false, 401, `{"message":"401 Unauthorized"}`},
		{"15.11.2", gitlabtest.Personal, false, 404, `{"error":"404 Not Found"}`},
		{"15.11.2", gitlabtest.Personal, true, 404, `{"error":"404 Not Found"}`},
		{"17.9.0", gitlabtest.ProjectToken, false, 200, ""},
		{"17.8.1", gitlabtest.ProjectToken, false, 401, `{"message":"401 Unauthorized"}`},
		{"16.9.0", gitlabtest.GroupToken, false, 401, `{"message":"401 Unauthorized"}`},
		{"15.11.0", gitlabtest.ProjectToken, false, 404, `{"error":"404 Not Found"}`},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s %s admin=%v", tt.version, tt.kind, tt.admin), func(t *testing.T) {
			srv, _ := newServer(t)
			srv.SetVersion(tt.version)
			repo := srv.CreateRepo("acme/widgets")
			spec := gitlabtest.TokenSpec{Kind: tt.kind, ExpiresAt: today.AddDays(10)}
			path := "/personal_access_tokens/self/rotate"
			switch tt.kind {
			case gitlabtest.ProjectToken:
				spec.OwnerID = repo.ID
				path = fmt.Sprintf("/projects/%d/access_tokens/self/rotate", repo.ID)
			case gitlabtest.GroupToken:
				spec.OwnerID = repo.GroupID
				path = fmt.Sprintf("/groups/%d/access_tokens/self/rotate", repo.GroupID)
			}
			tok, id := srv.CreateToken(spec)
			srv.SetAdmin(srv.Token(id).Username, tt.admin)

			got := do(t, srv, "POST", path, privateToken(tok), nil, "")
			if got.status != tt.wantCode || (tt.wantBody != "" && got.body != tt.wantBody) {
				t.Errorf("rotate: %d %s, want %d %s", got.status, got.body, tt.wantCode, tt.wantBody)
			}
			if st := srv.Token(id); (st.Revoked) != (tt.wantCode == 200) {
				t.Errorf("old token after the answer %d: %v", got.status, st)
			}
			if tt.wantCode != 200 {
				// A dead token is refused as such first where the
				// route authenticates (16.0+).
				srv.Revoke(id)
				got := do(t, srv, "POST", path, privateToken(tok), nil, "")
				wantDead := http.StatusUnauthorized
				if tt.wantBody == `{"error":"404 Not Found"}` {
					wantDead = http.StatusNotFound
				}
				if got.status != wantDead {
					t.Errorf("rotate with a revoked token: %d %s, want %d", got.status, got.body, wantDead)
				}
			}
		})
	}
}
