package ginjwt

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/ginjwt/ginjwt/internal/testdb"
	"github.com/ginjwt/ginjwt/pipeline"
	"github.com/ginjwt/ginjwt/registry"
	"github.com/ginjwt/ginjwt/users"
)

// testCredential is a client service's credential in tests.
const testCredential = "client-service-credential-0123456789abcdef"

func serviceHeader(cred string) http.Header {
	return http.Header{ServiceCredentialHeader: {cred}}
}

// feed reads the revocation feed with the test credential.
func (h *harness) feed(t *testing.T, since int64) feedBody {
	t.Helper()
	w := h.do(req{path: "/auth/revocations?since=" + strconv.FormatInt(since, 10), header: serviceHeader(testCredential)})
	wantStatus(t, w, http.StatusOK)
	var b feedBody
	decode(t, w, &b)
	return b
}

// TestFeedRefusesAnythingButTheCredential: the feed answers 401
// service_unauthorized, and nothing else, to a request without the
// credential, with a wrong one (of the same length, or a prefix of the
// right one), with two, with the credential as a Bearer token, and with a
// user's valid access token.
func TestFeedRefusesAnythingButTheCredential(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, func(c *Config) { c.Service.Credentials = []string{testCredential} })
	h.user("alice")
	p := h.login("alice")
	wrong := []byte(testCredential)
	wrong[len(wrong)-1] ^= 1
	for name, r := range map[string]req{
		"none":        {},
		"wrong":       {header: serviceHeader(string(wrong))},
		"prefix":      {header: serviceHeader(testCredential[:len(testCredential)-1])},
		"longer":      {header: serviceHeader(testCredential + "x")},
		"two":         {header: http.Header{ServiceCredentialHeader: {testCredential, testCredential}}},
		"as bearer":   {bearer: testCredential},
		"user token":  {bearer: p.Access},
		"huge":        {header: serviceHeader(strings.Repeat("a", 100_000))},
		"empty value": {header: serviceHeader("")},
	} {
		r.path = "/auth/revocations?since=0"
		w := h.do(r)
		wantError(t, w, http.StatusUnauthorized, "service_unauthorized")
		if got := w.Header().Get("WWW-Authenticate"); got != "Service" {
			t.Errorf("%s: WWW-Authenticate %q", name, got)
		}
		var body map[string]any
		decode(t, w, &body)
		if len(body) != 2 {
			t.Errorf("%s: the refusal says more than its code and message: %v", name, body)
		}
	}
	// A second credential (rotation) is accepted beside the first.
	h2 := newHarness(t, nil, func(c *Config) { c.Service.Credentials = []string{testCredential, string(wrong)} })
	wantStatus(t, h2.do(req{path: "/auth/revocations", header: serviceHeader(string(wrong))}), http.StatusOK)
	// Without credentials configured the feed does not exist.
	h3 := newHarness(t, nil, nil)
	wantError(t, h3.do(req{path: "/auth/revocations", header: serviceHeader(testCredential)}), http.StatusNotFound, "not_found")
}

func TestServiceConfigChecked(t *testing.T) {
	t.Parallel()
	for _, s := range []Service{
		{Credentials: []string{"short"}},
		{Credentials: []string{strings.Repeat("x", 513)}},
		{FeedPageSize: 10001},
		{FeedPageSize: -1},
	} {
		_, err := New(Config{SigningKey: testSecret, Service: s, Routes: Routes{Paths: Paths{Obtain: "-"}}})
		if err == nil || !strings.Contains(err.Error(), "Config.Service.") {
			t.Errorf("%+v: %v", s, err)
		}
	}
}

