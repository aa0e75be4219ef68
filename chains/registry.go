package chains

import (
	"fmt"
	"math/big"
	"regexp"
	"slices"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/misdeposit/recovery"
)

// Tier is how a network is recoverable under the default policy.
type Tier string

const (
	Direct      Tier = "direct"      // recoverable without extra conditions
	Conditional Tier = "conditional" // recoverable under conditions (minimum value, sign-off, batching, fee)
)

// Network is one entry of the registry.
type Network struct {
	ID     string          `json:"id" yaml:"id"`
	Name   string          `json:"name" yaml:"name"`
	Family recovery.Family `json:"family" yaml:"family"`
	// ChainID is the EIP-155 chain id of an EVM network (0 otherwise).
	ChainID uint64 `json:"chain_id,omitempty" yaml:"chain_id,omitempty"`
	// Params names the address parameters of a UTXO network (btc, ltc, bch,
	// doge, dash, zec; see chains/utxo), or the ledger a memo network runs,
	// which picks its adapter and its signed-message format: "xrpl" (see
	// chains/xrp), "stellar", "cosmos". A memo network without an adapter
	// for its ledger works from manual evidence.
	Params        string   `json:"params,omitempty" yaml:"params,omitempty"`
	Confirmations uint64   `json:"confirmations" yaml:"confirmations"`
	NativeAsset   string   `json:"native_asset" yaml:"native_asset"`
	Decimals      int32    `json:"decimals" yaml:"decimals"`
	Tier          Tier     `json:"tier" yaml:"tier"`
	RPC           []string `json:"rpc,omitempty" yaml:"rpc,omitempty"`
	// MinDeposit is the smallest native deposit the exchange credits, in
	// whole units ("0.001"); "" means no minimum.
	MinDeposit string `json:"min_deposit,omitempty" yaml:"min_deposit,omitempty"`
	// Tokens are the tokens the exchange lists on this network; a deposit
	// of any other token contract is an unlisted token.
	Tokens []Token `json:"tokens,omitempty" yaml:"tokens,omitempty"`
	// RateLimit is the requests per second the engine sends to each node
	// of the network: nil for the engine's default, 0 for no limit.
	RateLimit *float64 `json:"-" yaml:"rate_limit,omitempty"`
}

// Token is a token the exchange lists on one network.
type Token struct {
	Symbol   string `json:"symbol" yaml:"symbol"`
	Contract string `json:"contract" yaml:"contract"`
	Decimals int32  `json:"decimals" yaml:"decimals"`
	// MinDeposit is in whole tokens; "" means no minimum.
	MinDeposit string `json:"min_deposit,omitempty" yaml:"min_deposit,omitempty"`
}

// Asset says what a transfer on this network moved: the symbol of the
// native asset or of a listed token (listed true), or the contract of an
// unlisted token (listed false), and the smallest deposit of it the
// exchange credits, in base units (nil: no minimum).
func (n Network) Asset(t recovery.Transfer) (asset string, listed bool, minimum *big.Int) {
	if t.Kind != recovery.KindToken {
		return n.NativeAsset, true, baseUnits(n.MinDeposit, n.Decimals)
	}
	if tok, ok := n.Token(t.Token); ok {
		return tok.Symbol, true, baseUnits(tok.MinDeposit, tok.Decimals)
	}
	return t.Token, false, nil
}

// Token returns the listed token with the given contract.
func (n Network) Token(contract string) (Token, bool) {
	for _, tok := range n.Tokens {
		if SameAddress(n.Family, tok.Contract, contract) {
			return tok, true
		}
	}
	return Token{}, false
}

// baseUnits converts whole units written as decimal text to base units; ""
// (and text validate refused) gives nil.
func baseUnits(whole string, decimals int32) *big.Int {
	if whole == "" {
		return nil
	}
	d, err := decimal.NewFromString(whole)
	if err != nil || d.Sign() < 0 {
		return nil
	}
	return d.Shift(decimals).Floor().BigInt()
}

func validMinimum(whole string, decimals int32) error {
	if whole == "" {
		return nil
	}
	d, err := decimal.NewFromString(whole)
	switch {
	case err != nil:
		return fmt.Errorf("min_deposit %q is not a decimal number", whole)
	case d.Sign() < 0:
		return fmt.Errorf("min_deposit %q is negative", whole)
	case d.Exponent() < -decimals:
		return fmt.Errorf("min_deposit %q has more than %d decimals", whole, decimals)
	}
	return nil
}

