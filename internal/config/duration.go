package config

import (
	"errors"
	"fmt"
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

// durationUnit returns the length of a unit ParseDuration knows. Go's own
// units are all here so that "1h30m" or "500ms" mean what they mean to
// time.ParseDuration. (A switch, not a map: a map literal is built at
// start-up by every process.)
func durationUnit(name string) (time.Duration, bool) {
	switch name {
	case "ns":
		return time.Nanosecond, true
	case "us", "µs", "μs": // U+00B5 is what time.Duration.String writes, U+03BC what people type
		return time.Microsecond, true
	case "ms":
		return time.Millisecond, true
	case "s":
		return time.Second, true
	case "m":
		return time.Minute, true
	case "h":
		return time.Hour, true
	case "d":
		return Day, true
	case "w":
		return Week, true
	}
	return 0, false
}

const unitHint = "use w, d, h, m or s, like \"30d\" or \"1d12h\""

var errOverflow = errors.New("too large")

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
// so that Load can place them after a file, line and key.
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
	rest := s
	for rest != "" {
		if c := rest[0]; !(c >= '0' && c <= '9' || c == '.') {
			return 0, bad("expected a number at %q (%s)", rest, unitHint)
		}
		whole, n, err := leadingInt(rest)
		if err != nil {
			return 0, bad("%v", err)
		}
		rest = rest[n:]
		digits := n
		var frac, scale uint64 = 0, 1
		if rest != "" && rest[0] == '.' {
			rest = rest[1:]
			frac, scale, n = leadingFraction(rest)
			rest = rest[n:]
			digits += n
		}
		if digits == 0 {
			return 0, bad("expected a number before %q", rest)
		}
		i := 0
		for i < len(rest) && rest[i] != '.' && (rest[i] < '0' || rest[i] > '9') {
			i++
		}
		name := rest[:i]
		rest = rest[i:]
		if name == "" {
			return 0, bad("missing unit (%s)", unitHint)
		}
		unit, ok := durationUnit(name)
		if !ok {
			return 0, bad("unknown unit %q (%s)", name, unitHint)
		}
		part, err := scaleUnit(whole, frac, scale, unit)
		if err != nil {
			return 0, bad("%v", err)
		}
		if total > time.Duration(1<<63-1)-part {
			return 0, bad("%v", errOverflow)
		}
		total += part
	}
	return total, nil
}

// leadingInt consumes the leading decimal digits of s.
func leadingInt(s string) (x uint64, n int, err error) {
	for ; n < len(s) && s[n] >= '0' && s[n] <= '9'; n++ {
		if x > (1<<63-1)/10 {
			return 0, 0, errOverflow
		}
		x = x*10 + uint64(s[n]-'0')
		if x > 1<<63-1 {
			return 0, 0, errOverflow
		}
	}
	return x, n, nil
}

// leadingFraction consumes the leading digits of a fraction. Digits beyond
// what fits are dropped, as time.ParseDuration does: they are below a
// nanosecond for every unit.
func leadingFraction(s string) (x, scale uint64, n int) {
	scale = 1
	overflow := false
	for ; n < len(s) && s[n] >= '0' && s[n] <= '9'; n++ {
		if overflow || x > (1<<63-1)/10 {
			overflow = true
			continue
		}
		y := x*10 + uint64(s[n]-'0')
		if y > 1<<63-1 {
			overflow = true
			continue
		}
		x, scale = y, scale*10
	}
	return x, scale, n
}

// scaleUnit returns (whole + frac/scale) * unit, or errOverflow.
func scaleUnit(whole, frac, scale uint64, unit time.Duration) (time.Duration, error) {
	u := uint64(unit)
	if whole > (1<<63-1)/u {
		return 0, errOverflow
	}
	v := whole * u
	if frac > 0 {
		// float64 is exact here for every fraction of up to nine digits
		// of a unit no larger than a week, which covers what people write.
		v += uint64(float64(frac) * (float64(u) / float64(scale)))
		if v > 1<<63-1 {
			return 0, errOverflow
		}
	}
	return time.Duration(v), nil
}

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
