package registry_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/ginjwt/ginjwt/internal/testdb"
	"github.com/ginjwt/ginjwt/pipeline"
	"github.com/ginjwt/ginjwt/registry"
)

func TestExpire(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		clk := newClock()
		reg := newRegistry(t, db, registry.Options{Clock: clk.Now})
		ctx := context.Background()
		now := clk.Now()
		recordTree(t, reg, now)
		// An access token of ra that has already expired: revoked in the
		// database with the rest, but not worth a log entry.
		ra := token("ra", "refresh", "r", now, time.Hour)
		record(t, reg, &pipeline.Event{UserID: "u1", Pairs: []pipeline.Pair{
			{Child: token("ra-old", "access", "r", now.Add(-time.Hour), time.Minute), Parent: &ra}}})

		n, err := reg.Expire(ctx, idOf(t, reg, "ra"))
		if err != nil {
			t.Fatal(err)
		}
		subtree := []string{"ra", "ra1", "ra2", "ra-old"}
		if n != len(subtree) {
			t.Fatalf("Expire = %d, want %d (every token of the subtree it revoked)", n, len(subtree))
		}
		for _, jti := range subtree {
			tk := mustJTI(t, reg, jti)
			if tk.RevokedAt == nil || !tk.RevokedAt.Equal(now) || tk.RevokeReason != registry.ReasonExpired {
				t.Fatalf("%s: revoked_at %v, reason %q", jti, tk.RevokedAt, tk.RevokeReason)
			}
		}
		for _, jti := range []string{"r", "a0", "rb", "rb1", "s", "sa"} { // ancestors, siblings, another tree
			if tk := mustJTI(t, reg, jti); tk.RevokedAt != nil || tk.RevokeReason != "" {
				t.Fatalf("%s was revoked", jti)
			}
		}

		// The view, from memory.
		for _, jti := range []string{"ra", "ra1", "ra2"} {
			if kind, ok := reg.RevokedBy(tok(jti, "r", "u1", now)); !ok || kind != registry.KindToken {
				t.Fatalf("RevokedBy(%s) = %q, %v", jti, kind, ok)
			}
		}
		for _, jti := range []string{"r", "a0", "rb", "rb1", "s", "sa", "never-recorded"} {
			if reg.Revoked(tok(jti, "r", "u1", now)) {
				t.Fatalf("Revoked(%s) = true", jti)
			}
		}
		if reg.SessionRevoked("r") {
			t.Fatal("expiring a subtree revoked the session")
		}

		// The log: one row per live token, none for the expired one.
		logRows := revocations(t, db)
		if len(logRows) != 3 {
			t.Fatalf("%d log rows, want 3: %+v", len(logRows), logRows)
		}
		for _, row := range logRows {
			if row.Kind != registry.KindToken || row.Subject == "ra-old" || row.Reason != registry.ReasonExpired ||
				!row.At.Equal(now) || !row.Until.Equal(mustJTI(t, reg, row.Subject).ExpiresAt) || row.ID == 0 {
				t.Fatalf("log row %+v", row)
			}
		}

		// Again: nothing left to revoke, nothing logged.
		if n, err := reg.Expire(ctx, idOf(t, reg, "ra")); err != nil || n != 0 {
			t.Fatalf("second Expire = %d, %v", n, err)
		}
		if got := len(revocations(t, db)); got != 3 {
			t.Fatalf("%d log rows after the second Expire", got)
		}
		// Expiring the root now takes what is left of its tree, not the
		// other tree.
		if n, err := reg.Expire(ctx, idOf(t, reg, "r")); err != nil || n != 4 {
			t.Fatalf("Expire(r) = %d, %v; want 4 (r, a0, rb, rb1)", n, err)
		}
		if mustJTI(t, reg, "s").RevokedAt != nil {
			t.Fatal("the other tree was revoked")
		}
		if n, err := reg.Expire(ctx); err != nil || n != 0 {
			t.Fatalf("Expire() = %d, %v", n, err)
		}
	})
}

