//go:build !windows

package schedule

// readTaskXML reads schtasks' XML. It is nil where there is no schtasks, so
// that encoding/xml is not linked there: its package init would run in every
// process, every `git credential get` included. The tests set it to
// taskxml.Decode to exercise the Windows code on any system.
var readTaskXML func(b []byte) (enabled bool, command, arguments string, err error)
