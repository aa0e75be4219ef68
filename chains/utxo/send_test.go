package utxo_test

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/address/v2"
	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/ecdsa"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/chains"
	"github.com/misdeposit/recovery/chains/utxo"
	"github.com/misdeposit/recovery/internal/nodetest"
)

// signRSV signs hash as a remote signer answers: [R || S || V], V the
// recovery id 0 or 1. SignCompact gives [27 + V (+4 for a compressed key)]
// || R || S.
func signRSV(t testing.TB, key *btcec.PrivateKey, hash [32]byte) []byte {
	t.Helper()
	c := ecdsa.SignCompact(key, hash[:], true)
	return append(append([]byte{}, c[1:]...), c[0]-27-4)
}

// keyScript returns a new key and the output script of kind that pays it.
func keyScript(t testing.TB, kind utxo.ScriptKind) (*btcec.PrivateKey, []byte) {
	t.Helper()
	key, err := btcec.NewPrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	script, err := utxo.AddressInfo{Kind: kind, Hash: address.Hash160(key.PubKey().SerializeCompressed())}.Script()
	if err != nil {
		t.Fatal(err)
	}
	return key, script
}

// signedSpend builds s, signs it with key and returns it serialized.
func signedSpend(t testing.TB, key *btcec.PrivateKey, s utxo.Spend) (*wire.MsgTx, []byte) {
	t.Helper()
	tx, err := utxo.BuildSpend(s)
	if err != nil {
		t.Fatal(err)
	}
	h, err := utxo.SpendSigHash(tx, s)
	if err != nil {
		t.Fatal(err)
	}
	if err := utxo.AttachSignature(tx, s, signRSV(t, key, h), key.PubKey().SerializeCompressed()); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := tx.Serialize(&buf); err != nil {
		t.Fatal(err)
	}
	return tx, buf.Bytes()
}

func vsize(tx *wire.MsgTx) int64 {
	return (int64(tx.SerializeSizeStripped())*3 + int64(tx.SerializeSize()) + 3) / 4
}

func output(t *testing.T, c *utxo.Client, txid string, index uint32) chains.Output {
	t.Helper()
	out, err := c.Output(nodetest.Context(t), txid, index)
	if err != nil {
		t.Fatalf("Output(%s:%d): %v", txid, index, err)
	}
	return out
}

// A deposit to a key of ours, P2PKH or P2WPKH, is spent with a signature
// made outside the package: the node takes it, takes it again without
// complaint, mines it, and refuses a second spend of the same output.
func TestSpendDeposit(t *testing.T) {
	n, w, _ := nodetest.FundedBTCD(t)
	ctx := nodetest.Context(t)
	c := dial(t, btcNet, n)
	const deposit = 100_000

	for _, kind := range []utxo.ScriptKind{utxo.P2PKH, utxo.P2WPKH} {
		t.Run(string(kind), func(t *testing.T) {
			key, prevScript := keyScript(t, kind)
			prevID, err := w.SendToScript(ctx, n, prevScript, deposit, nil)
			if err != nil {
				t.Fatal(err)
			}
			var index uint32 // the wallet puts the payment first, change after
			if prev := output(t, c, prevID, index); !bytes.Equal(prev.Script, prevScript) || prev.Amount != deposit || !prev.Unspent {
				t.Fatalf("deposit output = %+v, want %d sat to %x, unspent", prev, deposit, prevScript)
			}

			vs, err := utxo.SpendVSize(prevScript)
			if err != nil {
				t.Fatal(err)
			}
			_, to := keyScript(t, utxo.P2WPKH)
			s := utxo.Spend{TxID: prevID, Index: index, PrevScript: prevScript, Amount: deposit, To: to, Fee: 2 * vs}
			tx, raw := signedSpend(t, key, s)
			// DER signatures are 72 bytes at most, 70 or 71 nearly always.
			if got := vsize(tx); got > vs || got < vs-4 {
				t.Errorf("signed spend is %d vB, SpendVSize says %d", got, vs)
			}

			for range 2 { // the second time the node has it in its pool
				id, err := c.Broadcast(ctx, raw)
				if err != nil || id != tx.TxHash().String() {
					t.Fatalf("Broadcast = %s, %v; want %s", id, err, tx.TxHash())
				}
			}
			if out := output(t, c, tx.TxHash().String(), 0); !bytes.Equal(out.Script, to) || out.Amount != deposit-2*vs || !out.Unspent {
				t.Errorf("recovery output = %+v, want %d sat to %x, unspent", out, deposit-2*vs, to)
			}

			// Another spend of the same output, to elsewhere.
			_, elsewhere := keyScript(t, utxo.P2WPKH)
			double := s
			double.To = elsewhere
			_, doubleRaw := signedSpend(t, key, double)
			if _, err := c.Broadcast(ctx, doubleRaw); recovery.ErrorCode(err) != recovery.EInvalid {
				t.Fatalf("double spend in the pool: %v, want EInvalid", err)
			}

			if err := n.Generate(ctx, 1); err != nil {
				t.Fatal(err)
			}
			if got := lookup(t, c, tx.TxHash().String()); got.Status != recovery.TxSuccess || got.Confirmations != 1 {
				t.Errorf("mined spend = %+v, want success with 1 confirmation", got)
			}
			if prev := output(t, c, prevID, index); prev.Unspent || prev.Amount != deposit {
				t.Errorf("spent deposit output = %+v, want %d sat, spent", prev, deposit)
			}
			if _, err := c.Broadcast(ctx, raw); err != nil {
				t.Errorf("Broadcast of the mined spend: %v, want no error", err)
			}
			if _, err := c.Broadcast(ctx, doubleRaw); recovery.ErrorCode(err) != recovery.EInvalid {
				t.Errorf("double spend of a mined output: %v, want EInvalid", err)
			}
		})
	}
}

