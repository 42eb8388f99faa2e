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
			if kind, ok := reg.RevokedBy(jti, "r", "u1", now); !ok || kind != registry.KindToken {
				t.Fatalf("RevokedBy(%s) = %q, %v", jti, kind, ok)
			}
		}
		for _, jti := range []string{"r", "a0", "rb", "rb1", "s", "sa", "never-recorded"} {
			if reg.Revoked(jti, "r", "u1", now) {
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
			if kind, ok := reg.RevokedBy(jti, "r", "u1", now); !ok || kind != registry.KindSession {
				t.Fatalf("RevokedBy(%s) = %q, %v", jti, kind, ok)
			}
		}
		// A token of the session the registry never saw (its registration
		// still queued, say) is revoked too.
		if !reg.Revoked("not-yet-recorded", "r", "u1", now.Add(time.Second)) || !reg.SessionRevoked("r") {
			t.Fatal("an unrecorded token of the revoked session is not revoked")
		}
		for _, jti := range []string{"s", "sa", "t", "t-a"} {
			if tk := mustJTI(t, reg, jti); tk.RevokedAt != nil {
				t.Fatalf("%s of another session was revoked", jti)
			}
		}
		if reg.Revoked("s", "s", "u2", now) || reg.Revoked("t", "t", "u1", now) || reg.SessionRevoked("t") {
			t.Fatal("another session is revoked in the view")
		}
		rows := revocations(t, db)
		if len(rows) != 1 {
			t.Fatalf("%d log rows, want 1", len(rows))
		}
		if r := rows[0]; r.Kind != registry.KindSession || r.Subject != "r" || r.Reason != registry.ReasonLogout ||
			!r.At.Equal(now) || !r.Until.Equal(now.Add(maxLifetime)) {
			t.Fatalf("log row %+v, want until %v", r, now.Add(maxLifetime))
		}
		// A session the registry knows nothing of can be revoked as well.
		if err := reg.RevokeSession(ctx, "unknown", registry.ReasonLogout); err != nil {
			t.Fatal(err)
		}
		if !reg.Revoked("x", "unknown", "u3", now) {
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
		base := clk.Now().Add(-time.Hour) // to the millisecond
		// The cut-off falls 700 µs into a millisecond: tokens carry iat to
		// the millisecond, so that whole millisecond counts as after it.
		at := base.Add(500*time.Millisecond + 700*time.Microsecond)
		cut := base.Add(500 * time.Millisecond)
		issued := map[string]time.Time{
			"long-before": base.Add(-time.Minute),
			"just-before": cut.Add(-time.Millisecond),
			"µs-before":   cut.Add(-time.Microsecond),
			"at-cut":      cut,
			"within-ms":   cut.Add(300 * time.Microsecond), // before at, same millisecond
			"after":       at.Add(time.Millisecond),
		}
		revoked := map[string]bool{"long-before": true, "just-before": true, "µs-before": true}
		for jti, iat := range issued {
			record(t, reg, login(jti, "u1", iat))
		}
		record(t, reg, login("other-user", "u2", base.Add(-time.Minute)))

		if err := reg.CutOffUser(ctx, "u1", at); err != nil {
			t.Fatal(err)
		}
		for jti, iat := range issued {
			for _, j := range []string{jti, jti + "-a"} {
				tk := mustJTI(t, reg, j)
				if got := tk.RevokedAt != nil; got != revoked[jti] {
					t.Errorf("%s (issued %v before the cut-off): revoked in the database %v, want %v", j, cut.Sub(iat), got, revoked[jti])
				}
				if revoked[jti] && tk.RevokeReason != registry.ReasonCutOff {
					t.Errorf("%s: reason %q", j, tk.RevokeReason)
				}
			}
			// The view decides from iat alone, for tokens it has never seen too.
			kind, got := reg.RevokedBy("unseen-"+jti, "unseen", "u1", iat)
			if got != revoked[jti] || (got && kind != registry.KindUser) {
				t.Errorf("RevokedBy(issued %v before the cut-off) = %q, %v; want %v", cut.Sub(iat), kind, got, revoked[jti])
			}
		}
		if mustJTI(t, reg, "other-user").RevokedAt != nil || reg.Revoked("x", "y", "u2", base.Add(-time.Minute)) {
			t.Fatal("another user was cut off")
		}
		rows := revocations(t, db)
		if len(rows) != 1 {
			t.Fatalf("%d log rows", len(rows))
		}
		if r := rows[0]; r.Kind != registry.KindUser || r.Subject != "u1" || !r.At.Equal(cut) ||
			!r.Until.Equal(cut.Add(maxLifetime)) || r.Reason != registry.ReasonCutOff {
			t.Fatalf("log row %+v", r)
		}

		// An earlier cut-off does not move the later one back.
		if err := reg.CutOffUser(ctx, "u1", base.Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
		if !reg.Revoked("x", "y", "u1", cut.Add(-time.Millisecond)) {
			t.Fatal("an earlier cut-off undid a later one")
		}
		// A later one moves it forward.
		if err := reg.CutOffUser(ctx, "u1", at.Add(time.Second)); err != nil {
			t.Fatal(err)
		}
		if !reg.Revoked("x", "y", "u1", at.Add(time.Millisecond)) || mustJTI(t, reg, "after").RevokedAt == nil {
			t.Fatal("a later cut-off did not apply")
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
		if reg.Revoked("s1", "s1", "u1", iat) {
			t.Fatal("a rolled-back cut-off is in the view")
		}
		if err := reg.Sync(ctx); err != nil || reg.Revoked("s1", "s1", "u1", iat) {
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
		if reg.Revoked("s1", "s1", "u1", iat) {
			t.Fatal("the view changed before afterCommit")
		}
		afterCommit()
		if !reg.Revoked("s1", "s1", "u1", iat) {
			t.Fatal("afterCommit did not apply the cut-off")
		}
	})
}
