package btcdnode_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/address/v2"
	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/chainhash/v2"

	"github.com/misdeposit/recovery/devchain/btcdnode"
	"github.com/misdeposit/recovery/internal/nodetest"
)

// One funded node for the package; tests that stop or restart a node start
// their own.
var (
	regtest *nodetest.Regtest
	shared  *btcdnode.Node
	wallet  *btcdnode.Wallet
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	var err error
	if regtest, err = nodetest.StartRegtest("shared"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer regtest.Stop()
	shared, wallet = regtest.Node("shared"), regtest.Wallet
	return m.Run()
}

func confirmations(t *testing.T, n *btcdnode.Node, txid string) uint64 {
	t.Helper()
	h, err := chainhash.NewHashFromStr(txid)
	if err != nil {
		t.Fatal(err)
	}
	res, err := n.Client().GetRawTransactionVerbose(h)
	if err != nil {
		t.Fatalf("getrawtransaction %s: %v", txid, err)
	}
	return res.Confirmations
}

func TestWalletSendsP2PKHAndP2WPKH(t *testing.T) {
	regtest.Need(t)
	ctx := nodetest.Context(t)

	before, err := wallet.Balance(ctx, shared)
	if err != nil {
		t.Fatal(err)
	}
	if before < 50_0000_0000 {
		t.Fatalf("funded wallet has %d sat, want at least one block reward", before)
	}

	// A second wallet whose only coin is P2WPKH, so that its spend
	// exercises witness signing.
	other, err := btcdnode.NewWallet()
	if err != nil {
		t.Fatal(err)
	}
	txid, err := wallet.Send(ctx, shared, other.WitnessAddress(), 1_2345_6789, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := confirmations(t, shared, txid); got != 0 {
		t.Fatalf("fresh send has %d confirmations", got)
	}
	if err := shared.Generate(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if got, err := other.Balance(ctx, shared); err != nil || got != 1_2345_6789 {
		t.Fatalf("recipient balance = %d, %v; want 123456789", got, err)
	}

	back, err := other.Send(ctx, shared, wallet.Address(), 1_0000_0000, []byte("change me"))
	if err != nil {
		t.Fatal(err)
	}
	if err := shared.Generate(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if got := confirmations(t, shared, back); got != 1 {
		t.Fatalf("witness spend has %d confirmations, want 1", got)
	}
	rest, err := other.Balance(ctx, shared)
	if err != nil {
		t.Fatal(err)
	}
	if fee := 1_2345_6789 - 1_0000_0000 - rest; fee <= 0 || fee > 10_000 {
		t.Fatalf("witness spend paid a fee of %d sat", fee)
	}

	// Unconfirmed change can be spent again at once.
	for i := range 3 {
		if _, err := wallet.Send(ctx, shared, other.Address(), 1000+int64(i), nil); err != nil {
			t.Fatalf("chained send %d: %v", i, err)
		}
	}
}

func TestSendToScriptPaysAHashWithNoAddress(t *testing.T) {
	regtest.Need(t)
	ctx := nodetest.Context(t)
	// A bare P2PK output: no address encodes it.
	other, err := btcdnode.NewWallet()
	if err != nil {
		t.Fatal(err)
	}
	script := append(append([]byte{0x21}, other.Key().PubKey().SerializeCompressed()...), 0xac)
	txid, err := wallet.SendToScript(ctx, shared, script, 5000, nil)
	if err != nil {
		t.Fatal(err)
	}
	h, _ := chainhash.NewHashFromStr(txid)
	tx, err := shared.Client().GetRawTransaction(h)
	if err != nil {
		t.Fatal(err)
	}
	out := tx.MsgTx().TxOut[0]
	if out.Value != 5000 || string(out.PkScript) != string(script) {
		t.Fatalf("output 0 = %d %x", out.Value, out.PkScript)
	}
}

func TestSendRefusesMoreThanTheWalletHas(t *testing.T) {
	regtest.Need(t)
	empty, err := btcdnode.NewWallet()
	if err != nil {
		t.Fatal(err)
	}
	_, err = empty.Send(nodetest.Context(t), shared, wallet.Address(), 1000, nil)
	if err == nil || !strings.Contains(err.Error(), "spendable") {
		t.Fatalf("send from an empty wallet: %v", err)
	}
}

func TestRestartKeepsTheChain(t *testing.T) {
	regtest.Need(t)
	ctx := nodetest.Context(t)
	n, w, cfg := nodetest.FundedBTCD(t)
	txid, err := w.Send(ctx, n, w.WitnessAddress(), 7777, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Generate(ctx, 1); err != nil {
		t.Fatal(err)
	}
	pass := n.Pass()
	if err := n.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := n.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}

	again := nodetest.BTCD(t, cfg)
	if again.Pass() == pass {
		t.Error("restart kept the RPC password")
	}
	if got, err := again.BlockCount(ctx); err != nil || got != 102 {
		t.Fatalf("height after restart = %d, %v; want 102", got, err)
	}
	if got := confirmations(t, again, txid); got != 1 {
		t.Fatalf("tx after restart has %d confirmations, want 1", got)
	}
	// A new view of the restarted node finds the wallet's coins again.
	if _, err := w.Send(ctx, again, w.Address(), 1000, nil); err != nil {
		t.Fatal(err)
	}
}

func TestTwoNodesRunSideBySide(t *testing.T) {
	regtest.Need(t)
	ctx := nodetest.Context(t)
	w, err := btcdnode.NewWallet()
	if err != nil {
		t.Fatal(err)
	}
	second := nodetest.BTCD(t, btcdnode.Config{MiningAddr: w.MiningAddr()})
	if second.Host() == shared.Host() {
		t.Fatal("two nodes on one RPC address")
	}
	before, err := shared.BlockCount(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := second.Generate(ctx, 3); err != nil {
		t.Fatal(err)
	}
	// No P2P: blocks of one do not reach the other.
	if got, err := second.BlockCount(ctx); err != nil || got != 3 {
		t.Fatalf("second node height = %d, %v; want 3", got, err)
	}
	if got, err := shared.BlockCount(ctx); err != nil || got != before {
		t.Fatalf("shared node height moved from %d to %d (%v)", before, got, err)
	}
}

func TestStartRefusesBadConfig(t *testing.T) {
	ctx := nodetest.Context(t)
	if _, err := btcdnode.Start(ctx, btcdnode.Config{}); err == nil {
		t.Error("Start without DataDir succeeded")
	}
	mainnet, err := address.NewAddressPubKeyHash(make([]byte, 20), &chaincfg.MainNetParams)
	if err != nil {
		t.Fatal(err)
	}
	_, err = btcdnode.Start(ctx, btcdnode.Config{DataDir: t.TempDir(), MiningAddr: mainnet.EncodeAddress()})
	if err == nil || !strings.Contains(err.Error(), "regtest") {
		t.Errorf("Start with a mainnet mining address: %v", err)
	}
}

func TestGenerateNeedsMiningAddr(t *testing.T) {
	regtest.Need(t)
	n := nodetest.BTCD(t, btcdnode.Config{})
	if err := n.Generate(nodetest.Context(t), 1); err == nil {
		t.Fatal("Generate without a mining address succeeded")
	}
}

// TestStopEndsGoToolProcessGroup runs btcd the way a developer would by
// hand, `go tool btcd`, where btcd is a grandchild: Stop must end it too.
func TestStopEndsGoToolProcessGroup(t *testing.T) {
	regtest.Need(t)
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("needs /proc to list a process group")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go is not on PATH")
	}
	n := nodetest.BTCD(t, btcdnode.Config{Binary: []string{goBin, "tool", "btcd"}})
	pids := processGroup(t, n)
	if len(pids) < 2 {
		t.Fatalf("process group of `go tool btcd` has %v, want go and btcd", pids)
	}
	if err := n.Stop(); err != nil {
		t.Fatal(err)
	}
	for _, pid := range pids {
		if _, err := os.Stat(filepath.Join("/proc", strconv.Itoa(pid))); err == nil {
			if state := procState(pid); state != "Z" {
				t.Errorf("process %d (state %s) outlived Stop", pid, state)
			}
		}
	}
}

// processGroup lists the processes of n's process group, from /proc.
func processGroup(t *testing.T, n *btcdnode.Node) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err == nil && statField(pid, 4) == strconv.Itoa(n.PID()) {
			pids = append(pids, pid)
		}
	}
	return pids
}

func procState(pid int) string { return statField(pid, 2) }

// statField returns field i (0-based, as proc(5) numbers them from 1) of
// /proc/pid/stat; the command name in parentheses may hold spaces.
func statField(pid, i int) string {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return ""
	}
	s := string(b)
	end := strings.LastIndexByte(s, ')')
	if end < 0 {
		return ""
	}
	f := strings.Fields(s[end+1:])
	if i-2 < 0 || i-2 >= len(f) {
		return ""
	}
	return f[i-2]
}
