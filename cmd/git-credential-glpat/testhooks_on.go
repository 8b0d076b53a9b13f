//go:build glpat_testhooks

package main

import "os"

func init() {
	testHooks.killAt = os.Getenv("GLPAT_TEST_KILL_AT")
	testHooks.panicOnAnswer = os.Getenv("GLPAT_TEST_PANIC") == "1"
	testHooks.kernelKeyring = os.Getenv("GLPAT_KERNEL_KEYRING")
}
