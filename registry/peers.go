package registry

import (
	"context"
	"slices"
	"sync"
	"time"

	"gorm.io/gorm"

	"github.com/ginjwt/ginjwt/internal/dbkey"
	"github.com/ginjwt/ginjwt/users"
)

// peers are the started registries of this process on one database. They
// share one cut-off, set for every users.Store on that database: the first
// of them writes it and all of them apply it to their memory at once, so a
// password change or a deactivation through any Store refuses the user's
// older tokens in every registry of the process without waiting for a
// resync.
type peers struct {
	mu     sync.Mutex
	list   []*Registry
	remove func()
}

var peersByDB = struct {
	sync.Mutex
	m map[any]*peers // by dbkey
}{m: map[any]*peers{}}

// join adds r to the peers of its database, setting their cut-off when r
// is the first.
func (r *Registry) join() {
	peersByDB.Lock()
	defer peersByDB.Unlock()
	key := dbkey.Of(r.db)
	p := peersByDB.m[key]
	if p == nil {
		p = &peers{}
		p.remove = users.SetDatabaseCutOff(r.db, p.cutOff)
		peersByDB.m[key] = p
	}
	p.mu.Lock()
	p.list = append(p.list, r)
	p.mu.Unlock()
}

// leave removes r from its peers, removing their cut-off when r was the
// last.
func (r *Registry) leave() {
	peersByDB.Lock()
	defer peersByDB.Unlock()
	key := dbkey.Of(r.db)
	p := peersByDB.m[key]
	if p == nil {
		return
	}
	p.mu.Lock()
	p.list = slices.DeleteFunc(p.list, func(x *Registry) bool { return x == r })
	empty := len(p.list) == 0
	p.mu.Unlock()
	if empty {
		p.remove()
		delete(peersByDB.m, key)
	}
}

// cutOff is a users.CutOffHook: the first peer cuts the user off in tx, and
// once tx has committed every peer applies it.
func (p *peers) cutOff(ctx context.Context, tx *gorm.DB, userID string, at time.Time) (func(), error) {
	p.mu.Lock()
	list := slices.Clone(p.list)
	p.mu.Unlock()
	if len(list) == 0 {
		return nil, nil
	}
	v, err := list[0].cutOffInTx(ctx, tx, userID, at)
	if err != nil {
		return nil, err
	}
	return func() {
		for _, r := range list {
			r.view.apply(v.rows, v.now)
		}
	}, nil
}
