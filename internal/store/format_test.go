package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glpat-dev/git-credential-glpat/internal/secrets/secretstest"
)

// format1Index is an index as format 1 wrote it: reasons as sentences.
const format1Index = `{"version": 1, "records": [
 {"account": "https://expired@gitlab.example.com", "protocol": "https", "host": "gitlab.example.com", "username": "expired", "stored_at": "2026-01-01T00:00:00Z",
  "token": {"id": 1, "name": "a", "scopes": ["api"], "api_url": "https://gitlab.example.com/api/v4", "dead": "expired"}},
 {"account": "https://refused@gitlab.example.com", "protocol": "https", "host": "gitlab.example.com", "username": "refused", "stored_at": "2026-01-01T00:00:00Z",
  "token": {"id": 2, "name": "b", "scopes": ["api"], "api_url": "https://gitlab.example.com/api/v4", "dead": "no longer accepted by GitLab"}},
 {"account": "https://lost@gitlab.example.com", "protocol": "https", "host": "gitlab.example.com", "username": "lost", "stored_at": "2026-01-01T00:00:00Z",
  "token": {"id": 3, "name": "c", "scopes": ["api"], "api_url": "https://gitlab.example.com/api/v4", "dead": "revoked: GitLab rotated it but the answer with the new token was lost"}},
 {"account": "https://unsaved@gitlab.example.com", "protocol": "https", "host": "gitlab.example.com", "username": "unsaved", "stored_at": "2026-01-01T00:00:00Z",
  "token": {"id": 4, "name": "d", "scopes": ["api"], "api_url": "https://gitlab.example.com/api/v4", "dead": "revoked (it was rotated, but the new token could not be saved)"}},
 {"account": "https://unconfirmed@gitlab.example.com", "protocol": "https", "host": "gitlab.example.com", "username": "unconfirmed", "stored_at": "2026-01-01T00:00:00Z",
  "token": {"id": 5, "name": "e", "scopes": ["api"], "api_url": "https://gitlab.example.com/api/v4", "dead": "revoked (rotated; a token in the recovery file may be its successor)"}},
 {"account": "https://old@gitlab.example.com", "protocol": "https", "host": "gitlab.example.com", "username": "old", "stored_at": "2026-01-01T00:00:00Z",
  "token": {"id": 6, "name": "f", "scopes": ["api"], "api_url": "https://gitlab.example.com/api/v4",
   "no_self_rotation": "this GitLab (16.9.1-ee) cannot rotate tokens itself: personal access tokens rotate themselves from GitLab 16.10, project and group access tokens from 17.9",
   "no_self_rotation_at": "2026-01-01T00:00:00Z"}},
 {"account": "https://legacy@gitlab.example.com", "protocol": "https", "host": "gitlab.example.com", "username": "legacy", "stored_at": "2026-01-01T00:00:00Z",
  "token": {"id": 7, "name": "g", "scopes": ["api"], "api_url": "https://gitlab.example.com/api/v4",
   "no_self_rotation": "this GitLab has disabled the rotation of legacy personal access tokens, so the token cannot rotate itself: a fine-grained personal access token is needed"}},
 {"account": "https://oauth2@gitlab.example.com", "protocol": "https", "host": "gitlab.example.com", "username": "oauth2", "stored_at": "2026-01-01T00:00:00Z",
  "oauth": {"api_url": "https://gitlab.example.com/api/v4", "dead": "GitLab refreshed it but the answer with the new token was lost"}},
 {"account": "https://live@gitlab.example.com", "protocol": "https", "host": "gitlab.example.com", "username": "live", "stored_at": "2026-01-01T00:00:00Z",
  "token": {"id": 8, "name": "h", "scopes": ["api"], "api_url": "https://gitlab.example.com/api/v4"}}]}`

// format1Want is what format 1's records say, in format 2's codes.
var format1Want = map[string]struct {
	dead   Dead
	noSelf NoSelfRotation
	ver    string
}{
	"expired":     {dead: DeadExpired},
	"refused":     {dead: DeadRefused},
	"lost":        {dead: DeadAnswerLost},
	"unsaved":     {dead: DeadUnsaved},
	"unconfirmed": {dead: DeadUnconfirmed},
	"old":         {noSelf: NoSelfRotateEndpoint, ver: "16.9.1-ee"},
	"legacy":      {noSelf: LegacyRotationDisabled},
	"oauth2":      {dead: DeadAnswerLost},
	"live":        {},
}

func checkFormat1Records(t *testing.T, recs []Record) {
	t.Helper()
	if len(recs) != len(format1Want) {
		t.Fatalf("%d records, want %d", len(recs), len(format1Want))
	}
	for _, r := range recs {
		want := format1Want[r.Username]
		var dead Dead
		var noSelf NoSelfRotation
		var ver string
		switch {
		case r.Token != nil:
			dead, noSelf, ver = r.Token.Dead, r.Token.NoSelfRotation, r.Token.GitLabVersion
		case r.OAuth != nil:
			dead = r.OAuth.Dead
		}
		if dead != want.dead || noSelf != want.noSelf || ver != want.ver {
			t.Errorf("%s: dead %q, no self-rotation %q (GitLab %q); want %q, %q (%q)", r.Username, dead, noSelf, ver, want.dead, want.noSelf, want.ver)
		}
	}
}

