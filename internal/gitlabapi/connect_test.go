package gitlabapi

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"syscall"
	"testing"
)

// TestUnreached: the network's and TLS's errors, as a call wraps them, say
// why the server was not reached; anything else is not such a failure.
func TestUnreached(t *testing.T) {
	dial := func(errno syscall.Errno) error {
		return &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", errno)}
	}
	tests := []struct {
		name string
		err  error
		want Failure
	}{
		{"no DNS", &net.DNSError{Name: "gitlab.example.com", Err: "no such host", IsNotFound: true}, NoDNS},
		{"network unreachable", dial(syscall.ENETUNREACH), NoRoute},
		{"host unreachable", dial(syscall.EHOSTUNREACH), NoRoute},
		{"refused", dial(syscall.ECONNREFUSED), ConnRefused},
		{"plain http", http.ErrSchemeMismatch, PlainHTTP},
		{"unknown authority", x509.UnknownAuthorityError{}, UnknownAuthority},
		{"expired", x509.CertificateInvalidError{Reason: x509.Expired}, BadCertificate},
		{"deadline", context.DeadlineExceeded, TimedOut},
		{"an answer", &Error{Op: "get token", Status: 404, Kind: ErrNotFound}, Answered},
		{"something else", errors.New("unexpected EOF"), Answered},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// As Client.call wraps a transport error.
			wrapped := &Error{Op: "get token", Kind: ErrUnreachable, Err: fmt.Errorf("Get https://gitlab.example.com/api/v4/personal_access_tokens/self: %w", tt.err)}
			if got, detail := Unreached(wrapped); got != tt.want || (got != Answered && detail == "") {
				t.Errorf("Unreached = %v, %q; want %v with a detail", got, detail, tt.want)
			}
		})
	}
}
