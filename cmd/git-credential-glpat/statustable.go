package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/glpat-dev/git-credential-glpat/internal/account"
	"github.com/glpat-dev/git-credential-glpat/internal/hostarg"
	"github.com/glpat-dev/git-credential-glpat/internal/lifecycle"
	"github.com/glpat-dev/git-credential-glpat/internal/termtext"
	"github.com/glpat-dev/git-credential-glpat/internal/tty"
)

// writeStatus writes status's table of entries, and a line for each
// entry's problem, fitting width columns (statusWidth into a pipe, the
// terminal's width at one); t is the time the table speaks from.
func writeStatus(w io.Writer, entries []account.Entry, t time.Time, width int) {
	if len(entries) == 0 {
		writeWrapped(w, "No credentials stored. Run git-credential-glpat login [HOST] to add a GitLab token.", width)
		return
	}
	// A wide column last: it is the one cut to fit.
	rows := [][]string{{"HOST", "USER", "TOKEN", "EXPIRES", "STATE", "LAST USED", "SCOPES"}}
	type short struct{ exp, expLeft, used, scopes string }
	var shorts []short
	var colors []string // of each row's state
	for _, en := range entries {
		name, scopes, exp, used := "-", "-", "-", "-"
		l := short{"-", "-", "-", "-"}
		if en.Managed {
			name = en.TokenName
			scopes = strings.Join(en.Scopes, ",")
			l.scopes = strings.Join(shortScopes(en.Scopes), ",")
		}
		if en.Expiry != nil {
			exp = en.Expiry.Format(time.DateOnly) + " (" + relative(*en.Expiry, t) + ")"
			l.exp = en.Expiry.Format(time.DateOnly) + " (" + shortRelative(*en.Expiry, t) + ")"
			l.expLeft = shortRelative(*en.Expiry, t)
			if !strings.HasSuffix(l.expLeft, " ago") && l.expLeft != "now" {
				l.expLeft = "in " + l.expLeft
			}
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
		host := hostarg.Format(en.Protocol, en.Host)
		rows = append(rows, []string{host, en.Username, name, exp, en.Label, used, scopes})
		colors = append(colors, levelColor(en))
		shorts = append(shorts, l)
	}
	// Fit width columns (--json has everything): shorter forms first,
	// then columns that are empty in every row go.
	for step := 0; tableWidth(rows) > width && step < 3; step++ {
		for i, l := range shorts {
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
	rows = dropEmptyColumns(rows, 4)
	// Then what matters least at a glance goes first: the scopes (a token
	// that cannot rotate itself says so in its problem line), long names,
	// the expiry's date (the time left stays), the token's name; last,
	// the last use (its address is how a person notices use from
	// elsewhere) and the account are cut. The state is never cut.
	dropColumn(rows, "SCOPES", width)
	cutColumns(rows, width, 10, "TOKEN", "USER")
	if col := slices.Index(rows[0], "EXPIRES"); col >= 0 && tableWidth(rows) > width {
		for i, l := range shorts {
			rows[i+1][col] = l.expLeft
		}
	}
	dropColumn(rows, "TOKEN", width)
	cutColumns(rows, width, 10, "LAST USED")
	cutColumns(rows, width, 6, "USER", "HOST")
	var painted []string
	if tty.Color(w) {
		painted = colors
	}
	writeTable(w, rows, slices.Index(rows[0], "STATE"), painted)
	for _, en := range entries {
		who := hostarg.Format(en.Protocol, en.Host)
		if en.Problem != "" {
			writeWrapped(w, fmt.Sprintf("%s (%s): %s", who, en.Username, en.Line()), width)
		}
		if en.APIError != "" {
			writeWrapped(w, fmt.Sprintf("%s (%s): could not ask GitLab, so its state is as last known: %s", who, en.Username, en.APIError), width)
		}
		if en.Note != "" {
			writeWrapped(w, fmt.Sprintf("%s (%s): %s", who, en.Username, en.Note), width)
		}
		if en.Answers != "" {
			writeWrapped(w, fmt.Sprintf("%s (%s): answers git where the URL names no account (%s)", who, en.Username, en.Answers), width)
		}
	}
}

// dropColumn removes the column named name from rows while they are wider
// than width.
func dropColumn(rows [][]string, name string, width int) {
	if col := slices.Index(rows[0], name); col >= 0 && tableWidth(rows) > width {
		for i := range rows {
			rows[i] = slices.Delete(rows[i], col, col+1)
		}
	}
}

// cutColumns cuts the cells of the named columns, in turn, to no fewer
// than least runes, while rows are wider than width.
func cutColumns(rows [][]string, width, least int, names ...string) {
	for _, name := range names {
		over := tableWidth(rows) - width
		col := slices.Index(rows[0], name)
		if over <= 0 || col < 0 {
			continue
		}
		for _, r := range rows[1:] {
			r[col] = cut(r[col], max(least, columnWidth(rows, col)-over))
		}
	}
}

// writeWrapped writes s in lines of at most width columns (wrapLines).
func writeWrapped(w io.Writer, s string, width int) {
	for _, l := range wrapLines(s, width) {
		fmt.Fprintln(w, l)
	}
}

// wrapLines breaks a sentence too long for width columns one clause (up to
// "; ") a line where a clause fits, else between words, the lines after
// the first indented: commands and paths stay whole, to copy.
func wrapLines(s string, width int) []string {
	const indent = "    "
	var lines []string
	cur := ""
	for _, clause := range strings.SplitAfter(s, "; ") {
		clause = strings.TrimRight(clause, " ")
		if cur != "" && utf8.RuneCountInString(cur)+1+utf8.RuneCountInString(clause) <= width {
			cur += " " + clause
			continue
		}
		if cur != "" {
			lines, cur = append(lines, cur), ""
		}
		prefix := ""
		if len(lines) > 0 {
			prefix = indent
		}
		pieces := []string{clause}
		if utf8.RuneCountInString(prefix+clause) > width {
			pieces = termtext.Wrap(clause, width-len(indent))
		}
		for i, p := range pieces {
			if i == len(pieces)-1 {
				cur = prefix + p
				break
			}
			lines, prefix = append(lines, prefix+p), indent
		}
	}
	return append(lines, cur)
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

// statusWidth is the width status fits in when it does not write to a
// terminal.
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

// dropEmptyColumns removes the columns whose cells are "-" in every row,
// except column keep.
func dropEmptyColumns(rows [][]string, keep int) [][]string {
	var cols []int
	for c := range rows[0] {
		empty := c != keep && len(rows) > 1
		for _, r := range rows[1:] {
			if r[c] != "-" {
				empty = false
			}
		}
		if !empty {
			cols = append(cols, c)
		}
	}
	out := make([][]string, len(rows))
	for i, r := range rows {
		for _, c := range cols {
			out[i] = append(out[i], r[c])
		}
	}
	return out
}

// cut shortens s to n runes, marking the cut with "…".
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// writeTable aligns rows in columns two spaces apart. With colors (one
// for each row under the header), the cells of column colorCol are
// coloured after padding, so escape sequences do not disturb the
// alignment.
func writeTable(w io.Writer, rows [][]string, colorCol int, colors []string) {
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
			if colors != nil && ri > 0 && i == colorCol {
				cell = termtext.Paint(colors[ri-1], cell)
			}
			b.WriteString(cell)
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
}

// levelColor is the colour of en's state in status's table: its level's
// (a plain credential that is fine has none).
func levelColor(en account.Entry) string {
	switch {
	case en.Level == lifecycle.ActionNeeded:
		return termtext.Red
	case en.Level == lifecycle.Warning:
		return termtext.Yellow
	case en.Managed:
		return termtext.Green
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
