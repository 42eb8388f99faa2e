package users

import (
	"context"
	"errors"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/ginjwt/ginjwt/internal/testdb"
)

func TestStoreAccountKey(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		t.Parallel()
		e := newStoreEnv(t, db)
		alice := e.create(t, "alice", "Alice@Example.com")
		ivan := e.create(t, "ivan", "ivan@example.com")
		if err := e.store.SetActive(e.ctx, ivan.ID, false); err != nil {
			t.Fatal(err)
		}
		e.create(t, "bob", "carol@example.com")
		carol := e.create(t, "carol@example.com", "")
		// The same cases as Authenticate's lookup: a login resolves to
		// the account Authenticate would check, and to nothing otherwise.
		for _, tt := range []struct{ login, want string }{
			{"alice", alice.ID},
			{"alice@example.com", alice.ID},
			{"ALICE@example.COM", alice.ID},
			{"carol@example.com", carol.ID}, // the username wins over bob's e-mail
			{"ivan", ivan.ID},               // inactive accounts are counted too
			{"Alice", ""},
			{" alice", ""},
			{"alice.example.com", ""},
			{"mallory@example.com", ""},
			{"", ""},
		} {
			got, err := e.store.AccountKey(e.ctx, tt.login)
			if err != nil || got != tt.want {
				t.Errorf("AccountKey(%q) = %q, %v; want %q", tt.login, got, err, tt.want)
			}
		}

		ctx, cancel := context.WithCancel(e.ctx)
		cancel()
		if _, err := e.store.AccountKey(ctx, "alice"); err == nil || !errors.Is(err, context.Canceled) {
			t.Fatalf("AccountKey with a canceled context = %v; want a wrapped context.Canceled", err)
		}
	})
}

// TestStoreAuthenticateBusy: a login that gets no hashing slot in time
// fails with ErrBusy after one wait, whether the login exists or not (a
// second wait for the dummy hash would tell them apart).
func TestStoreAuthenticateBusy(t *testing.T) {
	t.Parallel()
	e := newStoreEnv(t, testdb.SQLite(t))
	e.create(t, "alice", "")
	h := e.store.Hasher()
	g := newGate(8)
	g.install(h)
	h.SetMaxWait(10 * time.Millisecond)
	holders := make(chan error, cap(h.sem))
	for range cap(h.sem) {
		go func() { _, err := h.Check(context.Background(), "hash", "pw"); holders <- err }()
		within(t, g.entered, "a holder to take a slot")
	}
	for _, login := range []string{"alice", "nobody"} {
		_, err := e.store.Authenticate(e.ctx, login, "pw")
		if !errors.Is(err, ErrBusy) || errors.Is(err, ErrInvalidCredentials) {
			t.Fatalf("Authenticate(%q) while busy = %v; want ErrBusy", login, err)
		}
		within(t, g.waiting, "the login to wait")
		select {
		case <-g.waiting:
			t.Fatalf("Authenticate(%q) waited for a slot twice", login)
		default:
		}
	}
	close(g.release)
	for range cap(h.sem) {
		if err := within(t, holders, "a holder"); err != nil {
			t.Fatal(err)
		}
	}
}
