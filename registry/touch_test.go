package registry_test

import (
	"context"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/ginjwt/ginjwt/internal/testdb"
	"github.com/ginjwt/ginjwt/registry"
)

// TestTouchToken: registering a login notes its session at the tokens'
// issue time; a request with a token younger than ActivityEvery notes
// nothing more; one with an older token notes the request's time.
func TestTouchToken(t *testing.T) {
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		clk := newClock()
		reg := newRegistry(t, db, registry.Options{Clock: clk.Now, ActivityEvery: time.Hour})
		ctx := context.Background()
		iat := clk.Now().Truncate(time.Second)
		record(t, reg, login("s-touch", "u-1", iat))
		lastUsed := func() time.Time {
			t.Helper()
			root := mustJTI(t, reg, "s-touch")
			if root.LastUsedAt == nil {
				return time.Time{}
			}
			return *root.LastUsedAt
		}
		flush := func(want int) {
			t.Helper()
			if n, err := reg.FlushActivity(ctx); err != nil || n != want {
				t.Fatalf("FlushActivity = %d, %v; want %d", n, err, want)
			}
		}
		flush(1)
		if got := lastUsed(); !got.Equal(iat) {
			t.Fatalf("last_used_at after the login's registration = %v, want its issue time %v", got, iat)
		}
		reg.TouchToken("s-touch", iat, iat.Add(59*time.Minute))
		flush(0)
		later := iat.Add(61 * time.Minute)
		reg.TouchToken("s-touch", iat, later)
		flush(1)
		if got := lastUsed(); !got.Equal(later) {
			t.Fatalf("last_used_at after a request with a token older than the interval = %v, want %v", got, later)
		}
	})
}
