package main

import (
	"strings"
	"testing"

	"gorm.io/gorm"

	"github.com/ginjwt/ginjwt/internal/testdb"
	"github.com/ginjwt/ginjwt/registry"
)

const (
	firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
	safari  = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
	curl    = "curl/8.5.0"
)

func TestSessionsCommands(t *testing.T) {
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		dsn, check := migrated(t, db)
		must(t, "correct horse\n", "user", "create", "-db", dsn, "-username", "alice", "-password-stdin")
		must(t, "battery staple\n", "user", "create", "-db", dsn, "-username", "bob", "-password-stdin")
		s := startService(t, dsn)
		tokens := map[string]string{} // session ID → access token
		for _, ua := range []string{firefox, safari, curl} {
			access, _ := s.login("alice", "correct horse", ua)
			tokens[s.pipelineToken(access).SessionID] = access
		}
		bobAccess, _ := s.login("bob", "battery staple", curl)

		out := must(t, "", "sessions", "list", "-db", dsn, "-username", "alice")
		for _, want := range []string{"SESSION", "DEVICE", "Firefox", "Safari", "3 active sessions of alice"} {
			if !strings.Contains(out, want) {
				t.Fatalf("sessions list: no %q in\n%s", want, out)
			}
		}
		var list struct {
			Username string `json:"username"`
			Sessions []struct {
				ID        string `json:"id"`
				Device    string `json:"device"`
				UserAgent string `json:"user_agent"`
			} `json:"sessions"`
		}
		decodeJSON(t, must(t, "", "sessions", "list", "-db", dsn, "-username", "alice", "-json"), &list)
		if list.Username != "alice" || len(list.Sessions) != 3 {
			t.Fatalf("sessions list -json: %+v", list)
		}
		var victim string
		for _, v := range list.Sessions {
			if tokens[v.ID] == "" {
				t.Fatalf("listed session %s is none of alice's", v.ID)
			}
			if v.UserAgent == safari {
				victim = v.ID
			}
		}
		if victim == "" {
			t.Fatalf("no session from Safari: %+v", list.Sessions)
		}

		// revoke one session: refused there, the others still work.
		if code, _, stderr := cli(t, "", "sessions", "revoke", "-db", dsn, "-session", victim, "-username", "bob"); code != 1 || !strings.Contains(stderr, "is not bob's") {
			t.Fatalf("revoke another user's session: %d %q", code, stderr)
		}
		if code, _, stderr := cli(t, "", "sessions", "revoke", "-db", dsn, "-session", "no-such-session"); code != 1 || !strings.Contains(stderr, "no session has the ID no-such-session") {
			t.Fatalf("revoke an unknown session: %d %q", code, stderr)
		}
		out = must(t, "", "sessions", "revoke", "-db", dsn, "-session", victim, "-username", "alice")
		if !strings.Contains(out, "revoked session "+victim+" of alice") {
			t.Fatalf("sessions revoke: %q", out)
		}
		logged := revocations(t, check, registry.KindSession, victim)
		if len(logged) != 1 || logged[0].Reason != registry.ReasonAdmin {
			t.Fatalf("revocation log for the session: %+v", logged)
		}
		s.refused(tokens[victim], "the revoked session's access token")
		for sid, access := range tokens {
			if sid == victim {
				continue
			}
			if code, _ := s.me(access); code != 200 {
				t.Fatalf("session %s was revoked with the other: %d", sid, code)
			}
		}
		if out := must(t, "", "sessions", "list", "-db", dsn, "-username", "alice"); !strings.Contains(out, "2 active sessions of alice") || strings.Contains(out, victim) {
			t.Fatalf("sessions list after revoke:\n%s", out)
		}

		// revoke-all: alice is out everywhere, bob is not.
		if out := must(t, "", "sessions", "revoke-all", "-db", dsn, "-username", "alice"); !strings.Contains(out, "logged alice out everywhere") {
			t.Fatalf("revoke-all: %q", out)
		}
		for _, access := range tokens {
			s.refused(access, "alice's tokens after revoke-all")
		}
		if code, _ := s.me(bobAccess); code != 200 {
			t.Fatalf("bob was logged out with alice: %d", code)
		}
		if out := must(t, "", "sessions", "list", "-db", dsn, "-username", "alice"); !strings.Contains(out, "0 active sessions of alice") {
			t.Fatalf("sessions list after revoke-all:\n%s", out)
		}
		var alice struct{ ID string }
		if err := check.Table("ginjwt_users").Where("username = ?", "alice").Take(&alice).Error; err != nil {
			t.Fatal(err)
		}
		if n := len(revocations(t, check, registry.KindUser, alice.ID)); n != 1 {
			t.Fatalf("%d cut-offs for alice in the revocation log; want 1", n)
		}
		// She logs in again afterwards.
		access, _ := s.login("alice", "correct horse", firefox)
		if code, _ := s.me(access); code != 200 {
			t.Fatalf("a login after revoke-all is refused: %d", code)
		}
	})
}
