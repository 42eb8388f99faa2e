package database_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Programs that use ginjwt on one engine, the way an application does:
// database.Open, Migrate, Mount with the token registry.
const (
	postgresOnly = `package main

import (
	"context"
	"log"

	"github.com/gin-gonic/gin"

	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/database"
	_ "github.com/ginjwt/ginjwt/database/postgres"
)

func main() {
	db, err := database.Open("postgres://app@127.0.0.1/app")
	if err != nil {
		log.Fatal(err)
	}
	if err := ginjwt.Migrate(context.Background(), db); err != nil {
		log.Fatal(err)
	}
	if _, err := ginjwt.Mount(gin.New(), ginjwt.Config{SigningKey: []byte("0123456789abcdef0123456789abcdef"), DB: db}); err != nil {
		log.Fatal(err)
	}
}
`
	sqliteOnly = `package main

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/gin-gonic/gin"

	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/database"
	_ "github.com/ginjwt/ginjwt/database/sqlite"
)

func main() {
	ctx := context.Background()
	db, err := database.Open("sqlite::memory:")
	if err != nil {
		log.Fatal(err)
	}
	if err := ginjwt.Migrate(ctx, db); err != nil {
		log.Fatal(err)
	}
	auth, err := ginjwt.Mount(gin.New(), ginjwt.Config{SigningKey: []byte("0123456789abcdef0123456789abcdef"), DB: db})
	if err != nil {
		log.Fatal(err)
	}
	if err := auth.Close(ctx); err != nil {
		log.Fatal(err)
	}
	_, err = database.Open("postgres://app@127.0.0.1:1/app")
	fmt.Printf("%v\n%v\n", errors.Is(err, database.ErrNotLinked), err)
}
`
)

// TestProgramsLinkOnlyTheirEngine: a program on PostgreSQL links no SQLite,
// one on SQLite links no pgx (the registry's LISTEN/NOTIFY listener comes
// with database/postgres), and the SQLite one, asked for PostgreSQL, says
// which import it lacks. The programs reach the go command through an
// overlay: nothing is written into the source tree.
func TestProgramsLinkOnlyTheirEngine(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	overlay := newOverlay(t)
	pg := overlay.add(t, "pgonly", postgresOnly)
	lite := overlay.add(t, "liteonly", sqliteOnly)
	overlay.write(t)

	sqlitePkgs := []string{"modernc.org/sqlite", "github.com/glebarez/go-sqlite", "github.com/glebarez/sqlite", "github.com/ginjwt/ginjwt/database/sqlite"}
	pgxPkgs := []string{"github.com/jackc/pgx/v5", "gorm.io/driver/postgres", "github.com/ginjwt/ginjwt/database/postgres"}

	// Neither uses Redis: the throttle's Redis store and its client stay out.
	redisPkgs := []string{"github.com/redis/go-redis/v9", "github.com/ginjwt/ginjwt/throttle/redisstore"}

	pgDeps := overlay.deps(t, pg)
	assertLinked(t, "the PostgreSQL program", pgDeps, pgxPkgs, append(sqlitePkgs, redisPkgs...))
	liteDeps := overlay.deps(t, lite)
	assertLinked(t, "the SQLite program", liteDeps, sqlitePkgs, append(pgxPkgs, redisPkgs...))

	// It runs, and a PostgreSQL DSN names the missing import.
	bin := filepath.Join(t.TempDir(), "liteonly")
	if out, err := exec.Command("go", "build", "-overlay", overlay.file, "-o", bin, lite).CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	run := exec.Command(bin)
	run.Env = append(os.Environ(), "GIN_MODE=release")
	out, err := run.Output()
	if err != nil {
		t.Fatalf("the SQLite program: %v\n%s", err, out)
	}
	want := "true\n" + `database: postgres is not linked into this program: import _ "github.com/ginjwt/ginjwt/database/postgres"` + "\n"
	if string(out) != want {
		t.Fatalf("the SQLite program said\n%s\nwant\n%s", out, want)
	}
}

// assertLinked fails unless deps holds a package under each of want and
// none under any of absent (a module path or package path prefix).
func assertLinked(t *testing.T, what string, deps, want, absent []string) {
	t.Helper()
	has := func(prefix string) string {
		for _, d := range deps {
			if d == prefix || strings.HasPrefix(d, prefix+"/") {
				return d
			}
		}
		return ""
	}
	for _, p := range want {
		if has(p) == "" {
			t.Errorf("%s does not link %s: the check would pass vacuously", what, p)
		}
	}
	for _, p := range absent {
		if d := has(p); d != "" {
			t.Errorf("%s links %s", what, d)
		}
	}
}

// overlay places programs in the module, for the go command only.
type overlay struct {
	root, tmp, file string
	replace         map[string]string
}

func newOverlay(t *testing.T) *overlay {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	return &overlay{root: filepath.Dir(wd), tmp: tmp, file: filepath.Join(tmp, "overlay.json"), replace: map[string]string{}}
}

// add places src as the main package of internal/<name> and returns the
// package's directory.
func (o *overlay) add(t *testing.T, name, src string) string {
	t.Helper()
	file := filepath.Join(o.tmp, name+".go")
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(o.root, "internal", "linkcheck"+name)
	o.replace[filepath.Join(dir, "main.go")] = file
	return dir
}

func (o *overlay) write(t *testing.T) {
	t.Helper()
	data, err := json.Marshal(map[string]map[string]string{"Replace": o.replace})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(o.file, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// deps lists the packages the program in dir links.
func (o *overlay) deps(t *testing.T, dir string) []string {
	t.Helper()
	cmd := exec.Command("go", "list", "-overlay", o.file, "-deps", dir)
	cmd.Dir = o.root
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("go list -deps %s: %v\n%s", dir, err, stderr)
	}
	return strings.Fields(string(out))
}
