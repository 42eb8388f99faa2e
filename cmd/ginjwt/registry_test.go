package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/ginjwt/ginjwt/internal/testdb"
	"github.com/ginjwt/ginjwt/registry"
)

func TestRegistryStats(t *testing.T) {
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		dsn, _ := migrated(t, db)
		must(t, "correct horse\n", "user", "create", "-db", dsn, "-username", "alice", "-password-stdin")
		s := startService(t, dsn)
		s.login("alice", "correct horse", firefox)
		revoked, _ := s.login("alice", "correct horse", safari)
		must(t, "", "sessions", "revoke", "-db", dsn, "-session", s.pipelineToken(revoked).SessionID)

		var st registry.Stats
		decodeJSON(t, must(t, "", "registry", "stats", "-db", dsn, "-json"), &st)
		// Two sessions of a refresh and an access token each; one revoked.
		if st.Tokens != 4 || st.Active != 2 || st.Revoked != 2 || st.Expired != 0 || st.Sessions != 1 || st.Pending != 0 || st.RevocationLogLive != 1 {
			t.Fatalf("registry stats -json: %+v", st)
		}
		out := must(t, "", "registry", "stats", "-db", dsn)
		for _, want := range []string{"tokens:", "active:", "revoked:", "active sessions:", "pending registrations:", "revocation log rows:"} {
			if !strings.Contains(out, want) {
				t.Fatalf("registry stats: no %q in\n%s", want, out)
			}
		}
	})
}

func TestArchive(t *testing.T) {
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		dsn, check := migrated(t, db)
		now := time.Now().UTC()
		var rows []registry.Token
		for i := range 2500 {
			exp := now.Add(-300 * time.Hour) // long expired
			if i%5 == 0 {
				exp = now.Add(time.Hour) // alive
			}
			rows = append(rows, registry.Token{JTI: fmt.Sprintf("j%d", i), Type: "access", SessionID: "s", IssuedAt: now.Add(-301 * time.Hour), ExpiresAt: exp, CreatedAt: now})
		}
		if err := check.CreateInBatches(rows, 500).Error; err != nil {
			t.Fatal(err)
		}
		code, stdout, stderr := cli(t, "", "archive", "-db", dsn, "-older-than", "240h", "-progress-every", "0")
		if code != 0 || !strings.Contains(stdout, "archived 2000 tokens") {
			t.Fatalf("archive: %d %q %q", code, stdout, stderr)
		}
		for _, want := range []string{"archive: batch 1: 1000 of 2000 tokens (50%)", "archive: batch 2: 2000 of 2000 tokens (100%)"} {
			if !strings.Contains(stderr, want) {
				t.Fatalf("no progress %q on standard error:\n%s", want, stderr)
			}
		}
		var left int64
		check.Model(&registry.Token{}).Count(&left)
		if left != 500 {
			t.Fatalf("%d tokens left, want the 500 alive", left)
		}
		code, stdout, stderr = cli(t, "", "archive", "-db", dsn)
		if code != 0 || !strings.Contains(stdout, "archived 0 tokens") || stderr != "" {
			t.Fatalf("archive again: %d %q %q", code, stdout, stderr)
		}
	})
}
