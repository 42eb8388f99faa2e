package registry

import (
	"fmt"
	"testing"
	"time"

	"github.com/ginjwt/ginjwt/pipeline"
)

// TestSetCursorWaitsForGaps: an ID skipped in a read keeps the cursor just
// below it until the entry shows up (a transaction that committed late) or
// the gap ages out; a snapshot's cursor leaves no gaps; entries revoke as
// in a Registry's view.
func TestSetCursorWaitsForGaps(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_800_000_000, 0)
	until := now.Add(time.Hour)
	s := NewSet()
	s.Load([]Revocation{{ID: 3, Kind: KindSession, Subject: "s3", Until: until}}, 10, now)
	if c := s.Cursor(now); c != 10 {
		t.Fatalf("after a snapshot the cursor is %d, want 10", c)
	}
	s.Apply([]Revocation{{ID: 11, Kind: KindToken, Subject: "t11", Until: until}, {ID: 14, Kind: KindUser, Subject: "u", Generation: 2, Until: until}}, now)
	if c := s.Cursor(now); c != 11 {
		t.Fatalf("with 12 and 13 missing the cursor is %d, want 11", c)
	}
	s.Apply([]Revocation{{ID: 12, Kind: KindSession, Subject: "s12", Until: until}, {ID: 13, Kind: KindSession, Subject: "old", Until: now.Add(-time.Second)}}, now)
	if c := s.Cursor(now); c != 14 {
		t.Fatalf("gaps filled: cursor %d, want 14", c)
	}
	s.Apply([]Revocation{{ID: 16, Kind: KindSession, Subject: "s16", Until: until}}, now)
	if c := s.Cursor(now.Add(gapTTL + time.Second)); c != 16 {
		t.Fatalf("an aged-out gap still holds the cursor at %d", c)
	}
	for _, tc := range []struct {
		tok  pipeline.Token
		want bool
	}{
		{pipeline.Token{ID: "t11", SessionID: "x", UserID: "v"}, true},
		{pipeline.Token{ID: "a", SessionID: "s3", UserID: "v"}, true},
		{pipeline.Token{ID: "a", SessionID: "s12", UserID: "v"}, true},
		{pipeline.Token{ID: "a", SessionID: "old", UserID: "v"}, false},
		{pipeline.Token{ID: "a", SessionID: "x", UserID: "u", Generation: 1}, true},
		{pipeline.Token{ID: "a", SessionID: "x", UserID: "u", Generation: 2}, false},
	} {
		if _, got := s.RevokedBy(&tc.tok); got != tc.want {
			t.Errorf("%+v: revoked %v, want %v", tc.tok, got, tc.want)
		}
	}
	if s.Len() != 5 {
		t.Errorf("Len %d, want 5", s.Len())
	}
	s.Prune(until)
	if s.Len() != 0 {
		t.Errorf("after Until: Len %d", s.Len())
	}
}

// TestBoundedSetForgetsLoudly: past its bound a Set forgets its oldest
// entries and answers KindForgotten, never "not revoked", for the tokens
// issued before the latest one forgotten; later tokens are answered from
// memory.
func TestBoundedSetForgetsLoudly(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_800_000_000, 0)
	s := NewBoundedSet(10)
	var rows []Revocation
	for i := range 30 {
		rows = append(rows, Revocation{ID: int64(i + 1), Kind: KindSession, Subject: fmt.Sprint("s", i),
			At: now.Add(time.Duration(i) * time.Second), Until: now.Add(time.Hour)})
	}
	s.Apply(rows, now)
	if s.Len() > 10 || s.Forgotten() == 0 {
		t.Fatalf("30 entries in a set bounded at 10: %d held, %d forgotten", s.Len(), s.Forgotten())
	}
	old := pipeline.Token{ID: "x", SessionID: "s0", UserID: "u", IssuedAt: now.Add(-time.Minute)}
	if kind, revoked := s.RevokedBy(&old); !revoked || kind != KindForgotten {
		t.Fatalf("a token of a forgotten session: %q %v, want forgotten", kind, revoked)
	}
	held := pipeline.Token{ID: "y", SessionID: "s29", UserID: "u", IssuedAt: now.Add(-time.Minute)}
	if kind, revoked := s.RevokedBy(&held); !revoked || kind != KindSession {
		t.Fatalf("a token of a session still held: %q %v", kind, revoked)
	}
	later := pipeline.Token{ID: "z", SessionID: "new", UserID: "u", IssuedAt: now.Add(time.Hour)}
	if _, revoked := s.RevokedBy(&later); revoked {
		t.Fatal("a token issued long after every revocation is refused")
	}
}
