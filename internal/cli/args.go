package cli

import "fmt"

// ArgError reports a usage error in cmd's arguments in the style of its
// flag errors, "CMD: what is wrong (what it takes)", and returns the exit
// status of a usage error, 2.
func (u *UI) ArgError(cmd, format string, a ...any) int {
	u.Errorf("%s: %s", cmd, fmt.Sprintf(format, a...))
	return 2
}
