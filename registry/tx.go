package registry

import (
	"context"
	"sync"

	"gorm.io/gorm"
)

// txKey carries a registration transaction in a context.
type txKey struct{}

// txState is the transaction of a pipeline run, and what to do once it
// commits.
type txState struct {
	tx    *gorm.DB
	mu    sync.Mutex
	after []func()
}

// InTx runs fn inside one database transaction that the registry's steps
// (RegisterPairs, ConnectUser, and the device registry's
// ConnectInterlocutor) find in fn's context and use: a login's tokens and
// their connections land together, with one commit instead of one per step.
// The pipeline.Options.Wrap of ginjwt's default pipeline is this method.
// Functions registered with AfterCommit run once the transaction commits.
// When ctx ends under it, its error also matches ctx's error.
func (r *Registry) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	st := &txState{}
	err := r.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		st.tx = tx
		return fn(context.WithValue(ctx, txKey{}, st))
	})
	if err != nil {
		return stepError(ctx, err)
	}
	for _, f := range st.after {
		f()
	}
	return nil
}

// Conn returns the database handle a step should use in ctx: the
// registration transaction when the step runs inside InTx, the registry's
// database otherwise.
func (r *Registry) Conn(ctx context.Context) *gorm.DB {
	if st, ok := ctx.Value(txKey{}).(*txState); ok {
		return st.tx
	}
	return r.db.WithContext(ctx)
}

// inTx reports whether ctx carries a registration transaction.
func inTx(ctx context.Context) bool {
	_, ok := ctx.Value(txKey{}).(*txState)
	return ok
}

// AfterCommit runs f once the registration transaction of ctx commits, or
// at once when ctx carries none: for side effects (events, e-mails) that
// must not happen for a registration that is rolled back.
func AfterCommit(ctx context.Context, f func()) {
	st, ok := ctx.Value(txKey{}).(*txState)
	if !ok {
		f()
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	st.after = append(st.after, f)
}
