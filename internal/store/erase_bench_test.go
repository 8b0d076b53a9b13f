package store

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/glpat-dev/git-credential-glpat/internal/keychain"
	"github.com/glpat-dev/git-credential-glpat/internal/keyringtest"
)

// eraseBenchN is how many credentials of one host BenchmarkEraseOneHost
// stores and erases per round: 300, or GLPAT_BENCH_ERASE_N (the issue's
// case is 3,000; setting that many up takes minutes).
var eraseBenchN = 300

func init() {
	if n, err := strconv.Atoi(os.Getenv("GLPAT_BENCH_ERASE_N")); err == nil && n > 0 {
		eraseBenchN = n
	}
}

// BenchmarkKeychainDeleteOne is the cost of deleting one keychain item with
// one keychain.Delete call: the unit BenchmarkEraseOneHost is held to
// (at most 1.5x per credential).
func BenchmarkKeychainDeleteOne(b *testing.B) {
	keyringtest.Require(b)
	kc := keychain.New("glpat-bench-delete")
	ctx := context.Background()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		if err := kc.Set(ctx, "acct", "secret"); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if err := kc.Delete(ctx, "acct"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEraseOneHost erases eraseBenchN credentials of one host with one
// Erase, as `erase` with only protocol and host does. ns/credential is its
// cost per credential; x-one-delete divides that by the cost of one
// keychain.Delete measured in the same keyring just before (a delete costs
// more in a keyring that holds more items), which is held to 1.5 at most.
func BenchmarkEraseOneHost(b *testing.B) {
	keyringtest.Require(b)
	ctx := context.Background()
	kc := keychain.New("glpat-bench-erase")
	s := &Store{Secrets: kc, Dir: b.TempDir()}
	var total, erase, one time.Duration
	var n, ones int
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		for u := 0; u < eraseBenchN; u++ {
			if err := s.Put(ctx, &Record{Protocol: "https", Host: "many.example", Username: fmt.Sprintf("u%04d", u)}, &Secret{Password: "p"}); err != nil {
				b.Fatal(err)
			}
		}
		for j := 0; j < 5; j++ {
			kc.Set(ctx, fmt.Sprintf("one-%d", j), "s")
		}
		start := time.Now()
		for j := 0; j < 5; j++ {
			if err := kc.Delete(ctx, fmt.Sprintf("one-%d", j)); err != nil {
				b.Fatal(err)
			}
		}
		one += time.Since(start)
		ones += 5
		b.StartTimer()
		start = time.Now()
		m, err := s.Erase(ctx, req("https", "many.example", ""))
		erase += time.Since(start)
		if err != nil || m != eraseBenchN {
			b.Fatalf("Erase = %d, %v", m, err)
		}
		n += m
	}
	total = erase
	perCred := float64(total.Nanoseconds()) / float64(n)
	b.ReportMetric(perCred, "ns/credential")
	b.ReportMetric(perCred/(float64(one.Nanoseconds())/float64(ones)), "x-one-delete")
}
