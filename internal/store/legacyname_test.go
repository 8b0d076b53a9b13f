package store

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glpat-dev/git-credential-glpat/internal/credential"
	"github.com/glpat-dev/git-credential-glpat/internal/secrets/secretstest"
)

// TestLongHostIndexOfAnEarlierVersion: versions before 0.9 named the index
// file of a host by its whole escaped name; this one cuts names past 200
// bytes. A file an earlier version wrote for a 203-character host (which
// it could store) must still be found, listed, erased from, and moved to
// the new name by the next store: an upgrade loses no credential.
func TestLongHostIndexOfAnEarlierVersion(t *testing.T) {
	ctx := context.Background()
	host := strings.Repeat("a", 63) + "." + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + ".example.com"
	dir := t.TempDir()
	mem := new(secretstest.Memory)
	var warned []string
	s := &Store{Secrets: mem, Dir: dir, Backend: "keyring", Notice: func(err error) { warned = append(warned, err.Error()) }}
	legacy := filepath.Join(dir, escape("https_"+host)+".json")
	if legacy == s.fileName("https", host) {
		t.Fatal("the host is too short to test a cut name")
	}
	// As 28a11ad wrote it: no backend field.
	account := AccountName("https", host, "", "u")
	os.WriteFile(legacy, []byte(`{"version": 1, "records": [
 {"account": "`+account+`", "protocol": "https", "host": "`+host+`", "username": "u", "stored_at": "2026-01-01T00:00:00Z"},
 {"account": "`+AccountName("https", host, "", "v")+`", "protocol": "https", "host": "`+host+`", "username": "v", "stored_at": "2026-01-01T00:00:00Z"}]}`), 0o600)
	mem.Set(ctx, account, `{"password":"old-secret"}`)
	mem.Set(ctx, AccountName("https", host, "", "v"), `{"password":"v-secret"}`)

	c := &credential.Credential{Protocol: "https", Host: host, Username: "u", HasUsername: true}
	recs, err := s.Find(c)
	if err != nil || len(recs) != 1 {
		t.Fatalf("Find = %d records, %v; want the earlier version's record", len(recs), err)
	}
	if _, sec, err := s.First(ctx, recs); err != nil || sec == nil || sec.Password != "old-secret" {
		t.Fatalf("First = %v, %v; want the old secret", sec, err)
	}
	if all, err := s.List(); err != nil || len(all) != 2 {
		t.Errorf("List = %d records, %v; want 2 and no error", len(all), err)
	}
	// Stored again: the new file holds both records, the old one is gone.
	if err := s.Put(ctx, &Record{Protocol: "https", Host: host, Username: "u"}, &Secret{Password: "new-secret"}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(legacy); err == nil {
		t.Errorf("the earlier version's file is still there after a store")
	}
	if all, err := s.List(); err != nil || len(all) != 2 {
		t.Errorf("after a store, List = %d records, %v; want 2", len(all), err)
	}
	recs, _ = s.Find(&credential.Credential{Protocol: "https", Host: host, Username: "v", HasUsername: true})
	if _, sec, _ := s.First(ctx, recs); sec == nil || sec.Password != "v-secret" {
		t.Errorf("the other record of the old file was lost by the store: %v", sec)
	}
	if len(warned) != 0 {
		t.Errorf("warnings: %q", warned)
	}
}
