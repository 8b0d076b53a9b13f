// Command linkfloor is the start-up floor of any Go program that can do
// what git-credential-glpat does. It links, and with arguments uses, the same
// libraries: an HTTPS client with an extra CA (net/http, crypto/tls),
// GitLab's Go client (client-go: read and rotate the token itself, as the
// helper calls it), a TOML parser, a D-Bus keychain client (go-keyring) and
// age. Run without
// arguments it only prints one line, as a hello-world does. Go runs every
// linked package's init before main, so its time is what each process pays
// before it reads its first byte of input.
package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"

	"filippo.io/age"
	"filippo.io/age/armor"
	"github.com/BurntSushi/toml"
	"github.com/zalando/go-keyring"
	gitlab "gitlab.com/gitlab-org/api/client-go"
)

func main() {
	if len(os.Args) == 4 {
		if err := use(os.Args[1], os.Args[2], os.Args[3]); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	os.Stdout.WriteString("hello\n")
}

// use makes the linker keep what the helper needs: fetch url, read and
// rotate a token through client-go, parse a TOML
// file, read the keychain, and age-encrypt to a fresh key and a passphrase.
func use(url, configFile, account string) error {
	roots, err := x509.SystemCertPool()
	if err != nil {
		return err
	}
	c := &http.Client{Transport: &http.Transport{Proxy: http.ProxyFromEnvironment, TLSClientConfig: &tls.Config{RootCAs: roots}}}
	resp, err := c.Get(url)
	if err != nil {
		return err
	}
	resp.Body.Close()
	gl, err := gitlab.NewClient(account, gitlab.WithBaseURL(url), gitlab.WithHTTPClient(c), gitlab.WithoutRetries())
	if err != nil {
		return err
	}
	if _, _, err := gl.PersonalAccessTokens.GetSinglePersonalAccessToken(); err != nil {
		return err
	}
	if _, _, err := gl.PersonalAccessTokens.RotatePersonalAccessTokenSelf(&gitlab.RotatePersonalAccessTokenOptions{}); err != nil {
		return err
	}
	var conf map[string]any
	if _, err := toml.DecodeFile(configFile, &conf); err != nil {
		return err
	}
	if _, err := keyring.Get("linkfloor", account); err != nil {
		return err
	}
	id, err := age.GenerateX25519Identity()
	if err != nil {
		return err
	}
	sr, err := age.NewScryptRecipient(account)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	w, err := age.Encrypt(armor.NewWriter(&buf), id.Recipient(), sr)
	if err != nil {
		return err
	}
	return w.Close()
}
