package evm_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/chains"
	"github.com/misdeposit/recovery/chains/evm"
)

// nodeSecret stands for the API key a provider's endpoint URL carries: no
// error may repeat it.
const nodeSecret = "k3y-0f-the-provider"

// roundTrip answers the adapter's HTTP requests in process, so that a fuzz
// exec costs no socket.
type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// fuzzNode is a node that answers each call of a request with the text
// the fuzzer gave for its method: the members after "id" of a JSON-RPC
// answer ("result":… or "error":…). shape bends the batch answer: bit 0
// swaps the ids of the first two answers, bit 1 leaves out the receipt's,
// bit 2 answers in reverse order, bit 3 answers a batch with its first
// answer alone, bit 4 answers with HTTP status 500.
func fuzzNode(t *testing.T, members map[string]string, shape uint8) *rpc.Client {
	rt := roundTrip(func(r *http.Request) (*http.Response, error) {
		body, _ := io.ReadAll(r.Body)
		var calls []call
		isBatch := json.Unmarshal(body, &calls) == nil
		if !isBatch {
			var one call
			_ = json.Unmarshal(body, &one)
			calls = []call{one}
		}
		ids := make([]string, len(calls))
		for i, c := range calls {
			ids[i] = string(c.ID)
		}
		if shape&1 != 0 && len(ids) > 1 {
			ids[0], ids[1] = ids[1], ids[0]
		}
		var parts []string
		for i, c := range calls {
			if shape&2 != 0 && c.Method == "eth_getTransactionReceipt" {
				continue
			}
			parts = append(parts, fmt.Sprintf(`{"jsonrpc":"2.0","id":%s,%s}`, ids[i], members[c.Method]))
		}
		if shape&4 != 0 {
			for i, j := 0, len(parts)-1; i < j; i, j = i+1, j-1 {
				parts[i], parts[j] = parts[j], parts[i]
			}
		}
		text := ""
		switch {
		case len(parts) == 0:
			text = "[]"
		case !isBatch || shape&8 != 0:
			text = parts[0]
		default:
			text = "[" + strings.Join(parts, ",") + "]"
		}
		status := http.StatusOK
		if shape&16 != 0 {
			status = http.StatusInternalServerError
		}
		return &http.Response{
			StatusCode: status, Status: http.StatusText(status), Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			Header:  http.Header{"Content-Type": {"application/json"}},
			Body:    io.NopCloser(strings.NewReader(text)),
			Request: r,
		}, nil
	})
	rc, err := rpc.DialOptions(context.Background(), "http://node.invalid/v2/"+nodeSecret, rpc.WithHTTPClient(&http.Client{Transport: rt}))
	if err != nil {
		t.Fatal(err)
	}
	return rc
}

var (
	fuzzHash      = crypto.Keccak256Hash([]byte("deposit")).Hex()
	fuzzBlockHash = crypto.Keccak256Hash([]byte("block")).Hex()
	evmAddress    = regexp.MustCompile(`^0x[0-9a-fA-F]{40}$`)
	maxUint256    = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 256), big.NewInt(1))
	transferTopic = crypto.Keccak256Hash([]byte("Transfer(address,address,uint256)")).Hex()
)

// hexNumber reads a JSON-RPC quantity the way a reader of the answer by
// hand would; nil when it is not one.
func hexNumber(s string) *big.Int {
	digits, ok := strings.CutPrefix(s, "0x")
	if !ok || digits == "" {
		return nil
	}
	n, ok := new(big.Int).SetString(digits, 16)
	if !ok {
		return nil
	}
	return n
}

// answered is what one answer's members hold, read with plain
// encoding/json.
type answered struct {
	Result json.RawMessage `json:"result"`
	Error  json.RawMessage `json:"error"`
}

func readMember(member string) (answered, bool) {
	var a answered
	return a, json.Unmarshal([]byte("{"+member+"}"), &a) == nil
}