// TestIndexOfFormat1IsReadAndRewritten: a file of the earlier format is
// read with its sentences as codes, and the next write rewrites it in the
// current format; nothing is set aside.
func TestIndexOfFormat1IsReadAndRewritten(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	var warned []string
	s := &Store{Secrets: new(secretstest.Memory), Dir: dir, Backend: "keyring", Notice: func(err error) { warned = append(warned, err.Error()) }}
	file := s.fileName("https", "gitlab.example.com")
	os.WriteFile(file, []byte(format1Index), 0o600)

	recs, err := s.List()
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	checkFormat1Records(t, recs)
	if b, _ := os.ReadFile(file); string(b) != format1Index {
		t.Errorf("reading rewrote the file")
	}

	if err := s.Put(ctx, &Record{Protocol: "https", Host: "gitlab.example.com", Username: "new"}, &Secret{Password: "p"}); err != nil {
		t.Fatalf("Put: %v", err)
	}
	b, _ := os.ReadFile(file)
	var onDisk struct {
		Version int
		Records []json.RawMessage
	}
	if err := json.Unmarshal(b, &onDisk); err != nil || onDisk.Version != 2 || len(onDisk.Records) != len(format1Want)+1 {
		t.Fatalf("after a write the file is version %d with %d records (%v); want version 2 with %d", onDisk.Version, len(onDisk.Records), err, len(format1Want)+1)
	}
	for _, sentence := range []string{"no longer accepted", "the answer with the new token", "could not be saved", "recovery file", "cannot rotate tokens itself", "disabled the rotation"} {
		if bytes.Contains(b, []byte(sentence)) {
			t.Errorf("the rewritten file still holds the sentence %q", sentence)
		}
	}
	recs, err = s.List()
	if err != nil {
		t.Fatalf("List after the rewrite: %v", err)
	}
	recs = deleteUser(recs, "new")
	checkFormat1Records(t, recs)
	if aside, _ := filepath.Glob(file + ".corrupt-*"); len(aside) != 0 || len(warned) != 0 {
		t.Errorf("set aside: %v; warnings %q", aside, warned)
	}
}

func deleteUser(recs []Record, username string) []Record {
	out := recs[:0]
	for _, r := range recs {
		if r.Username != username {
			out = append(out, r)
		}
	}
	return out
}

// TestIndexOfANewerFormatIsNeverWritten: a file a newer helper wrote is
// read as far as its records decode, and never written, moved aside or
// deleted: every write to it is refused with ErrNewerIndex.
func TestIndexOfANewerFormatIsNeverWritten(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name     string
		content  string
		readable bool
	}{
		{"records it can read", `{"version": 3, "records": [
 {"account": "https://u@gitlab.example.com", "protocol": "https", "host": "gitlab.example.com", "username": "u", "stored_at": "2026-01-01T00:00:00Z",
  "token": {"id": 1, "name": "a", "scopes": ["api"], "api_url": "https://gitlab.example.com/api/v4", "a_field_of_format_3": {"x": 1}}}],
 "another_field": true}`, true},
		{"records it cannot read", `{"version": 3, "records": {"by_account": {}}}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			mem := new(secretstest.Memory)
			var warned []string
			s := &Store{Secrets: mem, Dir: dir, Backend: "keyring", Notice: func(err error) { warned = append(warned, err.Error()) }}
			file := s.fileName("https", "gitlab.example.com")
			os.WriteFile(file, []byte(tc.content), 0o600)
			mem.Set(ctx, "https://u@gitlab.example.com", `{"password":"kept"}`)

			recs, err := s.Find(req("https", "gitlab.example.com", "u"))
			switch {
			case tc.readable && (err != nil || len(recs) != 1 || recs[0].Token == nil || recs[0].Token.ID != 1):
				t.Errorf("Find = %v, %v; want the record", recs, err)
			case !tc.readable && !errors.Is(err, ErrNewerIndex):
				t.Errorf("Find error = %v; want ErrNewerIndex", err)
			case !tc.readable && errors.Is(err, ErrCorruptIndex):
				t.Errorf("Find error = %v; a newer format is not damage", err)
			}

			err = s.Put(ctx, &Record{Protocol: "https", Host: "gitlab.example.com", Username: "v"}, &Secret{Password: "p"})
			if !errors.Is(err, ErrNewerIndex) || !strings.Contains(err.Error(), file) {
				t.Errorf("Put = %v; want ErrNewerIndex naming %s", err, file)
			}
			if _, err := s.Erase(ctx, req("https", "gitlab.example.com", "u")); !errors.Is(err, ErrNewerIndex) {
				t.Errorf("Erase = %v; want ErrNewerIndex", err)
			}
			if b, _ := os.ReadFile(file); string(b) != tc.content {
				t.Errorf("the file was changed:\n%s", b)
			}
			if aside, _ := filepath.Glob(file + ".corrupt-*"); len(aside) != 0 {
				t.Errorf("set aside as %v", aside)
			}
			if sec, _ := mem.Get(ctx, "https://u@gitlab.example.com"); sec == "" {
				t.Errorf("the secret was deleted")
			}
			if _, err := mem.Get(ctx, "https://v@gitlab.example.com"); err == nil {
				t.Errorf("the refused Put left a secret behind")
			}
			if len(warned) != 0 {
				t.Errorf("warnings: %q", warned)
			}
		})
	}
}
