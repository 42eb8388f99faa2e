package registry

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/ginjwt/ginjwt/pipeline"
)

// PendingRegistration is a journal entry of the asynchronous pipeline: an
// event whose tokens were handed out and whose registration has not landed
// yet. It is deleted in the transaction that registers the event.
type PendingRegistration struct {
	ID        int64     `gorm:"column:id;primaryKey;autoIncrement"`
	UserID    string    `gorm:"column:user_id;size:64;not null;default:'';index:idx_ginjwt_pending_user"`
	Event     string    `gorm:"column:event;not null"`
	CreatedAt time.Time `gorm:"column:created_at;not null;index:idx_ginjwt_pending_created"`
}

// TableName is "ginjwt_pending_registrations".
func (PendingRegistration) TableName() string { return "ginjwt_pending_registrations" }

// Journal returns the pipeline journal that keeps asynchronous
// registrations in the registry's database (see [pipeline.Journal]): one
// INSERT before the answer, deleted with the registration itself.
func (r *Registry) Journal() pipeline.Journal { return journal{r} }

type journal struct{ r *Registry }

// Save inserts the event, in one statement of its own.
func (j journal) Save(ctx context.Context, e *pipeline.Event) (int64, error) {
	b, err := json.Marshal(e)
	if err != nil {
		return 0, fmt.Errorf("registry: journal: %w", err)
	}
	row := PendingRegistration{UserID: e.UserID, Event: string(b), CreatedAt: j.r.now()}
	if err := j.r.db.WithContext(ctx).Create(&row).Error; err != nil {
		return 0, fmt.Errorf("registry: journal: %w", err)
	}
	return row.ID, nil
}

// Settle deletes the entry in the registration transaction of ctx.
func (j journal) Settle(ctx context.Context, key int64) error {
	if err := j.r.Conn(ctx).Where("id = ?", key).Delete(&PendingRegistration{}).Error; err != nil {
		return fmt.Errorf("registry: journal: %w", err)
	}
	return nil
}

// Pending reads the oldest entries after the key after saved before before.
func (j journal) Pending(ctx context.Context, after int64, before time.Time, userID string, limit int) ([]pipeline.Saved, error) {
	q := j.r.db.WithContext(ctx).Where("id > ? AND created_at < ?", after, dbTime(before))
	if userID != "" {
		q = q.Where("user_id = ?", userID)
	}
	var rows []PendingRegistration
	if err := q.Order("id").Limit(limit).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("registry: journal: %w", err)
	}
	out := make([]pipeline.Saved, 0, len(rows))
	for _, row := range rows {
		s := pipeline.Saved{Key: row.ID}
		if err := json.Unmarshal([]byte(row.Event), &s.Event); err != nil {
			// Written by this package, so never; if it happens, the entry
			// cannot be replayed and must not block the ones after it.
			j.r.log.ErrorContext(ctx, "ginjwt registry: a journal entry cannot be read; deleting it", "id", row.ID, "error", err)
			_ = j.r.db.WithContext(ctx).Where("id = ?", row.ID).Delete(&PendingRegistration{}).Error
			continue
		}
		out = append(out, s)
	}
	return out, nil
}

// PendingCount is how many registrations are journaled and not landed yet,
// for health checks and the admin pages.
func (r *Registry) PendingCount(ctx context.Context) (int64, error) {
	var n int64
	if err := r.db.WithContext(ctx).Model(&PendingRegistration{}).Count(&n).Error; err != nil {
		return 0, fmt.Errorf("registry: journal: %w", err)
	}
	return n, nil
}
