package chains

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/misdeposit/recovery"
)

var hexHash = regexp.MustCompile(`^[0-9a-f]{64}$`)

// ParseTxHash checks a user-supplied transaction hash and returns its 64
// lower-case hex digits without any 0x prefix.
func ParseTxHash(s string) (string, error) {
	h := strings.ToLower(strings.TrimSpace(s))
	h = strings.TrimPrefix(h, "0x")
	switch {
	case h == "":
		return "", recovery.FieldError("tx_hash", "a transaction hash is required")
	case len(h) != 64:
		return "", recovery.FieldError("tx_hash", "a transaction hash has 64 hexadecimal digits, this one has %d", len(h))
	case !hexHash.MatchString(h):
		return "", recovery.FieldError("tx_hash", "a transaction hash has only the digits 0-9 and a-f")
	}
	return h, nil
}

// HashFor writes a parsed hash the way a family's nodes expect it.
func HashFor(f recovery.Family, hex64 string) string {
	if f == recovery.FamilyEVM {
		return "0x" + hex64
	}
	return hex64
}

// SameAddress compares addresses the way the family writes them: EVM
// addresses are case-insensitive hex, others are compared exactly.
func SameAddress(f recovery.Family, a, b string) bool {
	if f == recovery.FamilyEVM {
		return strings.EqualFold(a, b)
	}
	return a == b
}

// DepositTo picks, among the transactions a scan found, the transfer that
// pays the address the user named: the deposit, and the transaction it is
// in. It returns nil, nil when none does.
//
// A hash found on several networks (the same signed transaction replayed on
// another EVM chain) is resolved in favour of the first transaction, in the
// order given, that pays the address. Addresses are compared as their
// network's family writes them (SameAddress), surrounding spaces ignored; a
// transaction on a network reg does not know pays no one.
func DepositTo(reg *Registry, found []*recovery.Tx, to string) (*recovery.Tx, *recovery.Transfer) {
	to = strings.TrimSpace(to)
	for _, tx := range found {
		n, ok := reg.Get(tx.Network)
		if !ok {
			continue
		}
		for i := range tx.Transfers {
			if SameAddress(n.Family, tx.Transfers[i].To, to) {
				t := tx.Transfers[i]
				return tx, &t
			}
		}
	}
	return nil, nil
}

// Scanner looks a hash up on every configured network at once.
type Scanner struct {
	reg     *Registry
	lookups map[string]Lookup
	order   []string
	// PerNetwork bounds each network's answer so one slow node cannot hold
	// up the scan.
	PerNetwork time.Duration
}

// NewScanner returns a scanner over the networks that have a Lookup.
func NewScanner(reg *Registry, lookups map[string]Lookup) *Scanner {
	s := &Scanner{reg: reg, lookups: lookups, PerNetwork: 5 * time.Second}
	for _, n := range reg.Networks() {
		if _, ok := lookups[n.ID]; ok {
			s.order = append(s.order, n.ID)
		}
	}
	return s
}

// Networks lists the networks the scanner can ask, in registry order.
func (s *Scanner) Networks() []string { return append([]string(nil), s.order...) }

// Lookup returns the adapter of one network.
func (s *Scanner) Lookup(network string) (Lookup, bool) {
	l, ok := s.lookups[network]
	return l, ok
}

// ScanResult says where a hash was found.
type ScanResult struct {
	Found   []*recovery.Tx
	Scanned []string
}

// Find looks hash up on the preferred network first, when given, and on
// every other configured network when that does not find it: not known
// there, or its node does not answer (the deposit may well be on a network
// that does). A network whose node fails makes Find fail with EUnavailable
// when no network knows the hash, so that an outage is retried instead of
// reported as "not found".
func (s *Scanner) Find(ctx context.Context, hash, prefer string) (*ScanResult, error) {
	hex64, err := ParseTxHash(hash)
	if err != nil {
		return nil, err
	}
	asked := map[string]error{}
	if prefer != "" {
		if _, ok := s.reg.Get(prefer); !ok {
			return nil, recovery.FieldError("network", "unknown network %q", prefer)
		}
		if _, ok := s.lookups[prefer]; ok {
			tx, err := s.one(ctx, prefer, hex64)
			switch code := recovery.ErrorCode(err); {
			case err == nil:
				return &ScanResult{Found: []*recovery.Tx{tx}, Scanned: []string{prefer}}, nil
			case code != recovery.ENotFound && code != recovery.EUnavailable:
				return nil, err
			}
			asked[prefer] = err
		}
	}
	return s.all(ctx, hex64, asked)
}

// all asks every network not in asked, which holds the answers (errors)
// already had, and reports them together.
func (s *Scanner) all(ctx context.Context, hex64 string, asked map[string]error) (*ScanResult, error) {
	type answer struct {
		tx  *recovery.Tx
		err error
	}
	answers := make([]answer, len(s.order))
	var wg sync.WaitGroup
	for i, id := range s.order {
		if err, ok := asked[id]; ok {
			answers[i] = answer{nil, err}
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			tx, err := s.one(ctx, id, hex64)
			answers[i] = answer{tx, err}
		}()
	}
	wg.Wait()
	res := &ScanResult{Scanned: s.Networks()}
	var silent []string
	for i, a := range answers {
		switch {
		case a.err == nil:
			res.Found = append(res.Found, a.tx)
		case recovery.ErrorCode(a.err) != recovery.ENotFound:
			silent = append(silent, s.order[i])
		}
	}
	if len(res.Found) == 0 && len(silent) > 0 {
		return nil, recovery.Errorf(recovery.EUnavailable, "no answer from %s; try again later", strings.Join(silent, ", "))
	}
	return res, nil
}

func (s *Scanner) one(ctx context.Context, network, hex64 string) (*recovery.Tx, error) {
	n, _ := s.reg.Get(network)
	ctx, cancel := context.WithTimeout(ctx, s.PerNetwork)
	defer cancel()
	tx, err := s.lookups[network].LookupTx(ctx, HashFor(n.Family, hex64))
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && recovery.ErrorCode(err) == recovery.EInternal {
			return nil, &recovery.Error{Code: recovery.EUnavailable, Message: network + " node timed out"}
		}
		return nil, err
	}
	tx.Network = network
	return tx, nil
}