func TestSendRefusesBadInput(t *testing.T) {
	regtest.Need(t)
	ctx := nodetest.Context(t)
	c := dial(t, btcNet, btcNode)
	key, prevScript := keyScript(t, utxo.P2WPKH)
	_, to := keyScript(t, utxo.P2WPKH)
	s := utxo.Spend{TxID: "00000000000000000000000000000000000000000000000000000000000000aa", PrevScript: prevScript, Amount: 10_000, To: to, Fee: 500}
	_, raw := signedSpend(t, key, s)

	for name, b := range map[string][]byte{
		"nothing":        nil,
		"not a tx":       []byte("not a transaction"),
		"trailing bytes": append(append([]byte{}, raw...), 0),
		// Well formed, but spending an output no chain has.
		"unknown input": raw,
	} {
		if _, err := c.Broadcast(ctx, b); recovery.ErrorCode(err) != recovery.EInvalid {
			t.Errorf("Broadcast(%s): %v, want EInvalid", name, err)
		}
	}
	if _, err := c.Output(ctx, "not a txid", 0); recovery.ErrorCode(err) != recovery.EInvalid {
		t.Errorf("Output of a bad txid: %v, want EInvalid", err)
	}
	txid, err := wallet.Send(ctx, btcNode, wallet.WitnessAddress(), 5_000, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Output(ctx, txid, 9); recovery.ErrorCode(err) != recovery.EInvalid {
		t.Errorf("Output past the last: %v, want EInvalid", err)
	}

}

// How Broadcast reads what a node answers, scripted: the wordings of "I have
// it already" are success, a refusal of the transaction is final, and a node
// that cannot serve the call or is gone is to be tried again.
func TestBroadcastAnswers(t *testing.T) {
	key, prevScript := keyScript(t, utxo.P2WPKH)
	_, to := keyScript(t, utxo.P2WPKH)
	tx, raw := signedSpend(t, key, utxo.Spend{TxID: strings.Repeat("ab", 32), PrevScript: prevScript, Amount: 10_000, To: to, Fee: 500})
	txid := tx.TxHash().String()
	rpcErr := func(code int, msg string) string {
		return fmt.Sprintf(`{"result":null,"error":{"code":%d,"message":%q},"id":1}`, code, msg)
	}
	for name, tc := range map[string]struct {
		answer string
		code   string // "" for success
	}{
		"accepted":               {`{"result":"` + txid + `","error":null,"id":1}`, ""},
		"btcd: in the pool":      {rpcErr(-26, "TX rejected: already have transaction in mempool "+txid), ""},
		"btcd: in the chain":     {rpcErr(-27, "TX rejected: transaction already exists in blockchain"), ""},
		"bitcoind: in the chain": {rpcErr(-27, "Transaction already in block chain"), ""},
		"spent input":            {rpcErr(-26, "TX rejected: output already spent by transaction x in the memory pool"), recovery.EInvalid},
		"missing input":          {rpcErr(-25, "bad-txns-inputs-missingorspent"), recovery.EInvalid},
		"another txid":           {`{"result":"` + strings.Repeat("cd", 32) + `","error":null,"id":1}`, recovery.EUnavailable},
		"internal error":         {rpcErr(-32603, "boom"), recovery.EUnavailable},
		"warming up":             {rpcErr(-28, "Loading block index..."), recovery.EUnavailable},
		"html":                   {"<html>502 Bad Gateway</html>", recovery.EUnavailable},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, tc.answer)
		}))
		c, err := utxo.Dial(btcNet, srv.Listener.Addr().String(), "u", "p")
		if err != nil {
			t.Fatal(err)
		}
		id, err := c.Broadcast(nodetest.Context(t), raw)
		srv.Close()
		if code := recovery.ErrorCode(err); code != tc.code || (code == "" && id != txid) {
			t.Errorf("%s: Broadcast = %q, %v; want code %q", name, id, err, tc.code)
		}
	}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	c, err := utxo.Dial(btcNet, closed, "u", "p")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Broadcast(nodetest.Context(t), raw); recovery.ErrorCode(err) != recovery.EUnavailable {
		t.Errorf("Broadcast to a node that is down: %v, want EUnavailable", err)
	}
}

