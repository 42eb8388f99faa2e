package main

// The engines -db accepts: database.Open links only the ones imported.
import (
	_ "github.com/ginjwt/ginjwt/database/postgres"
	_ "github.com/ginjwt/ginjwt/database/sqlite"
)
