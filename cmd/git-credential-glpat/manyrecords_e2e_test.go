package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/glpat-dev/git-credential-glpat/internal/store"
)

// plantRecords writes an index of n records for host, as n stores would
// have (their secrets are not needed to measure the index's cost).
func plantRecords(t *testing.T, w *world, host string, n int) {
	t.Helper()
	type idx struct {
		Version int            `json:"version"`
		Records []store.Record `json:"records"`
	}
	f := idx{Version: 1}
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < n; i++ {
		u := fmt.Sprintf("user%04d", i)
		f.Records = append(f.Records, store.Record{
			Account: store.AccountName("https", host, "", u), Protocol: "https", Host: host,
			Username: u, Backend: "keyring", StoredAt: at,
		})
	}
	data, _ := json.MarshalIndent(f, "", "  ")
	dir := filepath.Join(w.dir, "state", "index")
	os.MkdirAll(dir, 0o700)
	if err := os.WriteFile(filepath.Join(dir, "https_"+host+".json"), data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestParallelWritersOnABusyHost: 8 git stores at once on a host with
// 3,000 records all store, none times out on the index lock.
func TestParallelWritersOnABusyHost(t *testing.T) {
	w := newWorld(t)
	const host = "busy.example"
	plantRecords(t, w, host, 3000)
	var wg sync.WaitGroup
	errs := make([]string, 8)
	for i := range errs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			_, errOut, err := w.run(fmt.Sprintf("protocol=https\nhost=%s\nusername=writer%d\npassword=pw%d\n", host, i, i), binPath, "store")
			if err != nil || errOut != "" {
				errs[i] = fmt.Sprintf("writer %d: %v %q", i, err, errOut)
			}
		}(i)
	}
	wg.Wait()
	for _, e := range errs {
		if e != "" {
			t.Error(e)
		}
	}
	for i := range errs {
		if out, _, _ := w.run(fmt.Sprintf("protocol=https\nhost=%s\nusername=writer%d\n", host, i), binPath, "get"); out != fmt.Sprintf("username=writer%d\npassword=pw%d\n", i, i) {
			t.Errorf("writer %d: get = %q", i, out)
		}
	}
	w.run("protocol=https\nhost="+host+"\n", binPath, "erase")
}

// TestEraseManyOfOneHost: erasing every credential of a host with many
// stores them all in one pass (one keychain connection), well inside the
// helper's bound for a git operation.
func TestEraseManyOfOneHost(t *testing.T) {
	if testing.Short() {
		t.Skip("stores 300 credentials")
	}
	w := newWorld(t)
	const host = "erasemany.example"
	for i := 0; i < 300; i++ {
		if _, errOut, err := w.run(fmt.Sprintf("protocol=https\nhost=%s\nusername=u%03d\npassword=p%d\n", host, i, i), binPath, "store"); err != nil {
			t.Fatalf("store %d: %v %s", i, err, errOut)
		}
	}
	if _, errOut, err := w.run("protocol=https\nhost="+host+"\n", binPath, "erase"); err != nil || errOut != "" {
		t.Fatalf("erase: %v %q", err, errOut)
	}
	if out, _, _ := w.run("protocol=https\nhost="+host+"\n", binPath, "get"); out != "" {
		t.Errorf("get after erase = %q", out)
	}
	if js, _, _ := w.run("", binPath, "status", "--offline", "--json"); strings.Contains(js, host) {
		t.Errorf("status after erase still lists %s", host)
	}
}
