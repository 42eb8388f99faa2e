package pipeline_test

import (
	"slices"
	"testing"

	"github.com/ginjwt/ginjwt/pipeline"
)

func TestEventTokens(t *testing.T) {
	t.Parallel()
	refresh := pipeline.Token{ID: "r1", Type: "refresh", SessionID: "r1"}
	access := pipeline.Token{ID: "a1", Type: "access", SessionID: "r1"}
	rotated := pipeline.Token{ID: "r2", Type: "refresh", SessionID: "r1"}
	access2 := pipeline.Token{ID: "a2", Type: "access", SessionID: "r1"}

	cases := []struct {
		name  string
		pairs []pipeline.Pair
		want  []string
	}{
		{"empty", nil, nil},
		{"login", []pipeline.Pair{{Child: refresh}, {Child: access, Parent: &refresh}}, []string{"r1", "a1"}},
		{"parent only as a parent", []pipeline.Pair{{Child: access, Parent: &refresh}}, []string{"r1", "a1"}},
		{
			"rotation: parents first, each once",
			[]pipeline.Pair{{Child: rotated, Parent: &refresh}, {Child: access2, Parent: &rotated}},
			[]string{"r1", "r2", "a2"},
		},
		{
			"duplicates",
			[]pipeline.Pair{{Child: refresh}, {Child: refresh}, {Child: access, Parent: &refresh}, {Child: access, Parent: &refresh}},
			[]string{"r1", "a1"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := &pipeline.Event{Pairs: tc.pairs}
			var got []string
			for _, tok := range e.Tokens() {
				got = append(got, tok.ID)
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("Tokens() = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestEventTokensKeepsValues(t *testing.T) {
	t.Parallel()
	refresh := pipeline.Token{ID: "r1", Type: "refresh", SessionID: "r1", UserID: "u1"}
	e := &pipeline.Event{Pairs: []pipeline.Pair{{Child: pipeline.Token{ID: "a1", Type: "access"}, Parent: &refresh}}}
	got := e.Tokens()
	if len(got) != 2 || got[0] != refresh {
		t.Fatalf("Tokens() = %+v", got)
	}
}
