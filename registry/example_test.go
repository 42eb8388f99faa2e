package registry_test

import (
	"context"
	"fmt"
	"time"

	"github.com/ginjwt/ginjwt/database"
	_ "github.com/ginjwt/ginjwt/database/sqlite" // links SQLite into database.Open
	"github.com/ginjwt/ginjwt/pipeline"
	"github.com/ginjwt/ginjwt/registry"
)

// Querying the registry: a user's active sessions, and the tokens of one
// session as a tree. ginjwt's Mount records tokens through the same steps
// on every login and refresh; here they are run by hand.
func ExampleRegistry_Sessions() {
	ctx := context.Background()
	db, err := database.Open("sqlite::memory:")
	if err != nil {
		panic(err)
	}
	if err := registry.Migrate(ctx, db); err != nil {
		panic(err)
	}
	reg, err := registry.New(db, registry.Options{MaxLifetime: 24 * time.Hour})
	if err != nil {
		panic(err)
	}

	// A login: a refresh token (the session's root) and an access token.
	now := time.Now()
	refresh := pipeline.Token{ID: "r1", Type: "refresh", SessionID: "r1", UserID: "u-1", IssuedAt: now, ExpiresAt: now.Add(24 * time.Hour)}
	access := pipeline.Token{ID: "a1", Type: "access", SessionID: "r1", UserID: "u-1", IssuedAt: now, ExpiresAt: now.Add(5 * time.Minute)}
	login := pipeline.NewRunner([]pipeline.Step{reg.RegisterPairs, reg.ConnectUser}, pipeline.Options{Wrap: reg.InTx})
	err = login.Run(ctx, &pipeline.Event{Kind: pipeline.Obtained, UserID: "u-1", Time: now,
		Pairs: []pipeline.Pair{{Child: refresh}, {Child: access, Parent: &refresh}}})
	if err != nil {
		panic(err)
	}

	sessions, err := reg.Sessions(ctx, "u-1")
	if err != nil {
		panic(err)
	}
	for _, s := range sessions {
		fmt.Println("session", s.ID)
	}
	root, err := reg.FindByJTI(ctx, "r1")
	if err != nil {
		panic(err)
	}
	tree, err := reg.CollectTree(ctx, root.ID)
	if err != nil {
		panic(err)
	}
	fmt.Println("tokens in its tree:", len(tree))

	// Log the session out: every token of the tree is refused.
	if err := reg.RevokeSession(ctx, "r1", registry.ReasonLogout); err != nil {
		panic(err)
	}
	fmt.Println("access token revoked:", reg.Revoked(&access))
	// Output:
	// session r1
	// tokens in its tree: 2
	// access token revoked: true
}
