package ledger

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/misdeposit/recovery"
)

// FuzzPostRecovery posts whatever a caller might send: PostRecovery never
// panics, refuses with an *recovery.Error naming a field, and whatever it
// accepts is a balanced entry that credits the user the deposit less the
// fees.
func FuzzPostRecovery(f *testing.F) {
	f.Add("bsc", "wrong_network_evm", "USDT", int32(18), "250000000000000000000", "5000000000000000000", "300000000000000000",
		"BNB", int32(18), "500000000000000", "600", "1.0001", int64(1795953600), int64(3600), "alice", "credit")
	f.Add("ltc", "cross_chain_utxo", "LTC", int32(8), "350000000", "3499990000", "10000",
		"LTC", int32(8), "8000", "84.20", "84.20", int64(1795953600), int64(0), "bob", "credit")
	f.Add("btc", "retired_address", "BTC", int32(8), "1", "", "", "", int32(0), "", "", "1e-36", int64(0), int64(-1), "x", "refund")
	f.Add("eth", "unlisted_token", "0xdac17f958d2ee523a2206206994597c13d831ec7", int32(36), "115792089237316195423570985008687907853269984665640564039457584007913129639935",
		"0", "-1", "ETH", int32(18), "1", "1e17", "99999999999999999.9", int64(253402300799), int64(1), "u@x:y", "credit")
	f.Add("eth", "below_minimum", "ETH", int32(18), "10", "9", "1", "ETH", int32(6), "1", "3000", "3000", int64(1795953600), int64(60), "carol", "credit")

	s := open(f, filepath.Join(f.TempDir(), "ledger.db"))
	ctx := context.Background()
	var n atomic.Int64
	amount := func(text string) *big.Int {
		if text == "" {
			return nil
		}
		a, ok := new(big.Int).SetString(text, 10)
		if !ok {
			return big.NewInt(-1)
		}
		return a
	}
	f.Fuzz(func(t *testing.T, network, category, asset string, decimals int32, deposit, fee, charged string,
		costAsset string, costDecimals int32, cost, costPrice, priceUSD string, at, timeToRecovery int64, user, step string) {
		if len(deposit)+len(fee)+len(charged)+len(cost)+len(costPrice)+len(priceUSD) > 2000 {
			t.Skip() // big.Int parsing of megabytes is not what this tests
		}
		p, _ := decimal.NewFromString(priceUSD)
		cp, _ := decimal.NewFromString(costPrice)
		credit := time.Unix(at, 0)
		id := fmt.Sprintf("eth.%064x.v", n.Add(1))
		r := Recovery{
			CaseID: id, DepositID: id, Step: step,
			At: credit, FiledAt: credit.Add(-time.Duration(timeToRecovery)),
			Network: network, Category: category, Asset: asset, Decimals: decimals,
			Deposit: amount(deposit), ServiceFee: amount(fee), NetworkCostCharged: amount(charged),
			NetworkCostPaid: NetworkCost{Asset: costAsset, Decimals: costDecimals, Amount: amount(cost), PriceUSD: cp},
			UserID:          user, PriceUSD: p,
		}
		err := s.PostRecovery(ctx, r)
		lines, lerr := s.CaseLines(ctx, r.CaseID)
		if lerr != nil {
			t.Fatal(lerr)
		}
		if err != nil {
			var e *recovery.Error
			if !errors.As(err, &e) || e.Code != recovery.EInvalid || e.Field == "" {
				t.Fatalf("refused without a field error: %v", err)
			}
			if len(lines) != 0 {
				t.Fatalf("refused, yet wrote %q", lineTexts(lines))
			}
			return
		}
		checkBalanced(t, lines)
		fees := new(big.Int)
		if r.ServiceFee != nil {
			fees.Add(fees, r.ServiceFee)
		}
		if r.NetworkCostCharged != nil {
			fees.Add(fees, r.NetworkCostCharged)
		}
		want := new(big.Int).Sub(r.Deposit, fees)
		got, recovered := new(big.Int), new(big.Int)
		for _, l := range lines {
			switch {
			case l.Account == UserAccount(user):
				got.Add(got, l.Credit)
			case l.Account == AccountHotWallet && l.Asset == asset:
				recovered.Add(recovered, l.Debit)
			}
			if l.USD.Sign() < 0 {
				t.Fatalf("negative USD value: %s", lineText(l))
			}
		}
		if got.Cmp(want) != 0 || want.Sign() < 0 || recovered.Cmp(r.Deposit) != 0 {
			t.Fatalf("user credited %s of %s recovered, want %s of %s", got, recovered, want, r.Deposit)
		}
	})
}
