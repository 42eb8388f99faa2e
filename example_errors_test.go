package ginjwt_test

import (
	"errors"
	"fmt"

	"github.com/gin-gonic/gin"

	"github.com/ginjwt/ginjwt"
)

// Every error ginjwt returns wraps one of its sentinels: test with
// errors.Is, and turn any error into the HTTP status and stable code ginjwt
// itself would answer with StatusOf.
func ExampleStatusOf() {
	auth, err := ginjwt.Mount(gin.New(), ginjwt.Config{
		SigningKey: []byte("an example secret of 32+ bytes!!"),
		Users:      setup(),
	})
	if err != nil {
		panic(err)
	}
	// A token that arrived outside HTTP, say in a WebSocket message.
	_, err = auth.ParseToken("not.a.token")
	switch {
	case errors.Is(err, ginjwt.ErrTokenExpired):
		fmt.Println("ask the client to refresh")
	case errors.Is(err, ginjwt.ErrTokenInvalid):
		fmt.Println("refuse it")
	}
	status, code := ginjwt.StatusOf(err)
	fmt.Println(status, code)

	// Errors of the application's own become 500 internal_error: their
	// text never reaches a client.
	fmt.Println(ginjwt.StatusOf(errors.New("the cache is down")))
	// Output:
	// refuse it
	// 401 token_invalid
	// 500 internal_error
}
