package main

// Hooks that only the end-to-end tests use. They are zero in a release
// build; a binary built with -tags glpat_testhooks (as the tests build it)
// sets them from the environment in testhooks_on.go. Keeping them out of
// the shipped binary means no environment variable can make a user's
// helper crash on purpose or use another kernel keyring.
var testHooks struct {
	// killAt names a rotation or migration point at which the process
	// kills itself, as kill -9 would (the crash-safety tests).
	killAt string
	// panicOnAnswer makes get's answer writer panic with what it is
	// given (the leak tests: a panic must not print a token).
	panicOnAnswer bool
	// kernelKeyring names the kernel keyring, one per test.
	kernelKeyring string
}
