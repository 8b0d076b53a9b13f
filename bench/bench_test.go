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
	// storeBack, when set, makes the case a pair, as Git runs them after
	// every authenticated operation: the get, then a store whose stdin is
	// storeBack of what the get printed. The time is the two processes'.
	storeBack func(got string) string
	// stdinOf, when set, gives the stdin of each run (a store that
	// overwrites needs a new password every time).
	stdinOf func(run int) string
	env     []string
	times   []time.Duration
	rss     []int64 // KiB
}

func build(b *testing.B, dir, pkg string) string {
	b.Helper()
	out := filepath.Join(dir, filepath.Base(pkg))
	// As install.sh and the release build it: static, stripped. Every
	// program in the comparison is built the same way.
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", out, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	cmd.Dir = ".."
	if msg, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("go build %s: %v\n%s", pkg, err, msg)
	}
	return out
}

func (c *benchCase) run(b *testing.B) {
	stdin := c.stdin
	if c.stdinOf != nil {
		stdin = c.stdinOf(len(c.times))
	}
	start := time.Now()
	out := c.exec(b, c.args, stdin)
	if c.storeBack != nil {
		c.exec(b, []string{"store"}, c.storeBack(out))
	}
	c.times = append(c.times, time.Since(start))
}

func (c *benchCase) exec(b *testing.B, args []string, stdin string) string {
	cmd := exec.Command(c.path, args...)
	cmd.Env = c.env
	cmd.Stdin = strings.NewReader(stdin)
	var out strings.Builder
	cmd.Stdout = &out
	if err := cmd.Run(); err != nil {
		b.Fatalf("%s: %v", c.name, err)
	}
	return out.String()
}

// measureRSS runs c under GNU time, whose own small image is what the
// child starts from: the rusage of a child forked by this (large) test
// process would count this process's memory.
func (c *benchCase) measureRSS(b *testing.B, runs int) {
	gnuTime, err := exec.LookPath("/usr/bin/time")
	if err != nil {
		return
	}
	out := filepath.Join(b.TempDir(), "rss")
	measure := func(args []string, stdin string) string {
		cmd := exec.Command(gnuTime, append([]string{"-f", "%M", "-o", out, c.path}, args...)...)
		cmd.Env = c.env
		cmd.Stdin = strings.NewReader(stdin)
		var stdout strings.Builder
		cmd.Stdout = &stdout
		if err := cmd.Run(); err != nil {
			b.Fatalf("%s under time: %v", c.name, err)
		}
		data, _ := os.ReadFile(out)
		var kb int64
		fmt.Sscan(strings.TrimSpace(string(data)), &kb)
		c.rss = append(c.rss, kb)
		return stdout.String()
	}
	for i := 0; i < runs; i++ {
		stdin := c.stdin
		if c.stdinOf != nil {
			stdin = c.stdinOf(-1 - i)
		}
		got := measure(c.args, stdin)
		if c.storeBack != nil {
			measure([]string{"store"}, c.storeBack(got))
		}
	}
}

func quantile(ds []time.Duration, q float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[int(float64(len(s)-1)*q)]
}

