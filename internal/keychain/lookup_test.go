//go:build (dragonfly && cgo) || (freebsd && cgo) || linux || netbsd || openbsd

package keychain

// Tests of Get's own Secret Service client (lookup) against go-keyring,
// whose answers it must give, on a real gnome-keyring.

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/zalando/go-keyring"

	"github.com/glpat-dev/git-credential-glpat/internal/keyringtest"
)

// sessionCollection is gnome-keyring's in-memory collection, which it
// always has: a collection other than go-keyring's, to put items in that
// Get must not see.
const sessionCollection = dbus.ObjectPath("/org/freedesktop/secrets/collection/session")

// secretService is a test's own connection to a Secret Service, for
// setting up what go-keyring cannot: items in other collections, several
// items with the same attributes, a service without a login collection.
type secretService struct {
	t       testing.TB
	conn    *dbus.Conn
	session dbus.ObjectPath
}

func dialSecretService(t testing.TB, busAddress string) *secretService {
	t.Helper()
	conn, err := dbus.Connect(busAddress)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	ss := &secretService{t: t, conn: conn}
	var output dbus.Variant
	err = conn.Object(secretsName, servicePath).Call(serviceIface+".OpenSession", 0, "plain", dbus.MakeVariant("")).
		Store(&output, &ss.session)
	if err != nil {
		t.Fatal(err)
	}
	return ss
}

// create adds an item with attrs to collection, next to any with the same
// attributes, and removes it when the test ends.
func (ss *secretService) create(collection dbus.ObjectPath, attrs map[string]string, value string) dbus.ObjectPath {
	ss.t.Helper()
	props := map[string]dbus.Variant{
		itemIface + ".Label":      dbus.MakeVariant("keychain test item"),
		itemIface + ".Attributes": dbus.MakeVariant(attrs),
	}
	secret := struct {
		Session     dbus.ObjectPath
		Parameters  []byte
		Value       []byte
		ContentType string
	}{ss.session, []byte{}, []byte(value), "text/plain"}
	var item, prompt dbus.ObjectPath
	err := ss.conn.Object(secretsName, collection).Call(collectionIface+".CreateItem", 0, props, secret, false).
		Store(&item, &prompt)
	if err != nil {
		ss.t.Fatalf("create an item in %s: %v", collection, err)
	}
	if prompt != "/" {
		ss.t.Fatalf("create an item in %s: the service wants a prompt", collection)
	}
	ss.t.Cleanup(func() { ss.conn.Object(secretsName, item).Call(itemIface+".Delete", 0) })
	return item
}

// deleteCollection deletes a collection with everything in it.
func (ss *secretService) deleteCollection(collection dbus.ObjectPath) {
	ss.t.Helper()
	var prompt dbus.ObjectPath
	if err := ss.conn.Object(secretsName, collection).Call(collectionIface+".Delete", 0).Store(&prompt); err != nil {
		ss.t.Fatalf("delete %s: %v", collection, err)
	}
	if prompt != "/" {
		ss.t.Fatalf("delete %s: the service wants a prompt", collection)
	}
}

// setDefault points the default alias at collection ("/": at nothing).
func (ss *secretService) setDefault(collection dbus.ObjectPath) {
	ss.t.Helper()
	if err := ss.conn.Object(secretsName, servicePath).Call(serviceIface+".SetAlias", 0, "default", collection).Err; err != nil {
		ss.t.Fatalf("set the default alias to %s: %v", collection, err)
	}
}

// outcome is what a Get answered, in a form to compare.
type outcome struct {
	value string
	kinds []string
	msg   string
}

func leanGet(acct string) outcome {
	v, err := New(testService).Get(context.Background(), acct)
	return toOutcome(v, err)
}

func goKeyringGet(acct string) outcome {
	v, err := keyring.Get(testService, acct)
	if err != nil {
		err = classify("get", err)
	}
	return toOutcome(v, err)
}

func toOutcome(v string, err error) outcome {
	if err != nil {
		return outcome{kinds: kinds(err), msg: err.Error()}
	}
	return outcome{value: v}
}

