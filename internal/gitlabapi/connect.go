package gitlabapi

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"syscall"
	"time"
)

// Failure is why a call got no answer from GitLab at all, as far as the
// error from the network or TLS tells: a person fixes each differently.
type Failure int

const (
	// Answered: not a failure to reach the server (it answered, or the
	// error says nothing more).
	Answered Failure = iota
	// NoDNS: the host name does not resolve (offline, a typo, or a name
	// only a VPN's DNS knows).
	NoDNS
	// NoRoute: no network, or no route to the host.
	NoRoute
	// ConnRefused: the host refused the connection: nothing listens on
	// that port.
	ConnRefused
	// BadCertificate: TLS refused the server's certificate (Detail says
	// why: an unknown authority, another host's, expired).
	BadCertificate
	// UnknownAuthority: a BadCertificate signed by an authority that is
	// not trusted here (a company CA: ca_file adds it).
	UnknownAuthority
	// PlainHTTP: an https URL reached a server that answers plain HTTP.
	PlainHTTP
	// TLSFailure: the TLS handshake failed otherwise.
	TLSFailure
	// TimedOut: no answer before the deadline.
	TimedOut
)

// Unreached reports why err, from a call, means the server was not
// reached, with the detail a person needs (the certificate's problem in
// words), or Answered.
func Unreached(err error) (Failure, string) {
	var dnsErr *net.DNSError
	var unknownCA x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var invalid x509.CertificateInvalidError
	var verify *tls.CertificateVerificationError
	var record tls.RecordHeaderError
	var alert tls.AlertError
	var netErr net.Error
	switch {
	case err == nil:
		return Answered, ""
	case errors.As(err, &dnsErr):
		return NoDNS, "the name " + dnsErr.Name + " does not resolve"
	case errors.Is(err, syscall.ECONNREFUSED):
		return ConnRefused, "connection refused"
	case errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETDOWN):
		return NoRoute, "no route to the host (network unreachable)"
	case errors.Is(err, http.ErrSchemeMismatch):
		return PlainHTTP, "the server answered https with plain http"
	case errors.As(err, &unknownCA):
		return UnknownAuthority, "its certificate is signed by an authority not trusted here" + issuer(unknownCA.Cert)
	case errors.As(err, &hostErr):
		return BadCertificate, "its certificate is for " + certNames(hostErr.Certificate) + ", not " + hostErr.Host
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
		return BadCertificate, "its certificate is outside its validity period" + validity(invalid.Cert)
	case errors.As(err, &invalid):
		return BadCertificate, "its certificate is not valid: " + invalid.Error()
	case errors.As(err, &verify):
		return BadCertificate, "its certificate is not valid: " + verify.Err.Error()
	case errors.As(err, &record):
		return TLSFailure, "the server does not speak TLS there"
	case errors.As(err, &alert):
		return TLSFailure, "the TLS handshake failed: " + alert.Error()
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return TimedOut, "no answer in time"
	}
	return Answered, ""
}

func issuer(c *x509.Certificate) string {
	if c == nil || c.Issuer.String() == "" {
		return ""
	}
	return " (" + c.Issuer.String() + ")"
}

func certNames(c *x509.Certificate) string {
	if c == nil {
		return "another host"
	}
	names := c.DNSNames
	for _, ip := range c.IPAddresses {
		names = append(names, ip.String())
	}
	if len(names) == 0 {
		return fmt.Sprintf("%q", c.Subject.CommonName)
	}
	return strings.Join(names, ", ")
}

func validity(c *x509.Certificate) string {
	if c == nil {
		return ""
	}
	return " (" + c.NotBefore.UTC().Format(time.DateOnly) + " to " + c.NotAfter.UTC().Format(time.DateOnly) + ")"
}
