package device

import (
	"errors"
	"fmt"
	"strings"

	"gorm.io/gorm"

	"github.com/ginjwt/ginjwt/registry"
)

// archive is the device registry's archive hook: in the archiver's
// transaction, it deletes the connections of the tokens being archived,
// then the interlocutors and networks those connections used that no other
// connection uses.
//
// A login may connect a token to one of those rows at the same moment. On
// PostgreSQL the login's insert locks the rows it connects to (FOR KEY
// SHARE, see insertConnections) and this delete skips locked rows (FOR
// UPDATE SKIP LOCKED), so neither waits for nor breaks the other; a login
// that comes after a delete finds the row gone and records it again. What
// the database still refuses — a connection committed between this
// statement's snapshot and its lock, which the foreign key catches — rolls
// back only this sweep (a savepoint), never the archiving of the tokens,
// and the sweep is made again, up to three times. On SQLite writers take turns,
// and none of this can interleave.
func (d *Registry) archive(tx *gorm.DB, tokenIDs []int64) error {
	var interlocutors, networks []int64
	err := tx.Model(&TokenInterlocutorConnection{}).Where("token_id IN ?", tokenIDs).
		Distinct().Pluck("interlocutor_id", &interlocutors).Error
	if err != nil {
		return fmt.Errorf("device: archive: %w", err)
	}
	err = tx.Model(&TokenInterlocutorConnection{}).Where("token_id IN ? AND network_id IS NOT NULL", tokenIDs).
		Distinct().Pluck("network_id", &networks).Error
	if err != nil {
		return fmt.Errorf("device: archive: %w", err)
	}
	if err := tx.Where("token_id IN ?", tokenIDs).Delete(&TokenInterlocutorConnection{}).Error; err != nil {
		return fmt.Errorf("device: archive: %w", err)
	}
	if len(interlocutors)+len(networks) == 0 {
		return nil
	}
	deleted := false
	sweep := func(sp *gorm.DB) error {
		for _, t := range []struct {
			table, column string
			ids           []int64
		}{
			{"ginjwt_interlocutors", "interlocutor_id", interlocutors},
			{"ginjwt_interlocutor_networks", "network_id", networks},
		} {
			for len(t.ids) > 0 {
				batch := t.ids[:min(len(t.ids), registry.ArchiveBatch)]
				t.ids = t.ids[len(batch):]
				n, err := deleteUnused(sp, t.table, t.column, batch)
				if err != nil {
					return err
				}
				deleted = deleted || n > 0
			}
		}
		return nil
	}
	// A refusal rolls back the sweep to its savepoint; the next statement
	// takes a new snapshot (READ COMMITTED), in which the login that raced
	// it has committed and its row is no longer unused: sweep again, so
	// the other unused rows of the batch go now rather than never (a later
	// run sweeps only the rows its own tokens used).
	for range 3 {
		deleted = false
		if err = tx.Transaction(sweep); err == nil || !foreignKeyViolation(err) {
			break
		}
	}
	if err != nil && !foreignKeyViolation(err) {
		return fmt.Errorf("device: archive unused interlocutors and networks: %w", err)
	}
	if deleted && err == nil {
		d.ids.forget() // the IDs this instance remembers may be gone
	}
	return nil
}

// deleteUnused deletes the rows of table among ids that no connection
// refers to by column, skipping rows a concurrent login holds locked on
// PostgreSQL.
func deleteUnused(db *gorm.DB, table, column string, ids []int64) (int64, error) {
	locking := ""
	if db.Dialector.Name() == "postgres" {
		locking = " FOR UPDATE SKIP LOCKED"
	}
	res := db.Exec(`DELETE FROM `+table+` WHERE id IN (
	SELECT r.id FROM `+table+` r WHERE r.id IN ?
	AND NOT EXISTS (SELECT 1 FROM ginjwt_token_interlocutors c WHERE c.`+column+` = r.id)`+locking+`)`, ids)
	return res.RowsAffected, res.Error
}

// foreignKeyViolation reports whether err is a foreign key's refusal
// (SQLSTATE 23503 on PostgreSQL; SQLite says so in words).
func foreignKeyViolation(err error) bool {
	for e := err; e != nil; e = errors.Unwrap(e) {
		if c, ok := e.(interface{ SQLState() string }); ok && c.SQLState() == "23503" {
			return true
		}
	}
	msg := strings.ToLower(err.Error())
	return strings.Contains(msg, "23503") || strings.Contains(msg, "foreign key constraint")
}