// Get answers what go-keyring's Get answers, in every state of the
// keyring that tells their ways of searching apart.
func TestGetAgreesWithGoKeyring(t *testing.T) {
	s := keyringtest.Require(t)
	ss := dialSecretService(t, s.BusAddress)
	attrs := func(acct string) map[string]string {
		return map[string]string{"service": testService, "username": acct}
	}
	const lockedMsg = "keychain: get: secret storage is locked: failed to unlock correct collection '/org/freedesktop/secrets/collection/login'"
	found := func(v string) outcome { return outcome{value: v} }
	notFound := outcome{kinds: []string{"ErrNotFound"}, msg: "keychain: get: not found"}
	locked := outcome{kinds: []string{"ErrLocked"}, msg: lockedMsg}

	for _, tc := range []struct {
		name  string
		setup func(acct string)
		lock  bool
		want  []outcome // any of them (and go-keyring's answer)
	}{
		{"in login", func(acct string) { ss.create(loginCollection, attrs(acct), "v-login") }, false, []outcome{found("v-login")}},
		{"nowhere", func(string) {}, false, []outcome{notFound}},
		// A service-wide search (Service.SearchItems) would find this one.
		{"only in another collection", func(acct string) { ss.create(sessionCollection, attrs(acct), "v-other") }, false, []outcome{notFound}},
		{"in login and in another collection", func(acct string) {
			ss.create(sessionCollection, attrs(acct), "v-other")
			ss.create(loginCollection, attrs(acct), "v-login")
		}, false, []outcome{found("v-login")}},
		// Both take the first item of the same search, in the service's
		// order, which is not the order of creation.
		{"twice in login", func(acct string) {
			ss.create(loginCollection, attrs(acct), "v-first")
			ss.create(loginCollection, attrs(acct), "v-second")
		}, false, []outcome{found("v-first"), found("v-second")}},
		// Searching matches a subset of an item's attributes.
		{"with one more attribute", func(acct string) {
			a := attrs(acct)
			a["xdg:schema"] = "org.freedesktop.Secret.Generic"
			ss.create(loginCollection, a, "v-more")
		}, false, []outcome{found("v-more")}},
		{"other service", func(acct string) {
			ss.create(loginCollection, map[string]string{"service": testService + "-x", "username": acct}, "v")
		}, false, []outcome{notFound}},
		{"only username", func(acct string) {
			ss.create(loginCollection, map[string]string{"username": acct}, "v")
		}, false, []outcome{notFound}},
		{"in locked login", func(acct string) { ss.create(loginCollection, attrs(acct), "v-login") }, true, []outcome{locked}},
		{"nowhere, login locked", func(string) {}, true, []outcome{locked}},
		{"only in another collection, login locked", func(acct string) { ss.create(sessionCollection, attrs(acct), "v-other") }, true, []outcome{locked}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			acct := account(t)
			tc.setup(acct)
			if tc.lock {
				if err := s.Lock(); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() {
					if err := s.Unlock(); err != nil {
						t.Error(err)
					}
				})
			}
			got, gotGo := leanGet(acct), goKeyringGet(acct)
			if !equalOutcome(got, gotGo) {
				t.Errorf("Get = %+v, go-keyring's Get = %+v; want the same", got, gotGo)
			}
			if !slices.ContainsFunc(tc.want, func(w outcome) bool { return equalOutcome(got, w) }) {
				t.Errorf("Get = %+v, want one of %+v", got, tc.want)
			}
		})
	}
}

func equalOutcome(a, b outcome) bool {
	return a.value == b.value && slices.Equal(a.kinds, b.kinds) && a.msg == b.msg
}