func TestRevokeSession(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		clk := newClock()
		const maxLifetime = 25 * time.Hour
		reg := newRegistry(t, db, registry.Options{Clock: clk.Now, MaxLifetime: maxLifetime})
		ctx := context.Background()
		now := clk.Now()
		recordTree(t, reg, now) // sessions r (u1) and s (u2)
		record(t, reg, login("t", "u1", now))

		if err := reg.RevokeSession(ctx, "r", registry.ReasonLogout); err != nil {
			t.Fatal(err)
		}
		for _, jti := range []string{"r", "ra", "rb", "a0", "ra1", "ra2", "rb1"} {
			tk := mustJTI(t, reg, jti)
			if tk.RevokedAt == nil || !tk.RevokedAt.Equal(now) || tk.RevokeReason != registry.ReasonLogout {
				t.Fatalf("%s: %v %q", jti, tk.RevokedAt, tk.RevokeReason)
			}
			if kind, ok := reg.RevokedBy(tok(jti, "r", "u1", now)); !ok || kind != registry.KindSession {
				t.Fatalf("RevokedBy(%s) = %q, %v", jti, kind, ok)
			}
		}
		// A token of the session the registry never saw (its registration
		// still queued, say) is revoked too.
		if !reg.Revoked(tok("not-yet-recorded", "r", "u1", now.Add(time.Second))) || !reg.SessionRevoked("r") {
			t.Fatal("an unrecorded token of the revoked session is not revoked")
		}
		for _, jti := range []string{"s", "sa", "t", "t-a"} {
			if tk := mustJTI(t, reg, jti); tk.RevokedAt != nil {
				t.Fatalf("%s of another session was revoked", jti)
			}
		}
		if reg.Revoked(tok("s", "s", "u2", now)) || reg.Revoked(tok("t", "t", "u1", now)) || reg.SessionRevoked("t") {
			t.Fatal("another session is revoked in the view")
		}
		rows := revocations(t, db)
		if len(rows) != 1 {
			t.Fatalf("%d log rows, want 1", len(rows))
		}
		if r := rows[0]; r.Kind != registry.KindSession || r.Subject != "r" || r.Reason != registry.ReasonLogout ||
			!r.At.Equal(now) || !r.Until.Equal(now.Add(maxLifetime+5*time.Minute)) { // 5 min: the clock margin
			t.Fatalf("log row %+v, want until %v", r, now.Add(maxLifetime+5*time.Minute))
		}
		// A session the registry knows nothing of can be revoked as well.
		if err := reg.RevokeSession(ctx, "unknown", registry.ReasonLogout); err != nil {
			t.Fatal(err)
		}
		if !reg.Revoked(tok("x", "unknown", "u3", now)) {
			t.Fatal("unknown session not revoked")
		}
	})
}

