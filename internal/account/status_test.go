package account

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/glpat-dev/git-credential-glpat/internal/config"
	"github.com/glpat-dev/git-credential-glpat/internal/hostarg"
	"github.com/glpat-dev/git-credential-glpat/internal/lifecycle"
	"github.com/glpat-dev/git-credential-glpat/internal/secrets/secretstest"
	"github.com/glpat-dev/git-credential-glpat/internal/store"
)

// TestStatusLeavesTheStateDirAsItIs: status describes what a finished
// rotation left behind (a journal naming the token it replaced, a recovery
// file holding the token now stored) and changes nothing; rotate, a command
// that changes things, removes them.
func TestStatusLeavesTheStateDirAsItIs(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	now := time.Date(2026, 1, 20, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	st := &store.Store{Secrets: new(secretstest.Memory), Dir: filepath.Join(dir, "index"), Backend: "keyring", Clock: clock}
	rec := &store.Record{Protocol: "https", Host: "gitlab.example.com", Username: "alice",
		Token: &store.Token{ID: 2, Name: "laptop", ExpiresAt: "2026-06-01", Scopes: []string{"write_repository", "self_rotate"}}}
	if err := st.Put(ctx, rec, &store.Secret{Password: "glpat-successor"}); err != nil {
		t.Fatal(err)
	}
	journal := filepath.Join(dir, "rotation", store.EscapeName(rec.Account)+".pending")
	recovery := filepath.Join(dir, "recovery", store.EscapeName(rec.Account)+".token")
	for file, content := range map[string]string{
		journal:  `{"old_token_id": 1, "started_at": "2026-01-19T00:00:00Z", "host": "gitlab.example.com"}`,
		recovery: "glpat-successor\n",
	} {
		os.MkdirAll(filepath.Dir(file), 0o700)
		if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	svc := &Service{Store: st, Config: config.Default(),
		Lifecycle: &lifecycle.Manager{Store: st, StateDir: dir}}

	for _, offline := range []bool{true, false} {
		// Online, GitLab is not reached: the record names no API URL.
		entries, err := svc.Status(ctx, hostarg.Host{}, StatusOptions{Offline: offline})
		if err != nil || len(entries) != 1 {
			t.Fatalf("status: %v, %v", entries, err)
		}
		for _, f := range []string{journal, recovery} {
			if _, err := os.Stat(f); err != nil {
				t.Errorf("status (offline %v) removed %s", offline, f)
			}
		}
		// What the finished rotation left is no problem, and worth a note
		// when status knows the file holds the stored token.
		if e := entries[0]; e.Level != lifecycle.OK || e.Label != "ok" || !strings.Contains(e.Note, recovery) {
			t.Errorf("status (offline %v): %v %q, note %q; want ok, the note naming %s", offline, e.Level, e.Label, e.Note, recovery)
		}
	}

	if _, err := svc.Rotate(ctx, hostarg.Host{}, false); err != nil {
		t.Fatalf("rotate: %v", err)
	}
	for _, f := range []string{journal, recovery} {
		if _, err := os.Stat(f); err == nil {
			t.Errorf("rotate left %s", f)
		}
	}
}

// TestStatusJSONSaysTheVerdict: status --json carries the verdict every
// command gives (state, level, problem, fix, note), and nothing of it twice.
func TestStatusJSONSaysTheVerdict(t *testing.T) {
	e := Entry{Host: "gitlab.example.com", Protocol: "https", Username: "alice", Managed: true,
		Verdict: lifecycle.Verdict{Level: lifecycle.Warning, Label: "can't rotate", Name: "cannot_rotate", Problem: "p", Fix: "f"}}
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	json.Unmarshal(b, &m)
	if m["state"] != "cannot_rotate" || m["level"] != "warning" || m["problem"] != "p" || m["fix"] != "f" {
		t.Errorf("status --json: %s", b)
	}
	if strings.Contains(string(b), "can't rotate") {
		t.Errorf("the table's label is in --json as well: %s", b)
	}
}