// Without a login collection go-keyring uses the default one; so does Get.
// gnome-keyring lets a test delete its login collection, which is done in
// a session of its own, and Get runs in child processes, since godbus's
// shared connection (which go-keyring uses) is bound to the first bus.
func TestGetWithoutLoginCollection(t *testing.T) {
	keyringtest.Require(t)
	s, err := keyringtest.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop() })
	ss := dialSecretService(t, s.BusAddress)
	ss.deleteCollection(loginCollection)

	compare := func(t *testing.T, want childResult) {
		t.Helper()
		for _, op := range []string{"get", "go-keyring-get-classified"} {
			r := runChild(t, op, nil, append(slices.Clone(s.Env), "GLPAT_KEYCHAIN_TEST_WANT="+childSecret)...)
			if r.Err != want.Err || !slices.Equal(r.Kinds, want.Kinds) || r.ValueOK != want.ValueOK {
				t.Errorf("%s: err %q, is %v, value ok %v; want err %q, is %v, value ok %v",
					op, r.Err, r.Kinds, r.ValueOK, want.Err, want.Kinds, want.ValueOK)
			}
		}
	}

	t.Run("no default collection either", func(t *testing.T) {
		ss.setDefault("/")
		compare(t, childResult{
			Err:   "keychain: get: secret storage is locked: failed to unlock correct collection '/org/freedesktop/secrets/aliases/default'",
			Kinds: []string{"ErrLocked"},
		})
	})
	t.Run("default collection, no item", func(t *testing.T) {
		ss.setDefault(sessionCollection)
		compare(t, childResult{Err: "keychain: get: not found", Kinds: []string{"ErrNotFound"}})
	})
	t.Run("default collection, item written by go-keyring", func(t *testing.T) {
		ss.setDefault(sessionCollection)
		if r := runChild(t, "set", nil, s.Env...); r.Err != "" {
			t.Fatalf("set: %s", r.Err)
		}
		compare(t, childResult{ValueOK: true})
	})
}

// What go-keyring writes, Get reads, and the other way round (Set still
// writes through go-keyring); so do the platform's own tools.
func TestGetInterop(t *testing.T) {
	keyringtest.Require(t)
	ctx := context.Background()
	k := New(testService)

	t.Run("go-keyring writes, Get reads", func(t *testing.T) {
		acct := account(t)
		if err := keyring.Set(testService, acct, "from-go-keyring"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { keyring.Delete(testService, acct) })
		mustGet(t, k, acct, "from-go-keyring")
	})
	t.Run("Set writes, go-keyring reads", func(t *testing.T) {
		acct := account(t)
		if err := k.Set(ctx, acct, "from-set"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { k.Delete(ctx, acct) })
		if got, err := keyring.Get(testService, acct); err != nil || got != "from-set" {
			t.Errorf("go-keyring Get = %q, %v; want %q", got, err, "from-set")
		}
	})

	secretTool, err := exec.LookPath("secret-tool")
	if err != nil {
		t.Log("secret-tool is not installed (Debian: libsecret-tools); skipping its cases")
		return
	}
	t.Run("secret-tool stores, Get reads", func(t *testing.T) {
		acct := account(t)
		cmd := exec.Command(secretTool, "store", "--label", "x", "service", testService, "username", acct)
		cmd.Stdin = strings.NewReader("from-secret-tool")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("secret-tool store: %v\n%s", err, out)
		}
		t.Cleanup(func() { k.Delete(ctx, acct) })
		mustGet(t, k, acct, "from-secret-tool")
	})
	t.Run("Set stores, secret-tool reads", func(t *testing.T) {
		acct := account(t)
		if err := k.Set(ctx, acct, "for-secret-tool"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { k.Delete(ctx, acct) })
		out, err := exec.Command(secretTool, "lookup", "service", testService, "username", acct).Output()
		if err != nil || string(out) != "for-secret-tool" {
			t.Errorf("secret-tool lookup = %q, %v; want %q", out, err, "for-secret-tool")
		}
	})
}

// busMonitor records the method calls on a bus, and the connections
// that leave it.
type busMonitor struct {
	conn *dbus.Conn
	msgs chan *dbus.Message
}

func monitorBus(t *testing.T, busAddress string) *busMonitor {
	t.Helper()
	conn, err := dbus.Connect(busAddress)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	rules := []string{"type='method_call'", "type='signal',sender='org.freedesktop.DBus',member='NameOwnerChanged'"}
	if err := conn.BusObject().Call("org.freedesktop.DBus.Monitoring.BecomeMonitor", 0, rules, uint32(0)).Err; err != nil {
		t.Fatal(err)
	}
	// Only after the answer, which Eavesdrop would take away.
	m := &busMonitor{conn: conn, msgs: make(chan *dbus.Message, 1000)}
	conn.Eavesdrop(m.msgs)
	return m
}

