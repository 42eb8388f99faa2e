package registry_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/ginjwt/ginjwt/internal/testdb"
	"github.com/ginjwt/ginjwt/pipeline"
	"github.com/ginjwt/ginjwt/registry"
)

var errIssue = errors.New("signing failed")

type issueCall struct {
	outcome registry.Outcome
	parent  pipeline.Token
}

// issuer is an IssueFunc that behaves like ginjwt's: Rotated issues a new
// refresh token, child of the presented one, and an access token under it;
// Replayed and Renewed issue an access token under the parent they are given.
type issuer struct {
	clk   *clock
	mu    sync.Mutex
	n     int
	calls []issueCall
	err   error
}

func (is *issuer) issue(o registry.Outcome, parent pipeline.Token) ([]pipeline.Pair, error) {
	is.mu.Lock()
	defer is.mu.Unlock()
	is.calls = append(is.calls, issueCall{o, parent})
	if is.err != nil {
		return nil, is.err
	}
	is.n++
	now := is.clk.Now()
	access := token(fmt.Sprintf("%s-a%d", parent.SessionID, is.n), "access", parent.SessionID, now, accessTTL)
	if o != registry.Rotated {
		return []pipeline.Pair{{Child: access, Parent: &parent}}, nil
	}
	refresh := token(fmt.Sprintf("%s-r%d", parent.SessionID, is.n), "refresh", parent.SessionID, now, refreshTTL)
	return []pipeline.Pair{{Child: refresh, Parent: &parent}, {Child: access, Parent: &refresh}}, nil
}

func (is *issuer) last(t *testing.T) issueCall {
	t.Helper()
	is.mu.Lock()
	defer is.mu.Unlock()
	if len(is.calls) == 0 {
		t.Fatal("IssueFunc was not called")
	}
	return is.calls[len(is.calls)-1]
}

func (is *issuer) count() int {
	is.mu.Lock()
	defer is.mu.Unlock()
	return len(is.calls)
}

// rotation is one registry with a logged-in session, for Rotate tests.
type rotation struct {
	t   *testing.T
	db  *gorm.DB
	reg *registry.Registry
	clk *clock
	is  *issuer
}

func newRotation(t *testing.T, db *gorm.DB) *rotation {
	clk := newClock()
	return &rotation{t: t, db: db, reg: newRegistry(t, db, registry.Options{Clock: clk.Now}), clk: clk, is: &issuer{clk: clk}}
}

// login records a session sid of user u1 and returns its refresh token.
func (r *rotation) login(sid string) pipeline.Token {
	e := login(sid, "u1", r.clk.Now())
	record(r.t, r.reg, e)
	return e.Pairs[0].Child
}

func (r *rotation) rotate(presented pipeline.Token, p registry.RotatePolicy, want registry.Outcome) {
	r.t.Helper()
	got, err := r.reg.Rotate(context.Background(), presented, "u1", p, r.is.issue)
	if err != nil {
		r.t.Fatalf("Rotate(%s): %v", presented.ID, err)
	}
	if got != want {
		r.t.Fatalf("Rotate(%s) = %s, want %s", presented.ID, outcomeName(got), outcomeName(want))
	}
}

// child returns the refresh token Rotated issued last, as presented later.
func (r *rotation) child() pipeline.Token {
	r.t.Helper()
	var tk registry.Token
	if err := r.db.Where("type = ? AND jti LIKE ?", "refresh", "%-r%").Order("id DESC").Take(&tk).Error; err != nil {
		r.t.Fatal(err)
	}
	return pipeline.Token{ID: tk.JTI, Type: tk.Type, SessionID: tk.SessionID, UserID: "u1", IssuedAt: tk.IssuedAt, ExpiresAt: tk.ExpiresAt}
}

func (r *rotation) refreshChildren(jti string) int64 {
	return count(r.t, r.db, &registry.Token{}, "parent_id = ? AND type = ?", idOf(r.t, r.reg, jti), "refresh")
}

