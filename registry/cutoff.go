package registry

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/ginjwt/ginjwt/pipeline"
)

// Generation is one user's cut-off counter: every token carries the
// generation its session was issued under, and a cut-off ("log out
// everywhere", a password change, a deactivation) raises it by one. A token
// whose generation is below its user's is refused.
//
// The ordering is the database's: the raise commits in the cut-off's own
// transaction, a login reads the generation when it issues a session, and a
// refresh re-reads it inside its transaction. A session issued before the
// cut-off commits carries the old generation — whatever the clocks of the
// instances say — and so does anything it refreshes into, so no token
// minted while a cut-off commits outlives it.
//
// Rows are never deleted: a generation that went back to 0 would revive the
// tokens it cut off.
type Generation struct {
	UserID     string    `gorm:"column:user_id;size:64;primaryKey"`
	Generation int64     `gorm:"column:generation;not null;default:0"`
	UpdatedAt  time.Time `gorm:"column:updated_at;not null"`
}

// TableName is "ginjwt_user_generations".
func (Generation) TableName() string { return "ginjwt_user_generations" }

// Generation returns the user's current cut-off generation: 0 for a user
// never cut off. Issue new sessions under it.
func (r *Registry) Generation(ctx context.Context, userID string) (int64, error) {
	return readGeneration(r.db.WithContext(ctx), userID, false)
}

// readGeneration reads the user's generation in db; share locks the row on
// PostgreSQL, so a cut-off that raises it waits for the reader's
// transaction to end (SQLite serialises write transactions anyway).
func readGeneration(db *gorm.DB, userID string, share bool) (int64, error) {
	var gens []int64
	q := db.Model(&Generation{}).Where("user_id = ?", userID)
	if share && db.Dialector.Name() == "postgres" {
		q = q.Clauses(clause.Locking{Strength: "SHARE"})
	}
	if err := q.Pluck("generation", &gens).Error; err != nil {
		return 0, fmt.Errorf("registry: read the user's generation: %w", err)
	}
	if len(gens) == 0 {
		return 0, nil
	}
	return gens[0], nil
}

// raiseGeneration adds one to the user's generation in tx and returns the
// new value.
func raiseGeneration(tx *gorm.DB, userID string, now time.Time) (int64, error) {
	var gen int64
	err := tx.Raw(`INSERT INTO ginjwt_user_generations (user_id, generation, updated_at) VALUES (?, 1, ?)
		ON CONFLICT (user_id) DO UPDATE SET generation = ginjwt_user_generations.generation + 1, updated_at = excluded.updated_at
		RETURNING generation`, userID, now).Scan(&gen).Error
	if err != nil {
		return 0, fmt.Errorf("registry: cut off user: %w", err)
	}
	return gen, nil
}

// CutOffUser refuses every token of the user issued before this call
// commits — every session on every device — and leaves the sessions issued
// after it alone ("log out everywhere"). It takes effect in this instance
// when it returns; a refresh is refused at once on every instance (it reads
// the generation in its transaction); access tokens are refused by other
// instances when they read the log (LISTEN on PostgreSQL, or within
// Options.Resync).
func (r *Registry) CutOffUser(ctx context.Context, userID string) error {
	return r.revoke(ctx, func(v *revocation) error { return v.user(userID, v.now) })
}

// CutOffInTx is CutOffUser inside the caller's transaction: the users
// store runs it when a password changes or an account is deactivated, so
// the change and the cut-off commit together. at is recorded for people;
// the cut-off itself is ordered by its commit. The returned function
// applies the cut-off to this instance's view and must run after tx
// commits.
func (r *Registry) CutOffInTx(ctx context.Context, tx *gorm.DB, userID string, at time.Time) (afterCommit func(), err error) {
	v, err := r.cutOffInTx(ctx, tx, userID, at)
	if err != nil {
		return nil, err
	}
	return v.apply, nil
}

// cutOffInTx writes the cut-off in tx and returns the revocation, to be
// applied once tx has committed.
func (r *Registry) cutOffInTx(ctx context.Context, tx *gorm.DB, userID string, at time.Time) (*revocation, error) {
	v := r.begin(tx.WithContext(ctx), r.now())
	if err := v.user(userID, dbTime(at)); err != nil {
		return nil, err
	}
	if err := v.write(); err != nil {
		return nil, err
	}
	return v, nil
}

// RevokedInDB is [Registry.Revoked] that also asks the database: the
// token's own row (a rotated-out refresh token has no entry in memory) and
// its user's current generation (a cut-off on another instance that this
// one has not heard of yet). For answers that must not lag, such as
// verifying a refresh token.
func (r *Registry) RevokedInDB(ctx context.Context, t *pipeline.Token) (bool, error) {
	if _, revoked, err := r.RevokedContext(ctx, t); err != nil || revoked {
		return revoked, err
	}
	var rows []Token
	if err := r.db.WithContext(ctx).Select("revoked_at").Where("jti = ?", t.ID).Limit(1).Find(&rows).Error; err != nil {
		return false, fmt.Errorf("registry: check token: %w", err)
	}
	if len(rows) > 0 && rows[0].RevokedAt != nil {
		return true, nil
	}
	gen, err := readGeneration(r.db.WithContext(ctx), t.UserID, false)
	if err != nil {
		return false, err
	}
	return t.Generation < gen, nil
}
