package redisstore_test

import (
	"testing"

	"github.com/ginjwt/ginjwt/internal/testredis"
	"github.com/ginjwt/ginjwt/throttle"
	"github.com/ginjwt/ginjwt/throttle/redisstore"
	"github.com/ginjwt/ginjwt/throttle/storetest"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) throttle.Store {
		c, prefix := testredis.Client(t)
		return redisstore.New(c, prefix)
	})
}
