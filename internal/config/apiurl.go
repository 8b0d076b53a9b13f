package config

// TokenAPIURL is where a managed token of host is sent: the host's
// configured api_url, else https://HOST/api/v4. Only HTTPS is derived: a
// token is never sent in clear text to an address the user did not
// configure. It is never taken from the state directory, which may have
// been written by someone else (see the README's security model).
func (c *Config) TokenAPIURL(host string) string {
	if u := c.Host(host).APIURL; u != "" {
		return u
	}
	return DefaultAPIURL("https", host)
}