func TestCutOffUser(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		clk := newClock()
		const maxLifetime = 25 * time.Hour
		reg := newRegistry(t, db, registry.Options{Clock: clk.Now, MaxLifetime: maxLifetime})
		ctx := context.Background()
		gen, err := reg.Generation(ctx, "u1")
		if err != nil || gen != 0 {
			t.Fatalf("Generation of a user never cut off = %d, %v; want 0", gen, err)
		}
		// Issue times do not matter, only generations: a session "issued"
		// an hour in the future by a clock that runs ahead is still before
		// the cut-off.
		record(t, reg, loginGen("past", "u1", clk.Now().Add(-time.Hour), 0))
		record(t, reg, loginGen("future", "u1", clk.Now().Add(time.Hour), 0))
		record(t, reg, loginGen("other-user", "u2", clk.Now(), 0))

		if err := reg.CutOffUser(ctx, "u1"); err != nil {
			t.Fatal(err)
		}
		if gen, err = reg.Generation(ctx, "u1"); err != nil || gen != 1 {
			t.Fatalf("Generation after a cut-off = %d, %v; want 1", gen, err)
		}
		for _, jti := range []string{"past", "past-a", "future", "future-a"} {
			if tk := mustJTI(t, reg, jti); tk.RevokedAt == nil || tk.RevokeReason != registry.ReasonCutOff {
				t.Errorf("%s: revoked_at %v, reason %q; want revoked as cut off", jti, tk.RevokedAt, tk.RevokeReason)
			}
		}
		// The view decides from the generation alone, for tokens it has
		// never seen too, whatever their iat.
		for _, iat := range []time.Time{clk.Now().Add(-time.Hour), clk.Now().Add(time.Hour)} {
			if kind, got := reg.RevokedBy(ofGeneration(tok("unseen", "unseen", "u1", iat), 0)); !got || kind != registry.KindUser {
				t.Errorf("a generation-0 token issued at %v: RevokedBy = %q, %v; want user", iat, kind, got)
			}
			if reg.Revoked(ofGeneration(tok("unseen", "unseen", "u1", iat), 1)) {
				t.Errorf("a generation-1 token issued at %v is refused", iat)
			}
		}
		if mustJTI(t, reg, "other-user").RevokedAt != nil || reg.Revoked(tok("x", "y", "u2", clk.Now())) {
			t.Fatal("another user was cut off")
		}
		rows := revocations(t, db)
		if len(rows) != 1 {
			t.Fatalf("%d log rows", len(rows))
		}
		if r := rows[0]; r.Kind != registry.KindUser || r.Subject != "u1" || r.Generation != 1 ||
			!r.Until.After(clk.Now().Add(maxLifetime)) || r.Reason != registry.ReasonCutOff {
			t.Fatalf("log row %+v", r)
		}

		// A session issued under generation 1 survives until the next cut-off.
		record(t, reg, loginGen("after", "u1", clk.Now(), 1))
		if mustJTI(t, reg, "after").RevokedAt != nil {
			t.Fatal("a session issued after the cut-off is revoked")
		}
		if err := reg.CutOffUser(ctx, "u1"); err != nil {
			t.Fatal(err)
		}
		if !reg.Revoked(ofGeneration(tok("x", "y", "u1", clk.Now()), 1)) || mustJTI(t, reg, "after").RevokedAt == nil {
			t.Fatal("a second cut-off did not apply")
		}
		if gen, _ = reg.Generation(ctx, "u1"); gen != 2 {
			t.Fatalf("Generation after two cut-offs = %d", gen)
		}
	})
}

var errRollback = errors.New("roll back")

func TestCutOffInTx(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		clk := newClock()
		reg := newRegistry(t, db, registry.Options{Clock: clk.Now})
		ctx := context.Background()
		iat := clk.Now().Add(-time.Minute)
		record(t, reg, login("s1", "u1", iat))

		var afterCommit func()
		err := db.Transaction(func(tx *gorm.DB) error {
			var err error
			if afterCommit, err = reg.CutOffInTx(ctx, tx, "u1", clk.Now()); err != nil {
				return err
			}
			return errRollback // say the password change failed
		})
		if !errors.Is(err, errRollback) || afterCommit == nil {
			t.Fatalf("transaction: %v", err)
		}
		// Rolled back: the caller does not call afterCommit.
		if mustJTI(t, reg, "s1").RevokedAt != nil || len(revocations(t, db)) != 0 {
			t.Fatal("a rolled-back cut-off left rows")
		}
		if reg.Revoked(tok("s1", "s1", "u1", iat)) {
			t.Fatal("a rolled-back cut-off is in the view")
		}
		if err := reg.Sync(ctx); err != nil || reg.Revoked(tok("s1", "s1", "u1", iat)) {
			t.Fatalf("Sync: %v; a rolled-back cut-off came in", err)
		}

		err = db.Transaction(func(tx *gorm.DB) error {
			var err error
			afterCommit, err = reg.CutOffInTx(ctx, tx, "u1", clk.Now())
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if mustJTI(t, reg, "s1").RevokedAt == nil || len(revocations(t, db)) != 1 {
			t.Fatal("the committed cut-off left no rows")
		}
		if reg.Revoked(tok("s1", "s1", "u1", iat)) {
			t.Fatal("the view changed before afterCommit")
		}
		afterCommit()
		if !reg.Revoked(tok("s1", "s1", "u1", iat)) {
			t.Fatal("afterCommit did not apply the cut-off")
		}
	})
}
