//go:build !((dragonfly && cgo) || (freebsd && cgo) || linux || netbsd || openbsd || darwin)

package keychain

// Windows' Credential Manager (and go-keyring's fallback on other systems)
// needs no bus and has no locked state that go-keyring reports.
func checkSessionBus() error { return nil }

func isLocked(error) bool { return false }

func isNoSecretService(error) bool { return false }

func isNoSessionBus(error) bool { return false }

func isVanishedItem(error) bool { return false }
