package registry

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"runtime"
	"slices"
	"testing"
	"time"
	"unsafe"
)

// newSID returns a session ID as ginjwt issues them: 128 random bits,
// base64url.
func newSID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// TestActivityNotesOncePerInterval: a session is noted on its first use and
// again only once the interval has passed since the last noted use, for
// ginjwt's IDs and any other, and take hands each noted time out once,
// grouped by second.
func TestActivityNotesOncePerInterval(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 12, 5, 12, 0, 0, 400_000_000, time.UTC)
	for _, sid := range []string{newSID(), "s1", "an application's own session ID"} {
		a := newActivity(time.Minute)
		a.touch(sid, t0)
		a.touch(sid, t0.Add(59*time.Second))
		if got := a.take(t0.Add(59*time.Second), time.Hour); !equalTaken(got, map[time.Time][]string{t0.Truncate(time.Second): {sid}}) {
			t.Fatalf("%q: take after two uses within a minute = %v, want the first, once", sid, got)
		}
		if got := a.lastUsed(sid); !got.Equal(t0) {
			t.Fatalf("%q: lastUsed = %v, want %v", sid, got, t0)
		}
		if got := a.take(t0.Add(59*time.Second), time.Hour); len(got) != 0 {
			t.Fatalf("%q: a second take = %v, want nothing", sid, got)
		}
		t1 := t0.Add(time.Minute)
		a.touch(sid, t1)
		a.touch(sid, t1.Add(time.Second))
		if got := a.take(t1.Add(time.Second), time.Hour); !equalTaken(got, map[time.Time][]string{t1.Truncate(time.Second): {sid}}) {
			t.Fatalf("%q: take a minute later = %v, want %v once", sid, got, t1)
		}
		if got := a.lastUsed(sid); !got.Equal(t1) {
			t.Fatalf("%q: lastUsed = %v, want %v", sid, got, t1)
		}
		// Forgotten once unused for longer than keep, and only then.
		a.take(t1.Add(time.Hour), time.Hour)
		if a.sessions() != 1 {
			t.Fatalf("%q: forgotten after exactly keep", sid)
		}
		a.take(t1.Add(time.Hour+time.Microsecond), time.Hour)
		if a.sessions() != 0 || !a.lastUsed(sid).IsZero() {
			t.Fatalf("%q: still held after keep: %d, %v", sid, a.sessions(), a.lastUsed(sid))
		}
	}
}

// TestActivityPendingSurvivesKeep: a noted time not yet taken is never
// forgotten, however old.
func TestActivityPendingSurvivesKeep(t *testing.T) {
	t.Parallel()
	a := newActivity(time.Minute)
	t0 := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	sid := newSID()
	a.touch(sid, t0)
	if got := a.take(t0.Add(48*time.Hour), time.Hour); !equalTaken(got, map[time.Time][]string{t0: {sid}}) {
		t.Fatalf("take = %v, want %s at %v", got, sid, t0)
	}
}

func equalTaken(got, want map[time.Time][]string) bool {
	if len(got) != len(want) {
		return false
	}
	for at, sids := range want {
		g := slices.Clone(got[at])
		slices.Sort(g)
		w := slices.Clone(sids)
		slices.Sort(w)
		if !slices.Equal(g, w) {
			return false
		}
	}
	return true
}

// TestActivityMemoryPerSession notes 1,000,000 sessions, each ID a view
// into a token-sized payload as the claims decoder hands it out, and
// asserts what stays on the heap per session once the payloads are
// garbage: under 150 bytes (it measures ~40; keeping the payloads, as the
// string-keyed maps did, cost ~490). Nothing is flushed: the pending times
// are counted too.
func TestActivityMemoryPerSession(t *testing.T) {
	const n = 1_000_000
	at := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	a := newActivity(time.Minute)
	before := liveHeap()
	for range n {
		payload := []byte(`{"jti":"` + newSID() + `","sid":"` + newSID() + `","token_type":"access","iat":1780000000,"exp":1780000300,"user_id":"0190f000-0000-7000-8000-000000000001","username":"alice","perms":["perm1"]}`)
		start := bytes.Index(payload, []byte(`"sid":"`)) + len(`"sid":"`)
		sid := unsafe.String(&payload[start], keyLen) // as the decoder does
		if _, ok := parseKey(sid); !ok {
			t.Fatalf("%q is not a session ID", sid)
		}
		a.touch(sid, at)
	}
	after := liveHeap()
	if a.sessions() != n {
		t.Fatalf("%d sessions held, want %d", a.sessions(), n)
	}
	perSession := float64(int64(after)-int64(before)) / n
	t.Logf("%.1f bytes of heap per session (%d sessions)", perSession, n)
	if perSession >= 150 {
		t.Fatalf("%.1f bytes of heap per session, want < 150", perSession)
	}
	runtime.KeepAlive(a)
}

// TestRevokedMemoryPerEntry: what a revoked session costs in memory, for
// the README's bound; asserted well above what it measures (~60 bytes).
func TestRevokedMemoryPerEntry(t *testing.T) {
	const n = 200_000
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	v := newView()
	rows := make([]Revocation, n)
	for i := range rows {
		rows[i] = Revocation{Kind: KindSession, Subject: newSID(), Until: now.Add(24 * time.Hour)}
	}
	before := liveHeap()
	v.apply(rows, now)
	after := liveHeap()
	runtime.KeepAlive(rows)
	if v.size() != n {
		t.Fatalf("%d entries, want %d", v.size(), n)
	}
	perEntry := float64(int64(after)-int64(before)) / n
	t.Logf("%.1f bytes of heap per revoked session (%d)", perEntry, n)
	if perEntry >= 100 {
		t.Fatalf("%.1f bytes per revoked session, want < 100", perEntry)
	}
	runtime.KeepAlive(v)
}

func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