func evm(id, name string, chainID, conf uint64, asset string, tier Tier) Network {
	return Network{ID: id, Name: name, Family: recovery.FamilyEVM, ChainID: chainID, Confirmations: conf, NativeAsset: asset, Decimals: 18, Tier: tier}
}

// withTokens lists the best-known stablecoins of a network by default;
// configuration replaces the list (networks[].tokens).
func withTokens(n Network, tokens ...Token) Network {
	n.Tokens = tokens
	return n
}

func utxo(id, name, params string, conf uint64, asset string, tier Tier) Network {
	return Network{ID: id, Name: name, Family: recovery.FamilyUTXO, Params: params, Confirmations: conf, NativeAsset: asset, Decimals: 8, Tier: tier}
}

func memo(id, name, ledger string, conf uint64, asset string, decimals int32, tier Tier) Network {
	return Network{ID: id, Name: name, Family: recovery.FamilyMemo, Params: ledger, Confirmations: conf, NativeAsset: asset, Decimals: decimals, Tier: tier}
}

// DefaultNetworks returns the 32 networks of the default policy: 16 directly
// recoverable and 16 recoverable under conditions. No RPC endpoints are set;
// they come from configuration.
func DefaultNetworks() []Network {
	return []Network{
		withTokens(evm("eth", "Ethereum", 1, 12, "ETH", Direct),
			Token{Symbol: "USDT", Contract: "0xdAC17F958D2ee523a2206206994597C13D831ec7", Decimals: 6},
			Token{Symbol: "USDC", Contract: "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48", Decimals: 6}),
		withTokens(evm("bsc", "BNB Smart Chain", 56, 15, "BNB", Direct),
			Token{Symbol: "USDT", Contract: "0x55d398326f99059fF775485246999027B3197955", Decimals: 18}),
		evm("polygon", "Polygon PoS", 137, 128, "POL", Direct),
		evm("arbitrum", "Arbitrum One", 42161, 20, "ETH", Direct),
		evm("optimism", "OP Mainnet", 10, 20, "ETH", Direct),
		evm("base", "Base", 8453, 20, "ETH", Direct),
		evm("avax-c", "Avalanche C-Chain", 43114, 12, "AVAX", Direct),
		evm("opbnb", "opBNB", 204, 20, "BNB", Direct),
		evm("linea", "Linea", 59144, 20, "ETH", Direct),
		evm("scroll", "Scroll", 534352, 20, "ETH", Direct),
		evm("zksync", "zkSync Era", 324, 20, "ETH", Direct),
		utxo("btc", "Bitcoin", "btc", 2, "BTC", Direct),
		utxo("ltc", "Litecoin", "ltc", 6, "LTC", Direct),
		utxo("bch", "Bitcoin Cash", "bch", 6, "BCH", Direct),
		utxo("doge", "Dogecoin", "doge", 20, "DOGE", Direct),
		memo("xrp", "XRP Ledger", "xrpl", 1, "XRP", 6, Direct),

		evm("etc", "Ethereum Classic", 61, 120, "ETC", Conditional),
		evm("sonic", "Sonic", 146, 20, "S", Conditional),
		evm("celo", "Celo", 42220, 20, "CELO", Conditional),
		evm("gnosis", "Gnosis", 100, 20, "XDAI", Conditional),
		evm("cronos", "Cronos", 25, 20, "CRO", Conditional),
		evm("moonbeam", "Moonbeam", 1284, 20, "GLMR", Conditional),
		evm("kava", "Kava EVM", 2222, 20, "KAVA", Conditional),
		evm("kaia", "Kaia", 8217, 20, "KAIA", Conditional),
		evm("mantle", "Mantle", 5000, 20, "MNT", Conditional),
		evm("blast", "Blast", 81457, 20, "ETH", Conditional),
		evm("metis", "Metis Andromeda", 1088, 20, "METIS", Conditional),
		evm("polygon-zkevm", "Polygon zkEVM", 1101, 20, "ETH", Conditional),
		utxo("dash", "Dash", "dash", 6, "DASH", Conditional),
		utxo("zec", "Zcash (transparent)", "zec", 10, "ZEC", Conditional),
		memo("xlm", "Stellar", "stellar", 1, "XLM", 7, Conditional),
		memo("atom", "Cosmos Hub", "cosmos", 1, "ATOM", 6, Conditional),
	}
}

