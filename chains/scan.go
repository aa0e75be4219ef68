package chains

import (
	"context"
	"errors"
	"regexp"
	"slices"
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

// Pick returns the transaction a case follows among those found: the one
// that pays the address the user named, with that transfer (DepositTo),
// else the first found, with no transfer. Both are nil when nothing was
// found.
func (r *ScanResult) Pick(reg *Registry, to string) (*recovery.Tx, *recovery.Transfer) {
	if len(r.Found) == 0 {
		return nil, nil
	}
	if tx, d := DepositTo(reg, r.Found, to); d != nil {
		return tx, d
	}
	return r.Found[0], nil
}

// Find looks hash up on the preferred network first, when given, and on
// every other configured network when that does not find it: not known
// there, or its node does not answer (the deposit may well be on a network
// that does). A network whose node fails makes Find fail with EUnavailable
// when no network knows the hash, so that an outage is retried instead of
// reported as "not found".
func (s *Scanner) Find(ctx context.Context, hash, prefer string) (*ScanResult, error) {
	return s.FindFor(ctx, hash, prefer, "")
}

// FindFor is Find for a deposit claimed to pay the address to. After the
// preferred network it asks the networks that write addresses as to is
// written (EVM or not), and the others only when none of those knows the
// hash: a transaction paying an EVM address is on an EVM network, so a
// wrong-network EVM deposit costs the Bitcoin-family nodes nothing. A
// claim whose address is not in the transaction still finds it, in the
// second round.
func (s *Scanner) FindFor(ctx context.Context, hash, prefer, to string) (*ScanResult, error) {
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
	if to = strings.TrimSpace(to); to != "" {
		evmAddress := isEVMAddress(to)
		var first []string
		for _, id := range s.order {
			n, _ := s.reg.Get(id)
			if (n.Family == recovery.FamilyEVM) == evmAddress {
				first = append(first, id)
			}
		}
		if found := s.ask(ctx, hex64, first, asked); found != nil {
			return &ScanResult{Found: found, Scanned: s.scanned(asked)}, nil
		}
	}
	return s.all(ctx, hex64, asked)
}

var evmAddressPattern = regexp.MustCompile(`^0[xX][0-9a-fA-F]{40}$`)

func isEVMAddress(a string) bool { return evmAddressPattern.MatchString(a) }

// ask looks hex64 up on each of ids not in asked, at once, records every
// answer in asked (nil for found) and returns what was found, in ids'
// order.
func (s *Scanner) ask(ctx context.Context, hex64 string, ids []string, asked map[string]error) []*recovery.Tx {
	ids = slices.DeleteFunc(slices.Clone(ids), func(id string) bool { _, done := asked[id]; return done })
	txs := make([]*recovery.Tx, len(ids))
	errs := make([]error, len(ids))
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Go(func() { txs[i], errs[i] = s.one(ctx, id, hex64) })
	}
	wg.Wait()
	var found []*recovery.Tx
	for i, id := range ids {
		asked[id] = errs[i]
		if errs[i] == nil {
			found = append(found, txs[i])
		}
	}
	return found
}

// scanned lists the networks asked, in registry order.
func (s *Scanner) scanned(asked map[string]error) []string {
	var out []string
	for _, id := range s.order {
		if _, ok := asked[id]; ok {
			out = append(out, id)
		}
	}
	return out
}

// all asks every network not in asked, which holds the answers (errors)
// already had, and reports them together.
func (s *Scanner) all(ctx context.Context, hex64 string, asked map[string]error) (*ScanResult, error) {
	res := &ScanResult{Found: s.ask(ctx, hex64, s.order, asked), Scanned: s.Networks()}
	if len(res.Found) > 0 {
		return res, nil
	}
	var silent []string
	for _, id := range s.order {
		if err := asked[id]; err != nil && recovery.ErrorCode(err) != recovery.ENotFound {
			silent = append(silent, id)
		}
	}
	if len(silent) > 0 {
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
