package config

import (
	"testing"
	"unsafe"
)

// BenchmarkLoad measures what every git fetch pays: reading and checking a
// typical config file.
func BenchmarkLoad(b *testing.B) {
	path := writeConfig(b, fullConfig)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Load(path); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoadMissing measures the common case of no config file at all.
func BenchmarkLoadMissing(b *testing.B) {
	path := b.TempDir() + "/config.toml"
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Load(path); err != nil {
			b.Fatal(err)
		}
	}
}

// TestHostConfigFitsInAMapSlot: Go's maps keep an element of up to 128
// bytes in the map itself and allocate a larger one apart (the runtime's
// maxElemSize), so a HostConfig beyond it costs every config read (every
// get of a managed token) one allocation per host.
func TestHostConfigFitsInAMapSlot(t *testing.T) {
	if n := unsafe.Sizeof(HostConfig{}); n > 128 {
		t.Errorf("HostConfig is %d bytes, more than 128", n)
	}
}
