package fees

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/chains"
)

func TestDevPricesCoverEveryDefaultNetwork(t *testing.T) {
	p := DevPrices()
	for _, n := range chains.DefaultNetworks() {
		price, err := p.USD(context.Background(), n.ID, n.NativeAsset)
		if err != nil {
			t.Errorf("%s: %v", n.ID, err)
			continue
		}
		if !price.Value.IsPositive() || !strings.Contains(price.Source, "static dev prices") || price.At.IsZero() {
			t.Errorf("%s: price %+v", n.ID, price)
		}
	}
	for _, token := range []string{"USDT", "usdc", "DAI", "WBTC", "WETH"} {
		if _, err := p.USD(context.Background(), "eth", token); err != nil {
			t.Errorf("%s: %v", token, err)
		}
	}
	// A token contract priced on its own network only.
	const usdtContract = "0xdAC17F958D2ee523a2206206994597C13D831ec7"
	if price, err := p.USD(context.Background(), "eth", usdtContract); err != nil || !price.Value.Equal(d("1")) {
		t.Errorf("USDT by contract on eth: %+v, %v", price, err)
	}
	if _, err := p.USD(context.Background(), "polygon", usdtContract); recovery.ErrorCode(err) != recovery.ENotFound {
		t.Errorf("the eth contract priced on polygon: %v", err)
	}
}

func TestUnpricedAssetIsNotFound(t *testing.T) {
	_, err := DevPrices().USD(context.Background(), "bsc", "SHIBAINU2")
	if recovery.ErrorCode(err) != recovery.ENotFound || !strings.Contains(recovery.ErrorMessage(err), "no price for SHIBAINU2") {
		t.Errorf("err = %v", err)
	}
	if _, err := DevPrices().USD(context.Background(), "bsc", ""); recovery.ErrorCode(err) != recovery.ENotFound {
		t.Errorf("empty asset: %v", err)
	}
}

func TestStaticPricesNetworkKeyWins(t *testing.T) {
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p := StaticPrices(map[string]Price{
		"ETH":        {Value: d("3000"), Source: "a", At: at},
		"scroll/eth": {Value: d("2999.5"), Source: "b", At: at},
	})
	if got, _ := p.USD(context.Background(), "eth", "eth"); got.Source != "a" {
		t.Errorf("eth: %+v", got)
	}
	if got, _ := p.USD(context.Background(), "Scroll", "ETH"); got.Source != "b" || !got.Value.Equal(d("2999.5")) {
		t.Errorf("scroll: %+v", got)
	}
}

func TestLoadStaticPrices(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	j := write("p.json", `{"source":"desk sheet","at":"2026-11-23T10:00:00Z","assets":{"ETH":"3001.25","BTC":90000.5}}`)
	s, err := LoadStaticPrices(j)
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := s.USD(context.Background(), "eth", "ETH"); !p.Value.Equal(d("3001.25")) || p.Source != "desk sheet" {
		t.Errorf("json: %+v", p)
	}
	if p, _ := s.USD(context.Background(), "btc", "BTC"); p.Value.String() != "90000.5" {
		t.Errorf("a JSON number is read digit for digit: %+v", p)
	}
	y := write("p.yaml", "source: desk\nassets:\n  DOGE: 0.1\n")
	if s, err := LoadStaticPrices(y); err != nil {
		t.Fatal(err)
	} else if p, _ := s.USD(context.Background(), "doge", "DOGE"); p.Value.String() != "0.1" {
		t.Errorf("yaml: %+v", p)
	}

	for name, content := range map[string]string{
		"unknown-key.yaml":  "source: x\nasets: {ETH: 1}\n",
		"unknown-key.json":  `{"source":"x","assets":{"ETH":1},"extra":1}`,
		"no-source.yaml":    "assets: {ETH: 1}\n",
		"zero.yaml":         "source: x\nassets: {ETH: 0}\n",
		"negative.yaml":     "source: x\nassets: {ETH: -3}\n",
		"not-a-number.yaml": "source: x\nassets: {ETH: lots}\n",
		"empty.yaml":        "",
		"no-prices.yaml":    "source: x\n",
		"slash.yaml":        "source: x\nassets: {\"a/b\": 1}\n",
		"yaml.json":         "source: x\nassets: {ETH: 1}\n",
		"trailing.json":     `{"source":"x","assets":{"ETH":1}} {}`,
		"huge.yaml":         "source: x\nassets: {ETH: 1e20}\n",
	} {
		_, err := LoadStaticPrices(write(name, content))
		if err == nil {
			t.Errorf("%s: accepted", name)
		} else if c := recovery.ErrorCode(err); c != recovery.EInvalid {
			t.Errorf("%s: code %s (%v)", name, c, err)
		}
	}
	if _, err := LoadStaticPrices(filepath.Join(dir, "missing.yaml")); err == nil {
		t.Error("missing file accepted")
	}
}
