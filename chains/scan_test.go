package chains_test

import (
	"context"
	"errors"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/chains"
	"github.com/misdeposit/recovery/chains/evm"
	"github.com/misdeposit/recovery/chains/utxo"
	"github.com/misdeposit/recovery/devchain/btcdnode"
	"github.com/misdeposit/recovery/devchain/evmnode"
	"github.com/misdeposit/recovery/devchain/harness"
)

// The scanner is tested against the harness's real nodes: eth and bsc are
// go-ethereum dev chains, btc and ltc btcd regtest nodes. Only the node
// that never answers is a fake, as fault injection.

func TestMain(m *testing.M) { os.Exit(harness.Main(m)) }

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func scanner(h *harness.Harness, lookups map[string]chains.Lookup) *chains.Scanner {
	if lookups == nil {
		lookups = h.Lookups()
	}
	return chains.NewScanner(h.Registry(), lookups)
}

func find(t *testing.T, s *chains.Scanner, hash, prefer string) *chains.ScanResult {
	t.Helper()
	res, err := s.Find(testCtx(t), hash, prefer)
	if err != nil {
		t.Fatalf("Find(%s, %q): %v", hash, prefer, err)
	}
	return res
}

func foundOn(res *chains.ScanResult) []string {
	var out []string
	for _, tx := range res.Found {
		out = append(out, tx.Network)
	}
	return out
}

var local = []string{"eth", "bsc", "btc", "ltc"}

func TestScannerAsksTheNetworksWithAnAdapter(t *testing.T) {
	h := harness.Shared(t)
	if got := scanner(h, nil).Networks(); !slices.Equal(got, local) {
		t.Fatalf("Networks() = %v, want %v in registry order", got, local)
	}
}

// A user who does not know the network leaves it out: the deposit is found
// where it really is, and only there.
func TestFindWithoutNetwork(t *testing.T) {
	h := harness.Shared(t)
	s := scanner(h, nil)
	f := h.Fixtures()

	res := find(t, s, f.WrongNetwork.TxHash, "")
	if got := foundOn(res); !slices.Equal(got, []string{"bsc"}) {
		t.Fatalf("wrong-network deposit found on %v, want bsc only", got)
	}
	if tx := res.Found[0]; tx.Status != recovery.TxSuccess || !tx.Final() || tx.Hash != f.WrongNetwork.TxHash {
		t.Errorf("bsc answer %+v", tx)
	}
	if !slices.Equal(res.Scanned, local) {
		t.Errorf("scanned %v, want %v", res.Scanned, local)
	}

	// A UTXO hash as users paste it from an explorer with a 0x habit.
	res = find(t, s, "0x"+strings.ToUpper(f.CrossChain.TxHash), "")
	if got := foundOn(res); !slices.Equal(got, []string{"ltc"}) {
		t.Fatalf("cross-chain output found on %v, want ltc only", got)
	}
	if tx := res.Found[0]; tx.Hash != f.CrossChain.TxHash || tx.Transfers[f.CrossChain.Index].PubKeyHash != f.CrossChain.PubKeyHash {
		t.Errorf("ltc answer %+v", tx)
	}

	// Pending and unconfirmed deposits are found too, as they are.
	if tx := find(t, s, f.Pending.TxHash, "").Found; len(tx) != 1 || tx[0].Network != "eth" || tx[0].Status != recovery.TxPending {
		t.Errorf("pending deposit: %+v", tx)
	}
	if tx := find(t, s, f.FewConfirmations.TxHash, "").Found; len(tx) != 1 || tx[0].Network != "btc" || tx[0].Final() {
		t.Errorf("unconfirmed btc deposit: %+v", tx)
	}
}

