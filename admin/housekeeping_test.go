package admin_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/ginjwt/ginjwt/internal/testdb"
	"github.com/ginjwt/ginjwt/pipeline"
	"github.com/ginjwt/ginjwt/registry"
)

func TestArchive(t *testing.T) {
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		s := newSite(t, db, nil)
		s.user("root", staff)
		rp := s.login("root", "ua", "192.0.2.1")
		token := s.csrf(rp.Access)
		// 1,500 tokens expired 20 days ago: two archiver batches.
		ctx := context.Background()
		old := time.Now().Add(-21 * 24 * time.Hour)
		var pairs []pipeline.Pair
		for i := 0; i < 1500; i++ {
			pairs = append(pairs, pipeline.Pair{Child: pipeline.Token{ID: "old-" + strings.Repeat("0", 4-len(itoa(i))) + itoa(i), Type: "refresh",
				SessionID: "old-" + itoa(i), IssuedAt: old, ExpiresAt: old.Add(24 * time.Hour)}})
		}
		if err := s.auth.Registry().RegisterPairs(ctx, &pipeline.Event{Kind: pipeline.Obtained, UserID: "ghost", Pairs: pairs}); err != nil {
			t.Fatal(err)
		}
		w := s.get("/auth/admin/housekeeping", rp.Access)
		contains(t, w, `<b id="stat-expired">1500</b>`)

		// CSRF and confirmation are required.
		isHTML(t, s.post("/auth/admin/housekeeping/archive", rp.Access, url.Values{"days": {"10"}, "confirm": {"yes"}}), http.StatusForbidden)
		w = s.post("/auth/admin/housekeeping/archive", rp.Access, url.Values{"days": {"10"}, "csrf_token": {token}})
		isHTML(t, w, http.StatusOK)
		contains(t, w, `id="confirm-form"`, `name="days" value="10"`)
		if st, _ := s.auth.Registry().Stats(ctx); st.Tokens < 1500 {
			t.Fatal("archived without confirmation")
		}

		w = s.post("/auth/admin/housekeeping/archive", rp.Access, url.Values{"days": {"10"}, "confirm": {"yes"}, "csrf_token": {token}})
		isHTML(t, w, http.StatusSeeOther)
		if loc := w.Header().Get("Location"); loc != "/auth/admin/housekeeping/archive?done=archive-started" {
			t.Fatalf("Location %q", loc)
		}
		var page string
		eventually(t, 30*time.Second, "the archive run finishes", func() bool {
			w := s.get("/auth/admin/housekeeping/archive", rp.Access)
			page = w.Body.String()
			if strings.Contains(page, `data-state="running"`) && !strings.Contains(page, `<meta http-equiv="refresh" content="2">`) {
				t.Fatal("a running archive's page does not refresh itself")
			}
			return strings.Contains(page, `data-state="finished"`)
		})
		if !strings.Contains(page, `<dd id="archive-deleted">1500</dd>`) || !strings.Contains(page, `<dd id="archive-expected">1500</dd>`) ||
			strings.Contains(page, "http-equiv") {
			t.Fatalf("finished page:\n%s", page)
		}
		st, err := s.auth.Registry().Stats(ctx)
		if err != nil || st.Expired != 0 {
			t.Fatalf("after the run: %+v, %v", st, err)
		}
		// Live tokens stay.
		if s.apiStatus(rp.Access) != http.StatusOK {
			t.Fatal("the archive run removed a live session")
		}
	})
}

// TestArchiveProgress: a run in progress shows its progress and refuses a
// second run.
func TestArchiveProgress(t *testing.T) {
	s := newSite(t, testdb.SQLite(t), nil)
	s.user("root", staff)
	rp := s.login("root", "ua", "192.0.2.1")
	token := s.csrf(rp.Access)
	// A hook that holds the run in its second batch until released.
	calls := 0
	hold, entered := make(chan struct{}), make(chan struct{}, 1)
	var release sync.Once
	t.Cleanup(func() { release.Do(func() { close(hold) }) }) // before the Admin's Close
	s.auth.Registry().OnArchive(func(tx *gorm.DB, ids []int64) error {
		if calls++; calls < 2 {
			return nil
		}
		select {
		case entered <- struct{}{}:
		default:
		}
		<-hold
		return nil
	})
	old := time.Now().Add(-30 * 24 * time.Hour)
	var pairs []pipeline.Pair
	for i := 0; i < 1200; i++ {
		pairs = append(pairs, pipeline.Pair{Child: pipeline.Token{ID: "t" + itoa(i), Type: "refresh", SessionID: "t" + itoa(i), IssuedAt: old, ExpiresAt: old.Add(time.Hour)}})
	}
	if err := s.auth.Registry().RegisterPairs(context.Background(), &pipeline.Event{Kind: pipeline.Obtained, UserID: "ghost", Pairs: pairs}); err != nil {
		t.Fatal(err)
	}
	form := url.Values{"days": {"1"}, "confirm": {"yes"}, "csrf_token": {token}}
	isHTML(t, s.post("/auth/admin/housekeeping/archive", rp.Access, form), http.StatusSeeOther)
	<-entered
	w := s.get("/auth/admin/housekeeping/archive", rp.Access)
	contains(t, w, `data-state="running"`, `<meta http-equiv="refresh" content="2">`, `<dd id="archive-expected">1200</dd>`, `<dd id="archive-tokens">1000</dd>`, `<progress max="100" value="83">`)
	isHTML(t, s.post("/auth/admin/housekeeping/archive", rp.Access, form), http.StatusConflict)
	contains(t, s.get("/auth/admin/housekeeping", rp.Access), `id="archive-status-link"`)
	release.Do(func() { close(hold) })
	eventually(t, 30*time.Second, "the run finishes", func() bool {
		return strings.Contains(s.get("/auth/admin/housekeeping/archive", rp.Access).Body.String(), `data-state="finished"`)
	})
	_ = registry.ArchiveBatch
}

func itoa(i int) string {
	const digits = "0123456789"
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{digits[i%10]}, b...)
	}
	return string(b)
}
