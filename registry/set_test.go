package registry

import (
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