// A user who names the wrong network still gets the deposit found where it
// is; a user who names the right one costs one node call.
func TestFindWithANamedNetwork(t *testing.T) {
	h := harness.Shared(t)
	s := scanner(h, nil)
	f := h.Fixtures()

	res := find(t, s, f.WrongNetwork.TxHash, "eth")
	if got := foundOn(res); !slices.Equal(got, []string{"bsc"}) {
		t.Fatalf("named eth, found on %v; want bsc", got)
	}
	if !slices.Equal(res.Scanned, local) {
		t.Errorf("scanned %v, want every network after eth said not found", res.Scanned)
	}

	res = find(t, s, f.Native.TxHash, "eth")
	if got := foundOn(res); !slices.Equal(got, []string{"eth"}) || !slices.Equal(res.Scanned, []string{"eth"}) {
		t.Errorf("named the right network: found on %v, scanned %v; want eth only", got, res.Scanned)
	}

	// A network in the registry without an adapter (a memo network) is
	// skipped, and the scan goes on.
	res = find(t, s, f.CrossChain.TxHash, "xrp")
	if got := foundOn(res); !slices.Equal(got, []string{"ltc"}) {
		t.Errorf("named xrp, found on %v; want ltc", got)
	}
}

func TestFindUnknownHash(t *testing.T) {
	h := harness.Shared(t)
	res := find(t, scanner(h, nil), h.Fixtures().NotFound.TxHash, "")
	if len(res.Found) != 0 || !slices.Equal(res.Scanned, local) {
		t.Fatalf("unknown hash: found %v, scanned %v; want nothing found on %v", foundOn(res), res.Scanned, local)
	}
	// A transaction reorged out and dropped is unknown as well.
	if res := find(t, scanner(h, nil), h.Fixtures().ReorgedEVM.TxHash, ""); len(res.Found) != 0 {
		t.Errorf("reorged-out transaction found on %v", foundOn(res))
	}
}

func TestFindRefusesBadInput(t *testing.T) {
	h := harness.Shared(t)
	s := scanner(h, nil)
	for _, bad := range []string{"", "0x", "0x1234", strings.Repeat("z", 64), h.Fixtures().Native.TxHash + "00"} {
		res, err := s.Find(testCtx(t), bad, "")
		if recovery.ErrorCode(err) != recovery.EInvalid || res != nil {
			t.Errorf("Find(%q) = %v, %v; want invalid", bad, res, err)
		}
		var e *recovery.Error
		if errors.As(err, &e) && e.Field != "tx_hash" {
			t.Errorf("Find(%q) blames field %q", bad, e.Field)
		}
	}
	if _, err := s.Find(testCtx(t), h.Fixtures().Native.TxHash, "solana"); recovery.ErrorCode(err) != recovery.EInvalid {
		t.Errorf("unknown network: %v, want invalid", err)
	}
}