func (r *rotation) revoked(jti string) (bool, string) {
	tk := mustJTI(r.t, r.reg, jti)
	return tk.RevokedAt != nil, tk.RevokeReason
}

func outcomeName(o registry.Outcome) string {
	switch o {
	case registry.Rotated:
		return "Rotated"
	case registry.Replayed:
		return "Replayed"
	case registry.Reused:
		return "Reused"
	case registry.Refused:
		return "Refused"
	case registry.Renewed:
		return "Renewed"
	}
	return fmt.Sprintf("Outcome(%d)", o)
}

func TestRotate(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		grace := registry.RotatePolicy{Rotate: true, Grace: 10 * time.Second}

		t.Run("rotated, replayed within grace, reused after", func(t *testing.T) {
			r := newRotation(t, db)
			s := r.login("a")
			r.rotate(s, grace, registry.Rotated)
			if c := r.is.last(t); c.outcome != registry.Rotated || c.parent.ID != "a" || c.parent.SessionID != "a" {
				t.Fatalf("IssueFunc called with %s, %+v", outcomeName(c.outcome), c.parent)
			}
			child := r.child()
			row := mustJTI(t, r.reg, child.ID)
			if row.ParentID == nil || *row.ParentID != idOf(t, r.reg, "a") || row.SessionID != "a" {
				t.Fatalf("new refresh token %+v", row)
			}
			for _, jti := range []string{child.ID, "a-a1"} {
				if owner, err := r.reg.Owner(context.Background(), idOf(t, r.reg, jti)); err != nil || owner != "u1" {
					t.Fatalf("Owner(%s) = %q, %v", jti, owner, err)
				}
			}
			if ok, _ := r.revoked("a"); ok {
				t.Fatal("without RevokeRotated the presented token stays unrevoked")
			}

			r.clk.Advance(5 * time.Second)
			r.rotate(s, grace, registry.Replayed)
			if c := r.is.last(t); c.outcome != registry.Replayed || c.parent.ID != child.ID {
				t.Fatalf("replay: IssueFunc called with %s, parent %s; want the existing child %s", outcomeName(c.outcome), c.parent.ID, child.ID)
			}
			if n := r.refreshChildren("a"); n != 1 {
				t.Fatalf("%d refresh children after a replay, want 1", n)
			}

			r.clk.Advance(5*time.Second + time.Millisecond) // grace passed
			calls := r.is.count()
			r.rotate(s, grace, registry.Reused)
			if r.is.count() != calls {
				t.Fatal("IssueFunc called on reuse")
			}
			var live int64
			if err := db.Model(&registry.Token{}).Where("session_id = ? AND revoked_at IS NULL", "a").Count(&live).Error; err != nil || live != 0 {
				t.Fatalf("%d tokens of the session left unrevoked (%v)", live, err)
			}
			if _, reason := r.revoked(child.ID); reason != registry.ReasonReuse {
				t.Fatalf("child revoked for %q", reason)
			}
			if !r.reg.SessionRevoked("a") || !r.reg.Revoked(tok("unrecorded", "a", "u1", r.clk.Now())) {
				t.Fatal("the view does not know the session is revoked")
			}
			logRows := revocations(t, db)
			if last := logRows[len(logRows)-1]; last.Kind != registry.KindSession || last.Subject != "a" || last.Reason != registry.ReasonReuse {
				t.Fatalf("log row %+v", last)
			}
			// The thief's child is dead too.
			r.rotate(child, grace, registry.Refused)
		})

		t.Run("grandparent within grace is reuse", func(t *testing.T) {
			r := newRotation(t, db)
			s := r.login("b")
			p := registry.RotatePolicy{Rotate: true, Grace: time.Hour}
			r.rotate(s, p, registry.Rotated)
			r.rotate(r.child(), p, registry.Rotated)
			r.rotate(s, p, registry.Reused)
			if !r.reg.SessionRevoked("b") {
				t.Fatal("session not revoked")
			}
		})

		t.Run("no grace", func(t *testing.T) {
			r := newRotation(t, db)
			s := r.login("c")
			p := registry.RotatePolicy{Rotate: true}
			r.rotate(s, p, registry.Rotated)
			r.rotate(s, p, registry.Reused)
		})

		t.Run("revoke rotated", func(t *testing.T) {
			r := newRotation(t, db)
			s := r.login("d")
			p := registry.RotatePolicy{Rotate: true, Grace: 10 * time.Second, RevokeRotated: true}
			r.rotate(s, p, registry.Rotated)
			if ok, reason := r.revoked("d"); !ok || reason != registry.ReasonRotated {
				t.Fatalf("presented token: revoked %v, reason %q", ok, reason)
			}
			// Only Rotate accepts a refresh token, and it reads the row: a
			// rotated-out one takes no room in memory.
			if kind, ok := r.reg.RevokedBy(tok("d", "d", "u1", s.IssuedAt)); ok {
				t.Fatalf("view holds the rotated-out refresh token: %q", kind)
			}
			child := r.child()
			if ok, _ := r.revoked(child.ID); ok || r.reg.Revoked(tok(child.ID, "d", "u1", child.IssuedAt)) {
				t.Fatal("the new refresh token is revoked")
			}
			if ok, _ := r.revoked("d-a"); ok {
				t.Fatal("RevokeRotated revoked the old access token")
			}
			r.clk.Advance(time.Second)
			r.rotate(s, p, registry.Replayed)
			if c := r.is.last(t); c.parent.ID != child.ID {
				t.Fatalf("replayed from %s, want %s", c.parent.ID, child.ID)
			}
			r.clk.Advance(10 * time.Second)
			r.rotate(s, p, registry.Reused)
		})

		t.Run("revoked for another reason is refused", func(t *testing.T) {
			r := newRotation(t, db)
			s := r.login("e")
			if _, err := r.reg.Expire(context.Background(), idOf(t, r.reg, "e")); err != nil {
				t.Fatal(err)
			}
			logRows := len(revocations(t, db))
			r.rotate(s, grace, registry.Refused)
			r.rotate(s, registry.RotatePolicy{ExpireOthers: true}, registry.Refused)
			if r.is.count() != 0 || r.refreshChildren("e") != 0 || len(revocations(t, db)) != logRows {
				t.Fatal("a refused token issued or revoked something")
			}
		})

		t.Run("expire others", func(t *testing.T) {
			r := newRotation(t, db)
			s := r.login("f")
			second := token("f-a-second", "access", "f", r.clk.Now(), accessTTL)
			record(t, r.reg, &pipeline.Event{UserID: "u1", Pairs: []pipeline.Pair{{Child: second, Parent: &s}}})
			record(t, r.reg, login("other", "u1", r.clk.Now()))
			r.clk.Advance(time.Second)
			r.rotate(s, registry.RotatePolicy{Rotate: true, Grace: 10 * time.Second, ExpireOthers: true}, registry.Rotated)
			child := r.child()
			for jti, want := range map[string]string{"f": registry.ReasonRotated, "f-a": registry.ReasonOnRefresh, "f-a-second": registry.ReasonOnRefresh} {
				if ok, reason := r.revoked(jti); !ok || reason != want {
					t.Errorf("%s: revoked %v for %q, want %q", jti, ok, reason, want)
				}
				// Access tokens are refused from memory; the rotated-out
				// refresh token by Rotate, from its row.
				if inView := r.reg.Revoked(tok(jti, "f", "u1", s.IssuedAt)); inView != (jti != "f") {
					t.Errorf("%s in the view: %v", jti, inView)
				}
			}
			for _, jti := range []string{child.ID, "f-a1", "other", "other-a"} {
				if ok, _ := r.revoked(jti); ok {
					t.Errorf("%s revoked", jti)
				}
			}
		})

		t.Run("renew without rotation", func(t *testing.T) {
			r := newRotation(t, db)
			s := r.login("g")
			p := registry.RotatePolicy{ExpireOthers: true}
			r.rotate(s, p, registry.Renewed)
			if c := r.is.last(t); c.outcome != registry.Renewed || c.parent.ID != "g" {
				t.Fatalf("IssueFunc called with %s, %s", outcomeName(c.outcome), c.parent.ID)
			}
			if ok, _ := r.revoked("g"); ok || r.reg.Revoked(tok("g", "g", "u1", s.IssuedAt)) {
				t.Fatal("the refresh token was revoked")
			}
			if ok, reason := r.revoked("g-a"); !ok || reason != registry.ReasonOnRefresh {
				t.Fatalf("old access token: %v, %q", ok, reason)
			}
			if ok, _ := r.revoked("g-a1"); ok {
				t.Fatal("the new access token was revoked")
			}
			if n := r.refreshChildren("g"); n != 0 {
				t.Fatalf("%d refresh children without rotation", n)
			}
			r.rotate(s, p, registry.Renewed)
			if ok, _ := r.revoked("g-a1"); !ok {
				t.Fatal("the previous access token survived the next renewal")
			}
			if ok, _ := r.revoked("g-a2"); ok {
				t.Fatal("the new access token was revoked")
			}
			// Without ExpireOthers nothing is revoked.
			r.rotate(s, registry.RotatePolicy{}, registry.Renewed)
			if ok, _ := r.revoked("g-a2"); ok {
				t.Fatal("Renewed without ExpireOthers revoked a token")
			}
		})

		t.Run("rotated-out token without rotation is refused", func(t *testing.T) {
			// /token/update rotated it; then it comes back to a refresh that
			// does not rotate (Config.Registry.RevokeOthersOnRefresh on, rotation off).
			r := newRotation(t, db)
			s := r.login("j")
			r.rotate(s, registry.RotatePolicy{Rotate: true, Grace: time.Minute, ExpireOthers: true}, registry.Rotated)
			child := r.child()
			calls := r.is.count()
			r.rotate(s, registry.RotatePolicy{ExpireOthers: true}, registry.Refused)
			if r.is.count() != calls {
				t.Fatal("a rotated-out token was renewed")
			}
			if ok, _ := r.revoked(child.ID); ok {
				t.Fatal("the rotated-out token revoked its replacement")
			}
		})

		t.Run("unrecorded token", func(t *testing.T) {
			r := newRotation(t, db)
			s := token("h", "refresh", "h", r.clk.Now(), refreshTTL) // its registration still queued
			r.rotate(s, grace, registry.Rotated)
			if owner, err := r.reg.Owner(context.Background(), idOf(t, r.reg, "h")); err != nil || owner != "u1" {
				t.Fatalf("Owner = %q, %v", owner, err)
			}
			if n := r.refreshChildren("h"); n != 1 {
				t.Fatalf("%d children", n)
			}
		})

		t.Run("issue failure rolls back", func(t *testing.T) {
			r := newRotation(t, db)
			s := r.login("i")
			r.is.err = errIssue
			logRows := len(revocations(t, db))
			_, err := r.reg.Rotate(context.Background(), s, "u1",
				registry.RotatePolicy{Rotate: true, Grace: time.Second, RevokeRotated: true, ExpireOthers: true}, r.is.issue)
			if !errors.Is(err, errIssue) {
				t.Fatalf("Rotate = %v, want the IssueFunc's error", err)
			}
			if ok, _ := r.revoked("i"); ok || r.refreshChildren("i") != 0 || len(revocations(t, db)) != logRows || r.reg.Revoked(tok("i", "i", "u1", s.IssuedAt)) {
				t.Fatal("a failed rotation left changes")
			}
			r.is.err = nil
			r.rotate(s, grace, registry.Rotated)
		})
	})
}

