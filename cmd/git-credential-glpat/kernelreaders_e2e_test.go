//go:build linux

package main

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/glpat-dev/git-credential-glpat/internal/kerneltest"
)

// TestKernelKeysAreReadableOnlyByTheUser: in a session keyring shared with
// another uid, as `su` leaves it, a credential stored with backend =
// "kernel" and the age identity that `unlock` puts in the kernel keyring
// can be read by the user's uid and by no other: `keyctl pipe` as the
// other uid is refused, even once the persistent keyring is linked into
// the session (as earlier versions left it, or `keyctl get_persistent @s`
// does), and the helper leaves no such link behind.
func TestKernelKeysAreReadableOnlyByTheUser(t *testing.T) {
	for _, kind := range []string{"kernel", "encrypted-file"} {
		t.Run(kind, func(t *testing.T) {
			w := backendWorld(t, kind)
			ss := kerneltest.NewSession(t)
			run := func(stdin string, args ...string) {
				t.Helper()
				var errOut string
				var err error
				ss.Run(func() { _, errOut, err = w.run(stdin, binPath, args...) })
				if err != nil {
					t.Fatalf("%s: %v\n%s", args[0], err, errOut)
				}
			}
			const stored = "protocol=https\nhost=secret.example\nusername=u\npassword=s3cret-in-the-kernel\n"
			if kind == "kernel" {
				run(stored, "store")
			} else {
				run("correct horse\ncorrect horse\n", "init", "--passphrase-stdin")
				run(stored, "store")
				run("", "lock")
				run("correct horse\n", "unlock", "--passphrase-stdin")
			}
			ring := kernelKeyringName(w)
			keys, err := kerneltest.Keys(ring)
			if err != nil || len(keys) != 1 {
				t.Fatalf("keys in %s: %v, %v; want one", ring, keys, err)
			}
			key := keys[0]
			persistent, err := kerneltest.Persistent()
			if err != nil {
				t.Fatal(err)
			}
			otherCannotRead := func(when string) {
				t.Helper()
				if n, err := ss.ReadAs(kerneltest.Other, key); !kerneltest.IsDenied(err) {
					t.Errorf("%s: uid %d read %d bytes of the key (err %v); want permission denied", when, kerneltest.Other, n, err)
				}
			}
			noSessionLink := func(when string) {
				t.Helper()
				if links, err := ss.Links(); err != nil || slices.Contains(links, persistent) {
					t.Errorf("%s: the session keyring links the persistent keyring (%v, %v)", when, links, err)
				}
			}
			otherCannotRead("after " + kind)
			noSessionLink("after " + kind)
			if n, err := ss.ReadAs(os.Geteuid(), key); err != nil || n == 0 {
				t.Errorf("the user cannot read their own key: %d bytes, %v", n, err)
			}

			if _, err := ss.LinkPersistent(); err != nil {
				t.Fatal(err)
			}
			otherCannotRead("with the persistent keyring in the session")
			var out string
			ss.Run(func() { out, _, _ = w.run("protocol=https\nhost=secret.example\n", binPath, "get") })
			if out != "username=u\npassword=s3cret-in-the-kernel\n" {
				t.Errorf("get served %d bytes, want the stored credential", len(out))
			}
			noSessionLink("after a get")
		})
	}
}

// kernelKeyringName is the kernel keyring a world's helper uses.
func kernelKeyringName(w *world) string {
	for _, e := range w.env {
		if v, ok := strings.CutPrefix(e, "GLPAT_KERNEL_KEYRING="); ok {
			return v
		}
	}
	w.t.Fatal("the world names no kernel keyring")
	return ""
}
