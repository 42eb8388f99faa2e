package registry

import (
	"github.com/ginjwt/ginjwt/pipeline"
	"slices"
	"testing"
	"time"
)

func ids(rows ...int64) []Revocation {
	out := make([]Revocation, 0, len(rows))
	for _, id := range rows {
		out = append(out, Revocation{ID: id})
	}
	return out
}

func sortedGaps(v *view, now time.Time) []int64 {
	g := v.pendingGaps(now)
	slices.Sort(g)
	return g
}

func TestViewGaps(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	v := newView()

	v.advance(ids(1, 2, 5), t0)
	if v.last() != 5 {
		t.Fatalf("last = %d, want 5", v.last())
	}
	if got := sortedGaps(v, t0); !slices.Equal(got, []int64{3, 4}) {
		t.Fatalf("gaps %v, want [3 4]", got)
	}

	// 3 commits late and is read through the gaps: no longer a gap.
	v.advance(ids(3), t0.Add(10*time.Second))
	if v.last() != 5 {
		t.Fatalf("a late row moved last back to %d", v.last())
	}
	if got := sortedGaps(v, t0.Add(10*time.Second)); !slices.Equal(got, []int64{4}) {
		t.Fatalf("gaps %v, want [4]", got)
	}

	// New gaps are dated when they are seen.
	v.advance(ids(8), t0.Add(30*time.Second))
	if got := sortedGaps(v, t0.Add(gapTTL)); !slices.Equal(got, []int64{4, 6, 7}) {
		t.Fatalf("gaps at exactly gapTTL: %v, want [4 6 7]", got)
	}
	// Past gapTTL, 4 counts as a rolled-back transaction and is forgotten;
	// 6 and 7, seen later, are still waited for.
	if got := sortedGaps(v, t0.Add(gapTTL+time.Nanosecond)); !slices.Equal(got, []int64{6, 7}) {
		t.Fatalf("gaps after gapTTL: %v, want [6 7]", got)
	}
	if got := sortedGaps(v, t0.Add(30*time.Second+gapTTL+time.Second)); len(got) != 0 {
		t.Fatalf("gaps %v, want none", got)
	}
	if len(v.gaps) != 0 {
		t.Fatalf("forgotten gaps kept: %v", v.gaps)
	}

	// Rows already read do not create gaps or move last.
	v.advance(ids(2, 8), t0)
	if v.last() != 8 || len(v.gaps) != 0 {
		t.Fatalf("re-read rows: last %d, gaps %v", v.last(), v.gaps)
	}
}

func TestViewGapsAreBounded(t *testing.T) {
	t.Parallel()
	v := newView()
	v.advance(ids(1_000_000), time.Now())
	if len(v.gaps) != maxGaps || v.last() != 1_000_000 {
		t.Fatalf("%d gaps, last %d; want %d gaps", len(v.gaps), v.last(), maxGaps)
	}
}

func TestViewApply(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	v := newView()
	v.apply([]Revocation{
		{Kind: KindToken, Subject: "jti-1", Until: t0.Add(time.Hour)},
		{Kind: KindToken, Subject: "jti-1", Until: t0.Add(time.Minute)}, // an earlier Until does not shorten it
		{Kind: KindToken, Subject: "jti-old", Until: t0},                // no longer matters
		{Kind: KindSession, Subject: "sid-1", Until: t0.Add(2 * time.Hour)},
		{Kind: KindUser, Subject: "u1", Generation: 2, At: t0, Until: t0.Add(time.Hour)},
		{Kind: KindUser, Subject: "u1", Generation: 1, At: t0, Until: t0.Add(3 * time.Hour)},    // read late: lower generation, later until
		{Kind: KindUser, Subject: "legacy", At: t0.Add(-time.Minute), Until: t0.Add(time.Hour)}, // written before generations: by time
		{Kind: "unknown", Subject: "x", Until: t0.Add(time.Hour)},
	}, t0)
	if v.size() != 4 {
		t.Fatalf("size %d, want 4", v.size())
	}
	iat := t0.Add(-2 * time.Minute)
	cases := []struct {
		jti, sid, user string
		gen            int64
		iat            time.Time
		want           Kind
	}{
		{"jti-1", "other", "u9", 0, iat, KindToken},
		{"jti-1", "sid-1", "u1", 0, iat, KindToken}, // the token itself first
		{"jti-2", "sid-1", "u9", 0, iat, KindSession},
		{"jti-old", "other", "u9", 0, iat, ""},
		{"jti-2", "other", "u1", 0, iat, KindUser},
		{"jti-2", "other", "u1", 1, iat, KindUser},
		{"jti-2", "other", "u1", 2, iat, ""},                // issued under the latest generation
		{"jti-2", "other", "u1", 2, t0.Add(-time.Hour), ""}, // whatever its iat
		{"jti-2", "other", "legacy", 0, iat, KindUser},
		{"jti-2", "other", "legacy", 0, t0.Add(-time.Minute), ""}, // at the legacy cut-off
		{"x", "x", "u2", 0, iat, ""},
	}
	for _, tc := range cases {
		tk := &pipeline.Token{ID: tc.jti, SessionID: tc.sid, UserID: tc.user, IssuedAt: tc.iat, Generation: tc.gen}
		kind, ok := v.revoked(tk)
		if kind != tc.want || ok != (tc.want != "") {
			t.Errorf("revoked(%+v) = %q, %v; want %q", *tk, kind, ok, tc.want)
		}
	}
	if !v.sessionRevoked("sid-1") || v.sessionRevoked("other") {
		t.Fatal("sessionRevoked")
	}

	// Prune forgets what no longer matters, each by its own Until: the user
	// entry lives until the latest Until it was given.
	v.prune(t0.Add(time.Hour))
	if _, ok := v.revoked(&pipeline.Token{ID: "jti-1", IssuedAt: iat}); ok {
		t.Fatal("jti-1 kept past its Until")
	}
	if !v.sessionRevoked("sid-1") {
		t.Fatal("sid-1 pruned early")
	}
	if _, ok := v.revoked(&pipeline.Token{ID: "j", SessionID: "s", UserID: "u1", Generation: 1}); !ok {
		t.Fatal("u1's cut-off pruned before its latest Until")
	}
	v.prune(t0.Add(3 * time.Hour))
	if v.size() != 0 {
		t.Fatalf("size %d after pruning everything", v.size())
	}
}
