package cli

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/glpat-dev/git-credential-glpat/internal/account"
	"github.com/glpat-dev/git-credential-glpat/internal/termtext"
)

// WriteStatus writes status's table of entries, and a line for each
// entry's problem, fitting statusWidth columns; now is the time the table
// speaks from (nil: time.Now).
func WriteStatus(w io.Writer, entries []account.Entry, now func() time.Time) {
	if len(entries) == 0 {
		fmt.Fprintln(w, "No credentials stored. Run git-credential-glpat login [HOST] to add a GitLab token.")
		return
	}
	t := time.Now()
	if now != nil {
		t = now()
	}
	// A wide column last: it is the one cut to fit.
	rows := [][]string{{"HOST", "USER", "TOKEN", "EXPIRES", "STATE", "LAST USED", "SCOPES"}}
	type long struct{ exp, used, scopes string }
	var longs []long
	for _, en := range entries {
		name, scopes, exp, used := "-", "-", "-", "-"
		l := long{"-", "-", "-"}
		if en.Managed {
			name = en.TokenName
			scopes = strings.Join(en.Scopes, ",")
			l.scopes = strings.Join(shortScopes(en.Scopes), ",")
		}
		if en.Expiry != nil {
			exp = en.Expiry.Format(time.DateOnly) + " (" + relative(*en.Expiry, t) + ")"
			l.exp = en.Expiry.Format(time.DateOnly) + " (" + shortRelative(*en.Expiry, t) + ")"
		}
		if en.LastUsedAt != nil {
			used = relative(*en.LastUsedAt, t)
			l.used = used
			if len(en.LastUsedIPs) > 0 {
				used += " from " + strings.Join(en.LastUsedIPs, ", ")
				if len(en.LastUsedIPs) > 1 {
					l.used += fmt.Sprintf(" from %s +%d", en.LastUsedIPs[0], len(en.LastUsedIPs)-1)
				} else {
					l.used += " from " + en.LastUsedIPs[0]
				}
			}
		}
		state := en.State
		if en.RotationDue && en.CanRotate && en.State == "expiring" {
			state = "rotation due"
		}
		host := en.Host
		if en.Protocol != "https" {
			host = en.Protocol + "://" + host
		}
		rows = append(rows, []string{host, en.Username, name, exp, state, used, scopes})
		longs = append(longs, l)
	}
	// Fit statusWidth columns (--json has everything): shorter forms
	// first, then columns that are empty in every row go.
	for step := 0; tableWidth(rows) > statusWidth && step < 3; step++ {
		for i, l := range longs {
			switch step {
			case 0:
				rows[i+1][6] = l.scopes
			case 1:
				rows[i+1][5] = l.used
			case 2:
				rows[i+1][3] = l.exp
			}
		}
	}
	rows, stateCol := dropEmptyColumns(rows, 4)
	// Then the scopes go (a token that cannot rotate itself says so in
	// its problem line), then long cells are cut.
	if col := slices.Index(rows[0], "SCOPES"); col >= 0 && tableWidth(rows) > statusWidth {
		for i := range rows {
			rows[i] = slices.Delete(rows[i], col, col+1)
		}
	}
	for _, name := range []string{"TOKEN", "USER", "LAST USED"} {
		over := tableWidth(rows) - statusWidth
		col := slices.Index(rows[0], name)
		if over <= 0 || col < 0 {
			continue
		}
		for _, r := range rows[1:] {
			r[col] = cut(r[col], max(10, columnWidth(rows, col)-over))
		}
	}
	writeTable(w, rows, stateCol, Color(w))
	for _, en := range entries {
		if en.Problem != "" {
			writeWrapped(w, fmt.Sprintf("%s (%s): %s", en.Host, en.Username, en.Problem))
		}
		if en.APIError != "" {
			writeWrapped(w, fmt.Sprintf("%s (%s): could not ask GitLab: %s", en.Host, en.Username, en.APIError))
		}
		for _, n := range en.Notes {
			writeWrapped(w, fmt.Sprintf("%s (%s): %s", en.Host, en.Username, n))
		}
	}
}