// TestRotateConcurrently: many refreshes with one token at once; one
// rotates, and the others replay within the grace window or meet a revoked
// session outside it. Never two live branches.
func TestRotateConcurrently(t *testing.T) {
	t.Parallel()
	const n = 20
	run := func(t *testing.T, db *gorm.DB, sid string, p registry.RotatePolicy) map[registry.Outcome]int {
		t.Helper()
		r := newRotation(t, db)
		s := r.login(sid)
		start := make(chan struct{})
		var wg sync.WaitGroup
		var mu sync.Mutex
		outcomes := map[registry.Outcome]int{}
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				o, err := r.reg.Rotate(context.Background(), s, "u1", p, r.is.issue)
				if err != nil {
					t.Errorf("Rotate: %v", err)
					return
				}
				mu.Lock()
				outcomes[o]++
				mu.Unlock()
			}()
		}
		close(start)
		wg.Wait()
		if got := r.refreshChildren(sid); got != 1 {
			t.Fatalf("%d refresh children of the presented token, want 1", got)
		}
		// Every replay was handed the one child.
		child := r.child()
		for _, c := range r.is.calls {
			if (c.outcome == registry.Rotated && c.parent.ID != sid) || (c.outcome == registry.Replayed && c.parent.ID != child.ID) {
				t.Fatalf("IssueFunc called with %s, parent %s", outcomeName(c.outcome), c.parent.ID)
			}
		}
		return outcomes
	}
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		t.Run("within grace", func(t *testing.T) {
			got := run(t, db, "g", registry.RotatePolicy{Rotate: true, Grace: 5 * time.Second})
			if got[registry.Rotated] != 1 || got[registry.Replayed] != n-1 {
				t.Fatalf("outcomes %v, want 1 Rotated and %d Replayed", got, n-1)
			}
			// Every replay hangs its access token under the one child.
			children := count(t, db, &registry.Token{}, "parent_id = (SELECT id FROM ginjwt_tokens WHERE parent_id = (SELECT id FROM ginjwt_tokens WHERE jti = ?) AND type = 'refresh')", "g")
			if children != n {
				t.Fatalf("%d access tokens under the child, want %d", children, n)
			}
		})
		t.Run("no grace", func(t *testing.T) {
			got := run(t, db, "ng", registry.RotatePolicy{Rotate: true})
			// The second presentation is reuse and revokes the session, with
			// the presented token; the ones after it present a revoked token.
			if got[registry.Rotated] != 1 || got[registry.Reused] != 1 || got[registry.Refused] != n-2 {
				t.Fatalf("outcomes %v, want 1 Rotated, 1 Reused, %d Refused", got, n-2)
			}
			var live int64
			if err := db.Model(&registry.Token{}).Where("session_id = ? AND revoked_at IS NULL", "ng").Count(&live).Error; err != nil || live != 0 {
				t.Fatalf("%d live tokens in the reused session (%v)", live, err)
			}
		})
	})
}