// stoppedEVM is the adapter of an EVM node that has been stopped: a real
// node that went away, its port now closed.
func stoppedEVM(t *testing.T, network chains.Network) chains.Lookup {
	t.Helper()
	n, err := evmnode.Start(evmnode.Config{ChainID: network.ChainID})
	if err != nil {
		t.Fatal(err)
	}
	c, err := evm.Dial(testCtx(t), network, n.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	return c
}

// stoppedBTCD is the adapter of a btcd that has been stopped.
func stoppedBTCD(t *testing.T, network chains.Network) chains.Lookup {
	t.Helper()
	n, err := btcdnode.Start(testCtx(t), btcdnode.Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	c, err := utxo.Dial(network, n.Host(), n.User(), n.Pass())
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Stop(); err != nil {
		t.Fatal(err)
	}
	return c
}

// With one node down, a hash another network knows is still found; a hash
// no network knows is an outage to retry (EUnavailable naming the network),
// never a "not found" that would send the user away.
func TestFindWithANodeDown(t *testing.T) {
	h := harness.Shared(t)
	f := h.Fixtures()
	for _, down := range []string{"eth", "btc"} {
		t.Run(down+" down", func(t *testing.T) {
			lookups := h.Lookups()
			if down == "eth" {
				lookups[down] = stoppedEVM(t, h.Network(down))
			} else {
				lookups[down] = stoppedBTCD(t, h.Network(down))
			}
			s := scanner(h, lookups)
			// rpcclient retries a refused connection for about 20 s; the
			// per-network deadline ends that.
			s.PerNetwork = 2 * time.Second

			for _, fx := range []harness.Fixture{f.WrongNetwork, f.CrossChain} {
				res := find(t, s, fx.TxHash, "")
				if got := foundOn(res); !slices.Equal(got, []string{fx.Network}) {
					t.Errorf("%s with %s down: found on %v, want %s", fx.Name, down, got, fx.Network)
				}
			}

			start := time.Now()
			res, err := s.Find(testCtx(t), f.NotFound.TxHash, "")
			if recovery.ErrorCode(err) != recovery.EUnavailable || res != nil {
				t.Fatalf("unknown hash with %s down: %+v, %v; want unavailable", down, res, err)
			}
			if msg := recovery.ErrorMessage(err); !strings.Contains(msg, down) {
				t.Errorf("message %q does not name %s", msg, down)
			}
			if d := time.Since(start); d > s.PerNetwork+time.Second {
				t.Errorf("scan with %s down took %s, PerNetwork is %s", down, d, s.PerNetwork)
			}
		})
	}
}

// A user who names the network whose node is down: the deposit is on
// another network that answers, so it should still be found.
func TestFindWithTheNamedNetworkDown(t *testing.T) {
	h := harness.Shared(t)
	lookups := h.Lookups()
	lookups["eth"] = stoppedEVM(t, h.Network("eth"))
	s := scanner(h, lookups)
	fx := h.Fixtures().WrongNetwork
	res, err := s.Find(testCtx(t), fx.TxHash, "eth")
	if err != nil {
		t.Fatal(err)
	}
	if got := foundOn(res); !slices.Equal(got, []string{"bsc"}) {
		t.Errorf("named eth (down): found on %v, want bsc", got)
	}
}

// hangingNode accepts connections and never answers, until the test ends.
func hangingNode(t *testing.T) *httptest.Server {
	t.Helper()
	stop := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-stop:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() {
		close(stop)
		srv.Close()
	})
	return srv
}

// A node that hangs holds the scan for PerNetwork at most, whichever
// family it serves.
func TestFindDoesNotWaitForAHangingNodeBeyondPerNetwork(t *testing.T) {
	h := harness.Shared(t)
	f := h.Fixtures()
	srv := hangingNode(t)
	rc, err := rpc.DialContext(testCtx(t), srv.URL) // HTTP: no request until the first call
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rc.Close)
	btc, err := utxo.Dial(h.Network("btc"), srv.Listener.Addr().String(), "u", "p")
	if err != nil {
		t.Fatal(err)
	}
	lookups := h.Lookups()
	lookups["eth"] = evm.New(rc, h.Network("eth"))
	lookups["btc"] = btc
	s := scanner(h, lookups)
	s.PerNetwork = 300 * time.Millisecond
	limit := s.PerNetwork + 700*time.Millisecond

	for _, fx := range []harness.Fixture{f.WrongNetwork, f.CrossChain} {
		start := time.Now()
		res := find(t, s, fx.TxHash, "")
		if d := time.Since(start); d > limit {
			t.Errorf("%s: scan took %s with PerNetwork %s", fx.Name, d, s.PerNetwork)
		}
		if got := foundOn(res); !slices.Equal(got, []string{fx.Network}) {
			t.Errorf("%s: found on %v, want %s", fx.Name, got, fx.Network)
		}
	}

	start := time.Now()
	_, err = s.Find(testCtx(t), f.NotFound.TxHash, "")
	if d := time.Since(start); d > limit {
		t.Errorf("unknown hash: scan took %s with PerNetwork %s", d, s.PerNetwork)
	}
	if recovery.ErrorCode(err) != recovery.EUnavailable {
		t.Fatalf("unknown hash with hanging nodes: %v, want unavailable", err)
	}
	for _, id := range []string{"eth", "btc"} {
		if !strings.Contains(recovery.ErrorMessage(err), id) {
			t.Errorf("message %q does not name %s", recovery.ErrorMessage(err), id)
		}
	}
	// The caller's own deadline, shorter than PerNetwork, is kept too.
	s.PerNetwork = time.Minute
	ctx, cancel := context.WithTimeout(testCtx(t), 300*time.Millisecond)
	defer cancel()
	start = time.Now()
	if _, err := s.Find(ctx, f.NotFound.TxHash, ""); err == nil {
		t.Error("scan past the caller's deadline succeeded")
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("scan ignored the caller's 300ms deadline: %s", d)
	}
}

