// Package bench measures whole-process helper calls against reference
// programs, interleaved in one loop inside a private keyring session. Run it
// with bench/run.sh; see bench/README.md.
package bench

import (
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/glpat-dev/git-credential-glpat/internal/gitlabtest"
	"github.com/glpat-dev/git-credential-glpat/internal/keyringtest"
)

func TestMain(m *testing.M) { os.Exit(keyringtest.Main(m)) }

// runs is how many times each case runs (GLPAT_BENCH_RUNS overrides).
func runs() int {
	var n int
	if _, err := fmt.Sscan(os.Getenv("GLPAT_BENCH_RUNS"), &n); err == nil && n > 0 {
		return n
	}
	return 200
}

type benchCase struct {
	name  string
	path  string
	args  []string
	stdin string
	env   []string
	times []time.Duration
	rss   []int64 // KiB
}

func build(b *testing.B, dir, pkg string) string {
	b.Helper()
	out := filepath.Join(dir, filepath.Base(pkg))
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", out, pkg)
	cmd.Dir = ".."
	if msg, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("go build %s: %v\n%s", pkg, err, msg)
	}
	return out
}

func (c *benchCase) run(b *testing.B) {
	cmd := exec.Command(c.path, c.args...)
	cmd.Env = c.env
	cmd.Stdin = strings.NewReader(c.stdin)
	var out strings.Builder
	cmd.Stdout = &out
	start := time.Now()
	err := cmd.Run()
	d := time.Since(start)
	if err != nil {
		b.Fatalf("%s: %v", c.name, err)
	}
	c.times = append(c.times, d)
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		c.rss = append(c.rss, ru.Maxrss)
	}
}

func quantile(ds []time.Duration, q float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[int(float64(len(s)-1)*q)]
}

// BenchmarkWholeProcess runs every case runs() times, interleaved, and prints
// the table that README.md shows.
func BenchmarkWholeProcess(b *testing.B) {
	keyringtest.Require(b)
	dir := b.TempDir()
	glpat := build(b, dir, "./cmd/git-credential-glpat")
	hello := build(b, dir, "./bench/baseline/hello")
	kget := build(b, dir, "./bench/baseline/keyringget")
	gl := gitlabtest.New(b)
	u, _ := url.Parse(gl.URL)

	env := append(os.Environ(),
		"GLPAT_STATE_DIR="+filepath.Join(dir, "state"),
		"GLPAT_CONFIG="+filepath.Join(dir, "config.toml"),
		"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL="+filepath.Join(dir, "gitconfig"))
	os.WriteFile(filepath.Join(dir, "config.toml"), []byte(fmt.Sprintf("[hosts.%q]\napi_url = %q\n", u.Host, gl.APIURL())), 0o600)
	helper := func(stdin string, args ...string) {
		cmd := exec.Command(glpat, args...)
		cmd.Env, cmd.Stdin = env, strings.NewReader(stdin)
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("setup %v: %v\n%s", args, err, out)
		}
	}
	// One plain credential, and 1,000 credentials across 200 hosts.
	helper("protocol=https\nhost=hit.example\nusername=u\npassword=plain-secret\n", "store")
	for h := 0; h < 200; h++ {
		for u := 0; u < 5; u++ {
			helper(fmt.Sprintf("protocol=https\nhost=h%03d.example\nusername=user%d\npassword=secret-%d-%d\n", h, u, h, u), "store")
		}
	}
	// A managed GitLab token, far from rotation: get must not touch the network.
	tok, _ := gl.CreateToken(gitlabtest.TokenSpec{Scopes: []string{"api"}, ExpiresAt: gitlabtest.DateOf(time.Now().AddDate(0, 0, 300))})
	helper(tok+"\n", "login", u.Host, "--token-stdin", "--username", "alice")
	// The same secret for the bare go-keyring program and secret-tool.
	keyAccount := "https://u@hit.example"
	storeFile := filepath.Join(dir, "git-credentials")
	os.WriteFile(storeFile, []byte("https://u:plain-secret@hit.example\n"), 0o600)

	cases := []*benchCase{
		{name: "/bin/true", path: "/bin/true"},
		{name: "Go hello-world", path: hello},
		{name: "git credential-store get", path: "git", args: []string{"credential-store", "--file", storeFile, "get"}, stdin: "protocol=https\nhost=hit.example\n"},
		{name: "bare go-keyring Get", path: kget, args: []string{"git-credential-glpat", keyAccount}},
		{name: "glpat get (hit)", path: glpat, args: []string{"get"}, stdin: "protocol=https\nhost=hit.example\n"},
		{name: "glpat get (GitLab token, no rotation due)", path: glpat, args: []string{"get"}, stdin: "protocol=http\nhost=" + u.Host + "\n"},
		{name: "glpat get (hit, 1,000 stored)", path: glpat, args: []string{"get"}, stdin: "protocol=https\nhost=h137.example\nusername=user3\n"},
		{name: "glpat get (miss)", path: glpat, args: []string{"get"}, stdin: "protocol=https\nhost=nothing.example\n"},
		{name: "glpat store (overwrite)", path: glpat, args: []string{"store"}, stdin: "protocol=https\nhost=store.example\nusername=u\npassword=p\n"},
	}
	if st, err := exec.LookPath("secret-tool"); err == nil {
		cases = append(cases, &benchCase{name: "secret-tool lookup", path: st, args: []string{"lookup", "service", "git-credential-glpat", "username", keyAccount}})
	}
	for _, c := range cases {
		c.env = env
	}
	selfBefore := gl.Calls(gitlabtest.EndpointSelf)
	n := runs()
	b.ResetTimer()
	for i := 0; i < n; i++ {
		for _, c := range cases {
			c.run(b)
		}
	}
	b.StopTimer()
	if d := gl.Calls(gitlabtest.EndpointSelf) - selfBefore; d != 0 {
		b.Errorf("get of a managed token with no rotation due made %d API calls", d)
	}

	var floor time.Duration
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "%d interleaved runs each, %s/%s, %d CPUs\t\t\t\t\n", n, runtime.GOOS, runtime.GOARCH, runtime.NumCPU())
	fmt.Fprintln(tw, "case\tmedian\tp90\tmax RSS\tvs go-keyring\t")
	for _, c := range cases {
		if c.name == "bare go-keyring Get" {
			floor = quantile(c.times, 0.5)
		}
	}
	for _, c := range cases {
		med := quantile(c.times, 0.5)
		ratio := float64(med) / float64(floor)
		fmt.Fprintf(tw, "%s\t%.2f ms\t%.2f ms\t%.1f MB\t%.2f×\t\n", c.name, ms(med), ms(quantile(c.times, 0.9)), float64(slices.Max(c.rss))/1024, ratio)
		b.ReportMetric(ms(med), strings.ReplaceAll(c.name, " ", "_")+"-ms")
	}
	tw.Flush()
	if fi, err := os.Stat(glpat); err == nil {
		fmt.Printf("binary size (stripped): %.1f MB\n", float64(fi.Size())/(1<<20))
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