// drain forgets what was seen so far.
func (m *busMonitor) drain() {
	time.Sleep(20 * time.Millisecond)
	for len(m.msgs) > 0 {
		<-m.msgs
	}
}

// callsOfNext returns the members that the next connection to say Hello
// called, each with a "!" when it expects no reply, once it has left the
// bus (so that nothing it sent is still on the way).
func (m *busMonitor) callsOfNext(t *testing.T) []string {
	t.Helper()
	var conn string
	var calls []string
	timeout := time.After(5 * time.Second)
	for {
		var msg *dbus.Message
		select {
		case msg = <-m.msgs:
		case <-timeout:
			t.Fatalf("the connection did not leave the bus in time; calls so far %v", calls)
		}
		member, _ := msg.Headers[dbus.FieldMember].Value().(string)
		sender, _ := msg.Headers[dbus.FieldSender].Value().(string)
		switch {
		case msg.Type == dbus.TypeSignal:
			if name, _ := msg.Body[0].(string); conn != "" && name == conn && msg.Body[2] == "" {
				return calls
			}
		case conn == "" && member == "Hello":
			conn = sender
			fallthrough
		case sender == conn:
			if msg.Flags&dbus.FlagNoReplyExpected != 0 {
				member += "!"
			}
			calls = append(calls, member)
		}
	}
}

// Get makes five calls that expect an answer, in three round trips, and
// closes its session and connection (go-keyring makes eight, one after
// the other: Hello, Get of Collections, Unlock, SearchItems, OpenSession,
// Unlock, GetSecret, Close). The calls are seen by a monitor on the bus.
func TestGetCalls(t *testing.T) {
	s := keyringtest.Require(t)
	ctx := context.Background()
	k := New(testService)
	acct := account(t)
	if err := k.Set(ctx, acct, "value"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { k.Delete(ctx, acct) })
	m := monitorBus(t, s.BusAddress)

	for _, tc := range []struct {
		name string
		acct string
		want []string
	}{
		{"hit", acct, []string{"Hello", "Get", "SearchItems", "OpenSession", "GetSecret", "Close!"}},
		{"miss", acct + "-missing", []string{"Hello", "Get", "SearchItems", "OpenSession", "Get"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m.drain()
			k.Get(ctx, tc.acct)
			if calls := m.callsOfNext(t); !slices.Equal(calls, tc.want) {
				t.Errorf("calls %v, want %v", calls, tc.want)
			}
		})
	}
}

