package config

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Day and Week are the calendar units the config accepts on top of Go's
// ("30d", "1w"). A day is always 24 hours here: token lifetimes are counted
// in UTC dates, where there is no daylight saving time.
const (
	Day  = 24 * time.Hour
	Week = 7 * Day
)

const unitHint = "use w, d, h, m or s, like \"30d\" or \"1d12h\""

// ParseDuration parses a duration such as "30d", "12h", "90m", "1w" or
// "1d12h", and also everything time.ParseDuration accepts without a sign
// ("1h30m", "1.5h", "500ms"). Empty, negative, unit-less (except "0") and
// overflowing durations are errors.
func ParseDuration(s string) (time.Duration, error) {
	d, err := parseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("config: %w", err)
	}
	return d, nil
}

// parseDuration is ParseDuration with errors that do not name the package,
// so that Load can place them after a file, line and key. Each number and
// its unit go to time.ParseDuration, days and weeks as hours.
func parseDuration(s string) (time.Duration, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("bad duration %q: %s", s, fmt.Sprintf(format, args...))
	}
	switch {
	case s == "":
		return 0, fmt.Errorf("empty duration (%s)", unitHint)
	case s == "0":
		return 0, nil
	case s[0] == '-':
		return 0, bad("must not be negative")
	case strings.TrimSpace(s) != s:
		return 0, bad("remove the spaces")
	}
	var total time.Duration
	for rest := s; rest != ""; {
		n := digits(rest)
		if n < len(rest) && rest[n] == '.' {
			n += 1 + digits(rest[n+1:])
		}
		end := strings.IndexAny(rest[n:], ".0123456789")
		if end < 0 {
			end = len(rest) - n
		}
		number, unit, scale := rest[:n], rest[n:n+end], time.Duration(1)
		switch {
		case n == 0:
			return 0, bad("expected a number at %q (%s)", rest, unitHint)
		case number == ".":
			return 0, bad("expected a number before %q", rest[n:])
		case unit == "":
			return 0, bad("missing unit (%s)", unitHint)
		case unit == "d":
			unit, scale = "h", 24
		case unit == "w":
			unit, scale = "h", 7*24
		case !slices.Contains([]string{"ns", "us", "µs", "μs", "ms", "s", "m", "h"}, unit):
			return 0, bad("unknown unit %q (%s)", unit, unitHint)
		}
		// time.ParseDuration fails here only on a number too large.
		d, err := time.ParseDuration(number + unit)
		if err != nil || d > math.MaxInt64/scale || total > math.MaxInt64-d*scale {
			return 0, bad("too large")
		}
		total, rest = total+d*scale, rest[n+end:]
	}
	return total, nil
}

// digits counts the decimal digits s starts with.
func digits(s string) int { return len(s) - len(strings.TrimLeft(s, "0123456789")) }

// Duration is a time.Duration written the way the config file writes it:
// "30d", "12h", "1d12h". It decodes from TOML strings (encoding.TextUnmarshaler)
// and prints back in the same form.
type Duration time.Duration

// String formats d with days as the largest unit ("90d", "1d12h", "1h30m",
// "500ms"), so that ParseDuration(d.String()) == d for every d >= 0.
func (d Duration) String() string {
	if d < 0 {
		return time.Duration(d).String()
	}
	if d == 0 {
		return "0s"
	}
	var b strings.Builder
	rest := time.Duration(d)
	for _, u := range []struct {
		unit time.Duration
		name string
	}{{Day, "d"}, {time.Hour, "h"}, {time.Minute, "m"}} {
		if n := rest / u.unit; n > 0 {
			b.WriteString(strconv.FormatInt(int64(n), 10))
			b.WriteString(u.name)
			rest -= n * u.unit
		}
	}
	if rest > 0 {
		// Below a minute Go's own form ("5s", "1.5s", "250ms") is exact.
		b.WriteString(rest.String())
	}
	return b.String()
}

// MarshalText writes d as String does.
func (d Duration) MarshalText() ([]byte, error) {
	return []byte(d.String()), nil
}

// UnmarshalText parses text with ParseDuration.
func (d *Duration) UnmarshalText(text []byte) error {
	v, err := ParseDuration(string(text))
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}
