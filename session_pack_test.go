package ginjwt

import (
	"fmt"
	"net/http"
	"testing"
)

// TestPackTokensRoundTrip: packed tokens come back exactly; anything that
// is not what packTokens made is refused, never a panic.
func TestPackTokensRoundTrip(t *testing.T) {
	h := newHarness(t, nil, nil)
	h.user("alice", "perm1", "perm2")
	p := h.login("alice")
	packed, err := packTokens(p.Access, p.Refresh)
	if err != nil {
		t.Fatal(err)
	}
	got, err := unpackTokens(packed, 2)
	if err != nil || got[0] != p.Access || got[1] != p.Refresh {
		t.Fatalf("round trip: %v %v", got, err)
	}
	if len(packed) >= (len(p.Access)+len(p.Refresh))*3/4 {
		t.Fatalf("packed %d bytes from %d", len(packed), len(p.Access)+len(p.Refresh))
	}
	for _, bad := range []string{"a.b", "a.b.c.d", "!!.e30.sig", "e30.e30.AA=="} {
		if _, err := packTokens(bad, p.Refresh); err == nil {
			t.Errorf("packTokens(%q) accepted", bad)
		}
	}
	for _, bad := range [][]byte{nil, []byte("not deflate"), packed[:len(packed)/2], append(append([]byte{}, packed...), 0)} {
		if _, err := unpackTokens(bad, 2); err == nil {
			t.Errorf("unpackTokens(%q) accepted", bad)
		}
	}
	if _, err := unpackTokens(packed, 3); err == nil {
		t.Error("two packed tokens unpacked as three")
	}
}

// TestSessionCookieFitsManyPermissions: the cookie store holds the session
// of a user with dozens of permissions.
func TestSessionCookieFitsManyPermissions(t *testing.T) {
	h := sessionHarness(t, nil, nil)
	perms := make([]string, 60)
	for i := range perms {
		perms[i] = fmt.Sprintf("reports.department_%02d.view", i)
	}
	h.user("alice", perms...)
	b := newBrowser(t, h)
	wantStatus(t, formLogin(b, "alice", "pw-alice", ""), http.StatusSeeOther)
	if n := len(b.cookie("ginjwt_session")); n > 4000 || n == 0 {
		t.Fatalf("the session cookie of a user with 60 permissions: %d bytes", n)
	}
	wantStatus(t, b.do(req{path: "/api/hello"}), http.StatusOK)
	t.Logf("session cookie with 60 permissions: %d bytes", len(b.cookie("ginjwt_session")))
}

// FuzzUnpackTokens: whatever a session store hands back, unpacking ends in
// tokens or an error, within its bound, never a panic.
func FuzzUnpackTokens(f *testing.F) {
	packed, _ := packTokens("e30.e30.c2ln", "eyJhIjoxfQ.eyJiIjoyfQ.c2lnMg")
	f.Add(packed)
	f.Add([]byte{})
	f.Add([]byte{0x01, 0x02})
	f.Fuzz(func(t *testing.T, b []byte) {
		tokens, err := unpackTokens(b, 2)
		if err == nil && len(tokens) != 2 {
			t.Fatalf("%d tokens without an error", len(tokens))
		}
	})
}
