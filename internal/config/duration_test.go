package config

import (
	"strings"
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	const maxDur = time.Duration(1<<63 - 1)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"30d", 30 * Day},
		{"12h", 12 * time.Hour},
		{"90m", 90 * time.Minute},
		{"1w", 7 * Day},
		{"1d12h", 36 * time.Hour},
		{"1w2d3h4m5s", 9*Day + 3*time.Hour + 4*time.Minute + 5*time.Second},
		{"0", 0},
		{"0d", 0},
		{"365d", 365 * Day},
		{"1h30m", 90 * time.Minute}, // Go's form
		{"1.5h", 90 * time.Minute},  // Go's fractions
		{"0.5d", 12 * time.Hour},    // fractions of days too
		{".5h", 30 * time.Minute},   // as time.ParseDuration allows
		{"500ms", 500 * time.Millisecond},
		{"1µs", time.Microsecond}, // U+00B5
		{"1μs", time.Microsecond}, // U+03BC
		{"1us", time.Microsecond},
		{"7ns", 7},
		{"30m1h", 90 * time.Minute}, // any order, as in Go
		{"1d1d", 2 * Day},           // repeats add up, as in Go
		{"9223372036854775807ns", maxDur},
		{"106751d23h47m16.854775807s", maxDur},
		{"2562047h47m16.854775807s", maxDur},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseDuration(tt.in)
			if err != nil || got != tt.want {
				t.Errorf("ParseDuration(%q) = %v, %v, want %v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestParseDurationErrors(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"empty", "", `config: empty duration (use w, d, h, m or s, like "30d" or "1d12h")`},
		{"negative", "-1d", `config: bad duration "-1d": must not be negative`},
		{"plus sign", "+1d", `config: bad duration "+1d": expected a number at "+1d" (use w, d, h, m or s, like "30d" or "1d12h")`},
		{"no unit", "30", `config: bad duration "30": missing unit (use w, d, h, m or s, like "30d" or "1d12h")`},
		{"no unit after unit", "1d12", `config: bad duration "1d12": missing unit (use w, d, h, m or s, like "30d" or "1d12h")`},
		{"unknown unit", "3mo", `config: bad duration "3mo": unknown unit "mo" (use w, d, h, m or s, like "30d" or "1d12h")`},
		{"upper case", "30D", `config: bad duration "30D": unknown unit "D" (use w, d, h, m or s, like "30d" or "1d12h")`},
		{"years", "1y", `config: bad duration "1y": unknown unit "y" (use w, d, h, m or s, like "30d" or "1d12h")`},
		{"words", "soon", `config: bad duration "soon": expected a number at "soon" (use w, d, h, m or s, like "30d" or "1d12h")`},
		{"space inside", "1d 12h", `config: bad duration "1d 12h": unknown unit "d " (use w, d, h, m or s, like "30d" or "1d12h")`},
		{"space around", " 30d", `config: bad duration " 30d": remove the spaces`},
		{"lone dot", ".d", `config: bad duration ".d": expected a number before "d"`},
		{"one past max", "9223372036854775808ns", `config: bad duration "9223372036854775808ns": too large`},
		{"max plus one ns", "106751d23h47m16.854775808s", `config: bad duration "106751d23h47m16.854775808s": too large`},
		{"days overflow", "106752d", `config: bad duration "106752d": too large`},
		{"weeks overflow", "15251w", `config: bad duration "15251w": too large`},
		{"huge number", "99999999999999999999d", `config: bad duration "99999999999999999999d": too large`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseDuration(tt.in)
			if err == nil {
				t.Fatalf("ParseDuration(%q) = %v, want error %s", tt.in, got, tt.want)
			}
			if err.Error() != tt.want {
				t.Errorf("ParseDuration(%q) error:\n got %s\nwant %s", tt.in, err, tt.want)
			}
		})
	}
}

// TestParseDurationAgreesWithGo checks that every sign-less Go duration
// means the same here.
func TestParseDurationAgreesWithGo(t *testing.T) {
	for _, s := range []string{"1h", "1h30m", "2h45m30.5s", "0.001s", "1.000000001s", "100.5ms", "3m0.25s", "1.5us", "12µs", "0s"} {
		want, err := time.ParseDuration(s)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParseDuration(s)
		if err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; time.ParseDuration says %v", s, got, err, want)
		}
	}
}

func TestDurationString(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"},
		{30 * Day, "30d"},
		{7 * Day, "7d"},
		{90 * Day, "90d"},
		{36 * time.Hour, "1d12h"},
		{90 * time.Minute, "1h30m"},
		{time.Hour + 5*time.Second, "1h5s"},
		{Day + time.Nanosecond, "1d1ns"},
		{1500 * time.Millisecond, "1.5s"},
		{250 * time.Millisecond, "250ms"},
		{time.Duration(1<<63 - 1), "106751d23h47m16.854775807s"},
		{-time.Hour, "-1h0m0s"},
	}
	for _, tt := range tests {
		if got := Duration(tt.d).String(); got != tt.want {
			t.Errorf("Duration(%v).String() = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestDurationText(t *testing.T) {
	var d Duration
	if err := d.UnmarshalText([]byte("1w")); err != nil || d != Duration(Week) {
		t.Errorf("UnmarshalText(1w) = %v, %v; want 7d", d, err)
	}
	if text, err := d.MarshalText(); err != nil || string(text) != "7d" {
		t.Errorf("MarshalText = %q, %v; want 7d", text, err)
	}
	if err := d.UnmarshalText([]byte("7x")); err == nil || !strings.HasPrefix(err.Error(), "config: bad duration") {
		t.Errorf("UnmarshalText(7x) error = %v, want a bad duration error", err)
	}
	if d != Duration(Week) {
		t.Errorf("failed UnmarshalText changed the value to %v", d)
	}
}

func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"30d", "12h", "90m", "1w", "1d12h", "1.5h", "500ms", "1µs", "0", "", "-1d", "9223372036854775807ns", "106751d23h47m16.854775807s", "1e3s", ".5d", "1..5h"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "config: ") || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %q is not one line starting with config:", err)
			}
			return
		}
		if d < 0 {
			t.Fatalf("ParseDuration(%q) = %v, negative", s, d)
		}
		// What is accepted prints in a form that parses back exactly.
		str := Duration(d).String()
		back, err := ParseDuration(str)
		if err != nil || back != d {
			t.Fatalf("ParseDuration(%q) = %v; its String %q parses to %v, %v", s, d, str, back, err)
		}
		// Every Go duration without a sign means the same as in Go.
		if want, err := time.ParseDuration(s); err == nil && want != d && !strings.ContainsAny(s, "dw") {
			t.Fatalf("ParseDuration(%q) = %v; time.ParseDuration says %v", s, d, want)
		}
	})
}
