package config

import "strings"

// TokenAPIURL is where a managed token of host is sent: the host's
// configured api_url, else https://HOST/api/v4. Only HTTPS is derived: a
// token is never sent in clear text to an address the user did not
// configure. It is never taken from the state directory, which may have
// been written by someone else (see the README's security model). Every
// caller that reaches a host's API asks here (rotation, store's check,
// login, doctor's clock, the OAuth provider beside the API).
func (c *Config) TokenAPIURL(host string) string {
	if u := c.Host(host).APIURL; u != "" {
		return u
	}
	return DefaultAPIURL("https", host)
}

// DefaultAPIURL is the API base URL GitLab serves for a host:
// <protocol>://<host>/api/v4 (https://docs.gitlab.com/api/rest/).
func DefaultAPIURL(protocol, host string) string {
	return protocol + "://" + host + "/api/v4"
}

// WebURL is GitLab's web root for the API base URL apiURL, the inverse of
// DefaultAPIURL: the API sits at /api/v4 under it, beside the OAuth
// provider (/oauth) and the pages a person opens, also under a relative
// URL root (https://host/gitlab/api/v4 → https://host/gitlab).
func WebURL(apiURL string) string {
	return strings.TrimSuffix(strings.TrimRight(apiURL, "/"), "/api/v4")
}
