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
	before = dbTime(before)
	r.mu.Lock()
	hooks := append([]ArchiveHook(nil), r.archiveHooks...)
	r.mu.Unlock()
	deleted := 0
	for {
		if err := ctx.Err(); err != nil {
			return deleted, err
		}
		var ids []int64
		err := r.db.WithContext(ctx).Model(&Token{}).Where("expires_at < ?", before).
			Order("id").Limit(ArchiveBatch).Pluck("id", &ids).Error
		if err != nil {
			return deleted, fmt.Errorf("registry: archive: %w", err)
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
			return deleted, fmt.Errorf("registry: archive: %w", err)
		}
		deleted += len(ids)
		if len(ids) < ArchiveBatch {
			break
		}
	}
	now := r.now()
	for {
		var ids []int64
		err := r.db.WithContext(ctx).Model(&Revocation{}).Where("until < ?", now).Limit(ArchiveBatch).Pluck("id", &ids).Error
		if err != nil {
			return deleted, fmt.Errorf("registry: archive the revocation log: %w", err)
		}
		if len(ids) == 0 {
			return deleted, nil
		}
		if err := r.db.WithContext(ctx).Where("id IN ?", ids).Delete(&Revocation{}).Error; err != nil {
			return deleted, fmt.Errorf("registry: archive the revocation log: %w", err)
		}
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
