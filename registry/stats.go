package registry

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Stats are the registry's counts at one moment, for operators (the CLI's
// "registry stats") and health pages. Token counts are read from the rows:
// Active, Expired and Revoked split Tokens between them.
type Stats struct {
	// At is when the counts were taken, by the registry's clock.
	At time.Time `json:"at"`
	// Tokens is every token recorded and not archived yet.
	Tokens int64 `json:"tokens"`
	// Active tokens are neither revoked nor expired.
	Active int64 `json:"active"`
	// Expired tokens ran out without being revoked; the archiver deletes
	// them once they are older than Options.ArchiveAfter.
	Expired int64 `json:"expired"`
	// Revoked tokens were revoked, whether they have expired since or not.
	Revoked int64 `json:"revoked"`
	// Sessions is how many sessions have an active refresh or sliding
	// token.
	Sessions int64 `json:"sessions"`
	// Pending is how many asynchronous registrations are journaled and not
	// landed yet; OldestPending is when the oldest was journaled (nil when
	// there is none). A pending registration that grows old means no
	// running instance is replaying the journal.
	Pending       int64      `json:"pending_registrations"`
	OldestPending *time.Time `json:"oldest_pending,omitempty"`
	// RevocationLog is how many rows the revocation log holds;
	// RevocationLogLive how many of them still matter (their Until has not
	// passed): what every instance keeps in memory. The archiver deletes
	// the others.
	RevocationLog     int64 `json:"revocation_log"`
	RevocationLogLive int64 `json:"revocation_log_live"`
}

// tokenStatsQuery counts the tokens by state in one pass.
const tokenStatsQuery = `
SELECT COUNT(*) AS tokens,
	COALESCE(SUM(CASE WHEN revoked_at IS NULL AND expires_at > ? THEN 1 ELSE 0 END), 0) AS active,
	COALESCE(SUM(CASE WHEN revoked_at IS NULL AND expires_at <= ? THEN 1 ELSE 0 END), 0) AS expired,
	COALESCE(SUM(CASE WHEN revoked_at IS NOT NULL THEN 1 ELSE 0 END), 0) AS revoked
FROM ginjwt_tokens`

// logStatsQuery counts the revocation log's rows, and those still live.
const logStatsQuery = `
SELECT COUNT(*) AS revocation_log,
	COALESCE(SUM(CASE WHEN until > ? THEN 1 ELSE 0 END), 0) AS revocation_log_live
FROM ginjwt_revocations`

// Stats counts the registry's tokens, sessions, pending registrations and
// revocation log rows, in a few reads (each table is scanned once; they are
// not one snapshot). It fails with a wrapped error when the database fails.
func (r *Registry) Stats(ctx context.Context) (Stats, error) {
	now := r.now()
	s := Stats{At: now}
	db := r.db.WithContext(ctx)
	var tokens struct{ Tokens, Active, Expired, Revoked int64 }
	if err := db.Raw(tokenStatsQuery, now, now).Scan(&tokens).Error; err != nil {
		return Stats{}, fmt.Errorf("registry: stats: %w", err)
	}
	s.Tokens, s.Active, s.Expired, s.Revoked = tokens.Tokens, tokens.Active, tokens.Expired, tokens.Revoked
	err := db.Model(&Token{}).Scopes(Active(now)).Where("type <> ?", "access").
		Distinct("session_id").Count(&s.Sessions).Error
	if err != nil {
		return Stats{}, fmt.Errorf("registry: stats: %w", err)
	}
	if err := db.Model(&PendingRegistration{}).Count(&s.Pending).Error; err != nil {
		return Stats{}, fmt.Errorf("registry: stats: %w", err)
	}
	if s.Pending > 0 {
		var oldest PendingRegistration
		err := db.Select("created_at").Order("created_at").Take(&oldest).Error
		switch {
		case err == nil:
			s.OldestPending = &oldest.CreatedAt
		case !errors.Is(err, gorm.ErrRecordNotFound): // landed since the count
			return Stats{}, fmt.Errorf("registry: stats: %w", err)
		}
	}
	var log struct{ RevocationLog, RevocationLogLive int64 }
	if err := db.Raw(logStatsQuery, now).Scan(&log).Error; err != nil {
		return Stats{}, fmt.Errorf("registry: stats: %w", err)
	}
	s.RevocationLog, s.RevocationLogLive = log.RevocationLog, log.RevocationLogLive
	return s, nil
}
