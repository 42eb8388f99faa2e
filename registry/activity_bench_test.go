package registry

import (
	"testing"
	"time"

	"github.com/ginjwt/ginjwt/pipeline"
)

// BenchmarkTouch is the activity note alone: "new" a session never seen
// (b.N distinct sessions), "repeated" one seen within the interval.
func BenchmarkTouch(b *testing.B) {
	at := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	b.Run("session=new", func(b *testing.B) {
		sids := make([]string, b.N)
		for i := range sids {
			sids[i] = newSID()
		}
		a := newActivity(time.Minute)
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			a.touch(sids[i], at)
		}
	})
	b.Run("session=repeated", func(b *testing.B) {
		a := newActivity(time.Minute)
		sid := newSID()
		a.touch(sid, at)
		b.ReportAllocs()
		for b.Loop() {
			a.touch(sid, at)
		}
	})
}

// BenchmarkRevoked is the revocation check of a token that is not revoked,
// with 10,000 revoked sessions and tokens in memory.
func BenchmarkRevoked(b *testing.B) {
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	v := newView()
	var rows []Revocation
	for range 10_000 {
		rows = append(rows, Revocation{Kind: KindSession, Subject: newSID(), Until: now.Add(time.Hour)},
			Revocation{Kind: KindToken, Subject: newSID(), Until: now.Add(time.Hour)})
	}
	v.apply(rows, now)
	t := &pipeline.Token{ID: newSID(), SessionID: newSID(), UserID: "0190f000-0000-7000-8000-000000000001", IssuedAt: now}
	b.ReportAllocs()
	for b.Loop() {
		if _, revoked := v.revoked(t); revoked {
			b.Fatal("revoked")
		}
	}
}