// What a node answers to eth_getTransactionByHash, eth_getTransactionReceipt,
// eth_blockNumber and debug_traceTransaction, however malformed, truncated,
// mistyped, out of range or out of order, is either a transaction that says
// what the answers say (the asked hash, the block named, amounts the
// node's own figures, positive and within 256 bits, valid addresses, one
// transfer per index) or an error: not found only when the node said null,
// otherwise unavailable, with the endpoint's key in neither the message
// nor the logged cause.
func FuzzLookupTx(f *testing.F) {
	from := "0x1111111111111111111111111111111111111111"
	to := "0x2222222222222222222222222222222222222222"
	token := "0xdAC17F958D2ee523a2206206994597C13D831ec7"
	topicTo := "0x000000000000000000000000" + to[2:]
	topicFrom := "0x000000000000000000000000" + from[2:]
	mined := func(extra string) string {
		return fmt.Sprintf(`"result":{"blockHash":%q,"blockNumber":"0x10","from":%q,"gas":"0x5208","gasPrice":"0x3b9aca00","hash":%q,"input":"0x","nonce":"0x0","to":%q,"transactionIndex":"0x0","value":"0xde0b6b3a7640000","type":"0x0","chainId":"0x539","v":"0xa95","r":"0x1","s":"0x1"%s}`, fuzzBlockHash, from, fuzzHash, to, extra)
	}
	receipt := func(status, gasUsed, logs string) string {
		return fmt.Sprintf(`"result":{"blockHash":%q,"blockNumber":"0x10","contractAddress":null,"cumulativeGasUsed":%q,"effectiveGasPrice":"0x3b9aca00","from":%q,"gasUsed":%q,"logs":[%s],"logsBloom":"0x00","status":%q,"to":%q,"transactionHash":%q,"transactionIndex":"0x0","type":"0x2"}`, fuzzBlockHash, gasUsed, from, gasUsed, logs, status, to, fuzzHash)
	}
	transferLog := func(index, amount string) string {
		return fmt.Sprintf(`{"address":%q,"topics":[%q,%q,%q],"data":"0x%064s","blockNumber":"0x10","transactionHash":%q,"transactionIndex":"0x0","blockHash":%q,"logIndex":%q,"removed":false}`, token, transferTopic, topicFrom, topicTo, amount, fuzzHash, fuzzBlockHash, index)
	}
	head := `"result":"0x20"`
	trace := fmt.Sprintf(`"result":{"type":"CALL","from":%q,"to":%q,"value":"0x0","gas":"0x1","gasUsed":"0x1","input":"0x","calls":[{"type":"CALL","from":%q,"to":%q,"value":"0x2386f26fc10000"},{"type":"DELEGATECALL","from":%q,"to":%q},{"type":"CALL","from":%q,"to":%q,"value":"0x5","error":"execution reverted"}]}`, from, to, to, from, to, token, to, from)
	pending := fmt.Sprintf(`"result":{"blockHash":null,"blockNumber":null,"from":%q,"hash":%q,"input":"0x","to":%q,"value":"0x1"}`, from, fuzzHash, to)
	for _, s := range []struct {
		tx, receipt, head, trace string
		shape                    uint8
	}{
		{mined(""), receipt("0x1", "0x5208", ""), head, trace, 0},                                                      // plain transfer
		{mined(""), receipt("0x0", "0x5208", ""), head, trace, 0},                                                      // reverted
		{mined(""), receipt("0x1", "0xb411", transferLog("0x0", "f4240")+","+transferLog("0x1", "1")), head, trace, 0}, // token transfers and a trace
		{mined(""), receipt("0x1", "0xb411", transferLog("0x100000001", "f4240")), head, trace, 0},                     // a log index beyond 32 bits
		{mined(""), receipt("0x1", "0xb411", transferLog("0x3", "f4240")+","+transferLog("0x3", "1")), head, trace, 0},
		{mined(""), receipt("0x1", "0xb411", ""), head, `"error":{"code":-32601,"message":"the method debug_traceTransaction does not exist/is not available"}`, 0},
		{pending, `"result":null`, head, trace, 0},
		{`"result":null`, `"result":null`, head, trace, 0},
		{`"error":{"code":-32000,"message":"transaction indexing is in progress"}`, `"result":null`, head, trace, 0},
		{mined(""), receipt("0x1", "0x5208", ""), `"result":"tomorrow"`, trace, 0},
		{mined(""), receipt("0x1", "0x5208", ""), head, trace, 1},
		{mined(""), receipt("0x1", "0x5208", ""), head, trace, 2},
		{mined(""), receipt("0x1", "0x5208", ""), head, trace, 4},
		{mined(""), receipt("0x1", "0x5208", ""), head, trace, 8},
		{mined(""), receipt("0x1", "0x5208", ""), head, trace, 16},
		{strings.Replace(mined(""), `"0xde0b6b3a7640000"`, `"-0x1"`, 1), receipt("0x1", "0x5208", ""), head, trace, 0},
		{strings.Replace(mined(""), `"0xde0b6b3a7640000"`, `"0x1`+strings.Repeat("0", 64)+`"`, 1), receipt("0x1", "0x5208", ""), head, trace, 0},
		{strings.Replace(mined(""), `"0xde0b6b3a7640000"`, `1e18`, 1), receipt("0x1", "0x5208", ""), head, trace, 0},
		{mined(""), receipt("0x2", "0x5208", ""), head, trace, 0},
		{mined(""), `"result":{"transactionHash":"` + fuzzHash + `"}`, head, trace, 0},
		{`"result":{"hash":"` + fuzzHash + `"`, `"result":null`, head, trace, 0},
	} {
		f.Add(s.tx, s.receipt, s.head, s.trace, s.shape)
	}
	f.Fuzz(func(t *testing.T, txMember, receiptMember, headMember, traceMember string, shape uint8) {
		rc := fuzzNode(t, map[string]string{
			"eth_getTransactionByHash":  txMember,
			"eth_getTransactionReceipt": receiptMember,
			"eth_blockNumber":           headMember,
			"debug_traceTransaction":    traceMember,
		}, shape)
		c := evm.New(rc, devNetwork)
		defer c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		tx, err := c.LookupTx(ctx, fuzzHash)
		if err != nil {
			checkLookupError(t, err, txMember)
			return
		}
		checkLookedUp(t, tx, txMember, receiptMember)
	})
}

