package keychain

// On macOS go-keyring runs /usr/bin/security; there is no bus to check.
func checkSessionBus() error { return nil }

// isLocked reports a keychain that could not be unlocked: security exits
// with status 36 (errSecInteractionNotAllowed) when the login keychain is
// locked and no unlock dialog can be shown, as over SSH.
func isLocked(err error) bool { return isInteractionNotAllowed(err) }

func isNoSecretService(error) bool { return false }

func isNoSessionBus(error) bool { return false }

func isVanishedItem(error) bool { return false }
