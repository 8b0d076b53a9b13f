package gitlabtest

import (
	"fmt"
	"time"
)

// Date is a civil date, the unit GitLab uses for a token's expires_at
// ("YYYY-MM-DD", no time of day). The zero Date means "no expiry".
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf returns the UTC calendar date of t. GitLab compares expiry dates in
// UTC, so "today" for a token is always DateOf(now).
func DateOf(t time.Time) Date {
	y, m, d := t.UTC().Date()
	return Date{Year: y, Month: m, Day: d}
}

// ParseDate parses a date written as GitLab writes expires_at: "2006-01-02".
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, fmt.Errorf("gitlabtest: parse date %q: %w", s, err)
	}
	return DateOf(t), nil
}

// IsZero reports whether d is the zero Date (no expiry).
func (d Date) IsZero() bool { return d == Date{} }

// String formats d as "2006-01-02", or "" for the zero Date.
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day)
}

// Midnight returns 00:00 UTC on d: the instant a token whose expires_at is d
// stops working. GitLab's Expirable#expired? is `expires_at <= Time.current`,
// with the date read as midnight UTC, and the docs say group and project
// tokens expire "at midnight UTC on that date"
// (https://docs.gitlab.com/api/group_access_tokens/).
func (d Date) Midnight() time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC)
}

// AddDays returns the date n days after d (before it when n < 0).
func (d Date) AddDays(n int) Date {
	return DateOf(d.Midnight().AddDate(0, 0, n))
}

// Before reports whether d is an earlier day than e.
func (d Date) Before(e Date) bool { return d.Midnight().Before(e.Midnight()) }

// After reports whether d is a later day than e.
func (d Date) After(e Date) bool { return d.Midnight().After(e.Midnight()) }
