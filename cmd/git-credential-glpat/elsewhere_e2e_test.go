package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glpat-dev/git-credential-glpat/internal/keychain"
)

// TestSwitchingBackendByHandLosesNothing: two credentials stored in the
// keyring, the config switched to kernel by hand: get serves nothing, says
// once where the credential is and what to run, drops nothing; switched
// back, both are served again.
func TestSwitchingBackendByHandLosesNothing(t *testing.T) {
	w := backendWorld(t, "keyring")
	cfg := filepath.Join(w.dir, "config.toml")
	w.run("protocol=https\nhost=elsewhere.example\nusername=u\npassword=one\n", binPath, "store")
	w.run("protocol=https\nhost=elsewhere.example\nusername=v\npassword=two\n", binPath, "store")
	os.WriteFile(cfg, []byte("backend = \"kernel\"\n"), 0o600)
	out, errOut, _ := w.run("protocol=https\nhost=elsewhere.example\n", binPath, "get")
	if out != "" {
		t.Errorf("get with the config naming another backend = %q", out)
	}
	if strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, "keyring") || !strings.Contains(errOut, "migrate --to kernel") {
		t.Errorf("get should say once where the credential is and what to run: %q", errOut)
	}
	if js, _, _ := w.run("", binPath, "status", "--offline", "--json"); strings.Count(js, "elsewhere.example") != 2 {
		t.Errorf("status lost the credentials stored elsewhere:\n%s", js)
	}
	if st, _, _ := w.run("", binPath, "status", "--offline"); !strings.Contains(st, "keyring") {
		t.Errorf("status does not say where the credentials are:\n%s", st)
	}
	if doc, _, _ := w.run("", binPath, "doctor"); !strings.Contains(doc, "migrate --to kernel") {
		t.Errorf("doctor does not report the credentials stored elsewhere:\n%s", doc)
	}
	os.WriteFile(cfg, []byte("backend = \"keyring\"\n"), 0o600)
	for _, u := range []string{"u", "v"} {
		if out, errOut, _ := w.run("protocol=https\nhost=elsewhere.example\nusername="+u+"\n", binPath, "get"); !strings.HasPrefix(out, "username="+u+"\n") {
			t.Errorf("switched back, get %s = %q %q", u, out, errOut)
		}
	}
}

// TestStoreAfterAPersonDeletedTheSecret: the keychain item deleted by hand,
// git's store of the same credential stores it.
func TestStoreAfterAPersonDeletedTheSecret(t *testing.T) {
	w := newWorld(t)
	const cred = "protocol=https\nhost=deleted.example\nusername=u\npassword=pw\n"
	w.run(cred, binPath, "store")
	kc := keychain.New(keychainService)
	if err := kc.Delete(context.Background(), "https://u@deleted.example"); err != nil {
		t.Fatal(err)
	}
	if _, errOut, err := w.run(cred, binPath, "store"); err != nil || errOut != "" {
		t.Fatalf("store after the item was deleted: %v %q", err, errOut)
	}
	if out, _, _ := w.run("protocol=https\nhost=deleted.example\n", binPath, "get"); out != "username=u\npassword=pw\n" {
		t.Errorf("get = %q", out)
	}
	_ = fmt.Sprint
}

// TestKilledOverwriteIsNeverAMix: a store killed after writing the new
// secret but before its index record leaves get serving the new password
// with the new expiry (or the old with the old), never a mix.
func TestKilledOverwriteIsNeverAMix(t *testing.T) {
	w := newWorld(t)
	const req = "protocol=https\nhost=overwrite.example\n"
	old := fmt.Sprintf("protocol=https\nhost=overwrite.example\nusername=u\npassword=old-pw\npassword_expiry_utc=%d\n", 4102444800)
	nw := fmt.Sprintf("protocol=https\nhost=overwrite.example\nusername=u\npassword=new-pw\npassword_expiry_utc=%d\n", 4133980800)
	w.run(old, binPath, "store")
	env := w.env
	w.env = append(append([]string(nil), env...), "GLPAT_TEST_KILL_AT=store-after-secret")
	if _, _, err := w.run(nw, binPath, "store"); err == nil {
		t.Fatal("store was not killed")
	}
	w.env = env
	out, errOut, _ := w.run(req, binPath, "get")
	switch out {
	case "username=u\npassword=old-pw\npassword_expiry_utc=4102444800\n",
		"username=u\npassword=new-pw\npassword_expiry_utc=4133980800\n":
	default:
		t.Errorf("get after a killed overwrite = %q (stderr %q): a mix of old and new", out, errOut)
	}
	if out2, _, _ := w.run(req, binPath, "get"); out2 != out {
		t.Errorf("a second get = %q, the first %q", out2, out)
	}
}