// TestRefreshLoopKeepsMemoryBounded: a client refreshing in a loop with
// Config.Registry.RevokeRotated and Config.Registry.RevokeOthersOnRefresh leaves in memory only the
// access tokens that are still unexpired — none of its rotated-out refresh
// tokens, which would each stay for a day.
func TestRefreshLoopKeepsMemoryBounded(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		r := newRotation(t, db)
		presented := r.login("loop")
		p := registry.RotatePolicy{Rotate: true, Grace: time.Second, RevokeRotated: true, ExpireOthers: true}
		const refreshes = 120
		for i := range refreshes {
			r.clk.Advance(time.Minute) // accessTTL is 5 minutes
			r.rotate(presented, p, registry.Rotated)
			presented = r.child()
			if i%10 == 9 {
				if err := r.reg.Sync(context.Background()); err != nil { // prunes what expired
					t.Fatal(err)
				}
			}
		}
		// Each refresh revoked the previous access token, which lives 5
		// minutes: about five are still worth remembering.
		if n := r.reg.InMemory(); n > 16 {
			t.Fatalf("%d revocations in memory after %d refreshes; want at most the unexpired access tokens", n, refreshes)
		}
		if rows := len(revocations(t, db)); rows != refreshes {
			t.Fatalf("%d log rows after %d refreshes; want one per revoked access token", rows, refreshes)
		}
	})
}
