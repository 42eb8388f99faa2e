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
func (s State) Login(login string) uint32 {
	k := loginKey(login)
	return s.Failures[k] + s.Failures[storeKey(k)]
}

// IP is the exact failure count of the client address ip.
func (s State) IP(ip string) uint32 {
	k := ipKey(ip)
	return s.Failures[k] + s.Failures[storeKey(k)]
}

// State returns a copy of the throttle's counts.
func (t *Throttle) State() State {
	if t.shared != nil {
		return t.stateShared()
	}
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
