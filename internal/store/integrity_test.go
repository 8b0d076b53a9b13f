package store

import (
	"context"
	"strings"
	"testing"

	"github.com/glpat-dev/git-credential-glpat/internal/secrets/secretstest"
)

// TestAccountNameIsInjective: credentials that differ in any of protocol,
// host, path or username never share a keychain item.
func TestAccountNameIsInjective(t *testing.T) {
	type cred struct{ protocol, host, path, username string }
	pairs := [][2]cred{
		{{"https", "example.com", "team", "u"}, {"https", "example.com/team", "", "u"}},
		{{"https", "example.com", "a/b", "u"}, {"https", "example.com/a", "b", "u"}},
		{{"https", "b@example.com", "", "a"}, {"https", "example.com", "", "a@b"}},
		{{"https", "example.com", "", "u"}, {"https:", "/example.com", "", "u"}},
		{{"https", "a%2Fb", "", "u"}, {"https", "a/b", "", "u"}},
		{{"https", "example.com", "", ""}, {"https", "example.com", "", "%"}},
		{{"https", "h", "", "u"}, {"https", "h", "", "u%"}},
	}
	for _, p := range pairs {
		a := AccountName(p[0].protocol, p[0].host, p[0].path, p[0].username)
		b := AccountName(p[1].protocol, p[1].host, p[1].path, p[1].username)
		if a == b {
			t.Errorf("%+v and %+v share the account %q", p[0], p[1], a)
		}
	}
	// Ordinary credentials keep the name earlier versions gave them.
	if got, want := AccountName("https", "gitlab.example.com:8443", "g/r.git", "a@b"), "https://a%40b@gitlab.example.com:8443/g/r.git"; got != want {
		t.Errorf("AccountName = %q, want %q", got, want)
	}
}

// FuzzAccountNameIsInjective: two different credentials never get the same
// account name.
func FuzzAccountNameIsInjective(f *testing.F) {
	f.Add("https", "example.com", "team", "u", "https", "example.com/team", "", "u")
	f.Fuzz(func(t *testing.T, p1, h1, pa1, u1, p2, h2, pa2, u2 string) {
		if p1 == p2 && h1 == h2 && pa1 == pa2 && u1 == u2 {
			return
		}
		if AccountName(p1, h1, pa1, u1) == AccountName(p2, h2, pa2, u2) {
			t.Errorf("(%q %q %q %q) and (%q %q %q %q) share an account", p1, h1, pa1, u1, p2, h2, pa2, u2)
		}
	})
}

// TestPlantedRecordsAreNotServed: a record whose account, protocol or host
// disagrees with its credential or its file is never served nor used to
// delete a secret.
func TestPlantedRecordsAreNotServed(t *testing.T) {
	ctx := context.Background()
	mem := new(secretstest.Memory)
	var warned []string
	s := &Store{Secrets: mem, Dir: t.TempDir(), Notice: func(err error) { warned = append(warned, err.Error()) }}
	if err := s.Put(ctx, &Record{Protocol: "https", Host: "a.example", Username: "u"}, &Secret{Password: "a-secret"}); err != nil {
		t.Fatal(err)
	}
	victim := AccountName("https", "a.example", "", "u")
	for _, planted := range []Record{
		{Account: victim, Protocol: "https", Host: "evil.example", Username: "u"},
		{Account: AccountName("https", "evil.example", "", "u"), Protocol: "https", Host: "evil.example", Username: "u"},
	} {
		warned = nil
		if i := strings.Index(planted.Host, "evil"); i >= 0 && planted.Account != victim {
			// A consistent record in the wrong file: a.example's.
			s.update(ctx, "https", "a.example", func(idx *indexFile) error {
				idx.Records = append(idx.Records, planted)
				return nil
			})
			if recs, _ := s.Find(req("https", "a.example", "")); len(recs) != 1 {
				t.Errorf("a record of another host in a.example's file was found: %+v", recs)
			}
			continue
		}
		s.update(ctx, "https", "evil.example", func(idx *indexFile) error {
			idx.Records = []Record{planted}
			return nil
		})
		rec, sec, err := s.Get(ctx, req("https", "evil.example", ""))
		if rec != nil || sec != nil || err != nil {
			t.Errorf("planted %+v served: %v %v %v", planted, rec, sec, err)
		}
		if len(warned) != 1 {
			t.Errorf("warnings = %q, want one", warned)
		}
		if n, err := s.Erase(ctx, req("https", "evil.example", "")); n != 0 || err != nil {
			t.Errorf("Erase through a planted record = %d, %v", n, err)
		}
		if _, err := mem.Get(ctx, victim); err != nil {
			t.Errorf("the victim's secret is gone: %v", err)
		}
	}
}

