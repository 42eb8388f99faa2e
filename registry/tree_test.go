package registry_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/ginjwt/ginjwt/internal/testdb"
	"github.com/ginjwt/ginjwt/pipeline"
	"github.com/ginjwt/ginjwt/registry"
)

// recordTree records the tree with root r: r → ra, rb (refresh), r → a0;
// ra → ra1, ra2; rb → rb1 (access); and a second tree s → sa.
func recordTree(t *testing.T, reg *registry.Registry, now time.Time) {
	t.Helper()
	tk := func(jti, typ, sid string) *pipeline.Token {
		x := token(jti, typ, sid, now, time.Hour)
		return &x
	}
	r, ra, rb := tk("r", "refresh", "r"), tk("ra", "refresh", "r"), tk("rb", "refresh", "r")
	s := tk("s", "refresh", "s")
	events := []*pipeline.Event{
		{UserID: "u1", Pairs: []pipeline.Pair{{Child: *r}, {Child: *tk("a0", "access", "r"), Parent: r}}},
		{UserID: "u1", Pairs: []pipeline.Pair{{Child: *ra, Parent: r}, {Child: *tk("ra1", "access", "r"), Parent: ra}}},
		{UserID: "u1", Pairs: []pipeline.Pair{{Child: *tk("ra2", "access", "r"), Parent: ra}}},
		{UserID: "u1", Pairs: []pipeline.Pair{{Child: *rb, Parent: r}, {Child: *tk("rb1", "access", "r"), Parent: rb}}},
		{UserID: "u2", Pairs: []pipeline.Pair{{Child: *s}, {Child: *tk("sa", "access", "s"), Parent: s}}},
	}
	for _, e := range events {
		record(t, reg, e)
	}
}

func TestCollectTree(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		clk := newClock()
		reg := newRegistry(t, db, registry.Options{Clock: clk.Now})
		ctx := context.Background()
		recordTree(t, reg, clk.Now())
		tree := []string{"r", "ra", "rb", "a0", "ra1", "ra2", "rb1"}
		other := []string{"s", "sa"}

		collect := func(f func(context.Context, ...int64) ([]int64, error), jtis ...string) []int64 {
			t.Helper()
			got, err := f(ctx, idsOf(t, reg, jtis...)...)
			if err != nil {
				t.Fatal(err)
			}
			return got
		}
		for _, from := range tree {
			if got, want := collect(reg.CollectTree, from), idsOf(t, reg, tree...); !slices.Equal(got, want) {
				t.Errorf("CollectTree(%s) = %v, want %v", from, got, want)
			}
		}
		for _, from := range other {
			if got, want := collect(reg.CollectTree, from), idsOf(t, reg, other...); !slices.Equal(got, want) {
				t.Errorf("CollectTree(%s) = %v, want %v", from, got, want)
			}
		}
		if got, want := collect(reg.CollectTree, "ra1", "sa"), idsOf(t, reg, append(tree, other...)...); !slices.Equal(got, want) {
			t.Errorf("CollectTree(ra1, sa) = %v, want %v", got, want)
		}

		subtrees := []struct {
			from []string
			want []string
		}{
			{[]string{"r"}, tree},
			{[]string{"ra"}, []string{"ra", "ra1", "ra2"}},
			{[]string{"rb"}, []string{"rb", "rb1"}},
			{[]string{"ra1"}, []string{"ra1"}},
			{[]string{"ra", "rb"}, []string{"ra", "ra1", "ra2", "rb", "rb1"}},
			{[]string{"ra", "ra1"}, []string{"ra", "ra1", "ra2"}},
			{[]string{"a0", "s"}, []string{"a0", "s", "sa"}},
		}
		for _, tc := range subtrees {
			if got, want := collect(reg.CollectSubtree, tc.from...), idsOf(t, reg, tc.want...); !slices.Equal(got, want) {
				t.Errorf("CollectSubtree(%v) = %v, want %v", tc.from, got, want)
			}
		}

		for name, f := range map[string]func(context.Context, ...int64) ([]int64, error){"CollectTree": reg.CollectTree, "CollectSubtree": reg.CollectSubtree} {
			if got, err := f(ctx); err != nil || len(got) != 0 {
				t.Errorf("%s() = %v, %v", name, got, err)
			}
			if got, err := f(ctx, 987654321); err != nil || len(got) != 0 {
				t.Errorf("%s(unknown) = %v, %v", name, got, err)
			}
		}
	})
}

// TestCollectTreeLarge collects a 10,000-token tree in one call: a chain of
// 2,500 rotated refresh tokens, each with 3 access tokens.
func TestCollectTreeLarge(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		t.Parallel()
		clk := newClock()
		reg := newRegistry(t, db, registry.Options{Clock: clk.Now})
		ctx := context.Background()
		recordTree(t, reg, clk.Now()) // other trees, not to be collected

		const chain, perRefresh, base = 2500, 3, 1_000_000
		const n = chain * (1 + perRefresh)
		// Built in the database by one statement: token i is a refresh token
		// when i % 4 == 0, the child of the refresh token 4 before it, and
		// otherwise an access token of the refresh token before it.
		now := clk.Now()
		err := db.Exec(`INSERT INTO ginjwt_tokens (id, jti, type, parent_id, session_id, issued_at, expires_at, revoke_reason, created_at)
WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq WHERE i < ?)
SELECT ? + i, 'big-' || i,
	CASE WHEN i % 4 = 0 THEN 'refresh' ELSE 'access' END,
	CASE WHEN i = 0 THEN NULL WHEN i % 4 = 0 THEN ? + i - 4 ELSE ? + i - i % 4 END,
	'big-0', ?, ?, '', ?
FROM seq`, n-1, base, base, base, now, now.Add(time.Hour), now).Error
		if err != nil {
			t.Fatal(err)
		}
		want := make([]int64, n)
		for i := range want {
			want[i] = int64(base + i)
		}
		if got := count(t, db, &registry.Token{}, "session_id = ?", "big-0"); got != 10_000 {
			t.Fatalf("built %d tokens", got)
		}
		if isPostgres(db) {
			// What autovacuum does on a live server: without statistics the
			// planner scans the table at every level of the recursion.
			if err := db.Exec("ANALYZE ginjwt_tokens").Error; err != nil {
				t.Fatal(err)
			}
		}
		for _, from := range []int64{want[len(want)/2], want[len(want)-1]} { // a middle node, the deepest leaf
			got, err := reg.CollectTree(ctx, from)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("CollectTree(%d): %d IDs, want the 10,000 of its tree", from, len(got))
			}
		}
		// The subtree from refresh 2,000 of the chain: the last 500 links.
		from := int64(base + 2000*(1+perRefresh))
		got, err := reg.CollectSubtree(ctx, from)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want[2000*(1+perRefresh):]) {
			t.Fatalf("CollectSubtree: %d IDs, want %d", len(got), 500*(1+perRefresh))
		}
	})
}