func TestSpendBuildersRefuse(t *testing.T) {
	key, p2wpkh := keyScript(t, utxo.P2WPKH)
	other, p2pkh := keyScript(t, utxo.P2PKH)
	_, to := keyScript(t, utxo.P2WPKH)
	good := utxo.Spend{TxID: "00000000000000000000000000000000000000000000000000000000000000aa", Index: 1, PrevScript: p2wpkh, Amount: 10_000, To: to, Fee: 500}
	p2sh, _ := utxo.AddressInfo{Kind: utxo.P2SH, Hash: make([]byte, 20)}.Script()

	for name, change := range map[string]func(*utxo.Spend){
		"P2SH input":     func(s *utxo.Spend) { s.PrevScript = p2sh },
		"dust output":    func(s *utxo.Spend) { s.Fee = s.Amount - utxo.DustLimit + 1 },
		"negative fee":   func(s *utxo.Spend) { s.Fee = -1 },
		"no value":       func(s *utxo.Spend) { s.Amount = 0 },
		"OP_RETURN":      func(s *utxo.Spend) { s.To = []byte{0x6a, 0x01, 0x00} },
		"no destination": func(s *utxo.Spend) { s.To = nil },
		"EVM-style txid": func(s *utxo.Spend) { s.TxID = "0x" + s.TxID[2:] },
	} {
		s := good
		change(&s)
		if _, err := utxo.BuildSpend(s); recovery.ErrorCode(err) != recovery.EInvalid {
			t.Errorf("BuildSpend(%s): %v, want EInvalid", name, err)
		}
	}
	atDust := good
	atDust.Fee = atDust.Amount - utxo.DustLimit
	if _, err := utxo.BuildSpend(atDust); err != nil {
		t.Errorf("BuildSpend of exactly the dust limit: %v", err)
	}

	tx, err := utxo.BuildSpend(good)
	if err != nil {
		t.Fatal(err)
	}
	h, err := utxo.SpendSigHash(tx, good)
	if err != nil {
		t.Fatal(err)
	}
	sig := signRSV(t, key, h)
	pub := key.PubKey().SerializeCompressed()
	elsewhere := good
	elsewhere.Index = 0
	if _, err := utxo.SpendSigHash(tx, elsewhere); recovery.ErrorCode(err) != recovery.EInvalid {
		t.Errorf("SpendSigHash of a spend the transaction is not: %v, want EInvalid", err)
	}
	for name, a := range map[string]struct{ sig, pub []byte }{
		"short signature":          {sig[:64], pub},
		"another key's signature":  {signRSV(t, other, h), pub},
		"signature of other bytes": {signRSV(t, key, [32]byte{1}), pub},
		"another key":              {sig, other.PubKey().SerializeCompressed()},
		"uncompressed key":         {sig, key.PubKey().SerializeUncompressed()},
	} {
		if err := utxo.AttachSignature(tx, good, a.sig, a.pub); recovery.ErrorCode(err) != recovery.EInvalid {
			t.Errorf("AttachSignature(%s): %v, want EInvalid", name, err)
		}
		if len(tx.TxIn[0].Witness) != 0 || len(tx.TxIn[0].SignatureScript) != 0 {
			t.Fatalf("AttachSignature(%s) left the input signed", name)
		}
	}
	if err := utxo.AttachSignature(tx, good, sig, pub); err != nil {
		t.Errorf("AttachSignature: %v", err)
	}

	// One input, one P2WPKH output: 190 vB from P2PKH, 110 from P2WPKH.
	for script, want := range map[string]int64{string(p2pkh): 190, string(p2wpkh): 110} {
		if got, err := utxo.SpendVSize([]byte(script)); err != nil || got != want {
			t.Errorf("SpendVSize(%x) = %d, %v; want %d", script, got, err, want)
		}
	}
	if _, err := utxo.SpendVSize(p2sh); recovery.ErrorCode(err) != recovery.EInvalid {
		t.Errorf("SpendVSize(P2SH): %v, want EInvalid", err)
	}
}