// Many clients that each make one Get, at once, as git's parallel fetches
// do. A Get that sent its SearchItems or OpenSession before gnome-keyring
// had registered it as a client would fail, or crash the daemon, now and
// then (see lookup); this catches that only by chance, so it runs many.
func TestGetManyNewClients(t *testing.T) {
	keyringtest.Require(t)
	ctx := context.Background()
	k := New(testService)
	acct := account(t)
	if err := k.Set(ctx, acct, "value"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { k.Delete(ctx, acct) })
	const workers, each = 8, 100
	errs := make(chan error, workers*each)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range each {
				if got, err := k.Get(ctx, acct); err != nil || got != "value" {
					errs <- fmt.Errorf("Get = %q, %v; want %q", got, err, "value")
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	n := 0
	for err := range errs {
		if n++; n <= 3 {
			t.Error(err)
		}
	}
	if n > 3 {
		t.Errorf("and %d more errors", n-3)
	}
	mustGet(t, k, acct, "value") // the daemon is still there
}

// Get leaves no connection behind, also when it gave up at its deadline.
func TestGetClosesItsConnection(t *testing.T) {
	s := keyringtest.Require(t)
	ctx := context.Background()
	k := New(testService)
	acct := account(t)
	if err := k.Set(ctx, acct, "value"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { k.Delete(ctx, acct) })
	bus := dialSecretService(t, s.BusAddress).conn.BusObject()
	connections := func() int {
		var names []string
		if err := bus.Call("org.freedesktop.DBus.ListNames", 0).Store(&names); err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, name := range names {
			if strings.HasPrefix(name, ":") {
				n++
			}
		}
		return n
	}
	// The bus learns of a closed connection a moment after it is closed.
	waitFor := func(want int) {
		t.Helper()
		var got int
		for range 100 {
			if got = connections(); got == want {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Errorf("%d connections on the bus, want %d", got, want)
	}
	before := connections()

	mustGet(t, k, acct, "value")
	waitFor(before)

	thaw, err := s.Freeze()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { thaw() })
	short := &Keychain{Service: testService, Timeout: 50 * time.Millisecond}
	if _, err := short.Get(ctx, acct); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Get of a frozen keyring: err = %v, want a timeout", err)
	}
	waitFor(before) // closed at the deadline, while the keyring is still frozen
	if err := thaw(); err != nil {
		t.Fatal(err)
	}
}

// The decisions lookup takes on the service's answers, including those
// that gnome-keyring never gives.
func TestLookupDecisions(t *testing.T) {
	t.Run("searched collection", func(t *testing.T) {
		for _, tc := range []struct {
			name        string
			collections []dbus.ObjectPath
			want        dbus.ObjectPath
		}{
			{"login and session", []dbus.ObjectPath{sessionCollection, loginCollection}, loginCollection},
			{"no login", []dbus.ObjectPath{"/org/freedesktop/secrets/collection/kdewallet", sessionCollection}, defaultCollection},
			{"none", nil, defaultCollection},
			{"a collection that only starts like login", []dbus.ObjectPath{loginCollection + "2"}, defaultCollection},
		} {
			if got := searchedCollection(tc.collections); got != tc.want {
				t.Errorf("%s: searchedCollection(%v) = %s, want %s", tc.name, tc.collections, got, tc.want)
			}
		}
	})
	t.Run("no such object", func(t *testing.T) {
		for _, tc := range []struct {
			err  error
			want bool
		}{
			{dbus.Error{Name: "org.freedesktop.DBus.Error.UnknownMethod", Body: []any{"Object does not exist at path “/org/freedesktop/secrets/collection/login”"}}, true},
			{dbus.Error{Name: "org.freedesktop.DBus.Error.UnknownObject", Body: []any{"No such object path '/org/freedesktop/secrets/collection/login'"}}, true},
			{dbus.Error{Name: "org.freedesktop.DBus.Error.UnknownInterface", Body: []any{"No such interface"}}, true},
			{dbus.Error{Name: "org.freedesktop.Secret.Error.NoSuchObject", Body: []any{"No such collection"}}, true},
			{dbus.NewError("org.freedesktop.DBus.Error.UnknownObject", []any{"x"}), true},
			{dbus.Error{Name: "org.freedesktop.DBus.Error.ServiceUnknown", Body: []any{"The name org.freedesktop.secrets was not provided by any .service files"}}, false},
			{dbus.Error{Name: "org.freedesktop.Secret.Error.IsLocked", Body: []any{"locked"}}, false},
			{errors.New("dbus: connection closed by user"), false},
		} {
			if got := isNoSuchObject(tc.err); got != tc.want {
				t.Errorf("isNoSuchObject(%v) = %v, want %v", tc.err, got, tc.want)
			}
		}
	})
	t.Run("locked error", func(t *testing.T) {
		cause := dbus.Error{Name: "org.freedesktop.Secret.Error.IsLocked", Body: []any{"Cannot get secret of a locked object"}}
		err := classify("get", &lockedError{path: loginCollection, err: cause})
		want := "keychain: get: secret storage is locked: failed to unlock correct collection '/org/freedesktop/secrets/collection/login'"
		if err.Error() != want {
			t.Errorf("err = %q, want %q", err, want)
		}
		if k := kinds(err); !slices.Equal(k, []string{"ErrLocked"}) {
			t.Errorf("err is %v, want [ErrLocked]", k)
		}
		if !keepsOriginal(err, cause) {
			t.Error("the Secret Service's error is lost")
		}
	})
}

// fakeSecretService serves the few calls Get makes, on a bus of its own, to
// give answers gnome-keyring never gives.
type fakeSecretService struct {
	collections []dbus.ObjectPath
	items       []dbus.ObjectPath // what SearchItems finds, anywhere
	getSecret   *dbus.Error       // what GetSecret answers
}

// serve owns org.freedesktop.secrets on a new bus and returns its address.
func (f *fakeSecretService) serve(t *testing.T) string {
	t.Helper()
	bus, err := keyringtest.StartBusOnly()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bus.Stop() })
	conn, err := dbus.Connect(bus.BusAddress)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	properties := func(values map[string]any) map[string]any {
		return map[string]any{"Get": func(iface, name string) (dbus.Variant, *dbus.Error) {
			if v, ok := values[iface+"."+name]; ok {
				return dbus.MakeVariant(v), nil
			}
			return dbus.Variant{}, dbus.NewError("org.freedesktop.DBus.Error.UnknownProperty", []any{name})
		}}
	}
	type secret struct {
		Session     dbus.ObjectPath
		Parameters  []byte
		Value       []byte
		ContentType string
	}
	type export struct {
		path    dbus.ObjectPath
		iface   string
		methods map[string]any
	}
	exports := []export{
		{servicePath, "org.freedesktop.DBus.Properties", properties(map[string]any{serviceIface + ".Collections": f.collections})},
		{servicePath, serviceIface, map[string]any{"OpenSession": func(string, dbus.Variant) (dbus.Variant, dbus.ObjectPath, *dbus.Error) {
			return dbus.MakeVariant(""), "/org/freedesktop/secrets/session/1", nil
		}}},
	}
	for _, c := range f.collections {
		exports = append(exports,
			export{c, collectionIface, map[string]any{"SearchItems": func(map[string]string) ([]dbus.ObjectPath, *dbus.Error) {
				return f.items, nil
			}}},
			export{c, "org.freedesktop.DBus.Properties", properties(map[string]any{collectionIface + ".Locked": false})})
	}
	for _, item := range f.items {
		exports = append(exports, export{item, itemIface, map[string]any{"GetSecret": func(session dbus.ObjectPath) (secret, *dbus.Error) {
			return secret{session, []byte{}, []byte("fake-value"), "text/plain"}, f.getSecret
		}}})
	}
	for _, e := range exports {
		if err := conn.ExportMethodTable(e.methods, e.path, e.iface); err != nil {
			t.Fatal(err)
		}
	}
	if reply, err := conn.RequestName(secretsName, dbus.NameFlagDoNotQueue); err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("own %s: %v, %v", secretsName, reply, err)
	}
	return bus.BusAddress
}

