package userstoretest

import (
	"errors"
	"strings"
	"testing"

	"github.com/ginjwt/ginjwt/users"
)

// checkAuthenticate: the right password logs in; every kind of wrong one,
// an unknown login and an inactive account are ErrInvalidCredentials.
func checkAuthenticate(t *testing.T, e *env) {
	aliceID := e.create(t, alice)
	e.create(t, bob)
	e.create(t, ivan)
	longID := e.create(t, long)

	e.login(t, alice.Username, alice.Password, aliceID, alice)
	e.login(t, long.Username, long.Password, longID, long)

	pw := alice.Password
	for _, tt := range []struct{ login, password, why string }{
		{"alice", "wrong", "a wrong password"},
		{"alice", strings.ToUpper(pw), "the password upper-cased"},
		{"alice", pw[:len(pw)-1], "the password less its last byte"},
		{"alice", pw + "x", "the password and one byte more"},
		{"alice", pw + "\x00", "the password and a NUL byte"},
		{"alice", " " + pw, "the password after a space"},
		{"alice", bob.Password, "another user's password"},
		{"alice", "", "an empty password"},
		{"alice", strings.Repeat("x", users.MaxPasswordLen+1), "a password over MaxPasswordLen"},
		{"long", long.Password[:72] + "different tail, same first 72 bytes", "a password equal only in its first 72 bytes"},
		{"long", long.Password[:72], "the password's first 72 bytes"},
		{"nobody", pw, "an unknown login"},
		{"nobody", "", "an unknown login and an empty password"},
		{"", pw, "an empty login"},
		{"ivan", ivan.Password, "an inactive account's right password"},
		{"ivan", "wrong", "an inactive account's wrong password"},
	} {
		e.refused(t, tt.login, tt.password, tt.why)
	}
}

// oddLogins are logins that reach Authenticate from request bodies and
// name nobody, whatever the store's matching rule; each is tried with
// alice's right password.
var oddLogins = []string{
	" alice", "alice ", "\talice", "alice\n", "alice\x00", "\x00",
	"ali", "alicex", "%", "%%", "_lice", "ali%", "alic_", "a%e", "*", "alice*",
	"' OR '1'='1", `alice' --`, `alice"`, `alice\`, "\xff", "alic\xe9", "ａｌｉｃｅ",
	strings.Repeat("a", 10_000),
}

// checkLogins: how logins match usernames (and e-mails), and that no odd
// login names anybody.
func checkLogins(t *testing.T, e *env) {
	aliceID := e.create(t, alice)
	e.create(t, bob)
	for _, login := range []string{"Alice", "ALICE", "aLiCe"} {
		if e.f.Usernames == FoldCase {
			e.login(t, login, alice.Password, aliceID, alice)
		} else {
			e.refused(t, login, alice.Password, "alice's password (usernames match exactly)")
		}
	}
	for _, login := range oddLogins {
		e.refused(t, login, alice.Password, "alice's password")
	}
	if !e.f.EmailLogin {
		e.refused(t, alice.Email, alice.Password, "alice's password (the store takes no e-mail logins)")
		return
	}
	for _, login := range []string{"alice@example.com", "Alice@Example.com", "ALICE@EXAMPLE.COM"} {
		e.login(t, login, alice.Password, aliceID, alice)
	}
	for _, login := range []string{
		"alice@example.co", "alice@example.comx", " alice@example.com", "alice@example.com\x00",
		"alice@example.co_", "alice@%", "%@example.com", "alice@", "@example.com",
	} {
		e.refused(t, login, alice.Password, "alice's password")
	}
	e.refused(t, bob.Email, alice.Password, "alice's password (bob's e-mail)")
	checkUsernameBeforeEmail(t, e)
}

// checkUsernameBeforeEmail: a login equal to one account's username and to
// another's e-mail names the first: the second's password does not open it.
func checkUsernameBeforeEmail(t *testing.T, e *env) {
	carol := Account{Username: "carol@example.org", Password: "carol: own password", Active: true}
	dave := Account{Username: "dave", Email: "carol@example.org", Password: "dave: own password", Active: true}
	carolID, err := e.f.Create(e.ctx, carol)
	if err != nil {
		t.Logf("Create refused the username %q (%v): not checking a username equal to another account's e-mail", carol.Username, err)
		return
	}
	e.create(t, dave)
	e.login(t, carol.Username, carol.Password, carolID, carol)
	e.refused(t, carol.Username, dave.Password, "the password of the account whose e-mail it is (the username must win)")
}

// checkFind: Find by ID; an inactive user comes back inactive or not at
// all; IDs nobody has are ErrNotFound.
func checkFind(t *testing.T, e *env) {
	aliceID := e.create(t, alice)
	ivanID := e.create(t, ivan)

	u, err := e.f.Store.Find(e.ctx, aliceID)
	if err != nil {
		t.Fatalf("Find(alice's ID %q) = %v", aliceID, err)
	}
	e.same(t, "Find(alice's ID)", u, aliceID, alice)
	if u, err = e.f.Store.Authenticate(e.ctx, alice.Username, alice.Password); err != nil || u.ID != aliceID {
		t.Errorf("Authenticate(alice) = %s, %v; want the user Find returns", describe(u), err)
	}

	switch u, err := e.f.Store.Find(e.ctx, ivanID); {
	case errors.Is(err, users.ErrNotFound) && u == nil:
	case err != nil:
		t.Errorf("Find(an inactive user) = %v; want the user, inactive, or ErrNotFound", err)
	default:
		e.same(t, "Find(an inactive user)", u, ivanID, ivan)
	}

	for _, id := range []string{
		"", "no-such-user", aliceID + "x", aliceID[:len(aliceID)-1], " " + aliceID, aliceID + "\x00",
		"%", "_", "*", "' OR '1'='1", "\xff", "\x00", strings.Repeat("9", 10_000),
	} {
		if u, err := e.f.Store.Find(e.ctx, id); !errors.Is(err, users.ErrNotFound) || u != nil {
			t.Errorf("Find(%q) = %s, %v; want nil, ErrNotFound", clip(id), describe(u), err)
		}
	}
}

// checkCopies: a user returned is the caller's to change.
func checkCopies(t *testing.T, e *env) {
	aliceID := e.create(t, alice)
	scribble := func(u *users.User) {
		u.Username, u.Email, u.IsActive, u.IsSuperuser = "mallory", "mallory@example.com", false, true
		for i := range u.Perms {
			u.Perms[i] = "scribbled"
		}
		u.Perms = append(u.Perms, "admin")
	}
	u, err := e.f.Store.Authenticate(e.ctx, alice.Username, alice.Password)
	if err != nil {
		t.Fatalf("Authenticate(alice) = %v", err)
	}
	scribble(u)
	u, err = e.f.Store.Find(e.ctx, aliceID)
	if err != nil {
		t.Fatalf("Find(alice) = %v", err)
	}
	e.same(t, "Find(alice) after the user Authenticate returned was changed", u, aliceID, alice)
	scribble(u)
	u, err = e.f.Store.Find(e.ctx, aliceID)
	if err != nil {
		t.Fatalf("Find(alice) = %v", err)
	}
	e.same(t, "Find(alice) after the user Find returned was changed", u, aliceID, alice)
	if u.IsSuperuser {
		t.Error("Find(alice): IsSuperuser true after a returned user was changed")
	}
	e.login(t, alice.Username, alice.Password, aliceID, alice)
}