// BenchmarkWholeProcess runs every case runs() times, interleaved, and prints
// the table that doc/performance.md shows.
func BenchmarkWholeProcess(b *testing.B) {
	keyringtest.Require(b)
	dir := b.TempDir()
	glpat := build(b, dir, "./cmd/git-credential-glpat")
	hello := build(b, dir, "./bench/baseline/hello")
	kget := build(b, dir, "./bench/baseline/keyringget")
	floorProg := build(b, dir, "./bench/baseline/linkfloor")
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

	// What Git sends back to store after a get: the request's protocol and
	// host, then what get printed (git 2.40 and later); git before 2.40
	// drops password_expiry_utc.
	tokenReq := "protocol=http\nhost=" + u.Host + "\n"
	asGitSends := func(got string) string { return tokenReq + got }
	asOldGitSends := func(got string) string { return tokenReq + dropLine(got, "password_expiry_utc=") }
	var tokenGot strings.Builder
	get := exec.Command(glpat, "get")
	get.Env, get.Stdin, get.Stdout = env, strings.NewReader(tokenReq), &tokenGot
	if err := get.Run(); err != nil || !strings.Contains(tokenGot.String(), "password_expiry_utc=") {
		b.Fatalf("get of the GitLab token: %v (answer has no expiry: %v)", err, !strings.Contains(tokenGot.String(), "password_expiry_utc="))
	}

	cases := []*benchCase{
		{name: "/bin/true", path: "/bin/true"},
		{name: "Go hello-world", path: hello},
		{name: linkFloorName, path: floorProg},
		{name: "glpat version", path: glpat, args: []string{"version"}},
		{name: "git credential-store get", path: "git", args: []string{"credential-store", "--file", storeFile, "get"}, stdin: "protocol=https\nhost=hit.example\n"},
		{name: "bare go-keyring Get", path: kget, args: []string{"git-credential-glpat", keyAccount}},
		{name: "glpat get (hit)", path: glpat, args: []string{"get"}, stdin: "protocol=https\nhost=hit.example\n"},
		{name: "glpat get (GitLab token, no rotation due)", path: glpat, args: []string{"get"}, stdin: "protocol=http\nhost=" + u.Host + "\n"},
		{name: "glpat get (hit, 1,000 stored)", path: glpat, args: []string{"get"}, stdin: "protocol=https\nhost=h137.example\nusername=user3\n"},
		{name: "glpat get (miss)", path: glpat, args: []string{"get"}, stdin: "protocol=https\nhost=nothing.example\n"},
		{name: "glpat get + store, as git runs them (GitLab token)", path: glpat, args: []string{"get"}, stdin: tokenReq, storeBack: asGitSends},
		{name: "glpat get + store, as git < 2.40 runs them (no expiry back)", path: glpat, args: []string{"get"}, stdin: tokenReq, storeBack: asOldGitSends},
		{name: "glpat store (unchanged GitLab token)", path: glpat, args: []string{"store"}, stdin: asGitSends(tokenGot.String())},
		{name: "glpat store (unchanged plain credential)", path: glpat, args: []string{"store"}, stdin: "protocol=https\nhost=hit.example\nusername=u\npassword=plain-secret\n"},
		{name: "glpat store (overwrite)", path: glpat, args: []string{"store"}, stdinOf: func(run int) string {
			return fmt.Sprintf("protocol=https\nhost=store.example\nusername=u\npassword=p%d\n", run)
		}},
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
	for _, c := range cases {
		c.measureRSS(b, 10)
	}
	if d := gl.Calls(gitlabtest.EndpointSelf) - selfBefore; d != 0 {
		b.Errorf("get and unchanged store of a managed token with no rotation due made %d API calls", d)
	}

	median := func(name string) time.Duration {
		for _, c := range cases {
			if c.name == name {
				return quantile(c.times, 0.5)
			}
		}
		panic(name)
	}
	keyringFloor, helloFloor, startFloor := median("bare go-keyring Get"), median("Go hello-world"), median(linkFloorName)
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "%d interleaved runs each, %s/%s, %d CPUs\t\t\t\t\t\t\n", n, runtime.GOOS, runtime.GOARCH, runtime.NumCPU())
	fmt.Fprintln(tw, "case\tmedian\tp90\tmax RSS\tvs go-keyring\tvs floor\tvs hello\t")
	for _, c := range cases {
		med := quantile(c.times, 0.5)
		rss := "n/a"
		if len(c.rss) > 0 {
			rss = fmt.Sprintf("%.1f MB", float64(slices.Max(c.rss))/1024)
		}
		fmt.Fprintf(tw, "%s\t%.2f ms\t%.2f ms\t%s\t%.2f×\t%.2f×\t%.2f×\t\n", c.name, ms(med), ms(quantile(c.times, 0.9)), rss,
			float64(med)/float64(keyringFloor), float64(med)/float64(startFloor), float64(med)/float64(helloFloor))
		b.ReportMetric(ms(med), strings.ReplaceAll(c.name, " ", "_")+"-ms")
	}
	tw.Flush()
	if fi, err := os.Stat(glpat); err == nil {
		fmt.Printf("binary size (stripped): %.1f MB\n", float64(fi.Size())/(1<<20))
	}
}

// ourModule prefixes the packages of this module in inittrace's lines.
const ourModule = "github.com/glpat-dev/git-credential-glpat/"

// linkFloorName is the start-up floor's row: a hello-world that links what
// the helper links.
const linkFloorName = "Go hello linking glpat's libraries"

