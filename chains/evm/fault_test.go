package evm_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/chains"
	"github.com/misdeposit/recovery/chains/evm"
	"github.com/misdeposit/recovery/internal/nodetest"
)

// A real node cannot be made to answer garbage, so these tests put a
// misbehaving HTTP endpoint where the node would be. Each answer is one an
// RPC provider or a proxy in front of a node has been seen to give. The
// outcome that matters: never "not found", always "unavailable", so the
// engine retries instead of telling a user their deposit does not exist.
func TestLookupGarbageIsUnavailable(t *testing.T) {
	hash := crypto.Keccak256Hash([]byte("deposit")).Hex()
	block := "0x10"
	blockHash := crypto.Keccak256Hash([]byte("block")).Hex()
	tx := fmt.Sprintf(`{"hash":%q,"from":"0x1111111111111111111111111111111111111111","to":"0x2222222222222222222222222222222222222222","value":"0x1","input":"0x","blockNumber":%q,"blockHash":%q}`, hash, block, blockHash)

	for name, answer := range map[string]func(calls []call) (int, string){
		"html error page": func([]call) (int, string) { return 502, "<html>Bad Gateway</html>" },
		"rate limited":    func([]call) (int, string) { return 429, `{"error":"too many requests"}` },
		"not json":        func([]call) (int, string) { return 200, "hello" },
		"not a batch":     func([]call) (int, string) { return 200, `{"jsonrpc":"2.0","id":1,"result":"0x1"}` },
		"missing answers": func(calls []call) (int, string) {
			return 200, batch(calls[1:], `null`, `"0x20"`)
		},
		"tx is a number": func(calls []call) (int, string) { return 200, batch(calls, `42`, `null`, `"0x20"`) },
		"tx for another hash": func(calls []call) (int, string) {
			other := strings.Replace(tx, hash, crypto.Keccak256Hash([]byte("other")).Hex(), 1)
			return 200, batch(calls, other, `null`, `"0x20"`)
		},
		"indexing in progress": func(calls []call) (int, string) {
			return 200, fmt.Sprintf(`[{"jsonrpc":"2.0","id":%s,"error":{"code":-32000,"message":"transaction indexing is in progress"}},{"jsonrpc":"2.0","id":%s,"result":null},{"jsonrpc":"2.0","id":%s,"result":"0x20"}]`, calls[0].ID, calls[1].ID, calls[2].ID)
		},
		"mined without receipt": func(calls []call) (int, string) { return 200, batch(calls, tx, `null`, `"0x20"`) },
		"receipt from another block": func(calls []call) (int, string) {
			receipt := fmt.Sprintf(`{"transactionHash":%q,"blockNumber":"0x11","blockHash":%q,"status":"0x1","gasUsed":"0x5208","logs":[]}`, hash, blockHash)
			return 200, batch(calls, tx, receipt, `"0x20"`)
		},
		"bad head": func(calls []call) (int, string) {
			receipt := fmt.Sprintf(`{"transactionHash":%q,"blockNumber":%q,"blockHash":%q,"status":"0x1","gasUsed":"0x5208","logs":[]}`, hash, block, blockHash)
			return 200, batch(calls, tx, receipt, `"tomorrow"`)
		},
	} {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				var calls []call
				_ = json.Unmarshal(body, &calls)
				status, text := answer(calls)
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(status)
				io.WriteString(w, text)
			}))
			defer srv.Close()
			rc, err := rpc.Dial(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			c := evm.New(rc, devNetwork)
			defer c.Close()

			_, err = c.LookupTx(nodetest.Context(t), hash)
			if recovery.ErrorCode(err) != recovery.EUnavailable || errors.Is(err, chains.ErrTxNotFound) {
				t.Fatalf("err = %v (code %q), want unavailable", err, recovery.ErrorCode(err))
			}
			if msg := recovery.ErrorMessage(err); strings.Contains(msg, srv.URL) || strings.Contains(msg, "indexing") {
				t.Errorf("user-facing message carries node detail: %q", msg)
			}
		})
	}
}

type call struct {
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"`
}

// batch answers calls in order with the given results.
func batch(calls []call, results ...string) string {
	parts := make([]string, len(calls))
	for i, c := range calls {
		parts[i] = fmt.Sprintf(`{"jsonrpc":"2.0","id":%s,"result":%s}`, c.ID, results[i])
	}
	return "[" + strings.Join(parts, ",") + "]"
}

func FuzzParseTxHash(f *testing.F) {
	valid := crypto.Keccak256Hash([]byte("seed")).Hex()
	for _, s := range []string{valid, strings.ToUpper(valid), " " + valid + " ", valid[2:], "", "0x", "0x" + strings.Repeat("z", 64), valid + "00", "0x\u00e9" + valid[4:]} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, err := evm.ParseTxHash(s)
		if err != nil {
			var e *recovery.Error
			if !errors.As(err, &e) || e.Code != recovery.EInvalid || e.Field != "tx_hash" {
				t.Fatalf("ParseTxHash(%q) error %v is not an invalid tx_hash", s, err)
			}
			return
		}
		// Accepted means: exactly the normalised hash, nothing dropped.
		trimmed := strings.TrimSpace(s)
		if !strings.EqualFold(trimmed, h.Hex()) {
			t.Fatalf("ParseTxHash(%q) = %s, not the same hash", s, h.Hex())
		}
		if again, err := evm.ParseTxHash(h.Hex()); err != nil || again != h {
			t.Fatalf("canonical form %s does not parse back: %v", h.Hex(), err)
		}
	})
}