// TestPlantedAPIURLIsReplaced: a managed token's API URL is the one the
// config gives, whatever the index says.
func TestPlantedAPIURLIsReplaced(t *testing.T) {
	ctx := context.Background()
	s := &Store{Secrets: new(secretstest.Memory), Dir: t.TempDir()}
	s.Put(ctx, &Record{Protocol: "https", Host: "h.example", Username: "u", Token: &Token{APIURL: "https://evil.example/api/v4"}}, &Secret{Password: "p"})
	s.APIURL = func(host string) string { return "https://" + host + "/api/v4" }
	recs, _ := s.Find(req("https", "h.example", ""))
	if len(recs) != 1 || recs[0].Token.APIURL != "https://h.example/api/v4" {
		t.Errorf("Find = %+v", recs)
	}
	all, _ := s.List()
	if len(all) != 1 || all[0].Token.APIURL != "https://h.example/api/v4" {
		t.Errorf("List = %+v", all)
	}
}

// TestLongHostsAndUsernames: the longest DNS-legal host (253 characters)
// and long usernames store, get and erase.
func TestLongHostsAndUsernames(t *testing.T) {
	ctx := context.Background()
	label := strings.Repeat("a", 63)
	host := label + "." + label + "." + label + "." + strings.Repeat("b", 61) // 253
	user := strings.Repeat("u", 300)
	s := &Store{Secrets: new(secretstest.Memory), Dir: t.TempDir()}
	for _, h := range []string{host, host + ":65535", strings.Replace(host, "a", "c", 1)} {
		if err := s.Put(ctx, &Record{Protocol: "https", Host: h, Username: user}, &Secret{Password: "p-" + h[:3]}); err != nil {
			t.Fatalf("Put %d-character host: %v", len(h), err)
		}
		rec, sec, err := s.Get(ctx, req("https", h, ""))
		if err != nil || rec == nil || sec.Password != "p-"+h[:3] {
			t.Fatalf("Get %d-character host = %v %v %v", len(h), rec, sec, err)
		}
	}
	if n, err := s.Erase(ctx, req("https", host, user)); n != 1 || err != nil {
		t.Errorf("Erase = %d, %v", n, err)
	}
	if rec, _, _ := s.Get(ctx, req("https", strings.Replace(host, "a", "c", 1), "")); rec == nil {
		t.Errorf("erasing one long host erased another whose file name is cut the same")
	}
}

// TestRecordsOfAnotherBackendAreNeverDropped: a secret missing from a
// backend that is not the record's is stored elsewhere: not served, not
// dropped; only its own backend's "not found" drops a record, and an
// old record (no backend) is never dropped.
func TestRecordsOfAnotherBackendAreNeverDropped(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	keyring := &Store{Secrets: new(secretstest.Memory), Dir: dir, Backend: "keyring"}
	keyring.Put(ctx, &Record{Protocol: "https", Host: "h.example", Username: "u"}, &Secret{Password: "p"})
	var warned []string
	kernel := &Store{Secrets: new(secretstest.Memory), Dir: dir, Backend: "kernel", Notice: func(err error) { warned = append(warned, err.Error()) }}
	for i := 0; i < 2; i++ {
		if rec, _, err := kernel.Get(ctx, req("https", "h.example", "")); rec != nil || err != nil {
			t.Fatalf("served from the wrong backend: %v %v", rec, err)
		}
	}
	if len(warned) != 1 || !strings.Contains(warned[0], "in the keyring backend, and the config names kernel") {
		t.Errorf("notices = %q, want one naming both backends", warned)
	}
	if n, _ := kernel.Erase(ctx, req("https", "h.example", "")); n != 0 {
		t.Errorf("erased a record of another backend")
	}
	if rec, sec, _ := keyring.Get(ctx, req("https", "h.example", "")); rec == nil || sec.Password != "p" {
		t.Fatalf("back on its own backend, get = %v", rec)
	}
	// An old record: unknown backend, never dropped.
	keyring.update(ctx, "https", "h.example", func(idx *indexFile) error {
		idx.Records[0].Backend = ""
		return nil
	})
	kernel.Get(ctx, req("https", "h.example", ""))
	if recs, _ := kernel.Find(req("https", "h.example", "")); len(recs) != 1 {
		t.Errorf("an old record was dropped on another backend's not-found")
	}
	// Its own backend's not-found drops it.
	keyring.Secrets.Delete(ctx, AccountName("https", "h.example", "", "u"))
	keyring.update(ctx, "https", "h.example", func(idx *indexFile) error {
		idx.Records[0].Backend = "keyring"
		return nil
	})
	keyring.Get(ctx, req("https", "h.example", ""))
	if recs, _ := keyring.Find(req("https", "h.example", "")); len(recs) != 0 {
		t.Errorf("a record its own backend does not hold was kept")
	}
}

// TestOldRecordsLearnTheirBackend: a record of an earlier version (no
// backend) found in the store's backend is marked as being there.
func TestOldRecordsLearnTheirBackend(t *testing.T) {
	ctx := context.Background()
	s := &Store{Secrets: new(secretstest.Memory), Dir: t.TempDir()}
	s.Put(ctx, &Record{Protocol: "https", Host: "h.example", Username: "u"}, &Secret{Password: "p"})
	s.Backend = "keyring"
	if rec, _, _ := s.Get(ctx, req("https", "h.example", "")); rec == nil || rec.Backend != "keyring" {
		t.Fatalf("Get = %+v", rec)
	}
	if recs, _ := s.Find(req("https", "h.example", "")); len(recs) != 1 || recs[0].Backend != "keyring" {
		t.Errorf("the index still says %+v", recs)
	}
}