func checkLookupError(t *testing.T, err error, txMember string) {
	t.Helper()
	if strings.Contains(err.Error(), nodeSecret) || strings.Contains(recovery.ErrorMessage(err), "node.invalid") {
		t.Fatalf("error carries the endpoint: %v", err)
	}
	if errors.Is(err, chains.ErrTxNotFound) {
		if a, ok := readMember(txMember); !ok || len(a.Error) > 0 && string(a.Error) != "null" {
			t.Fatalf("not found, but the node answered %s", txMember)
		}
		return
	}
	if code := recovery.ErrorCode(err); code != recovery.EUnavailable {
		t.Fatalf("error with code %q, want unavailable: %v", code, err)
	}
}

func checkLookedUp(t *testing.T, tx *recovery.Tx, txMember, receiptMember string) {
	t.Helper()
	if !strings.EqualFold(tx.Hash, fuzzHash) || tx.Network != devNetwork.ID || !evmAddress.MatchString(tx.From) {
		t.Fatalf("answer for another transaction: %+v", tx)
	}
	// The node's own figures, read by hand from its answer.
	var raw struct {
		Value       string `json:"value"`
		BlockNumber string `json:"blockNumber"`
	}
	a, _ := readMember(txMember)
	if err := json.Unmarshal(a.Result, &raw); err != nil {
		t.Fatalf("accepted a transaction from an answer plain JSON cannot read: %s", txMember)
	}
	var logs []struct {
		LogIndex string `json:"logIndex"`
	}
	if ra, ok := readMember(receiptMember); ok {
		var r struct {
			Logs json.RawMessage `json:"logs"`
		}
		if json.Unmarshal(ra.Result, &r) == nil {
			_ = json.Unmarshal(r.Logs, &logs)
		}
	}
	switch tx.Status {
	case recovery.TxPending:
		if tx.BlockNumber != 0 || tx.BlockHash != "" || tx.Confirmations != 0 {
			t.Fatalf("pending transaction with a block: %+v", tx)
		}
	case recovery.TxSuccess, recovery.TxFailed:
		if n := hexNumber(raw.BlockNumber); n == nil || !n.IsUint64() || n.Uint64() != tx.BlockNumber {
			t.Fatalf("block %d, the node said %q", tx.BlockNumber, raw.BlockNumber)
		}
		if len(tx.BlockHash) != 66 || tx.Confirmations == 0 {
			t.Fatalf("mined transaction without its block: %+v", tx)
		}
		if tx.Fee != nil && tx.Fee.Sign() < 0 {
			t.Fatalf("negative fee %s", tx.Fee)
		}
		if tx.Status == recovery.TxFailed && len(tx.Transfers) > 0 {
			t.Fatalf("a reverted transaction moved %+v", tx.Transfers)
		}
	default:
		t.Fatalf("status %q", tx.Status)
	}
	seen := map[string]bool{}
	for _, tr := range tx.Transfers {
		code := tr.IndexCode()
		if seen[code] {
			t.Fatalf("two transfers named %s: %+v", code, tx.Transfers)
		}
		seen[code] = true
		if tr.Amount == nil || tr.Amount.Sign() <= 0 || tr.Amount.Cmp(maxUint256) > 0 {
			t.Fatalf("transfer amount %v", tr.Amount)
		}
		if !evmAddress.MatchString(tr.From) || (tr.To != "" || tr.Kind != recovery.KindNative) && !evmAddress.MatchString(tr.To) {
			t.Fatalf("transfer between %q and %q", tr.From, tr.To)
		}
		switch tr.Kind {
		case recovery.KindNative:
			if v := hexNumber(raw.Value); v == nil || v.Cmp(tr.Amount) != 0 {
				t.Fatalf("native transfer of %s, the node said value %q", tr.Amount, raw.Value)
			}
		case recovery.KindToken:
			if !evmAddress.MatchString(tr.Token) {
				t.Fatalf("token transfer of contract %q", tr.Token)
			}
			found := false
			for _, l := range logs {
				if n := hexNumber(l.LogIndex); n != nil && n.IsUint64() && n.Uint64() == uint64(tr.Index) {
					found = true
				}
			}
			if !found {
				t.Fatalf("token transfer at log %d, the node's logs are %+v", tr.Index, logs)
			}
		case recovery.KindInternal:
			if !tx.Traced {
				t.Fatalf("internal transfer in an untraced transaction")
			}
		default:
			t.Fatalf("transfer of kind %q", tr.Kind)
		}
	}
}