// writeWrapped writes a sentence that is too long for statusWidth columns
// one clause (up to "; ") a line, the rest indented: commands and paths
// stay whole, to copy.
func writeWrapped(w io.Writer, s string) {
	if utf8.RuneCountInString(s) <= statusWidth {
		fmt.Fprintln(w, s)
		return
	}
	for i, l := range strings.SplitAfter(s, "; ") {
		if i > 0 {
			l = "    " + l
		}
		fmt.Fprintln(w, strings.TrimRight(l, " "))
	}
}

// shortRelative is relative in few columns: "11d", "5h", "3d ago".
func shortRelative(t, now time.Time) string {
	d := t.Sub(now)
	suffix := ""
	if d < 0 {
		d, suffix = -d, " ago"
	}
	switch {
	case d < time.Minute:
		return "now"
	case d < time.Hour:
		return fmt.Sprintf("%dm%s", int(d.Minutes()), suffix)
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh%s", int(d.Hours()), suffix)
	}
	return fmt.Sprintf("%dd%s", int(d.Hours()/24), suffix)
}

// statusWidth is the width status's table fits in.
const statusWidth = 100

// shortScopes abbreviates GitLab's long scope names for the table.
func shortScopes(scopes []string) []string {
	out := make([]string, len(scopes))
	for i, s := range scopes {
		s = strings.TrimSuffix(s, "sitory") // read_repository: read_repo
		out[i] = s
	}
	return out
}

func columnWidth(rows [][]string, col int) int {
	n := 0
	for _, r := range rows {
		n = max(n, utf8.RuneCountInString(r[col]))
	}
	return n
}

func tableWidth(rows [][]string) int {
	n := 0
	for i := range rows[0] {
		n += columnWidth(rows, i) + 2
	}
	return n - 2
}

// dropEmptyColumns removes the columns whose cells are "-" in every row;
// it returns the new index of column keep.
func dropEmptyColumns(rows [][]string, keep int) ([][]string, int) {
	var cols []int
	newKeep := keep
	for c := range rows[0] {
		empty := c != keep && len(rows) > 1
		for _, r := range rows[1:] {
			if r[c] != "-" {
				empty = false
			}
		}
		if empty {
			if c < keep {
				newKeep--
			}
			continue
		}
		cols = append(cols, c)
	}
	out := make([][]string, len(rows))
	for i, r := range rows {
		for _, c := range cols {
			out[i] = append(out[i], r[c])
		}
	}
	return out, newKeep
}

// cut shortens s to n runes, marking the cut with "…".
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// writeTable aligns rows in columns two spaces apart. When color is on, the
// cells of column colorCol are coloured by their state after padding, so
// escape sequences do not disturb the alignment.
func writeTable(w io.Writer, rows [][]string, colorCol int, color bool) {
	widths := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, c := range r {
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	for ri, r := range rows {
		var b strings.Builder
		for i, c := range r {
			cell := c
			if i < len(r)-1 {
				cell += strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c)+2)
			}
			if color && ri > 0 && i == colorCol {
				cell = termtext.Paint(stateColor(c), cell)
			}
			b.WriteString(cell)
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
}

// stateColor is the colour of a state in status's table.
func stateColor(state string) string {
	switch state {
	case "ok":
		return termtext.Green
	case "rotation due", "expiring", "unverified":
		return termtext.Yellow
	case "expired", "revoked":
		return termtext.Red
	}
	return ""
}

// relative says how far t is from now, like "in 12 days" or "3 days ago".
func relative(t, now time.Time) string {
	d := t.Sub(now)
	past := d < 0
	if past {
		d = -d
	}
	var s string
	switch {
	case d < time.Minute:
		return "now"
	case d < time.Hour:
		s = termtext.Plural(int(d.Minutes()), "minute")
	case d < 48*time.Hour:
		s = termtext.Plural(int(d.Hours()), "hour")
	default:
		s = termtext.Plural(int(d.Hours()/24), "day")
	}
	if past {
		return s + " ago"
	}
	return "in " + s
}
