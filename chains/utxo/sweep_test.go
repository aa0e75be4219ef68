package utxo_test

import (
	"bytes"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/chains/utxo"
	"github.com/misdeposit/recovery/internal/nodetest"
)

// signSweep signs every input of tx with the key of the same index, as the
// remote signer would, and returns tx serialized.
func signSweep(t testing.TB, tx *wire.MsgTx, s utxo.Sweep, keys []*btcec.PrivateKey) []byte {
	t.Helper()
	for i, key := range keys {
		h, err := utxo.SweepSigHash(tx, s, i)
		if err != nil {
			t.Fatal(err)
		}
		if err := utxo.AttachSweepSignature(tx, s, i, signRSV(t, key, h), key.PubKey().SerializeCompressed()); err != nil {
			t.Fatalf("input %d: %v", i, err)
		}
	}
	var buf bytes.Buffer
	if err := tx.Serialize(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// withAmount is s with input i's amount changed, s untouched.
func withAmount(s utxo.Sweep, i int, amount int64) utxo.Sweep {
	s.Inputs = slices.Clone(s.Inputs)
	s.Inputs[i].Amount = amount
	return s
}

func unsigned(in *wire.TxIn) bool { return len(in.SignatureScript) == 0 && len(in.Witness) == 0 }

// Twenty deposits to twenty keys, P2PKH and P2WPKH, of different amounts,
// are recovered in one transaction paying the feerate times SweepVSize: the
// node takes it and mines it, every deposit is spent and the one output
// holds their sum less the fee. Signed with one segwit amount misstated, the
// same sweep is refused by the node.
func TestSweepDeposits(t *testing.T) {
	n, w, _ := nodetest.FundedBTCD(t)
	ctx := nodetest.Context(t)
	c := dial(t, btcNet, n)
	const count = 20

	var (
		keys        []*btcec.PrivateKey
		prevScripts [][]byte
		deposits    []*wire.TxOut
		sum         int64
	)
	for i := range count {
		kind := utxo.P2WPKH
		if i%3 == 0 {
			kind = utxo.P2PKH
		}
		key, script := keyScript(t, kind)
		amount := int64(5_000 + 1_237*i)
		keys, prevScripts = append(keys, key), append(prevScripts, script)
		deposits = append(deposits, wire.NewTxOut(amount, script))
		sum += amount
	}
	prevID, err := w.SendOutputs(ctx, n, deposits) // in this order, change after
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Generate(ctx, 1); err != nil {
		t.Fatal(err)
	}
	var inputs []utxo.Input
	for i, d := range deposits {
		if prev := output(t, c, prevID, uint32(i)); !bytes.Equal(prev.Script, d.PkScript) || prev.Amount != d.Value || !prev.Unspent {
			t.Fatalf("deposit %d = %+v, want %d sat to %x, unspent", i, prev, d.Value, d.PkScript)
		}
		inputs = append(inputs, utxo.Input{TxID: prevID, Index: uint32(i), PrevScript: d.PkScript, Amount: d.Value})
	}

	vs, err := utxo.SweepVSize(prevScripts)
	if err != nil {
		t.Fatal(err)
	}
	_, to := keyScript(t, utxo.P2WPKH)
	s := utxo.Sweep{Inputs: inputs, To: to, Fee: 2 * vs}

	// Input 1 is P2WPKH: its signature commits to its amount, which the
	// node knows better than a misstated case record.
	misstated := withAmount(s, 1, inputs[1].Amount+1)
	tx, err := utxo.BuildSweep(s)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Broadcast(ctx, signSweep(t, tx, misstated, keys)); recovery.ErrorCode(err) != recovery.EInvalid {
		t.Fatalf("Broadcast of a sweep signed for a misstated amount: %v, want EInvalid", err)
	}

	tx, err = utxo.BuildSweep(s)
	if err != nil {
		t.Fatal(err)
	}
	raw := signSweep(t, tx, s, keys)
	// DER signatures are 72 bytes at most, 70 or 71 nearly always.
	if got := vsize(tx); got > vs || got < vs-4*count {
		t.Errorf("signed sweep is %d vB, SweepVSize says %d", got, vs)
	}
	if id, err := c.Broadcast(ctx, raw); err != nil || id != tx.TxHash().String() {
		t.Fatalf("Broadcast = %s, %v; want %s", id, err, tx.TxHash())
	}
	if err := n.Generate(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if got := lookup(t, c, tx.TxHash().String()); got.Status != recovery.TxSuccess || got.Confirmations != 1 {
		t.Errorf("mined sweep = %+v, want success with 1 confirmation", got)
	}
	for i, d := range deposits {
		if prev := output(t, c, prevID, uint32(i)); prev.Unspent || prev.Amount != d.Value {
			t.Errorf("swept deposit %d = %+v, want %d sat, spent", i, prev, d.Value)
		}
	}
	if out := output(t, c, tx.TxHash().String(), 0); !bytes.Equal(out.Script, to) || out.Amount != sum-2*vs || !out.Unspent {
		t.Errorf("sweep output = %+v, want %d sat to %x, unspent", out, sum-2*vs, to)
	}
}

// A signature is good for one input only: the one of input 0 is refused at
// input 1, even when both pay the same key, and input 1 stays unsigned while
// input 0 keeps its signature. A P2WPKH signature made for a misstated
// amount is refused against the true one.
func TestSweepSignatureMixups(t *testing.T) {
	_, to := keyScript(t, utxo.P2WPKH)
	for _, kind := range []utxo.ScriptKind{utxo.P2PKH, utxo.P2WPKH} {
		t.Run(string(kind), func(t *testing.T) {
			key, script := keyScript(t, kind)
			s := utxo.Sweep{To: to, Fee: 500, Inputs: []utxo.Input{
				{TxID: strings.Repeat("aa", 32), Index: 0, PrevScript: script, Amount: 10_000},
				{TxID: strings.Repeat("aa", 32), Index: 1, PrevScript: script, Amount: 10_000},
			}}
			tx, err := utxo.BuildSweep(s)
			if err != nil {
				t.Fatal(err)
			}
			h0, err := utxo.SweepSigHash(tx, s, 0)
			if err != nil {
				t.Fatal(err)
			}
			sig0, pub := signRSV(t, key, h0), key.PubKey().SerializeCompressed()
			if err := utxo.AttachSweepSignature(tx, s, 0, sig0, pub); err != nil {
				t.Fatal(err)
			}
			if err := utxo.AttachSweepSignature(tx, s, 1, sig0, pub); recovery.ErrorCode(err) != recovery.EInvalid {
				t.Errorf("input 0's signature at input 1: %v, want EInvalid", err)
			}
			if !unsigned(tx.TxIn[1]) || unsigned(tx.TxIn[0]) {
				t.Errorf("after a refused signature input 1 is signed (%v) or input 0 is not (%v)", !unsigned(tx.TxIn[1]), unsigned(tx.TxIn[0]))
			}
			h1, err := utxo.SweepSigHash(tx, s, 1)
			if err != nil {
				t.Fatal(err)
			}
			if err := utxo.AttachSweepSignature(tx, s, 1, signRSV(t, key, h1), pub); err != nil {
				t.Errorf("input 1's own signature: %v", err)
			}
		})
	}

	legacyKey, legacy := keyScript(t, utxo.P2PKH)
	segwitKey, segwit := keyScript(t, utxo.P2WPKH)
	s := utxo.Sweep{To: to, Fee: 500, Inputs: []utxo.Input{
		{TxID: strings.Repeat("aa", 32), Index: 0, PrevScript: legacy, Amount: 10_000},
		{TxID: strings.Repeat("bb", 32), Index: 3, PrevScript: segwit, Amount: 20_000},
	}}
	tx, err := utxo.BuildSweep(s)
	if err != nil {
		t.Fatal(err)
	}
	h, err := utxo.SweepSigHash(tx, withAmount(s, 1, 20_001), 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := utxo.AttachSweepSignature(tx, s, 1, signRSV(t, segwitKey, h), segwitKey.PubKey().SerializeCompressed()); recovery.ErrorCode(err) != recovery.EInvalid {
		t.Errorf("signature for a misstated segwit amount: %v, want EInvalid", err)
	}
	if !unsigned(tx.TxIn[1]) {
		t.Error("the refused signature was left in input 1")
	}
	// A legacy signature commits to no amount: the misstatement of
	// another input does not touch it.
	h, err = utxo.SweepSigHash(tx, withAmount(s, 1, 20_001), 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := utxo.AttachSweepSignature(tx, s, 0, signRSV(t, legacyKey, h), legacyKey.PubKey().SerializeCompressed()); err != nil {
		t.Errorf("legacy input: %v", err)
	}
}

func TestSweepBuildersRefuse(t *testing.T) {
	_, p2wpkh := keyScript(t, utxo.P2WPKH)
	_, p2pkh := keyScript(t, utxo.P2PKH)
	_, to := keyScript(t, utxo.P2WPKH)
	p2sh, _ := utxo.AddressInfo{Kind: utxo.P2SH, Hash: make([]byte, 20)}.Script()
	txid := strings.Repeat("aa", 32)
	good := utxo.Sweep{To: to, Fee: 1_000, Inputs: []utxo.Input{
		{TxID: txid, Index: 0, PrevScript: p2wpkh, Amount: 10_000},
		{TxID: txid, Index: 1, PrevScript: p2pkh, Amount: 2_000},
		{TxID: strings.Repeat("bb", 32), Index: 0, PrevScript: p2wpkh, Amount: 700},
	}}
	many := func(n int, script []byte) []utxo.Input {
		ins := make([]utxo.Input, n)
		for i := range ins {
			ins[i] = utxo.Input{TxID: txid, Index: uint32(i), PrevScript: script, Amount: 1_000}
		}
		return ins
	}

	for name, tc := range map[string]struct {
		change func(*utxo.Sweep)
		field  string // the field the refusal names
	}{
		"no inputs":          {func(s *utxo.Sweep) { s.Inputs = nil }, "inputs"},
		"same output twice":  {func(s *utxo.Sweep) { s.Inputs[2] = s.Inputs[0] }, "inputs[2].index"},
		"too many inputs":    {func(s *utxo.Sweep) { s.Inputs = many(utxo.MaxSweepInputs+1, p2wpkh) }, "inputs"},
		"too heavy to relay": {func(s *utxo.Sweep) { s.Inputs = many(utxo.MaxSweepInputs, p2pkh) }, "inputs"},
		"P2SH input":         {func(s *utxo.Sweep) { s.Inputs[1].PrevScript = p2sh }, "inputs[1].prev_script"},
		"no previous script": {func(s *utxo.Sweep) { s.Inputs[1].PrevScript = nil }, "inputs[1].prev_script"},
		"EVM-style txid":     {func(s *utxo.Sweep) { s.Inputs[2].TxID = "0x" + txid[2:] }, "inputs[2].tx_hash"},
		"no value":           {func(s *utxo.Sweep) { s.Inputs[2].Amount = 0 }, "inputs[2].amount"},
		"negative value":     {func(s *utxo.Sweep) { s.Inputs[1].Amount = -5_000 }, "inputs[1].amount"},
		"amounts overflow":   {func(s *utxo.Sweep) { s.Inputs[0].Amount, s.Inputs[1].Amount = math.MaxInt64, 1 }, "inputs"},
		"negative fee":       {func(s *utxo.Sweep) { s.Fee = -1 }, "fee"},
		"dust output":        {func(s *utxo.Sweep) { s.Fee = 12_700 - utxo.DustLimit + 1 }, "fee"},
		"fee above the sum":  {func(s *utxo.Sweep) { s.Fee = 20_000 }, "fee"},
		"OP_RETURN":          {func(s *utxo.Sweep) { s.To = []byte{0x6a, 0x01, 0x00} }, "to"},
		"no destination":     {func(s *utxo.Sweep) { s.To = nil }, "to"},
	} {
		s := good
		s.Inputs = slices.Clone(good.Inputs)
		tc.change(&s)
		_, err := utxo.BuildSweep(s)
		if e := (*recovery.Error)(nil); !errors.As(err, &e) || e.Code != recovery.EInvalid || e.Field != tc.field {
			t.Errorf("BuildSweep(%s): %v, want EInvalid about %s", name, err, tc.field)
		}
	}

	atDust := good
	atDust.Fee = 12_700 - utxo.DustLimit
	if tx, err := utxo.BuildSweep(atDust); err != nil || tx.TxOut[0].Value != utxo.DustLimit {
		t.Errorf("BuildSweep of exactly the dust limit: %v", err)
	}
	most := utxo.Sweep{Inputs: many(utxo.MaxSweepInputs, p2wpkh), To: to, Fee: 100_000}
	if tx, err := utxo.BuildSweep(most); err != nil || len(tx.TxIn) != utxo.MaxSweepInputs || tx.TxOut[0].Value != 900_000 {
		t.Errorf("BuildSweep of %d P2WPKH inputs: %v", utxo.MaxSweepInputs, err)
	}

	tx, err := utxo.BuildSweep(good)
	if err != nil {
		t.Fatal(err)
	}
	if tx.Version != 2 || tx.LockTime != 0 || len(tx.TxIn) != 3 || len(tx.TxOut) != 1 ||
		tx.TxOut[0].Value != 11_700 || !bytes.Equal(tx.TxOut[0].PkScript, to) {
		t.Fatalf("BuildSweep = %+v", tx)
	}
	for i, in := range tx.TxIn {
		prev, err := utxo.ParseTxHash(good.Inputs[i].TxID)
		if err != nil {
			t.Fatal(err)
		}
		if want := *wire.NewOutPoint(prev, good.Inputs[i].Index); in.PreviousOutPoint != want || in.Sequence != wire.MaxTxInSequenceNum {
			t.Errorf("input %d = %v, sequence %x; want %v, final", i, in.PreviousOutPoint, in.Sequence, want)
		}
	}

	swapped := good
	swapped.Inputs = []utxo.Input{good.Inputs[1], good.Inputs[0], good.Inputs[2]}
	fewer, more := good, good
	fewer.Inputs = good.Inputs[:2]
	more.Inputs = append(slices.Clone(good.Inputs), utxo.Input{TxID: txid, Index: 9, PrevScript: p2wpkh, Amount: 1_000})
	for name, a := range map[string]struct {
		s utxo.Sweep
		i int
	}{
		"input -1":           {good, -1},
		"input past the end": {good, 3},
		"inputs reordered":   {swapped, 2},
		"one input fewer":    {fewer, 0},
		"one input more":     {more, 0},
	} {
		if _, err := utxo.SweepSigHash(tx, a.s, a.i); recovery.ErrorCode(err) != recovery.EInvalid {
			t.Errorf("SweepSigHash(%s): %v, want EInvalid", name, err)
		}
		if err := utxo.AttachSweepSignature(tx, a.s, a.i, make([]byte, 65), make([]byte, 33)); recovery.ErrorCode(err) != recovery.EInvalid {
			t.Errorf("AttachSweepSignature(%s): %v, want EInvalid", name, err)
		}
	}

	// One P2WPKH output, as SpendVSize counts: a P2WPKH input is 68.25
	// vB, a P2PKH one 149 (and a byte of empty witness when any input is
	// segwit).
	for _, tc := range []struct {
		scripts [][]byte
		want    int64
	}{
		{[][]byte{p2wpkh, p2wpkh}, 178},
		{[][]byte{p2pkh, p2pkh}, 339},
		{[][]byte{p2pkh, p2wpkh}, 259},
	} {
		if got, err := utxo.SweepVSize(tc.scripts); err != nil || got != tc.want {
			t.Errorf("SweepVSize(%d inputs) = %d, %v; want %d", len(tc.scripts), got, err, tc.want)
		}
	}
	for _, script := range [][]byte{p2pkh, p2wpkh} {
		sweep, err1 := utxo.SweepVSize([][]byte{script})
		spend, err2 := utxo.SpendVSize(script)
		if err1 != nil || err2 != nil || sweep != spend {
			t.Errorf("SweepVSize of one input = %d, %v; SpendVSize = %d, %v", sweep, err1, spend, err2)
		}
	}
	for name, scripts := range map[string][][]byte{
		"no inputs":       nil,
		"a P2SH input":    {p2wpkh, p2sh},
		"too many inputs": slices.Repeat([][]byte{p2wpkh}, utxo.MaxSweepInputs+1),
	} {
		if _, err := utxo.SweepVSize(scripts); recovery.ErrorCode(err) != recovery.EInvalid {
			t.Errorf("SweepVSize(%s): %v, want EInvalid", name, err)
		}
	}
}
