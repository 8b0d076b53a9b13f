// Package taskxml reads what `git-credential-glpat schedule status` needs
// from a Windows scheduled task's XML (schtasks /Query /XML): whether the
// task is enabled and what it runs.
//
// It is a package of its own so that only Windows builds link encoding/xml,
// whose package init would otherwise run in every process, every
// `git credential get` included.
package taskxml

import (
	"bytes"
	"encoding/xml"
	"unicode/utf16"
)

// task is the part of the XML that Decode reads
// (https://learn.microsoft.com/windows/win32/taskschd/task-scheduler-schema).
type task struct {
	Settings struct {
		Enabled *bool `xml:"Enabled"`
	} `xml:"Settings"`
	Exec struct {
		Command   string `xml:"Command"`
		Arguments string `xml:"Arguments"`
	} `xml:"Actions>Exec"`
}

// Decode reads schtasks' XML, which schtasks writes as UTF-16 when its
// output is not a console. A task whose XML does not say is enabled, as
// the Task Scheduler's default is.
func Decode(b []byte) (enabled bool, command, arguments string, err error) {
	if len(b) >= 2 && (b[0] == 0xff && b[1] == 0xfe || b[0] != 0 && b[1] == 0) {
		b = bytes.TrimPrefix(b, []byte{0xff, 0xfe})
		u := make([]uint16, len(b)/2)
		for i := range u {
			u[i] = uint16(b[2*i]) | uint16(b[2*i+1])<<8
		}
		b = []byte(string(utf16.Decode(u)))
	}
	// The declaration says UTF-16 even when the bytes no longer are.
	if i := bytes.Index(b, []byte("?>")); bytes.HasPrefix(bytes.TrimSpace(b), []byte("<?xml")) && i >= 0 {
		b = b[i+2:]
	}
	var t task
	if err := xml.Unmarshal(b, &t); err != nil {
		return false, "", "", err
	}
	return t.Settings.Enabled == nil || *t.Settings.Enabled, t.Exec.Command, t.Exec.Arguments, nil
}
