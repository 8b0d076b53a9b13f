// Command keyringget is the benchmark's keychain floor: a bare Go program that
// does one go-keyring Get and prints the secret's length.
package main

import (
	"fmt"
	"os"

	"github.com/zalando/go-keyring"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: keyringget SERVICE USER")
		os.Exit(2)
	}
	s, err := keyring.Get(os.Args[1], os.Args[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(len(s))
}
