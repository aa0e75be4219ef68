package main

import (
	"context"
	"math/big"
	"strings"

	"github.com/shopspring/decimal"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/number"
)

// assetUnits are what a case's deposit counts: its asset's symbol and
// decimals, from the engine's network registry. The API's raw fields give
// base units (satoshi, wei); a specialist reads whole units.
type assetUnits struct {
	Asset    string
	Decimals int32
	Known    bool
}

// depositUnits asks the engine's registry for the decimals of the case's
// deposit: the network's native asset or a listed token. An unlisted
// token's decimals are known only from its quote.
func (g *globals) depositUnits(ctx context.Context, c *caseDetail) assetUnits {
	d := c.Deposit
	if d == nil {
		return assetUnits{}
	}
	var resp struct {
		Networks []struct {
			ID          string `json:"id"`
			NativeAsset string `json:"native_asset"`
			Decimals    int32  `json:"decimals"`
			Tokens      []struct {
				Symbol   string `json:"symbol"`
				Contract string `json:"contract"`
				Decimals int32  `json:"decimals"`
			} `json:"tokens"`
		} `json:"networks"`
	}
	if _, err := g.get(ctx, "/v1/networks", nil, &resp); err == nil {
		for _, n := range resp.Networks {
			if n.ID != c.Network {
				continue
			}
			if d.Token == "" {
				return assetUnits{Asset: n.NativeAsset, Decimals: n.Decimals, Known: true}
			}
			for _, tok := range n.Tokens {
				if strings.EqualFold(tok.Contract, d.Token) {
					return assetUnits{Asset: tok.Symbol, Decimals: tok.Decimals, Known: true}
				}
			}
		}
	}
	asset := d.Asset
	if asset == "" {
		asset = d.Token
	}
	return assetUnits{Asset: asset}
}

// baseToWhole writes base units of u in whole units with the symbol
// ("0.1 BTC"), or says they are base units when u's decimals are unknown.
func (u assetUnits) baseToWhole(base string) string {
	n, ok := new(big.Int).SetString(base, 10)
	if !ok {
		return base + " " + u.Asset
	}
	if !u.Known {
		return grouped(n.String()) + " base units of " + u.Asset
	}
	return grouped(decimal.NewFromBigInt(n, -u.Decimals).String()) + " " + u.Asset
}

var printer = message.NewPrinter(language.English)

// grouped writes a decimal in whole units with its thousands grouped
// (1,000.5), every decimal kept.
func grouped(v string) string {
	sign, s := "", v
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	intPart, frac, hasFrac := strings.Cut(s, ".")
	n, ok := new(big.Int).SetString(intPart, 10)
	if !ok {
		return v
	}
	var out string
	if n.IsInt64() {
		out = printer.Sprint(number.Decimal(n.Int64()))
	} else {
		var b strings.Builder
		for i, c := range intPart {
			if i > 0 && (len(intPart)-i)%3 == 0 {
				b.WriteByte(',')
			}
			b.WriteRune(c)
		}
		out = b.String()
	}
	if hasFrac {
		out += "." + frac
	}
	return sign + out
}
