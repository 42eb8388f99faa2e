package device

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/ginjwt/ginjwt/registry"
)

// Interlocutor is one distinct client software: a User-Agent header, parsed,
// stored once however many sessions share it.
type Interlocutor struct {
	ID int64 `gorm:"column:id;primaryKey;autoIncrement" json:"id"`
	Agent
	CreatedAt time.Time `gorm:"column:created_at;not null" json:"created_at"`
}

// TableName is "ginjwt_interlocutors".
func (Interlocutor) TableName() string { return "ginjwt_interlocutors" }

// InterlocutorNetwork is where a client connected from: its IP address and,
// when it came through trusted proxies, the X-Forwarded-For chain. Stored
// once per distinct address and chain.
type InterlocutorNetwork struct {
	ID int64 `gorm:"column:id;primaryKey;autoIncrement" json:"id"`
	// IP is the client address, IPv4 or IPv6, resolved through the trusted
	// proxies only: a forged X-Forwarded-For from any other peer is ignored.
	IP string `gorm:"column:ip;size:45;not null" json:"ip"`
	// ForwardedFor is the X-Forwarded-For chain as the trusted proxy
	// passed it, comma-separated, nearest hop last; empty without a proxy.
	ForwardedFor string `gorm:"column:forwarded_for;size:1024;not null;default:''" json:"forwarded_for,omitempty"`
	// Hash identifies the address and chain: the row's unique key.
	Hash      string    `gorm:"column:hash;size:64;not null;uniqueIndex:idx_ginjwt_networks_hash" json:"-"`
	CreatedAt time.Time `gorm:"column:created_at;not null" json:"created_at"`
}

// TableName is "ginjwt_interlocutor_networks".
func (InterlocutorNetwork) TableName() string { return "ginjwt_interlocutor_networks" }

// NewNetwork returns the network of a client at ip behind the forwarded
// chain (nil without proxies), bounded and hashed, ready to record.
func NewNetwork(ip string, forwardedFor []string) *InterlocutorNetwork {
	chain := strings.Join(forwardedFor, ", ")
	if len(chain) > 1024 {
		chain = chain[len(chain)-1024:] // the hops nearest to us matter most
	}
	if len(ip) > 45 {
		ip = ip[:45]
	}
	sum := sha256.Sum256([]byte(ip + "\x00" + chain))
	return &InterlocutorNetwork{IP: ip, ForwardedFor: chain, Hash: hex.EncodeToString(sum[:])}
}

// TokenInterlocutorConnection connects a token to the client that obtained
// it and the network it came from.
type TokenInterlocutorConnection struct {
	ID             int64                `gorm:"column:id;primaryKey;autoIncrement" json:"id"`
	TokenID        int64                `gorm:"column:token_id;not null;uniqueIndex:idx_ginjwt_token_interlocutors_pair,priority:1" json:"token_id"`
	Token          *registry.Token      `gorm:"foreignKey:TokenID;constraint:OnDelete:CASCADE" json:"-"`
	InterlocutorID int64                `gorm:"column:interlocutor_id;not null;uniqueIndex:idx_ginjwt_token_interlocutors_pair,priority:2;index:idx_ginjwt_token_interlocutors_interlocutor" json:"interlocutor_id"`
	Interlocutor   *Interlocutor        `gorm:"foreignKey:InterlocutorID" json:"-"`
	NetworkID      *int64               `gorm:"column:network_id;index:idx_ginjwt_token_interlocutors_network" json:"network_id,omitempty"`
	Network        *InterlocutorNetwork `gorm:"foreignKey:NetworkID" json:"-"`
	CreatedAt      time.Time            `gorm:"column:created_at;not null" json:"created_at"`
}

// TableName is "ginjwt_token_interlocutors".
func (TokenInterlocutorConnection) TableName() string { return "ginjwt_token_interlocutors" }

// Migrate creates or updates the device registry's tables. The token
// registry's tables must exist first (registry.Migrate). It is safe to run
// at every start.
func Migrate(ctx context.Context, db *gorm.DB) error {
	if err := db.WithContext(ctx).AutoMigrate(&Interlocutor{}, &InterlocutorNetwork{}, &TokenInterlocutorConnection{}); err != nil {
		return fmt.Errorf("device: migrate: %w", err)
	}
	// The Agent's Hash is the interlocutor's unique key; the embedded
	// struct leaves the index to the model.
	if !db.Migrator().HasIndex(&Interlocutor{}, "idx_ginjwt_interlocutors_hash") {
		if err := db.WithContext(ctx).Exec("CREATE UNIQUE INDEX idx_ginjwt_interlocutors_hash ON ginjwt_interlocutors (hash)").Error; err != nil {
			return fmt.Errorf("device: migrate: %w", err)
		}
	}
	return nil
}
