package config

import "testing"

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
