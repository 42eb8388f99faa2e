package users_test

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/ginjwt/ginjwt/database"
	_ "github.com/ginjwt/ginjwt/database/sqlite" // links SQLite into database.Open
	"github.com/ginjwt/ginjwt/users"
)

func ExampleHashPassword() {
	encoded, err := users.HashPassword("correct horse battery staple", users.DefaultParams)
	if err != nil {
		panic(err)
	}
	// The salt and the key after the parameters differ on every call.
	fields := strings.Split(encoded, "$")
	fmt.Println(strings.Join(fields[:4], "$") + "$")

	ok, err := users.CheckPassword(encoded, "correct horse battery staple")
	fmt.Println(ok, err)
	ok, err = users.CheckPassword(encoded, "Tr0ub4dor&3")
	fmt.Println(ok, err)
	// Output:
	// $argon2id$v=19$m=19456,t=2,p=1$
	// true <nil>
	// false <nil>
}

func ExampleStore() {
	ctx := context.Background()
	db, err := database.Open("sqlite::memory:")
	if err != nil {
		panic(err)
	}
	if err := users.Migrate(ctx, db); err != nil {
		panic(err)
	}
	store := users.NewStore(db)

	u := users.NewUser("alice")
	u.Email = "Alice@Example.com"
	u.Perms = users.Perms{"orders.view"}
	if err := store.Create(ctx, u, "correct horse battery staple"); err != nil {
		panic(err)
	}

	// Log in by username or, case-insensitively, by e-mail.
	for _, login := range []string{"alice", "ALICE@example.com"} {
		got, err := store.Authenticate(ctx, login, "correct horse battery staple")
		fmt.Println(got.Username, got.HasPerms("orders.view"), err)
	}
	_, err = store.Authenticate(ctx, "alice", "wrong")
	fmt.Println(errors.Is(err, users.ErrInvalidCredentials))
	_, err = store.Authenticate(ctx, "nobody", "wrong")
	fmt.Println(errors.Is(err, users.ErrInvalidCredentials))

	err = store.Create(ctx, users.NewUser("alice"), "another password")
	fmt.Println(errors.Is(err, users.ErrDuplicate), err)
	// Output:
	// alice true <nil>
	// alice true <nil>
	// true
	// true
	// true users: username: already taken
}
