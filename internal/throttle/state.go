package throttle

// State is a copy of a throttle's counts at one moment, for tests and
// diagnostics.
type State struct {
	// Failures are the exact failure counts by bucket key, both windows
	// added, and under "#overflow" the total of the shared buckets.
	Failures map[string]uint32
	// InFlight is how many bucket keys have attempts in flight.
	InFlight int
}

// Login is the exact failure count of the name login.
func (s State) Login(login string) uint32 { return s.Failures[loginKey(login)] }

// IP is the exact failure count of the client address ip.
func (s State) IP(ip string) uint32 { return s.Failures[ipKey(ip)] }

// State returns a copy of the throttle's counts.
func (t *Throttle) State() State {
	t.mu.Lock()
	defer t.mu.Unlock()
	f := map[string]uint32{}
	for _, w := range []*failures{t.prev, t.cur} {
		for k, n := range w.exact {
			f[k] += n
		}
		for _, n := range w.overflow {
			if n > 0 {
				f["#overflow"] += n
			}
		}
	}
	return State{Failures: f, InFlight: len(t.flights)}
}
