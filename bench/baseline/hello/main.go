// Command hello is the Go process floor for the benchmark: it prints one line.
package main

import "os"

func main() { os.Stdout.WriteString("hello\n") }
