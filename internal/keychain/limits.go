package keychain

import (
	"encoding/base64"
	"runtime"
	"strings"
)

// itemFits reports whether one keychain item with the given service and
// account can hold a value of size bytes. A nil itemFits means no limit.
type itemFits func(service, account string, size int) bool

// platformFits is this system's limit on one item: Windows' and macOS's
// (through go-keyring); the Secret Service has none that matters here
// (gnome-keyring takes megabytes).
var platformFits = fitsOn(runtime.GOOS)

func fitsOn(goos string) itemFits {
	switch goos {
	case "windows":
		return windowsItemFits
	case "darwin":
		return macItemFits
	}
	return nil
}

// windowsBlobMax is the most a Windows credential's blob holds
// (CRED_MAX_CREDENTIAL_BLOB_SIZE, 5*512 bytes,
// https://learn.microsoft.com/windows/win32/api/wincred/ns-wincred-credentiala);
// go-keyring refuses more (keyring_windows.go, v0.2.8).
const windowsBlobMax = 2560

// windowsItemFits is go-keyring's check before it writes a Windows
// credential: the value at most 2,560 bytes, the service under 512.
func windowsItemFits(service, _ string, size int) bool {
	return size <= windowsBlobMax && len(service) < 512
}

// macCommandMax is the longest command go-keyring sends to
// `security -i` on macOS (keyring_darwin.go, v0.2.8): the interactive
// mode reads lines of at most 4,096 bytes.
const macCommandMax = 4096

// macBase64Prefix starts every value go-keyring writes on macOS: it
// base64-encodes the value so that `security` hands it back unchanged.
const macBase64Prefix = "go-keyring-base64:"

// macItemFits is go-keyring's check before it writes a macOS keychain
// item: the whole command
//
//	add-generic-password -U -s SERVICE -a ACCOUNT -w go-keyring-base64:BASE64\n
//
// at most 4,096 bytes, with SERVICE and ACCOUNT quoted as go-keyring's
// shellescape.Quote does. The encoded value is made of characters that
// are never quoted, so its length depends only on size.
func macItemFits(service, account string, size int) bool {
	n := len("add-generic-password -U -s ") + shellQuotedLen(service) +
		len(" -a ") + shellQuotedLen(account) +
		len(" -w ") + len(macBase64Prefix) + base64.StdEncoding.EncodedLen(size) + len("\n")
	return n <= macCommandMax
}

// shellQuotedLen is the length of shellescape.Quote(s) as go-keyring
// v0.2.8 has it (internal/shellescape): two quotes for an empty string; s itself
// when it holds only ASCII letters, digits and _@%+=:,./-; else s in
// single quotes, each ' inside written '"'"'.
func shellQuotedLen(s string) int {
	if s == "" {
		return 2
	}
	for i := 0; i < len(s); i++ {
		if !shellSafe(s[i]) {
			return 2 + len(s) + 4*strings.Count(s, "'")
		}
	}
	return len(s)
}

func shellSafe(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("_@%+=:,./-", c) >= 0
}
