package config

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
)

// FuzzLoad feeds arbitrary bytes to the parser behind Load (without the
// file read, which is not what is being tested). Nothing may panic; errors
// must be one-line *Errors whose line is in the file when they name a key;
// and a config that loads must load again, unchanged, from the TOML that
// encodes it.
func FuzzLoad(f *testing.F) {
	f.Add(fullConfig)
	f.Add("")
	f.Add("[hosts.\"gitlab.com\"]\naccounts = [{username = \"a\", paths = [\"x\"]}]\n")
	f.Add("hosts.\"a\".lifetime = \"10d\"\nhosts.'a'.rotate_before = \"1d\"\n")
	f.Add("\ufeffbackend = \"kernel\"\r\n[hosts]\n\"x\\u0041\" = {username = \"\"\"\nq\"\"\"}\n")
	for _, tt := range loadErrorTests {
		f.Add(tt.content)
	}
	f.Fuzz(func(t *testing.T, content string) {
		c := Default()
		c.Path = "f.toml"
		err := c.parse([]byte(content))
		if err != nil {
			checkFuzzError(t, content, err)
			return
		}
		again := Default()
		again.Path = "f.toml"
		text := encodeConfig(t, c)
		if err := again.parse(text); err != nil {
			t.Fatalf("config from %q encodes as\n%s\nwhich does not load: %v", content, text, err)
		}
		if !reflect.DeepEqual(c, again) {
			t.Fatalf("config from %q encodes as\n%s\nwhich loads differently:\n%+v\n%+v", content, text, c, again)
		}
	})
}

func checkFuzzError(t *testing.T, content string, err error) {
	t.Helper()
	var ce *Error
	if !errors.As(err, &ce) {
		t.Fatalf("error %v is %T, want *Error", err, err)
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "config: f.toml") || strings.ContainsAny(msg, "\n\r") {
		t.Fatalf("error %q is not one line starting with config: f.toml", msg)
	}
	lines := strings.Count(content, "\n") + 1
	if ce.Line < 0 || ce.Line > lines {
		t.Fatalf("error %q names line %d of a %d-line file", msg, ce.Line, lines)
	}
	if ce.Key != "" && ce.Line == 0 {
		t.Fatalf("error %q about key %s has no line", msg, ce.Key)
	}
}

// encodeConfig writes c back as TOML, setting every value it holds.
func encodeConfig(t *testing.T, c *Config) []byte {
	t.Helper()
	doc := map[string]any{
		"backend":       string(c.Backend),
		"rotate_before": c.RotateBefore.String(),
		"lifetime":      c.Lifetime.String(),
		"auto_rotate":   c.AutoRotate,
	}
	if c.hosts != nil {
		hosts := map[string]any{}
		for _, e := range c.hosts {
			h := map[string]any{
				"rotate_before": e.RotateBefore.String(),
				"lifetime":      e.Lifetime.String(),
				"auto_rotate":   e.AutoRotate,
			}
			if e.APIURL != "" {
				h["api_url"] = e.APIURL
			}
			if e.Username != "" {
				h["username"] = e.Username
			}
			if e.OAuthClientID != "" {
				h["oauth_client_id"] = e.OAuthClientID
			}
			if e.CAFile != "" {
				h["ca_file"] = e.CAFile
			}
			if e.Accounts != nil {
				accounts := []map[string]any{}
				for _, a := range e.Accounts {
					accounts = append(accounts, map[string]any{"username": a.Username, "paths": a.Paths})
				}
				h["accounts"] = accounts
			}
			hosts[e.Host] = h
		}
		doc["hosts"] = hosts
	}
	var buf bytes.Buffer
	if err := toml.NewEncoder(&buf).Encode(doc); err != nil {
		t.Fatalf("encode %+v: %v", c, err)
	}
	return buf.Bytes()
}