// dropLine removes the lines of s that start with prefix.
func dropLine(s, prefix string) string {
	var b strings.Builder
	for _, l := range strings.SplitAfter(s, "\n") {
		if !strings.HasPrefix(l, prefix) {
			b.WriteString(l)
		}
	}
	return b.String()
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// BenchmarkConcurrentGets runs N gets of a managed GitLab token (no
// rotation due) at once, for N = 1, 8 and 32, and reports the wall time of
// a batch and per get. Without lock contention, time per get stays flat
// once the CPUs are busy.
func BenchmarkConcurrentGets(b *testing.B) {
	keyringtest.Require(b)
	dir := b.TempDir()
	glpat := build(b, dir, "./cmd/git-credential-glpat")
	gl := gitlabtest.New(b)
	u, _ := url.Parse(gl.URL)
	env := append(os.Environ(), "GLPAT_STATE_DIR="+filepath.Join(dir, "state"), "GLPAT_CONFIG="+filepath.Join(dir, "config.toml"))
	os.WriteFile(filepath.Join(dir, "config.toml"), []byte(fmt.Sprintf("[hosts.%q]\napi_url = %q\n", u.Host, gl.APIURL())), 0o600)
	tok, _ := gl.CreateToken(gitlabtest.TokenSpec{Scopes: []string{"api"}, ExpiresAt: gitlabtest.DateOf(time.Now().AddDate(0, 0, 300))})
	login := exec.Command(glpat, "login", u.Host, "--token-stdin")
	login.Env, login.Stdin = env, strings.NewReader(tok+"\n")
	if out, err := login.CombinedOutput(); err != nil {
		b.Fatalf("login: %v %s", err, out)
	}
	rounds := max(runs()/10, 5)
	fmt.Printf("%d rounds each, %d CPUs\n", rounds, runtime.NumCPU())
	for _, n := range []int{1, 8, 32} {
		var batches []time.Duration
		for r := 0; r < rounds; r++ {
			errs := make(chan error, n)
			start := time.Now()
			for i := 0; i < n; i++ {
				go func() {
					cmd := exec.Command(glpat, "get")
					cmd.Env, cmd.Stdin = env, strings.NewReader("protocol=http\nhost="+u.Host+"\n")
					errs <- cmd.Run()
				}()
			}
			for i := 0; i < n; i++ {
				if err := <-errs; err != nil {
					b.Fatal(err)
				}
			}
			batches = append(batches, time.Since(start))
		}
		med := quantile(batches, 0.5)
		fmt.Printf("N=%-3d batch median %7.2f ms   per get %6.2f ms\n", n, ms(med), ms(med)/float64(n))
		b.ReportMetric(ms(med)/float64(n), fmt.Sprintf("N%d-ms/get", n))
	}
	if c := gl.Calls(gitlabtest.EndpointRotate) + gl.Calls(gitlabtest.EndpointSelf); c != 1 {
		b.Errorf("%d API calls; want only login's", c)
	}
}

// BenchmarkPackageInit sums the package initialisation that Go reports
// with GODEBUG=inittrace=1 for a get that finds nothing, beside the
// hello-world and the program that links the same libraries, and prints the
// medians and the costliest packages. (inittrace itself adds to
// internal/godebug's share: it parses GODEBUG.)
func BenchmarkPackageInit(b *testing.B) {
	dir := b.TempDir()
	progs := []struct{ name, path string }{
		{"Go hello-world", build(b, dir, "./bench/baseline/hello")},
		{"Go hello linking glpat's libraries", build(b, dir, "./bench/baseline/linkfloor")},
		{"glpat get (miss)", build(b, dir, "./cmd/git-credential-glpat")},
	}
	env := append(os.Environ(), "GODEBUG=inittrace=1",
		"GLPAT_STATE_DIR="+filepath.Join(dir, "state"), "GLPAT_CONFIG="+filepath.Join(dir, "config.toml"))
	// As on a machine in use: the state directory exists (a get then takes
	// the backend lock).
	if err := os.MkdirAll(filepath.Join(dir, "state", "index"), 0o700); err != nil {
		b.Fatal(err)
	}
	n := runs()
	for _, p := range progs {
		var sums, ourSums []time.Duration
		pkgs := map[string]time.Duration{}
		for i := 0; i < n; i++ {
			cmd := exec.Command(p.path)
			if p.name == "glpat get (miss)" {
				cmd.Args = append(cmd.Args, "get")
				cmd.Stdin = strings.NewReader("protocol=https\nhost=nothing.example\n")
			}
			cmd.Env = env
			var stderr strings.Builder
			cmd.Stderr = &stderr
			if err := cmd.Run(); err != nil {
				b.Fatalf("%s: %v\n%s", p.name, err, stderr.String())
			}
			var sum, ours time.Duration
			for _, line := range strings.Split(stderr.String(), "\n") {
				// init internal/bytealg @0.008 ms, 0 ms clock, 0 bytes, 0 allocs
				var pkg, at string
				var clock float64
				if _, err := fmt.Sscanf(line, "init %s %s ms, %g ms clock", &pkg, &at, &clock); err != nil {
					continue
				}
				d := time.Duration(clock * float64(time.Millisecond))
				sum += d
				pkgs[pkg] += d
				if strings.HasPrefix(pkg, ourModule) {
					ours += d
				}
			}
			sums = append(sums, sum)
			ourSums = append(ourSums, ours)
		}
		type cost struct {
			pkg string
			d   time.Duration
		}
		var costs []cost
		for pkg, d := range pkgs {
			costs = append(costs, cost{pkg, d / time.Duration(n)})
		}
		slices.SortFunc(costs, func(a, b cost) int { return int(b.d - a.d) })
		var top []string
		for _, c := range costs[:min(6, len(costs))] {
			top = append(top, fmt.Sprintf("%s %.0fµs", c.pkg, float64(c.d)/float64(time.Microsecond)))
		}
		fmt.Printf("%-36s package init median %.2f ms (%d packages; ours %.3f ms, max %.3f ms); costliest: %s\n", p.name,
			ms(quantile(sums, 0.5)), len(pkgs), ms(quantile(ourSums, 0.5)), ms(slices.Max(ourSums)), strings.Join(top, ", "))
		b.ReportMetric(ms(quantile(sums, 0.5)), strings.ReplaceAll(p.name, " ", "_")+"-init-ms")
	}
}
