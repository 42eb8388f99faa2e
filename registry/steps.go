package registry

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/ginjwt/ginjwt/pipeline"
)

// RegisterPairs is the pipeline step that records the event's tokens with
// their parent links, in the registration transaction of ctx (see InTx) or
// one of its own. It is idempotent: a token already recorded (by an earlier
// step, a retry, or the refresh that rotated it) is left as it is. When ctx
// ends under it, its error matches ctx's error. Its method value is a
// [pipeline.Step]. Once they are recorded, it notes each token's session as
// used at the token's issue time (see [Registry.TouchToken]).
func (r *Registry) RegisterPairs(ctx context.Context, e *pipeline.Event) error {
	var err error
	if inTx(ctx) {
		_, err = register(r.Conn(ctx), e.Pairs, r.now())
	} else {
		err = r.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			_, err := register(tx, e.Pairs, r.now())
			return err
		})
	}
	if err != nil {
		return stepError(ctx, err)
	}
	r.noteIssued(e.Pairs)
	return nil
}

// ConnectUser is the pipeline step that connects the event's tokens to the
// event's user. Events without a user are left alone. Tokens must be
// recorded first (RegisterPairs runs before it in the default pipeline).
// It is idempotent; when ctx ends under it, its error matches ctx's error.
func (r *Registry) ConnectUser(ctx context.Context, e *pipeline.Event) error {
	if e.UserID == "" {
		return nil
	}
	tokens := e.Tokens()
	jtis := make([]string, 0, len(tokens))
	for _, t := range tokens {
		jtis = append(jtis, t.ID)
	}
	// One statement: the IDs come from the tokens table itself.
	err := r.Conn(ctx).Exec(`INSERT INTO ginjwt_token_users (token_id, user_id, created_at)
		SELECT id, ?, ? FROM ginjwt_tokens WHERE jti IN ? ON CONFLICT (token_id, user_id) DO NOTHING`,
		e.UserID, r.now(), jtis).Error
	if err == nil {
		// The SQLite driver skips a statement whose context ends as it
		// starts and reports success (glebarez/go-sqlite's exec): whether
		// it ran is unknown, so say the context ended (a replay is safe).
		err = ctx.Err()
	}
	if err != nil {
		return stepError(ctx, fmt.Errorf("registry: connect user: %w", err))
	}
	return nil
}

// stepError returns err, made to match ctx's error too when ctx has ended:
// a statement cut short by a cancellation fails with the driver's words
// ("bad connection", "interrupted", "transaction has already been
// committed or rolled back", an i/o timeout), and the Runner and the
// request must still see that the context ended, not a database fault.
func stepError(ctx context.Context, err error) error {
	if err == nil || ctx.Err() == nil || errors.Is(err, ctx.Err()) {
		return err
	}
	return fmt.Errorf("%w (%w)", err, ctx.Err())
}

// register records the tokens of pairs, each after its parent whatever the
// order of the pairs, and returns their registry IDs by jti. A token
// recorded earlier without its parent (by Record, or by a refresh that came
// before its registration) gets the link now. A fresh login costs one
// INSERT per token: nothing is looked up first.
func register(tx *gorm.DB, pairs []pipeline.Pair, now time.Time) (map[string]int64, error) {
	e := pipeline.Event{Pairs: pairs}
	tokens := e.Tokens()
	parentOf := map[string]string{}
	for _, p := range pairs {
		if p.Parent != nil {
			parentOf[p.Child.ID] = p.Parent.ID
		}
	}
	ids := make(map[string]int64, len(tokens))
	// Record parents before children: each pass records the tokens whose
	// parent is recorded (every parent is one of the event's tokens); a
	// pass that records nothing would mean a cycle, which jtis cannot form.
	pending := tokens
	for len(pending) > 0 {
		var later []pipeline.Token
		for _, t := range pending {
			parentJTI := parentOf[t.ID]
			parentID, parentKnown := ids[parentJTI]
			if parentJTI != "" && !parentKnown {
				later = append(later, t)
				continue
			}
			id, err := recordToken(tx, t, parentID, parentKnown, now)
			if err != nil {
				return nil, err
			}
			ids[t.ID] = id
		}
		if len(later) == len(pending) {
			return nil, fmt.Errorf("registry: record tokens: the pairs' parent links form a cycle")
		}
		pending = later
	}
	return ids, nil
}

// recordToken inserts one token, or, when it is recorded already, links
// it to its parent if it has none yet; it returns the token's ID.
func recordToken(tx *gorm.DB, t pipeline.Token, parentID int64, hasParent bool, now time.Time) (int64, error) {
	id, inserted, err := insertToken(tx, t, parentID, hasParent, now)
	if err != nil || inserted || !hasParent {
		return id, err
	}
	err = tx.Model(&Token{}).Where("id = ? AND parent_id IS NULL AND id <> ?", id, parentID).Update("parent_id", parentID).Error
	if err != nil {
		return 0, fmt.Errorf("registry: link token: %w", err)
	}
	return id, nil
}

// insertToken records one token, returning its ID and true, or the ID of
// the row recorded before and false.
func insertToken(tx *gorm.DB, t pipeline.Token, parentID int64, hasParent bool, now time.Time) (int64, bool, error) {
	row := Token{
		JTI: t.ID, Type: t.Type, SessionID: t.SessionID,
		IssuedAt: dbTime(t.IssuedAt), ExpiresAt: dbTime(t.ExpiresAt), Generation: t.Generation, CreatedAt: now,
	}
	if hasParent {
		row.ParentID = &parentID
	}
	res := tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "jti"}}, DoNothing: true}).Create(&row)
	if res.Error != nil {
		return 0, false, fmt.Errorf("registry: record token: %w", res.Error)
	}
	if res.RowsAffected > 0 {
		return row.ID, true, nil
	}
	var existing Token
	if err := tx.Select("id").Where("jti = ?", t.ID).Take(&existing).Error; err != nil {
		return 0, false, fmt.Errorf("registry: record token: %w", err)
	}
	return existing.ID, false, nil
}

// connectUser connects the tokens with these IDs to a user.
func connectUser(tx *gorm.DB, ids map[string]int64, userID string, now time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	rows := make([]TokenUserConnection, 0, len(ids))
	for _, id := range ids {
		rows = append(rows, TokenUserConnection{TokenID: id, UserID: userID, CreatedAt: now})
	}
	err := tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "token_id"}, {Name: "user_id"}}, DoNothing: true}).Create(&rows).Error
	if err != nil {
		return fmt.Errorf("registry: connect user: %w", err)
	}
	return nil
}

// Record returns the registry's row for token, recording it (and connecting
// it to token.UserID) first when it is not known yet: a token issued before
// the registry was on, or whose registration is still queued.
func (r *Registry) Record(ctx context.Context, token pipeline.Token) (*Token, error) {
	var row Token
	err := r.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		now := r.now()
		ids, err := register(tx, []pipeline.Pair{{Child: token}}, now)
		if err != nil {
			return err
		}
		if token.UserID != "" {
			if err := connectUser(tx, ids, token.UserID, now); err != nil {
				return err
			}
		}
		return tx.Where("id = ?", ids[token.ID]).Take(&row).Error
	})
	if err != nil {
		return nil, fmt.Errorf("registry: record: %w", err)
	}
	return &row, nil
}
