package registry

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// ArchiveBatch is how many tokens one archiver transaction deletes: small
// enough that no transaction holds its locks for long, large enough that a
// million rows take a few hundred statements.
const ArchiveBatch = 1000

// Archive deletes the tokens that expired before before, with their user
// connections and the rows of other packages registered with OnArchive, in
// transactions of ArchiveBatch tokens, and the revocation log entries that
// no longer matter. It returns how many tokens it deleted. Children of an
// archived token that are still alive keep their place, with no parent.
// It stops early, returning what it did, when ctx ends.
func (r *Registry) Archive(ctx context.Context, before time.Time) (int, error) {
	return r.ArchiveWithProgress(ctx, before, nil)
}

// ArchiveProgress is what [Registry.ArchiveWithProgress] reports after each
// transaction.
type ArchiveProgress struct {
	// Expected is how many tokens had expired before the cut-off when the
	// run began (counted once; tokens archived concurrently by another
	// process make the run end below it).
	Expected int64
	// Tokens is how many tokens the run has deleted so far.
	Tokens int
	// Batches is how many token transactions have committed so far.
	Batches int
	// RevocationLog is how many revocation log entries past their Until the
	// run has deleted so far (they go after the tokens).
	RevocationLog int
}

// ArchiveWithProgress is [Registry.Archive] that calls report, when not
// nil, after each transaction it commits, from the calling goroutine: a
// long run can show how far it is. Before the first batch it counts the
// tokens to delete, for ArchiveProgress.Expected (one read more than
// Archive).
func (r *Registry) ArchiveWithProgress(ctx context.Context, before time.Time, report func(ArchiveProgress)) (int, error) {
	before = dbTime(before)
	r.mu.Lock()
	hooks := append([]ArchiveHook(nil), r.archiveHooks...)
	r.mu.Unlock()
	var p ArchiveProgress
	if report == nil {
		report = func(ArchiveProgress) {}
	} else if err := r.db.WithContext(ctx).Model(&Token{}).Where("expires_at < ?", before).Count(&p.Expected).Error; err != nil {
		return 0, fmt.Errorf("registry: archive: %w", err)
	}
	for {
		if err := ctx.Err(); err != nil {
			return p.Tokens, err
		}
		var ids []int64
		err := r.db.WithContext(ctx).Model(&Token{}).Where("expires_at < ?", before).
			Order("id").Limit(ArchiveBatch).Pluck("id", &ids).Error
		if err != nil {
			return p.Tokens, fmt.Errorf("registry: archive: %w", err)
		}
		if len(ids) == 0 {
			break
		}
		err = r.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			for _, h := range hooks {
				if err := h(tx, ids); err != nil {
					return err
				}
			}
			if err := tx.Where("token_id IN ?", ids).Delete(&TokenUserConnection{}).Error; err != nil {
				return err
			}
			if err := tx.Model(&Token{}).Where("parent_id IN ?", ids).Update("parent_id", nil).Error; err != nil {
				return err
			}
			return tx.Where("id IN ?", ids).Delete(&Token{}).Error
		})
		if err != nil {
			return p.Tokens, fmt.Errorf("registry: archive: %w", err)
		}
		p.Tokens += len(ids)
		p.Batches++
		report(p)
		if len(ids) < ArchiveBatch {
			break
		}
	}
	now := r.now()
	for {
		var ids []int64
		err := r.db.WithContext(ctx).Model(&Revocation{}).Where("until < ?", now).Limit(ArchiveBatch).Pluck("id", &ids).Error
		if err != nil {
			return p.Tokens, fmt.Errorf("registry: archive the revocation log: %w", err)
		}
		if len(ids) == 0 {
			return p.Tokens, nil
		}
		if err := r.db.WithContext(ctx).Where("id IN ?", ids).Delete(&Revocation{}).Error; err != nil {
			return p.Tokens, fmt.Errorf("registry: archive the revocation log: %w", err)
		}
		p.RevocationLog += len(ids)
		report(p)
	}
}

func (r *Registry) archiveLoop(ctx context.Context) {
	every(ctx, r.opts.ArchiveEvery, nil, func(ctx context.Context) {
		n, err := r.Archive(ctx, r.opts.Clock().Add(-r.opts.ArchiveAfter))
		switch {
		case err != nil && ctx.Err() == nil:
			r.log.WarnContext(ctx, "ginjwt registry: archive failed", "error", err, "deleted", n)
		case n > 0:
			r.log.InfoContext(ctx, "ginjwt registry: archived expired tokens", "deleted", n)
		}
	})
}
