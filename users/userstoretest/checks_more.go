package userstoretest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ginjwt/ginjwt/users"
)

// checkSameWork: every failed login performs as many password checks as a
// successful one.
func checkSameWork(t *testing.T, e *env) {
	if e.f.PasswordChecks == nil {
		t.Log("Fixture.PasswordChecks is not set: not checking that failed logins do a successful one's hashing work")
		return
	}
	e.create(t, alice)
	e.create(t, ivan)
	work := func(login, password string) (int64, error) {
		before := e.f.PasswordChecks()
		_, err := e.f.Store.Authenticate(e.ctx, login, password)
		return e.f.PasswordChecks() - before, err
	}
	base, err := work(alice.Username, alice.Password)
	if err != nil {
		t.Fatalf("Authenticate(alice) = %v", err)
	}
	if base < 1 {
		t.Fatalf("a successful login performed %d password checks according to PasswordChecks", base)
	}
	for _, tt := range []struct{ login, password, why string }{
		{"alice", "wrong", "a wrong password"},
		{"nobody", alice.Password, "an unknown login"},
		{"nobody", "", "an unknown login and an empty password"},
		{"ivan", ivan.Password, "an inactive account's right password"},
		{"ivan", "wrong", "an inactive account's wrong password"},
		{"alice", "", "an empty password"},
		{"alice", strings.Repeat("x", users.MaxPasswordLen+1), "a password over MaxPasswordLen"},
		{"", alice.Password, "an empty login"},
		{"alice\x00", alice.Password, "a login with a NUL byte"},
		{"\xff", alice.Password, "a login of invalid UTF-8"},
		{strings.Repeat("a", 10_000), alice.Password, "a 10,000-byte login"},
	} {
		n, err := work(tt.login, tt.password)
		if n != base {
			t.Errorf("Authenticate(%q, %s) = %v after %d password checks; a successful login performs %d, so this failure can be told from it by its cost",
				clip(tt.login), tt.why, err, n, base)
		}
	}
}

// checkContext: a canceled context never reads as invalid credentials,
// stops the store's methods when the store says it does, and leaves the
// store usable.
func checkContext(t *testing.T, e *env) {
	aliceID := e.create(t, alice)
	canceled, cancel := context.WithCancel(e.ctx)
	cancel()

	if u, err := e.f.Store.Authenticate(canceled, alice.Username, alice.Password); errors.Is(err, users.ErrInvalidCredentials) {
		t.Errorf("Authenticate(alice, the right password) with a canceled context = %v: a canceled request must not count as a failed login", err)
	} else if err == nil && (u == nil || u.ID != aliceID) {
		t.Errorf("Authenticate(alice) with a canceled context = %s, nil; want alice or an error", describe(u))
	}
	if e.f.Context {
		checkCanceled(t, e, canceled, aliceID)
	}

	// A burst of calls canceled before or while they run, then a login.
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		refused int
		wrong   []string
	)
	for i := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithCancel(e.ctx)
			if i%2 == 0 {
				cancel()
			} else {
				go cancel()
			}
			defer cancel()
			u, err := e.f.Store.Authenticate(ctx, alice.Username, alice.Password)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case errors.Is(err, users.ErrInvalidCredentials):
				refused++
			case err == nil && (u == nil || u.ID != aliceID):
				wrong = append(wrong, describe(u))
			}
		}()
	}
	wg.Wait()
	if refused > 0 {
		t.Errorf("%d of 32 Authenticate(alice, the right password) with a context canceled before or under them failed with ErrInvalidCredentials: a canceled request must not count as a failed login", refused)
	}
	if len(wrong) > 0 {
		t.Errorf("Authenticate(alice) with a context canceled under it returned, without error: %s", strings.Join(wrong, ", "))
	}
	ctx, stop := context.WithTimeout(e.ctx, time.Minute) // a bound on a hang, not a speed check
	defer stop()
	if u, err := e.f.Store.Authenticate(ctx, alice.Username, alice.Password); err != nil || u == nil || u.ID != aliceID {
		t.Errorf("Authenticate(alice) after 32 canceled calls = %s, %v; want alice (does a canceled call leak a hashing slot or a connection?)", describe(u), err)
	}
}

// checkCanceled: with Fixture.Context, every method fails with ctx's error.
func checkCanceled(t *testing.T, e *env, ctx context.Context, aliceID string) {
	t.Helper()
	want := func(call string, err error) {
		t.Helper()
		if !errors.Is(err, context.Canceled) || errors.Is(err, users.ErrInvalidCredentials) || errors.Is(err, users.ErrNotFound) {
			t.Errorf("%s with a canceled context = %v; want an error matching context.Canceled (Fixture.Context is set)", call, err)
		}
	}
	for _, tt := range []struct{ login, password, why string }{
		{"alice", alice.Password, "the right password"},
		{"alice", "wrong", "a wrong password"},
		{"alice", "", "an empty password"},
		{"nobody", alice.Password, "an unknown login"},
	} {
		u, err := e.f.Store.Authenticate(ctx, tt.login, tt.password)
		want(fmt.Sprintf("Authenticate(%q, %s)", tt.login, tt.why), err)
		if u != nil {
			t.Errorf("Authenticate(%q, %s) with a canceled context returned %s", tt.login, tt.why, describe(u))
		}
	}
	_, err := e.f.Store.Find(ctx, aliceID)
	want("Find(alice's ID)", err)
	if k, ok := e.f.Store.(AccountKeyer); ok {
		_, err := k.AccountKey(ctx, alice.Username)
		want("AccountKey(alice)", err)
	}
	if tl, ok := e.f.Store.(LastLoginToucher); ok {
		want("TouchLastLogin(alice)", tl.TouchLastLogin(ctx, aliceID, time.Now()))
	}
}

