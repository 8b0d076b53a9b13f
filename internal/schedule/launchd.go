package schedule

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"
)

// A launchd agent in the user's GUI domain
// (https://developer.apple.com/library/archive/documentation/MacOSX/Conceptual/BPSystemStartup/Chapters/ScheduledJobs.html).

func plistPath(o Options) string {
	return filepath.Join(o.Home, "Library", "LaunchAgents", Name+".plist")
}

func logPath(o Options) string {
	return filepath.Join(o.Home, "Library", "Logs", Name+".log")
}

func domain(o Options) string { return "gui/" + strconv.Itoa(o.UID) }

// launchdPlist returns the agent's property list. It runs at load (each
// login) and daily at noon; launchd runs a calendar job that the Mac slept
// through when it wakes.
func launchdPlist(o Options) []byte {
	var b strings.Builder
	str := func(indent, s string) { fmt.Fprintf(&b, "%s<string>%s</string>\n", indent, xmlEscape(s)) }
	key := func(indent, k string) { fmt.Fprintf(&b, "%s<key>%s</key>\n", indent, xmlEscape(k)) }
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">` + "\n")
	b.WriteString("<!-- Written by `git-credential-glpat schedule install`; `git-credential-glpat schedule remove` removes it. -->\n")
	b.WriteString(`<plist version="1.0">` + "\n<dict>\n")
	key("\t", "Label")
	str("\t", Name)
	key("\t", "ProgramArguments")
	b.WriteString("\t<array>\n")
	for _, a := range []string{o.Binary, "rotate", "--all"} {
		str("\t\t", a)
	}
	b.WriteString("\t</array>\n")
	if env := o.env(); len(env) > 0 {
		key("\t", "EnvironmentVariables")
		b.WriteString("\t<dict>\n")
		for _, kv := range env {
			key("\t\t", kv[0])
			str("\t\t", kv[1])
		}
		b.WriteString("\t</dict>\n")
	}
	key("\t", "RunAtLoad")
	b.WriteString("\t<true/>\n")
	key("\t", "StartCalendarInterval")
	b.WriteString("\t<dict>\n")
	key("\t\t", "Hour")
	fmt.Fprintf(&b, "\t\t<integer>%d</integer>\n", dailyHour)
	key("\t\t", "Minute")
	fmt.Fprintf(&b, "\t\t<integer>%d</integer>\n", dailyMinute)
	b.WriteString("\t</dict>\n")
	key("\t", "ProcessType")
	str("\t", "Background")
	key("\t", "StandardOutPath")
	str("\t", logPath(o))
	key("\t", "StandardErrorPath")
	str("\t", logPath(o))
	b.WriteString("</dict>\n</plist>\n")
	return []byte(b.String())
}

// xmlEscape escapes s for XML character data exactly as encoding/xml's
// EscapeText does (TestXMLEscapeMatchesEncodingXML), without linking
// encoding/xml: its package init (a 250-entry entity map) would run in every
// process, every git credential get included.
func xmlEscape(s string) string {
	var b strings.Builder
	for i, w := 0, 0; i < len(s); i += w {
		r, size := utf8.DecodeRuneInString(s[i:])
		w = size
		switch r {
		case '"':
			b.WriteString("&#34;")
		case '\'':
			b.WriteString("&#39;")
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '\t':
			b.WriteString("&#x9;")
		case '\n':
			b.WriteString("&#xA;")
		case '\r':
			b.WriteString("&#xD;")
		default:
			if !xmlChar(r) || r == utf8.RuneError && size == 1 {
				b.WriteRune(utf8.RuneError)
			} else {
				b.WriteString(s[i : i+size])
			}
		}
	}
	return b.String()
}

// xmlChar reports whether r is in XML's Char production
// (https://www.w3.org/TR/xml/#NT-Char).
func xmlChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD ||
		r >= 0x10000 && r <= 0x10FFFF
}

func installLaunchd(ctx context.Context, o Options) (*Result, error) {
	r := &Result{Scheduler: "launchd"}
	path := plistPath(o)
	if err := writeFile(path, launchdPlist(o)); err != nil {
		return r, err
	}
	r.Files = append(r.Files, path)
	// An agent loaded before (an older program path) must go first:
	// bootstrap refuses a label that is loaded. Not loaded is fine.
	run(ctx, o, r, "launchctl", "bootout", domain(o)+"/"+Name)
	r.Failed[len(r.Failed)-1] = false // not loaded: nothing failed that install needs
	if out, err := run(ctx, o, r, "launchctl", "bootstrap", domain(o), path); err != nil {
		r.Notes = append(r.Notes, "the agent is written, but launchctl could not load it ("+commandError("launchctl", out, err)+"); in a desktop session (not over SSH), run: launchctl bootstrap "+domain(o)+" "+shellQuote(path))
		return r, nil
	}
	r.Active = true
	r.Notes = append(r.Notes, fmt.Sprintf("launchd rotates at each login and daily at %02d:%02d (on waking, when the Mac slept through it); output goes to %s", dailyHour, dailyMinute, logPath(o)))
	return r, nil
}

func removeLaunchd(ctx context.Context, o Options) (*Result, error) {
	r := &Result{Scheduler: "launchd"}
	path := plistPath(o)
	if !exists(path) {
		r.Notes = append(r.Notes, "scheduled rotation is not installed (no "+path+")")
		return r, nil
	}
	// Fails when the agent is not loaded, which is what we want anyway;
	// one still loaded after a failed bootout goes on running.
	if out, err := run(ctx, o, r, "launchctl", "bootout", domain(o)+"/"+Name); err != nil {
		if _, perr := run(ctx, o, nil, "launchctl", "print", domain(o)+"/"+Name); perr == nil {
			r.Active = true
			r.Notes = append(r.Notes, "launchctl could not unload the agent ("+commandError("launchctl", out, err)+"); it runs until the next login; to stop it now, in a desktop session run: launchctl bootout "+domain(o)+"/"+Name)
		} else {
			r.Notes = append(r.Notes, "the agent was not loaded")
		}
	}
	ok, err := removeFile(path)
	if err != nil {
		return r, err
	}
	if ok {
		r.Files = append(r.Files, path)
	}
	return r, nil
}

func statusLaunchd(ctx context.Context, o Options) (Status, error) {
	st := Status{Scheduler: "launchd"}
	path := plistPath(o)
	if !exists(path) {
		st.Detail = "not installed"
		return st, nil
	}
	st.Installed = true
	st.Files = []string{path}
	st.Current = sameContent(path, launchdPlist(o))
	st.State = "not loaded"
	if _, err := run(ctx, o, nil, "launchctl", "print", domain(o)+"/"+Name); err == nil {
		st.State = "loaded"
	}
	st.Detail = "launchd agent " + Name + " (" + path + "), " + st.State
	if !st.Current {
		st.Detail += "; it does not run " + o.Binary + " with the current settings, run `git-credential-glpat schedule install` again"
	}
	return st, nil
}
