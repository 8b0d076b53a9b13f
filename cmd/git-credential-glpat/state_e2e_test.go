package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/glpat-dev/git-credential-glpat/internal/gitlabtest"
)

// TestStatusAgreesWithGetOnTheTokensState: status and get ask one state
// (lifecycle.State). Before, status worked it out on its own and said
// "unverified" for an unverified token past its expiry, which get refuses
// as expired, and "expiring" for a held-back token that is due and cannot
// rotate itself, which get holds back.
func TestStatusAgreesWithGetOnTheTokensState(t *testing.T) {
	for _, tc := range []struct {
		name      string
		plant     func(s string) string
		wantState string
		wantGet   string // in get's stderr; "" for silence
	}{
		{"unverified past expiry", func(s string) string {
			s = regexp.MustCompile(`"expires_at": "[^"]*"`).ReplaceAllString(s, `"expires_at": "`+today().AddDate(0, 0, -1).Format(time.DateOnly)+`"`)
			return strings.Replace(s, `"api_url"`, `"unverified": true, "api_url"`, 1)
		}, "expired", "expired on"},
		{"held back, due, cannot rotate itself", func(s string) string {
			s = regexp.MustCompile(`"expires_at": "[^"]*"`).ReplaceAllString(s, `"expires_at": "`+today().AddDate(0, 0, 5).Format(time.DateOnly)+`"`)
			s = strings.Replace(s, `"self_rotate"`, `"read_api"`, 1)
			return strings.Replace(s, `"api_url"`, `"git_refused_at": "`+time.Now().UTC().Format(time.RFC3339)+`", "api_url"`, 1)
		}, "held_back", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newGitLabWorld(t, "")
			tok, _ := g.gl.CreateToken(gitlabtest.TokenSpec{
				Scopes:    []string{"read_repository", "self_rotate"},
				ExpiresAt: gitlabtest.DateOf(today().AddDate(0, 0, 80)),
			})
			g.login(tok)
			idx := filepath.Join(g.dir, "state", "index", "http_"+strings.ReplaceAll(g.host, ":", "%3A")+".json")
			data, err := os.ReadFile(idx)
			if err != nil {
				t.Fatal(err)
			}
			planted := tc.plant(string(data))
			if planted == string(data) {
				t.Fatalf("nothing planted in %s", data)
			}
			os.WriteFile(idx, []byte(planted), 0o600)
			if out, errOut := g.get(); out != "" || !strings.Contains(errOut, tc.wantGet) || (tc.wantGet == "" && errOut != "") {
				t.Errorf("get = %q, stderr %q; want nothing, stderr with %q", out, errOut, tc.wantGet)
			}
			js, _, _ := g.run("", binPath, "status", "--offline", "--json")
			var entries []map[string]any
			if err := json.Unmarshal([]byte(js), &entries); err != nil || len(entries) != 1 {
				t.Fatalf("status --json: %v\n%s", err, js)
			}
			if entries[0]["state"] != tc.wantState {
				t.Errorf("status says %q, get says %q", entries[0]["state"], tc.wantState)
			}
		})
	}
}
