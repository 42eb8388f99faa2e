package registry

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm/clause"
)

// heartbeat is the one-row table [Registry.Ping] writes to.
type heartbeat struct {
	ID int64     `gorm:"column:id;primaryKey;autoIncrement:false"`
	At time.Time `gorm:"column:at;not null"`
}

func (heartbeat) TableName() string { return "ginjwt_heartbeat" }

// Ping writes one row and reports whether the registry can write: it fails
// while the database is down, read-only (a read-only file, a standby) or
// out of space for that write, and succeeds again as soon as it can. A load
// balancer's health check calls it through ginjwt's Auth.Health.
func (r *Registry) Ping(ctx context.Context) error {
	row := heartbeat{ID: 1, At: r.now()}
	err := r.db.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "id"}},
		DoUpdates: clause.AssignmentColumns([]string{"at"}),
	}).Create(&row).Error
	if err != nil {
		return fmt.Errorf("registry: ping: %w", err)
	}
	return nil
}