// Services other than gnome-keyring: one that locks single items (as
// KeePassXC can ask before it hands out each secret), one whose only
// collection is not called login.
func TestLookupOtherServices(t *testing.T) {
	keyringtest.Require(t)
	const item = loginCollection + "/1"
	for _, tc := range []struct {
		name    string
		fake    fakeSecretService
		want    string
		wantErr string
		kinds   []string
	}{
		{"found", fakeSecretService{collections: []dbus.ObjectPath{loginCollection}, items: []dbus.ObjectPath{item}}, "fake-value", "", nil},
		{"item locked in an unlocked collection", fakeSecretService{
			collections: []dbus.ObjectPath{loginCollection}, items: []dbus.ObjectPath{item},
			getSecret: dbus.NewError(secretIsLocked, []any{"Item is locked"}),
		}, "", "keychain: get: secret storage is locked: failed to unlock correct collection '/org/freedesktop/secrets/collection/login/1'", []string{"ErrLocked"}},
		// The fake has no alias objects: KeePassXC-like "no such object".
		{"no login collection, no default alias", fakeSecretService{collections: []dbus.ObjectPath{"/org/freedesktop/secrets/collection/passwords"}},
			"", "keychain: get: secret storage is locked: failed to unlock correct collection '/org/freedesktop/secrets/aliases/default'", []string{"ErrLocked"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bus := tc.fake.serve(t)
			k := New(testService)
			got, err := k.callOnBus(context.Background(), "get", func(ctx context.Context, _ string) (string, error) {
				return lookup(ctx, bus, testService, "fake-account")
			})
			if got != tc.want {
				t.Errorf("Get = %q, want %q", got, tc.want)
			}
			if gotErr := fmt.Sprint(err); tc.wantErr != "" && gotErr != tc.wantErr || tc.wantErr == "" && err != nil {
				t.Errorf("err = %v, want %q", err, tc.wantErr)
			}
			if is := kinds(err); !slices.Equal(is, tc.kinds) {
				t.Errorf("err is %v, want %v", is, tc.kinds)
			}
		})
	}
}
