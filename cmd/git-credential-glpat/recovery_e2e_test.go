package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/glpat-dev/git-credential-glpat/internal/gitlabtest"
	"github.com/glpat-dev/git-credential-glpat/internal/keychain"
	"github.com/glpat-dev/git-credential-glpat/internal/store"
)

// plantRotation writes what a rotation that died would leave for alice's
// account: a journal and a recovery file holding tok. It returns the
// recovery file's name.
func (g *gitlabWorld) plantRotation(tok string) string {
	g.t.Helper()
	name := store.EscapeName(store.AccountName("http", g.host, "", "alice"))
	state := filepath.Join(g.dir, "state")
	journal := fmt.Sprintf(`{"old_token_id":0,"started_at":%q,"host":%q}`, time.Now().Add(-time.Hour).UTC().Format(time.RFC3339), g.host)
	recovery := filepath.Join(state, "recovery", name+".token")
	for file, content := range map[string]string{
		filepath.Join(state, "rotation", name+".pending"): journal,
		recovery: tok + "\n",
	} {
		os.MkdirAll(filepath.Dir(file), 0o700)
		if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
			g.t.Fatal(err)
		}
	}
	return recovery
}

// keychainHolds returns the password the keychain holds for alice's
// account.
func (g *gitlabWorld) keychainHolds() string {
	g.t.Helper()
	raw, err := keychain.New(keychainService).Get(context.Background(), store.AccountName("http", g.host, "", "alice"))
	if err != nil {
		g.t.Fatalf("keychain: %v", err)
	}
	var sec store.Secret
	if err := json.Unmarshal([]byte(raw), &sec); err != nil {
		g.t.Fatalf("keychain item: %v", err)
	}
	return sec.Password
}

// TestPlantedRecoveryFileNeverReplacesTheToken: someone who can write the
// state dir plants a rotation journal and a recovery file for the account,
// the file holding another GitLab user's valid token, and takes the user's
// id out of the index. get serves the user's own token and the keychain
// keeps it. With GitLab unreachable, a planted string is not adopted
// either: one line says the file waits, and how a person can use it.
func TestPlantedRecoveryFileNeverReplacesTheToken(t *testing.T) {
	g := newGitLabWorld(t, "")
	tok, id := g.gl.CreateToken(gitlabtest.TokenSpec{Scopes: []string{"api"}, ExpiresAt: gitlabtest.DateOf(today().AddDate(0, 0, 60))})
	g.login(tok)
	other, _ := g.gl.CreateToken(gitlabtest.TokenSpec{Username: "mallory", Scopes: []string{"api"}, ExpiresAt: gitlabtest.DateOf(today().AddDate(0, 0, 60))})
	idx := filepath.Join(g.dir, "state", "index", "http_"+strings.ReplaceAll(g.host, ":", "%3A")+".json")
	data, err := os.ReadFile(idx)
	if err != nil {
		t.Fatal(err)
	}
	userField := fmt.Sprintf(`"user_id": %d`, g.gl.Token(id).UserID)
	if !strings.Contains(string(data), userField) {
		t.Fatalf("no %s in the index: %s", userField, data)
	}
	os.WriteFile(idx, []byte(strings.Replace(string(data), userField, `"user_id": 0`, 1)), 0o600)
	recovery := g.plantRotation(other)

	out, errOut := g.get()
	if got := password(out); got != tok {
		t.Errorf("get served %s, want the user's own token %s", fingerprintOf(got), fingerprintOf(tok))
	}
	if got := g.keychainHolds(); got != tok {
		t.Errorf("the keychain holds %s, want the user's own token %s", fingerprintOf(got), fingerprintOf(tok))
	}
	if !strings.Contains(errOut, recovery) || !strings.Contains(errOut, "another GitLab user") || strings.Count(errOut, "\n") != 1 {
		t.Errorf("stderr = %q, want one line naming %s", errOut, recovery)
	}

	// GitLab unreachable (nothing listens on port 1).
	cfg := fmt.Sprintf("[hosts.%q]\napi_url = \"http://127.0.0.1:1/api/v4\"\n", g.host)
	if err := os.WriteFile(filepath.Join(g.dir, "config.toml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	const planted = "glpat-plantedPLANTEDplanted0"
	recovery = g.plantRotation(planted)
	out, errOut = g.get()
	if got := password(out); got != tok {
		t.Errorf("with GitLab unreachable, get served %s, want the user's own token %s", fingerprintOf(got), fingerprintOf(tok))
	}
	if got := g.keychainHolds(); got != tok {
		t.Errorf("with GitLab unreachable, the keychain holds %s, want the user's own token %s", fingerprintOf(got), fingerprintOf(tok))
	}
	want := "login http://" + g.host + " --username alice --token-stdin < " + recovery
	if !strings.Contains(errOut, want) || strings.Count(errOut, "\n") != 1 || strings.Contains(errOut, planted) {
		t.Errorf("stderr = %q, want one line saying %q", errOut, want)
	}
	if _, err := os.Stat(recovery); err != nil {
		t.Errorf("the recovery file is gone: %v", err)
	}
}