// checkConcurrent: calls from several goroutines at once are each answered
// as alone (and, under -race, share no memory unsynchronised).
func checkConcurrent(t *testing.T, e *env) {
	aliceID := e.create(t, alice)
	bobID := e.create(t, bob)
	e.create(t, ivan)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 4 {
				switch (g + i) % 4 {
				case 0:
					u, err := e.f.Store.Authenticate(e.ctx, alice.Username, alice.Password)
					if err != nil || u == nil || u.ID != aliceID {
						t.Errorf("concurrent Authenticate(alice) = %s, %v", describe(u), err)
					} else {
						u.Perms = append(u.Perms[:0], "scribbled")
					}
				case 1:
					if u, err := e.f.Store.Authenticate(e.ctx, bob.Username, alice.Password); !errors.Is(err, users.ErrInvalidCredentials) {
						t.Errorf("concurrent Authenticate(bob, a wrong password) = %s, %v; want ErrInvalidCredentials", describe(u), err)
					}
				case 2:
					if u, err := e.f.Store.Authenticate(e.ctx, "ivan", ivan.Password); !errors.Is(err, users.ErrInvalidCredentials) {
						t.Errorf("concurrent Authenticate(an inactive account) = %s, %v; want ErrInvalidCredentials", describe(u), err)
					}
				case 3:
					u, err := e.f.Store.Find(e.ctx, bobID)
					if err != nil || u == nil || u.ID != bobID {
						t.Errorf("concurrent Find(bob) = %s, %v", describe(u), err)
					} else {
						u.Username = "scribbled"
					}
				}
			}
		}()
	}
	wg.Wait()
	e.login(t, alice.Username, alice.Password, aliceID, alice)
}

// checkAccountKey: when the store has AccountKey, one key per account
// whichever login names it, "" for the others, and no password checked.
func checkAccountKey(t *testing.T, e *env) {
	k, ok := e.f.Store.(AccountKeyer)
	if !ok {
		t.Log("the store has no AccountKey method: nothing to check")
		return
	}
	e.create(t, alice)
	e.create(t, bob)
	e.create(t, ivan)
	var before int64
	if e.f.PasswordChecks != nil {
		before = e.f.PasswordChecks()
	}
	key := func(login string) string {
		t.Helper()
		got, err := k.AccountKey(e.ctx, login)
		if err != nil {
			t.Errorf("AccountKey(%q) = %v; want a key or \"\"", clip(login), err)
		}
		return got
	}
	keys := map[string]string{}
	for _, a := range []Account{alice, bob, ivan} {
		if keys[a.Username] = key(a.Username); keys[a.Username] == "" {
			t.Errorf("AccountKey(%q) = \"\"; want the key of %s's account (active or not)", a.Username, a.Username)
		}
	}
	if keys["alice"] == keys["bob"] || keys["alice"] == keys["ivan"] || keys["bob"] == keys["ivan"] {
		t.Errorf("AccountKey gives two accounts one key: %q", keys)
	}
	same := func(login, username string) {
		t.Helper()
		if got := key(login); got != keys[username] {
			t.Errorf("AccountKey(%q) = %q; want %q, the key of %s (Authenticate takes this login for that account)", login, got, keys[username], username)
		}
	}
	unknown := append([]string{"nobody", ""}, oddLogins...)
	if e.f.Usernames == FoldCase {
		same("ALICE", "alice")
	} else {
		unknown = append(unknown, "Alice", "ALICE")
	}
	if e.f.EmailLogin {
		same("alice@example.com", "alice")
		same("ALICE@Example.COM", "alice")
		same("ivan@example.com", "ivan")
		unknown = append(unknown, "alice@example.co_", "%@example.com")
	}
	for _, login := range unknown {
		if got := key(login); got != "" {
			t.Errorf("AccountKey(%q) = %q; want \"\": the login names nobody", clip(login), got)
		}
	}
	if e.f.PasswordChecks != nil {
		if n := e.f.PasswordChecks() - before; n != 0 {
			t.Errorf("AccountKey performed %d password checks; it must check none", n)
		}
	}
}

// checkTouchLastLogin: when the store has TouchLastLogin, Find shows it.
func checkTouchLastLogin(t *testing.T, e *env) {
	tl, ok := e.f.Store.(LastLoginToucher)
	if !ok {
		t.Log("the store has no TouchLastLogin method: nothing to check")
		return
	}
	aliceID := e.create(t, alice)
	at := time.Date(2031, 2, 3, 4, 5, 6, 0, time.UTC)
	if err := tl.TouchLastLogin(e.ctx, aliceID, at); err != nil {
		t.Fatalf("TouchLastLogin(alice) = %v", err)
	}
	u, err := e.f.Store.Find(e.ctx, aliceID)
	if err != nil {
		t.Fatalf("Find(alice) = %v", err)
	}
	e.same(t, "Find(alice) after TouchLastLogin", u, aliceID, alice)
	if u.LastLogin == nil || !u.LastLogin.Equal(at) {
		t.Errorf("Find(alice).LastLogin = %v after TouchLastLogin(%v)", u.LastLogin, at)
	}
	_ = tl.TouchLastLogin(e.ctx, "no-such-user", at)
	if u, err := e.f.Store.Find(e.ctx, "no-such-user"); !errors.Is(err, users.ErrNotFound) {
		t.Errorf("Find(\"no-such-user\") after TouchLastLogin of that ID = %s, %v; want ErrNotFound", describe(u), err)
	}
	e.login(t, alice.Username, alice.Password, aliceID, alice)
}
