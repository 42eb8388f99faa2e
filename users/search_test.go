package users

import (
	"slices"
	"testing"

	"gorm.io/gorm"

	"github.com/ginjwt/ginjwt/internal/testdb"
)

func TestStoreSearch(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		t.Parallel()
		e := newStoreEnv(t, db)
		e.create(t, "alice", "alice@example.com")
		bob := e.create(t, "bob", "bob@corp.example")
		e.create(t, "carol_x", "")
		e.create(t, "carolyn", "")
		e.create(t, "dave", "100%dave@example.com")
		e.create(t, `back\slash`, "")
		if err := e.store.SetActive(e.ctx, bob.ID, false); err != nil {
			t.Fatal(err)
		}
		yes, no := true, false
		cases := []struct {
			name          string
			f             Filter
			limit, offset int
			want          []string
		}{
			{"all", Filter{}, 0, 0, []string{"alice", `back\slash`, "bob", "carol_x", "carolyn", "dave"}},
			{"first page", Filter{}, 2, 0, []string{"alice", `back\slash`}},
			{"second page", Filter{}, 2, 2, []string{"bob", "carol_x"}},
			{"past the end", Filter{}, 2, 6, []string{}},
			{"username, any case", Filter{Match: "ALI"}, 0, 0, []string{"alice"}},
			{"e-mail", Filter{Match: "corp.EXAMPLE"}, 0, 0, []string{"bob"}},
			{"_ is literal", Filter{Match: "_"}, 0, 0, []string{"carol_x"}},
			{"% is literal", Filter{Match: "100%"}, 0, 0, []string{"dave"}},
			{`\ is literal`, Filter{Match: `k\s`}, 0, 0, []string{`back\slash`}},
			{"no match", Filter{Match: "zed"}, 0, 0, []string{}},
			{"NUL", Filter{Match: "a\x00"}, 0, 0, []string{}},
			{"invalid UTF-8", Filter{Match: "\xff"}, 0, 0, []string{}},
			{"inactive", Filter{Active: &no}, 0, 0, []string{"bob"}},
			{"active matching", Filter{Match: "example", Active: &yes}, 0, 0, []string{"alice", "dave"}},
			{"inactive matching", Filter{Match: "example", Active: &no}, 0, 0, []string{"bob"}},
		}
		for _, tc := range cases {
			list, err := e.store.Search(e.ctx, tc.f, tc.limit, tc.offset)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			got := []string{}
			for _, u := range list {
				got = append(got, u.Username)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("%s: Search = %q; want %q", tc.name, got, tc.want)
			}
			if tc.limit > 0 {
				continue
			}
			n, err := e.store.Count(e.ctx, tc.f)
			if err != nil || n != int64(len(tc.want)) {
				t.Errorf("%s: Count = %d, %v; want %d", tc.name, n, err, len(tc.want))
			}
		}
		if list, _ := e.store.Search(e.ctx, Filter{Match: "alice"}, 0, 0); len(list) != 1 || list[0].PasswordHash == "" || list[0].Email != "alice@example.com" {
			t.Fatalf("Search returns incomplete users: %+v", list)
		}
	})
}
