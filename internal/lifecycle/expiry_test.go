package lifecycle

import (
	"strings"
	"testing"
	"time"

	"github.com/glpat-dev/git-credential-glpat/internal/store"
)

func TestDue(t *testing.T) {
	const expires = "2026-04-01"
	exp := midnight(expires)
	s := Settings{RotateBefore: 30 * day, Lifetime: 90 * day, AutoRotate: true}
	tests := []struct {
		name      string
		expiresAt string
		now       time.Time
		want      bool
	}{
		{"exactly rotate_before left is not below it", expires, exp.Add(-30 * day), false},
		{"one nanosecond less than rotate_before left", expires, exp.Add(-30*day + 1), true},
		{"long before", expires, exp.Add(-300 * day), false},
		{"one nanosecond before expiry", expires, exp.Add(-1), true},
		{"at expiry", expires, exp, true},
		{"after expiry", expires, exp.Add(day), true},
		{"no expiry is never due", "", exp, false},
		{"an expiry that is not a date is never due", "01/04/2026", exp, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &store.Record{Token: &store.Token{ExpiresAt: tt.expiresAt}}
			if got := Due(rec, s, tt.now); got != tt.want {
				t.Errorf("Due(expires_at %q, now %s): got %v, want %v", tt.expiresAt, tt.now.Format(time.RFC3339Nano), got, tt.want)
			}
		})
	}
}

func TestNewExpiry(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		paris = time.FixedZone("CET", 3600)
	}
	tests := []struct {
		name     string
		now      time.Time
		lifetime time.Duration
		zone     *time.Location
		want     string
	}{
		{"today plus lifetime", t0, 90 * day, nil, "2026-06-08"},
		{"at midnight UTC", midnight("2026-03-10"), 90 * day, nil, "2026-06-08"},
		{"one nanosecond before midnight UTC is still today", midnight("2026-03-11").Add(-1), 90 * day, nil, "2026-06-08"},
		{"today is the instance's date, not the local one", time.Date(2026, 3, 11, 0, 30, 0, 0, paris), 90 * day, nil, "2026-06-08"},
		{"an instance behind UTC is still on yesterday", time.Date(2026, 3, 10, 2, 30, 0, 0, time.UTC), 365 * day, time.FixedZone("PST", -8*3600), "2027-03-09"},
		{"an instance ahead of UTC is on tomorrow", time.Date(2026, 3, 10, 20, 0, 0, 0, time.UTC), 90 * day, time.FixedZone("JST", 9*3600), "2026-06-09"},
		{"lifetime of 365 days is GitLab's limit", t0, 365 * day, nil, "2027-03-10"},
		{"lifetime beyond 365 days is capped", t0, 400 * day, nil, "2027-03-10"},
		{"a part day is dropped", t0, 90*day + 23*time.Hour, nil, "2026-06-08"},
		{"across a leap day", midnight("2028-02-01"), 30 * day, nil, "2028-03-02"},
		{"no lifetime means the longest", t0, 0, nil, "2027-03-10"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := newExpiry(tt.now, tt.lifetime, tt.zone)
			if got.Format(time.DateOnly) != tt.want || !got.Equal(midnight(tt.want)) {
				t.Errorf("newExpiry(%s, %s): got %s, want %s 00:00 UTC", tt.now.Format(time.RFC3339Nano), tt.lifetime, got.Format(time.RFC3339Nano), tt.want)
			}
		})
	}
}

func TestLeakCheckFindsTokens(t *testing.T) {
	const seen = "glpat-AAAAAAAAAAAAAAAAAAAA"
	tokens := map[string]bool{seen: true, "glpat-short": true}
	tests := []struct {
		name string
		text string
		want bool
	}{
		{"clean text", "could not rotate the token for gitlab.example.com", false},
		{"a fingerprint is not a leak", "token glpat-…x7Qa expired", false},
		{"a token the test saw", "rotated to " + seen + " just now", true},
		{"a token of an unusual shape the test saw", "token glpat-short", true},
		{"a token the test never saw", "new token glpat-abcdefghij0123456789 lost", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bad := leakedIn([]string{tt.text}, tokens)
			if got := len(bad) > 0; got != tt.want {
				t.Errorf("leak found in %q: got %v, want %v", tt.text, got, tt.want)
			}
			for _, s := range bad {
				if glpatValue.MatchString(s) || containsAny(s, tokens) {
					t.Errorf("the report %q shows the token", s)
				}
			}
		})
	}
}

func containsAny(s string, tokens map[string]bool) bool {
	for tok := range tokens {
		if strings.Contains(s, tok) {
			return true
		}
	}
	return false
}
