// Package redisstore keeps ginjwt's login throttle in Redis, so that
// several instances of an application count failed logins as one:
//
//	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
//	cfg.Throttle.Store = redisstore.New(client, "myapp:")
//
// It is a package of its own so that applications without Redis do not
// link its client (github.com/redis/go-redis/v9).
//
// Each Admit and End is one Lua script, atomic on the server. Keys carry
// the hash tag {ginjwt-throttle}, so that a script's keys share one slot
// of a Redis Cluster, and expire once their window no longer counts.
// Failures are counted in one integer key per bucket and window, attempts
// in flight in one sorted set per bucket (scored by the end of their
// lease).
package redisstore

import (
	"context"
	_ "embed"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ginjwt/ginjwt/throttle"
)

// Store is a [throttle.Store] in Redis.
type Store struct {
	client redis.UniversalClient
	prefix string
}

// New returns the store on client, its keys starting with prefix (default
// "ginjwt:"). Applications, or tests, that share one Redis keep apart by
// their prefixes.
func New(client redis.UniversalClient, prefix string) *Store {
	if prefix == "" {
		prefix = "ginjwt:"
	}
	return &Store{client: client, prefix: prefix + "{ginjwt-throttle}:"}
}

func (s *Store) failKey(bucket string, start int64) string {
	return s.prefix + "f:" + bucket + ":" + strconv.FormatInt(start, 10)
}

func (s *Store) flightKey(bucket string) string { return s.prefix + "i:" + bucket }

// keys are, per bucket, its current and previous failure counts and its
// flights.
func (s *Store) keys(a *throttle.Attempt, now time.Time) []string {
	cur := throttle.WindowStart(now, a.Window).UnixMilli()
	prev := cur - a.Window.Milliseconds()
	keys := make([]string, 0, 3*len(a.Buckets))
	for _, b := range a.Buckets {
		keys = append(keys, s.failKey(b.Key, cur), s.failKey(b.Key, prev), s.flightKey(b.Key))
	}
	return keys
}

func unavailable(err error) error { return fmt.Errorf("%w: redis: %w", throttle.ErrUnavailable, err) }

// Check implements [throttle.Store].
func (s *Store) Check(ctx context.Context, a *throttle.Attempt, now time.Time) (time.Duration, error) {
	keys := s.keys(a, now)
	get := make([]string, 0, 2*len(a.Buckets))
	for i := range a.Buckets {
		get = append(get, keys[3*i], keys[3*i+1])
	}
	vals, err := s.client.MGet(ctx, get...).Result()
	if err != nil {
		return 0, unavailable(err)
	}
	counts := make([]throttle.Counts, len(a.Buckets))
	for i := range counts {
		counts[i].Current, counts[i].Previous = toInt(vals[2*i]), toInt(vals[2*i+1])
	}
	return throttle.RetryAfter(a, counts, now), nil
}

func toInt(v any) int64 {
	switch v := v.(type) {
	case string:
		n, _ := strconv.ParseInt(v, 10, 64)
		return n
	case int64:
		return v
	}
	return 0
}

// admitScript turns lapsed leases into failures, reads every bucket's
// counts and, when the attempt is admitted (the same arithmetic as
// throttle.Decide), adds it to every bucket's flights. It returns the
// decision (0 admitted, 1 refused, 2 busy) and the counts.
//
// KEYS: per bucket, current failures, previous failures, flights.
// ARGV: now (ms), overlap, window (ms), attempt ID, lease end (ms), then
// the limits.
//
//go:embed admit.lua
var admitLua string

var admitScript = redis.NewScript(admitLua)

// endScript takes the attempt out of flight and applies its outcome.
//
// KEYS: per bucket, current failures, previous failures, flights.
// ARGV: outcome (0 abandoned, 1 failed, 2 succeeded), window (ms), attempt
// ID, then per bucket 1 when a success clears it.
//
//go:embed end.lua
var endLua string

var endScript = redis.NewScript(endLua)

// Admit implements [throttle.Store].
func (s *Store) Admit(ctx context.Context, a *throttle.Attempt, now time.Time) (throttle.Decision, error) {
	args := []any{now.UnixMilli(), strconv.FormatFloat(throttle.Overlap(now, a.Window), 'g', -1, 64),
		a.Window.Milliseconds(), a.ID, now.Add(a.Lease).UnixMilli()}
	for _, b := range a.Buckets {
		args = append(args, b.Limit)
	}
	res, err := admitScript.Run(ctx, s.client, s.keys(a, now), args...).Int64Slice()
	if err != nil {
		return throttle.Decision{}, unavailable(err)
	}
	if len(res) != 1+3*len(a.Buckets) {
		return throttle.Decision{}, unavailable(fmt.Errorf("the admit script answered %d values", len(res)))
	}
	switch res[0] {
	case 0:
		return throttle.Decision{Admitted: true}, nil
	case 2:
		return throttle.Decision{}, nil
	}
	counts := make([]throttle.Counts, len(a.Buckets))
	for i := range counts {
		counts[i] = throttle.Counts{Current: res[1+3*i], Previous: res[2+3*i], InFlight: res[3+3*i]}
	}
	d := throttle.Decision{RetryAfter: throttle.RetryAfter(a, counts, now)}
	if d.RetryAfter <= 0 {
		// Rounding in the script and here disagreed at the edge: busy, so
		// the caller asks again.
		d.RetryAfter = 0
	}
	return d, nil
}

// End implements [throttle.Store].
func (s *Store) End(ctx context.Context, a *throttle.Attempt, o throttle.Outcome, now time.Time) error {
	args := []any{int(o), a.Window.Milliseconds(), a.ID}
	for _, b := range a.Buckets {
		clear := 0
		if b.ClearOnSuccess {
			clear = 1
		}
		args = append(args, clear)
	}
	if err := endScript.Run(ctx, s.client, s.keys(a, now), args...).Err(); err != nil {
		return unavailable(err)
	}
	return nil
}

// State is a copy of the store's counts, for tests and diagnostics: the
// failures of every bucket in the windows still kept, and how many buckets
// have attempts in flight. It scans the prefix's keys; window and now are
// not needed (keys expire with their window).
func (s *Store) State(ctx context.Context, window time.Duration, now time.Time) (failures map[string]int64, inFlight int, err error) {
	failures = map[string]int64{}
	iter := s.client.Scan(ctx, 0, s.prefix+"*", 1000).Iterator()
	for iter.Next(ctx) {
		k := strings.TrimPrefix(iter.Val(), s.prefix)
		switch {
		case strings.HasPrefix(k, "f:"):
			n, err := s.client.Get(ctx, iter.Val()).Int64()
			if err != nil && err != redis.Nil {
				return nil, 0, unavailable(err)
			}
			bucket := k[2:strings.LastIndexByte(k, ':')]
			failures[bucket] += n
		case strings.HasPrefix(k, "i:"):
			n, err := s.client.ZCard(ctx, iter.Val()).Result()
			if err != nil {
				return nil, 0, unavailable(err)
			}
			if n > 0 {
				inFlight++
			}
		}
	}
	if err := iter.Err(); err != nil {
		return nil, 0, unavailable(err)
	}
	return failures, inFlight, nil
}
