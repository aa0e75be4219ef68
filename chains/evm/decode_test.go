package evm

import (
	"encoding/json"
	"math/big"
	"strings"
	"testing"

	"github.com/misdeposit/recovery"
)

// These tables feed the decoders node answers that the dev chain's fixture
// contracts do not produce (NFT transfers, removed logs, nested reverts),
// written as a node serialises them.

const (
	addrA  = "0x00000000000000000000000000000000000000aa"
	addrB  = "0x00000000000000000000000000000000000000bb"
	addrT  = "0x00000000000000000000000000000000000000cc"
	topicA = "0x00000000000000000000000000000000000000000000000000000000000000aa"
	topicB = "0x00000000000000000000000000000000000000000000000000000000000000bb"
	amount = "0x00000000000000000000000000000000000000000000000000000000000003e8" // 1000
)

func TestTokenTransfers(t *testing.T) {
	transfer := transferTopic.Hex()
	for _, tc := range []struct {
		name string
		log  string
		want bool
	}{
		{"erc20", `{"address":"` + addrT + `","topics":["` + transfer + `","` + topicA + `","` + topicB + `"],"data":"` + amount + `","logIndex":"0x7"}`, true},
		{"erc721 has the token id as a fourth topic", `{"address":"` + addrT + `","topics":["` + transfer + `","` + topicA + `","` + topicB + `","` + amount + `"],"data":"0x","logIndex":"0x7"}`, false},
		{"removed by a reorg", `{"address":"` + addrT + `","topics":["` + transfer + `","` + topicA + `","` + topicB + `"],"data":"` + amount + `","logIndex":"0x7","removed":true}`, false},
		{"other event", `{"address":"` + addrT + `","topics":["` + topicA + `","` + topicA + `","` + topicB + `"],"data":"` + amount + `","logIndex":"0x7"}`, false},
		{"unindexed transfer", `{"address":"` + addrT + `","topics":["` + transfer + `"],"data":"` + amount + strings.Repeat("00", 64) + `","logIndex":"0x7"}`, false},
		{"amount not one word", `{"address":"` + addrT + `","topics":["` + transfer + `","` + topicA + `","` + topicB + `"],"data":"` + amount + `00","logIndex":"0x7"}`, false},
		{"topic is not an address", `{"address":"` + addrT + `","topics":["` + transfer + `","` + transfer + `","` + topicB + `"],"data":"` + amount + `","logIndex":"0x7"}`, false},
		{"zero amount (address poisoning)", `{"address":"` + addrT + `","topics":["` + transfer + `","` + topicA + `","` + topicB + `"],"data":"0x` + strings.Repeat("00", 32) + `","logIndex":"0x7"}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var l rpcLog
			if err := json.Unmarshal([]byte(tc.log), &l); err != nil {
				t.Fatal(err)
			}
			got := tokenTransfers([]rpcLog{l})
			if !tc.want {
				if len(got) != 0 {
					t.Fatalf("got %+v, want no transfer", got)
				}
				return
			}
			if len(got) != 1 {
				t.Fatalf("got %d transfers, want 1", len(got))
			}
			g := got[0]
			if g.Kind != recovery.KindToken || g.Index != 7 || !strings.EqualFold(g.From, addrA) || !strings.EqualFold(g.To, addrB) ||
				!strings.EqualFold(g.Token, addrT) || g.Amount.Cmp(big.NewInt(1000)) != 0 {
				t.Errorf("got %+v", g)
			}
		})
	}
}

func TestWalkCalls(t *testing.T) {
	// Frames numbered depth first: 1 CALL a->b 5 wei; 2 DELEGATECALL (value
	// shown, none moved); 3 reverted CALL whose sub-call 4 is undone with
	// it; 5 CREATE paying the new contract; 6 SELFDESTRUCT sending the
	// balance on.
	trace := `{"type":"CALL","from":"` + addrA + `","to":"` + addrB + `","value":"0x0","calls":[
		{"type":"CALL","from":"` + addrB + `","to":"` + addrA + `","value":"0x5"},
		{"type":"DELEGATECALL","from":"` + addrB + `","to":"` + addrT + `","value":"0x9"},
		{"type":"CALL","from":"` + addrB + `","to":"` + addrT + `","value":"0x6","error":"execution reverted","calls":[
			{"type":"CALL","from":"` + addrT + `","to":"` + addrA + `","value":"0x6"}]},
		{"type":"CREATE","from":"` + addrB + `","to":"` + addrT + `","value":"0x7","calls":[
			{"type":"SELFDESTRUCT","from":"` + addrT + `","to":"` + addrA + `","value":"0x7"}]}
	]}`
	var top callFrame
	if err := json.Unmarshal([]byte(trace), &top); err != nil {
		t.Fatal(err)
	}
	var (
		got   []recovery.Transfer
		index uint32
	)
	for i := range top.Calls {
		walkCalls(&top.Calls[i], &index, &got)
	}
	want := []struct {
		index    uint32
		from, to string
		wei      int64
	}{{1, addrB, addrA, 5}, {5, addrB, addrT, 7}, {6, addrT, addrA, 7}}
	if len(got) != len(want) {
		t.Fatalf("got %+v, want %d transfers", got, len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.Kind != recovery.KindInternal || g.Index != w.index || !strings.EqualFold(g.From, w.from) || !strings.EqualFold(g.To, w.to) || g.Amount.Int64() != w.wei {
			t.Errorf("transfer %d = %+v, want %+v", i, g, w)
		}
	}
}
