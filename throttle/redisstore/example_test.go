package redisstore_test

import (
	"github.com/gin-gonic/gin"
	"github.com/redis/go-redis/v9"

	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/throttle/redisstore"
)

// Several instances of an application count failed logins in one Redis:
// together they allow the guesses one instance allows.
func Example() {
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	defer client.Close()
	cfg := ginjwt.Config{
		SigningKey: []byte("a secret of at least 32 random bytes!"),
		Users:      nil, // your user store, or DB for the default one
		Limits:     ginjwt.Limits{Throttle: ginjwt.Throttle{Store: redisstore.New(client, "myapp:")}},
	}
	cfg.Routes.Paths.Obtain = "-" // (no user store in this example)
	if _, err := ginjwt.Mount(gin.New(), cfg); err != nil {
		panic(err)
	}
}
