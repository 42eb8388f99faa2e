package registry

import (
	"strings"
	"testing"
	"time"

	"github.com/ginjwt/ginjwt/pipeline"
)

// TestNotifyPayloadRoundTrip: the rows a NOTIFY announces come back from
// its payload as the view needs them; too many rows for the payload give
// the last ID; a payload of another form changes nothing.
func TestNotifyPayloadRoundTrip(t *testing.T) {
	now := time.Unix(1_800_000_000, 123_456_000)
	rows := []Revocation{
		{ID: 7, Kind: KindSession, Subject: "s7", At: now, Until: now.Add(time.Hour)},
		{ID: 8, Kind: KindUser, Subject: "u1", Generation: 3, At: now, Until: now.Add(time.Hour)},
	}
	p := notifyPayload(rows)
	r := &Registry{view: newView(), opts: Options{Clock: func() time.Time { return now }}}
	r.applyNotified(p)
	if k, ok := r.view.revoked(&pipeline.Token{ID: "x", SessionID: "s7", UserID: "v"}); !ok || k != KindSession {
		t.Fatalf("the session of the payload is not revoked: %q %v (%s)", k, ok, p)
	}
	if k, ok := r.view.revoked(&pipeline.Token{ID: "y", SessionID: "z", UserID: "u1", Generation: 2}); !ok || k != KindUser {
		t.Fatalf("the cut-off of the payload is not applied: %q %v", k, ok)
	}
	many := make([]Revocation, 200)
	for i := range many {
		many[i] = Revocation{ID: int64(i + 1), Kind: KindToken, Subject: strings.Repeat("t", 22) + string(rune('a'+i%26)), At: now, Until: now.Add(time.Hour)}
	}
	if got := notifyPayload(many); got != "200" {
		t.Fatalf("200 rows gave a payload of %d bytes, want the last ID", len(got))
	}
	fresh := &Registry{view: newView(), opts: Options{Clock: func() time.Time { return now }}}
	for _, bad := range []string{"", "42", "[", `[{"i":1,"k":"nope","s":"x","a":0,"u":9e15}]`, `[{"i":1,"k":"session","s":"","a":0,"u":9e15}]`, "[" + strings.Repeat(" ", 8000) + "]"} {
		fresh.applyNotified(bad)
	}
	if fresh.view.size() != 0 {
		t.Fatalf("malformed payloads added %d entries", fresh.view.size())
	}
}