// TestFeedCarriesRevocations: a snapshot holds every live entry — a
// logout's session, a password change's user cut-off — and a cursor from
// which the next read brings only what came after; a cursor past the log
// or below what the archiver kept asks for a resync; a page is bounded. On
// SQLite and PostgreSQL.
func TestFeedCarriesRevocations(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		h := newHarness(t, db, func(c *Config) {
			c.Service.Credentials = []string{testCredential}
			c.Service.FeedPageSize = 3
		})
		ctx := context.Background()
		h.user("alice")
		bob := h.user("bob")
		a1 := h.login("alice")
		h.login("bob")
		wantStatus(t, h.do(req{path: "/auth/token/logout", json: map[string]string{"refresh": a1.Refresh}}), 200)
		if err := h.store.SetPassword(ctx, bob.ID, "new-pw-bob"); err != nil {
			t.Fatal(err)
		}
		snap := h.feed(t, 0)
		if snap.Resync || snap.More || len(snap.Revocations) != 2 {
			t.Fatalf("snapshot %+v", snap)
		}
		a1c, _ := h.auth.parse(a1.Access)
		if e := snap.Revocations[0]; e.Kind != "session" || e.Subject != a1c.SessionID || !e.Until.After(e.At) {
			t.Errorf("first entry %+v, want alice's session %s", e, a1c.SessionID)
		}
		if e := snap.Revocations[1]; e.Kind != "user" || e.Subject != bob.ID || e.Generation != 1 {
			t.Errorf("second entry %+v, want bob's cut-off, generation 1", e)
		}
		// The cursor is below the end, for late commits; reading from it
		// again brings the entries after it, and a client's Set ends up
		// refusing what the registry refuses.
		set := registry.NewSet()
		set.Load(entries(snap), snap.Next, h.clock.Now())
		for range 4 {
			x := h.login("alice")
			wantStatus(t, h.do(req{path: "/auth/token/logout", json: map[string]string{"refresh": x.Refresh}}), 200)
		}
		var all []feedEntry
		cursor := set.Cursor(h.clock.Now())
		for {
			page := h.feed(t, cursor)
			if page.Resync || len(page.Revocations) > 3 {
				t.Fatalf("page %+v", page)
			}
			set.Apply(entries(page), h.clock.Now())
			all = append(all, page.Revocations...)
			cursor = set.Cursor(h.clock.Now())
			if !page.More {
				break
			}
		}
		sessions := 0
		for _, e := range all {
			if e.Kind == "session" {
				sessions++
			}
		}
		if sessions < 4 {
			t.Fatalf("incremental reads brought %d sessions: %+v", sessions, all)
		}
		if n := h.feed(t, cursor); len(n.Revocations) != 0 || n.Next != cursor || n.More || n.Resync {
			t.Fatalf("read at the end: %+v", n)
		}
		// What the Set says is what the registry says.
		pt := a1c.pipelineToken()
		if _, inSet := set.RevokedBy(&pt); !inSet || !h.auth.registry.Revoked(&pt) {
			t.Errorf("alice's logged-out session: set %v, registry %v", inSet, h.auth.registry.Revoked(&pt))
		}
		bobOld := pipelineTokenOf(t, h, bob, 0)
		if _, revoked := set.RevokedBy(&bobOld); !revoked {
			t.Error("bob's generation-0 token is not cut off in the set")
		}

		// A cursor beyond the log: resync.
		if r := h.feed(t, cursor+1000); !r.Resync || len(r.Revocations) != 0 {
			t.Fatalf("cursor past the end: %+v", r)
		}
		// Below what the archiver kept: resync. (The archiver deletes
		// entries past their Until.)
		h.clock.Advance(48 * time.Hour)
		if _, err := h.auth.Registry().Archive(ctx, h.clock.Now()); err != nil {
			t.Fatal(err)
		}
		if r := h.feed(t, 1); !r.Resync {
			t.Fatalf("cursor below the archived entries: %+v", r)
		}
		if r := h.feed(t, 0); r.Resync || len(r.Revocations) != 0 {
			t.Fatalf("snapshot after archiving: %+v", r)
		}
		for _, bad := range []string{"-1", "x", "1e3", "99999999999999999999"} {
			wantError(t, h.do(req{path: "/auth/revocations?since=" + bad, header: serviceHeader(testCredential)}), 400, "bad_request")
		}
	})
}

// pipelineTokenOf is a token of u under generation gen, as the registry
// sees it.
func pipelineTokenOf(t *testing.T, h *harness, u *users.User, gen int64) pipeline.Token {
	t.Helper()
	return pipeline.Token{ID: "x", SessionID: "y", UserID: u.ID, IssuedAt: h.clock.Now(), Generation: gen}
}

func entries(b feedBody) []registry.Revocation {
	raw, _ := json.Marshal(b.Revocations)
	var out []registry.Revocation
	_ = json.Unmarshal(raw, &out)
	return out
}