// What a node answers to the calls that price and fund a recovery
// (eth_getBlockByNumber and eth_maxPriorityFeePerGas or eth_gasPrice for
// the cost, eth_getBalance, eth_getTransactionCount, eth_call of
// decimals()) is a figure within its range — a cost of exactly gas ×
// (2 × base fee + tip) or gas × gas price, a balance within 256 bits, a
// positive gas price, 0 to 36 decimals — or an error with a code, never a
// panic nor the endpoint's key.
func FuzzAccountReads(f *testing.F) {
	header := func(baseFee string) string {
		return fmt.Sprintf(`"result":{"parentHash":%q,"sha3Uncles":%q,"miner":"0x0000000000000000000000000000000000000000","stateRoot":%q,"transactionsRoot":%q,"receiptsRoot":%q,"logsBloom":"0x%0512d","difficulty":"0x0","number":"0x20","gasLimit":"0x1c9c380","gasUsed":"0x0","timestamp":"0x6553f100","extraData":"0x","mixHash":%q,"nonce":"0x0000000000000000"%s,"hash":%q}`,
			fuzzBlockHash, fuzzBlockHash, fuzzBlockHash, fuzzBlockHash, fuzzBlockHash, 0, fuzzBlockHash, baseFee, fuzzBlockHash)
	}
	word := func(n int) string { return fmt.Sprintf(`"result":"0x%064x"`, n) }
	for _, s := range []struct {
		header, tip, price, balance, nonce, decimals string
	}{
		{header(`,"baseFeePerGas":"0x3b9aca00"`), `"result":"0x59682f00"`, `"result":"0x77359400"`, `"result":"0xde0b6b3a7640000"`, `"result":"0x5"`, word(6)},
		{header(""), `"result":"0x1"`, `"result":"0x3b9aca00"`, `"result":"0x0"`, `"result":"0x0"`, word(18)},
		{`"result":null`, `"result":null`, `"result":"0x0"`, `"result":null`, `"result":"-0x1"`, word(37)},
		{header(`,"baseFeePerGas":"0x1` + strings.Repeat("0", 64) + `"`), `"result":"0x1` + strings.Repeat("0", 63) + `"`, `"result":"0x"`, `"result":"0x1` + strings.Repeat("0", 64) + `"`, `"result":"0x10000000000000000"`, `"result":"0x12"`},
		{`"error":{"code":-32000,"message":"header not found"}`, `"error":{"code":-32601,"message":"the method eth_maxPriorityFeePerGas does not exist"}`, `"result":1000000000`, `"result":"1e18"`, `"result":5`, `"error":{"code":3,"message":"execution reverted","data":"0x"}`},
	} {
		f.Add(s.header, s.tip, s.price, s.balance, s.nonce, s.decimals)
	}
	const holder = "0x2222222222222222222222222222222222222222"
	const token = "0xdAC17F958D2ee523a2206206994597C13D831ec7"
	f.Fuzz(func(t *testing.T, header, tip, price, balance, nonce, decimals string) {
		rc := fuzzNode(t, map[string]string{
			"eth_getBlockByNumber":     header,
			"eth_maxPriorityFeePerGas": tip,
			"eth_gasPrice":             price,
			"eth_getBalance":           balance,
			"eth_getTransactionCount":  nonce,
			"eth_call":                 decimals,
		}, 0)
		c := evm.New(rc, devNetwork)
		defer c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		refused := func(what string, err error, codes ...string) {
			t.Helper()
			if strings.Contains(err.Error(), nodeSecret) || strings.Contains(recovery.ErrorMessage(err), "node.invalid") {
				t.Fatalf("%s: error carries the endpoint: %v", what, err)
			}
			if code := recovery.ErrorCode(err); !slices.Contains(codes, code) {
				t.Fatalf("%s: error with code %q: %v", what, code, err)
			}
		}

		for _, gas := range []uint64{0, evm.TokenTransferGas} {
			cost, err := c.EstimateCost(ctx, gas)
			if err != nil {
				refused("cost", err, recovery.EUnavailable)
				continue
			}
			want := gas
			if want == 0 {
				want = evm.NativeSendGas
			}
			perGas := cost.MaxFeePerGas
			if cost.Method == recovery.MethodEIP1559 {
				if cost.BaseFee == nil || cost.TipCap == nil || cost.BaseFee.Sign() < 0 || cost.TipCap.Sign() < 0 ||
					perGas.Cmp(new(big.Int).Add(new(big.Int).Lsh(cost.BaseFee, 1), cost.TipCap)) != 0 {
					t.Fatalf("EIP-1559 cost %+v", cost)
				}
			} else if cost.Method != recovery.MethodLegacy {
				t.Fatalf("cost by method %q", cost.Method)
			}
			if cost.GasLimit != want || perGas == nil || perGas.Sign() < 0 || cost.Amount.Cmp(new(big.Int).Mul(new(big.Int).SetUint64(want), perGas)) != 0 {
				t.Fatalf("cost %+v for %d gas", cost, want)
			}
		}
		if b, err := c.Balance(ctx, holder); err != nil {
			refused("balance", err, recovery.EUnavailable)
		} else if b.Sign() < 0 || b.Cmp(maxUint256) > 0 {
			t.Fatalf("balance %s", b)
		}
		if p, err := c.GasPrice(ctx); err != nil {
			refused("gas price", err, recovery.EUnavailable)
		} else if p.Sign() <= 0 || p.Cmp(maxUint256) > 0 {
			t.Fatalf("gas price %s", p)
		}
		if _, err := c.PendingNonce(ctx, holder); err != nil {
			refused("nonce", err, recovery.EUnavailable)
		}
		if d, err := c.TokenDecimals(ctx, token); err != nil {
			refused("decimals", err, recovery.EUnavailable, recovery.EInvalid)
		} else if d < 0 || d > 36 {
			t.Fatalf("%d decimals", d)
		}
	})
}