// A reorg is seen by the next scan: the deposit is reported in its new
// block with confirmations counted on the new branch, or pending when it
// went back to the mempool. A harness of its own, since it moves chains.
func TestFindAfterAReorg(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a harness of its own")
	}
	h := harness.Start(t)
	ctx := testCtx(t)
	s := scanner(h, nil)

	bsc, err := ethclient.DialContext(ctx, h.EVM("bsc").URL())
	if err != nil {
		t.Fatal(err)
	}
	defer bsc.Close()
	to := common.HexToAddress(h.Fixtures().WrongNetwork.To)
	hash, err := evmnode.SendValue(ctx, bsc, h.EVMSender(), to, big.NewInt(31337))
	if err != nil {
		t.Fatal(err)
	}
	if err := h.EVM("bsc").Mine(ctx, 2); err != nil {
		t.Fatal(err)
	}
	before := find(t, s, hash.Hex(), "").Found
	if len(before) != 1 || before[0].Confirmations != 3 || !before[0].Final() {
		t.Fatalf("before the reorg: %+v, want final on bsc", before)
	}
	if _, err := h.EVM("bsc").Reorg(ctx, evmnode.ReorgOptions{Depth: 3, Blocks: 1}); err != nil {
		t.Fatal(err)
	}
	after := find(t, s, hash.Hex(), "").Found
	if len(after) != 1 || after[0].BlockHash == before[0].BlockHash || after[0].Confirmations != 1 || after[0].Final() {
		t.Fatalf("after the reorg: %+v, want the deposit in a new block with 1 confirmation", after)
	}

	fx := h.Fixtures().FewConfirmations
	if _, err := h.UTXO("btc").Reorg(ctx, btcdnode.ReorgOptions{Depth: 1}); err != nil {
		t.Fatal(err)
	}
	found := find(t, s, fx.TxHash, "").Found
	if len(found) != 1 || found[0].Network != "btc" || found[0].Status != recovery.TxPending || found[0].BlockHash != "" {
		t.Fatalf("btc deposit after its block was reorged away: %+v, want pending", found)
	}
}

// closedAddr is a local address nothing listens on.
func closedAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// The address the user named decides which family is asked after the named
// network: a wrong-network EVM deposit is found without asking the
// Bitcoin-family nodes, a cross-chain UTXO deposit without asking the EVM
// ones. A claim whose address is not in the transaction still finds it.
func TestFindForAsksTheAddressFamilyFirst(t *testing.T) {
	h := harness.Shared(t)
	s := scanner(h, nil)
	f := h.Fixtures()

	res, err := s.FindFor(testCtx(t), f.WrongNetwork.TxHash, "eth", f.WrongNetwork.To)
	if err != nil {
		t.Fatal(err)
	}
	if got := foundOn(res); !slices.Equal(got, []string{"bsc"}) || !slices.Equal(res.Scanned, []string{"eth", "bsc"}) {
		t.Errorf("EVM address: found on %v, scanned %v; want bsc after eth and bsc only", got, res.Scanned)
	}

	res, err = s.FindFor(testCtx(t), f.CrossChain.TxHash, "btc", f.CrossChain.To)
	if err != nil {
		t.Fatal(err)
	}
	if got := foundOn(res); !slices.Equal(got, []string{"ltc"}) || !slices.Equal(res.Scanned, []string{"btc", "ltc"}) {
		t.Errorf("UTXO address: found on %v, scanned %v; want ltc after btc, no EVM node", got, res.Scanned)
	}

	// An EVM address quoted for a Bitcoin-family transaction: found in the
	// second round.
	res, err = s.FindFor(testCtx(t), f.CrossChain.TxHash, "", f.WrongNetwork.To)
	if err != nil {
		t.Fatal(err)
	}
	if got := foundOn(res); !slices.Equal(got, []string{"ltc"}) || !slices.Equal(res.Scanned, local) {
		t.Errorf("address of the other family: found on %v, scanned %v; want ltc after every network", got, res.Scanned)
	}

	res, err = s.FindFor(testCtx(t), f.NotFound.TxHash, "eth", f.WrongNetwork.To)
	if err != nil || len(res.Found) != 0 || !slices.Equal(res.Scanned, local) {
		t.Errorf("unknown hash: %v, %v; want nothing found on every network", res, err)
	}
}