// TestFeedExampleMatchesAnswer: the OpenAPI example has the members of a
// real answer.
func TestFeedExampleMatchesAnswer(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, func(c *Config) { c.Service.Credentials = []string{testCredential} })
	h.user("alice")
	p := h.login("alice")
	wantStatus(t, h.do(req{path: "/auth/token/logout", json: map[string]string{"refresh": p.Refresh}}), 200)
	w := h.do(req{path: "/auth/revocations", header: serviceHeader(testCredential)})
	var real any
	decode(t, w, &real)
	_, ops := loadOpenAPI(t)
	ex := ops["GET /auth/revocations"].Responses["200"].Content["application/json"].Example
	if got, want := shapeOf(real), shapeOf(ex); !slices.Equal(got, want) {
		t.Fatalf("real %v, example %v", got, want)
	}
}

// TestUserViewHookAndServiceReads: Config.Service.UserView shapes
// /users/me and /users/:id; a client service with its credential reads any
// user, a user only their own, and a wrong credential reads nothing.
func TestUserViewHookAndServiceReads(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, func(c *Config) {
		c.Service.Credentials = []string{testCredential}
		c.Service.UserView = func(ctx context.Context, u *users.User) (any, error) {
			return map[string]any{"id": u.ID, "email": u.Email, "access_group": "staff-" + u.Username}, nil
		}
	})
	alice, bob := h.user("alice"), h.user("bob")
	p := h.login("alice")
	var me map[string]any
	decode(t, h.do(req{path: "/auth/users/me", bearer: p.Access}), &me)
	if me["access_group"] != "staff-alice" || me["id"] != alice.ID || len(me) != 3 {
		t.Fatalf("me: %v", me)
	}
	wantError(t, h.do(req{path: "/auth/users/" + bob.ID, bearer: p.Access}), 403, "permission_denied")
	var b map[string]any
	w := h.do(req{path: "/auth/users/" + bob.ID, header: serviceHeader(testCredential)})
	wantStatus(t, w, 200)
	decode(t, w, &b)
	if b["access_group"] != "staff-bob" {
		t.Fatalf("bob by service: %v", b)
	}
	wantError(t, h.do(req{path: "/auth/users/" + bob.ID, header: serviceHeader(testCredential[1:] + "x")}), 401, "token_missing")
	wantError(t, h.do(req{path: "/auth/users/nobody", header: serviceHeader(testCredential)}), 404, "not_found")
	// The hook failing: 500 without its text; an outage: 503.
	h2 := newHarness(t, nil, func(c *Config) {
		c.Service.UserView = func(ctx context.Context, u *users.User) (any, error) {
			return nil, ErrUnavailable
		}
	})
	h2.user("carol")
	wantError(t, h2.do(req{path: "/auth/users/me", bearer: h2.login("carol").Access}), 503, "unavailable")
}

// TestForwardedFactsOnlyFromTrustedService: the client's IP and
// User-Agent that a client service forwards are recorded with its
// credential, and ignored without it.
func TestForwardedFactsOnlyFromTrustedService(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, func(c *Config) { c.Service.Credentials = []string{testCredential} })
	h.user("alice")
	got := make(chan RequestFacts, 4)
	h.auth.Subscribe(TokenObtained, func(ctx context.Context, e Event) { got <- e.Request })
	login := func(hdr http.Header) RequestFacts {
		wantStatus(t, h.do(req{path: "/auth/token", json: map[string]string{"username": "alice", "password": "pw-alice"}, header: hdr}), 200)
		return <-got
	}
	fwd := http.Header{ServiceClientIPHeader: {"203.0.113.7"}, ServiceUserAgentHeader: {"Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0"}, "User-Agent": {"ginjwt-remote"}}
	hdr := fwd.Clone()
	hdr.Set(ServiceCredentialHeader, testCredential)
	if f := login(hdr); f.ClientIP != "203.0.113.7" || !strings.Contains(f.UserAgent, "Firefox") {
		t.Errorf("trusted: %+v", f)
	}
	if f := login(fwd); f.ClientIP != "192.0.2.1" || f.UserAgent != "ginjwt-remote" {
		t.Errorf("no credential: %+v", f)
	}
	hdr.Set(ServiceCredentialHeader, "x"+testCredential[1:])
	if f := login(hdr); f.ClientIP != "192.0.2.1" {
		t.Errorf("wrong credential: %+v", f)
	}
	hdr.Set(ServiceCredentialHeader, testCredential)
	hdr.Set(ServiceClientIPHeader, "not-an-ip")
	if f := login(hdr); f.ClientIP != "192.0.2.1" || !strings.Contains(f.UserAgent, "Firefox") {
		t.Errorf("bad forwarded IP: %+v", f)
	}
}
