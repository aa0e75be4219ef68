package api

import (
	"context"
	"net/http"

	"github.com/misdeposit/recovery"
)

// Wallet is one network's hot wallet: where recovered coins go and where
// the gas of a recovery comes from.
type Wallet struct {
	Network string `json:"network"`
	Address string `json:"address"`
	Asset   string `json:"asset"`
	// Balance is in base units of Asset; "" when it could not be read, and
	// BalanceError says why.
	Balance      string `json:"balance,omitempty"`
	Decimals     int32  `json:"decimals"`
	BalanceError string `json:"balance_error,omitempty"`
}

// Wallets lists the hot wallets of the networks the engine recovers on.
type Wallets interface {
	Wallets(ctx context.Context) ([]Wallet, error)
}

type walletList struct {
	Wallets []Wallet `json:"wallets"`
}

// listWallets answers GET /v1/wallets for the wallet and settlement teams,
// who fund the hot wallets and reconcile them.
func (s *server) listWallets(w http.ResponseWriter, r *http.Request, who Staff) {
	if !who.may(recovery.RoleWallet, recovery.RoleSettlement) {
		s.writeError(w, r, recovery.Errorf(recovery.EForbidden, "hot wallets are for the wallet, settlement or admin roles"))
		return
	}
	if s.HotWallets == nil {
		s.writeError(w, r, recovery.Errorf(recovery.EUnavailable, "no signer is configured: the engine holds no hot wallet"))
		return
	}
	list, err := s.HotWallets.Wallets(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if list == nil {
		list = []Wallet{}
	}
	writeJSON(w, http.StatusOK, walletList{Wallets: list})
}