// Registry is an ordered, validated set of networks.
type Registry struct {
	list []Network
	byID map[string]int
}

var networkIDPattern = regexp.MustCompile(`^[a-z][a-z0-9-]{1,31}$`)

// NewRegistry validates networks and returns a registry keeping their order.
func NewRegistry(networks []Network) (*Registry, error) {
	r := &Registry{byID: make(map[string]int, len(networks))}
	for i, n := range networks {
		if err := n.validate(); err != nil {
			return nil, fmt.Errorf("network %d (%q): %w", i, n.ID, err)
		}
		if _, dup := r.byID[n.ID]; dup {
			return nil, fmt.Errorf("network %q is listed twice", n.ID)
		}
		r.byID[n.ID] = len(r.list)
		r.list = append(r.list, n)
	}
	return r, nil
}

func (n Network) validate() error {
	switch {
	case !networkIDPattern.MatchString(n.ID):
		return fmt.Errorf("id must be 2-32 lower-case letters, digits or dashes")
	case n.Family != recovery.FamilyEVM && n.Family != recovery.FamilyUTXO && n.Family != recovery.FamilyMemo:
		return fmt.Errorf("family %q is not one of evm, utxo, memo", n.Family)
	case n.Family == recovery.FamilyEVM && n.ChainID == 0:
		return fmt.Errorf("an evm network needs a chain_id")
	case n.Family == recovery.FamilyUTXO && n.Params == "":
		return fmt.Errorf("a utxo network needs params")
	case n.Confirmations == 0:
		return fmt.Errorf("confirmations must be at least 1")
	case n.Decimals < 0 || n.Decimals > 36:
		return fmt.Errorf("decimals must be between 0 and 36")
	case n.Tier != Direct && n.Tier != Conditional:
		return fmt.Errorf("tier %q is not direct or conditional", n.Tier)
	}
	for _, u := range n.RPC {
		if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
			return fmt.Errorf("rpc endpoint %q must be an http(s) URL", u)
		}
	}
	if err := validMinimum(n.MinDeposit, n.Decimals); err != nil {
		return err
	}
	for i, tok := range n.Tokens {
		switch {
		case tok.Symbol == "":
			return fmt.Errorf("tokens[%d]: a symbol is required", i)
		case n.Family == recovery.FamilyEVM && !evmAddress.MatchString(tok.Contract):
			return fmt.Errorf("tokens[%d] (%s): contract %q is not a 0x address of 40 hex digits", i, tok.Symbol, tok.Contract)
		case tok.Contract == "":
			return fmt.Errorf("tokens[%d] (%s): a contract is required", i, tok.Symbol)
		case tok.Decimals < 0 || tok.Decimals > 36:
			return fmt.Errorf("tokens[%d] (%s): decimals must be between 0 and 36", i, tok.Symbol)
		}
		if err := validMinimum(tok.MinDeposit, tok.Decimals); err != nil {
			return fmt.Errorf("tokens[%d] (%s): %w", i, tok.Symbol, err)
		}
	}
	return nil
}

var evmAddress = regexp.MustCompile(`^0x[0-9a-fA-F]{40}$`)

// ListsToken reports whether the exchange lists a token contract on any
// network: a token it lists nowhere cannot be credited, only sent back.
func (r *Registry) ListsToken(contract string) bool {
	for _, n := range r.list {
		if _, ok := n.Token(contract); ok {
			return true
		}
	}
	return false
}

// Networks returns the networks in registry order.
func (r *Registry) Networks() []Network { return slices.Clone(r.list) }

// Get returns the network with the given id.
func (r *Registry) Get(id string) (Network, bool) {
	i, ok := r.byID[id]
	if !ok {
		return Network{}, false
	}
	return r.list[i], true
}

// Lookup is Get with a clear error for an unknown id.
func (r *Registry) Lookup(id string) (Network, error) {
	n, ok := r.Get(id)
	if !ok {
		return Network{}, &recovery.Error{Code: recovery.EInvalid, Message: fmt.Sprintf("unknown network %q", id), Field: "network"}
	}
	return n, nil
}
