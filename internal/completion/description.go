// Package completion writes shell completion scripts (bash, zsh, fish) for
// a description of a program's commands; the description is the caller's.
package completion

// Command is one command as completion offers it.
type Command struct {
	Name  string
	Help  string // one line, shown by zsh and fish
	Flags []Flag
	// Args says what the positional arguments are: ArgNone, ArgHost (at
	// most one stored host), ArgHosts (any number of hosts) or ArgWord
	// (one of Words).
	Args  string
	Words []Word
}

// Flag is a command's flag, written with two dashes.
type Flag struct {
	Name string // without the dashes
	Help string
	// Arg names the flag's value (like "URL"); empty for a boolean flag.
	Arg string
	// Values are the only values the flag takes, when they are fixed.
	Values []string
	// File: the value is a file name, completed as one.
	File bool
}

// Word is a fixed positional argument, like schedule's "install".
type Word struct{ Name, Help string }

// The kinds of positional arguments.
const (
	ArgNone  = ""
	ArgHost  = "host"
	ArgHosts = "hosts"
	ArgWord  = "word"
)

// Shells are the shells Script writes for.
var Shells = []string{"bash", "zsh", "fish"}
