package api

import (
	"net/http"
	"strings"
	"time"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/chains"
	"github.com/misdeposit/recovery/fees"
	"github.com/misdeposit/recovery/workflows"
)

// appealView is what a user sees of their appeal.
type appealView struct {
	AppealID string       `json:"appeal_id"`
	Status   string       `json:"status"`
	Category string       `json:"category"`
	Network  string       `json:"network,omitempty"`
	TxHash   string       `json:"tx_hash"`
	Closed   bool         `json:"closed"`
	Deposit  *depositView `json:"deposit,omitempty"`
	Chain    *chainView   `json:"chain,omitempty"`
	// Explanation says in plain words what happened to the deposit.
	Explanation string        `json:"explanation,omitempty"`
	Decision    *decisionView `json:"decision"`
	Quote       *quoteView    `json:"quote"`
	// Proof is what the user must sign before accepting a quote, when the
	// case needs a proof of sending; nil otherwise.
	Proof *workflows.ProofState `json:"proof,omitempty"`
	// JoinedCase is the case the appeal goes on in, when it was filed
	// before its deposit could be resolved.
	JoinedCase string `json:"joined_case,omitempty"`
	// Recovery is the recovery on chain, from the last sign-off on; Credit
	// is what the user was credited, once they are.
	Recovery *recoveryView   `json:"recovery,omitempty"`
	Credit   *creditView     `json:"credit,omitempty"`
	Timeline []timelineEntry `json:"timeline"`
	Lang     string          `json:"lang"`
}

type depositView struct {
	Kind   string `json:"kind"`
	To     string `json:"to"`
	Token  string `json:"token,omitempty"`
	Amount string `json:"amount"` // base units, as text so no client rounds it
	Asset  string `json:"asset,omitempty"`
}

type chainView struct {
	Status        string `json:"status"`
	Block         uint64 `json:"block,omitempty"`
	Confirmations uint64 `json:"confirmations"`
	Required      uint64 `json:"required_confirmations"`
}

// decisionView is the policy's decision as the user sees it.
type decisionView struct {
	Action        string `json:"action"` // direct, conditional, park, reject
	Batch         bool   `json:"batch,omitempty"`
	Explanation   string `json:"explanation,omitempty"`
	PolicyVersion string `json:"policy_version"`
	// SLAHours is how long the desk has to carry the decision out.
	SLAHours int `json:"sla_hours"`
	// Outcome is "return" when the deposit, once recovered, goes back to
	// the address it came from instead of being credited.
	Outcome string `json:"outcome,omitempty"`
}

// quoteView is the fee quote as the user sees it: every line, the price
// used and its source, what is left for them, the advice and the expiry.
// Amounts are decimal text in the deposited asset, USD to the cent.
type quoteView struct {
	ID          string          `json:"id"`
	Asset       string          `json:"asset"`
	Deposit     string          `json:"deposit"`
	DepositUSD  string          `json:"deposit_usd"`
	Price       priceView       `json:"price"`
	NativePrice *priceView      `json:"native_price,omitempty"`
	Lines       []quoteLineView `json:"lines"`
	Fee         string          `json:"fee"`
	FeeUSD      string          `json:"fee_usd"`
	Net         string          `json:"net"`
	NetUSD      string          `json:"net_usd"`
	Advice      adviceView      `json:"advice"`
	ExpiresAt   time.Time       `json:"expires_at"`
	Expired     bool            `json:"expired"`
	Accepted    bool            `json:"accepted"`
}

type priceView struct {
	Asset  string    `json:"asset"`
	USD    string    `json:"usd"`
	Source string    `json:"source"`
	At     time.Time `json:"at"`
}

type quoteLineView struct {
	Kind    string `json:"kind"` // service_fee, network_cost
	Rule    string `json:"rule"`
	Amount  string `json:"amount"`
	USD     string `json:"usd"`
	Charged bool   `json:"charged"`
	Detail  string `json:"detail"`
}

type adviceView struct {
	Action  string   `json:"action"` // proceed or wait
	Reasons []string `json:"reasons,omitempty"`
	Message string   `json:"message"`
}

func newQuoteView(q *fees.Quote, accepted bool, lang string, now time.Time) *quoteView {
	v := &quoteView{
		ID: q.ID, Asset: q.Asset, Deposit: q.Deposit.String(), DepositUSD: q.DepositUSD.StringFixed(2),
		Price: priceView{Asset: q.Asset, USD: q.Price.Value.String(), Source: q.Price.Source, At: q.Price.At},
		Fee:   q.Fee.String(), FeeUSD: q.FeeUSD.StringFixed(2), Net: q.Net.String(), NetUSD: q.NetUSD.StringFixed(2),
		ExpiresAt: q.ExpiresAt, Expired: !accepted && q.Expired(now), Accepted: accepted,
		Advice: adviceView{Action: q.Advice.Action, Reasons: q.Advice.Reasons},
	}
	if p := q.NativePrice; p != nil && q.NetworkCost != nil {
		v.NativePrice = &priceView{Asset: q.NetworkCost.Asset, USD: p.Value.String(), Source: p.Source, At: p.At}
	}
	for _, l := range q.Lines {
		v.Lines = append(v.Lines, quoteLineView{Kind: l.Kind, Rule: l.Rule, Amount: l.Amount.String(), USD: l.USD.StringFixed(2), Charged: l.Charged, Detail: l.Detail})
	}
	var msgs []string
	for _, r := range q.Advice.Reasons {
		msgs = append(msgs, message(lang, "advice."+r, nil))
	}
	if len(msgs) == 0 {
		msgs = append(msgs, message(lang, "advice.proceed", nil))
	}
	v.Advice.Message = strings.Join(msgs, " ")
	return v
}

// recoveryView is the recovery on chain as the user sees it.
type recoveryView struct {
	Method       string           `json:"method"` // internal_credit, evm_sweep, evm_token_sweep, utxo_spend
	Outcome      string           `json:"outcome,omitempty"`
	ReturnTo     string           `json:"return_to,omitempty"`
	Transactions []recoveryTxView `json:"transactions"`
	Failure      string           `json:"failure,omitempty"`
}

type recoveryTxView struct {
	Network       string `json:"network"`
	TxHash        string `json:"tx_hash"`
	Confirmations uint64 `json:"confirmations"`
	Required      uint64 `json:"required_confirmations"`
	Confirmed     bool   `json:"confirmed"`
	// Fee is what the transaction paid its network, in base units of the
	// native asset; in a batch, this case's share of it.
	Fee string `json:"fee,omitempty"`
}

// creditView is the credit: the net amount in the asset, the fee taken,
// the recovery transaction and when.
type creditView struct {
	Asset  string    `json:"asset"`
	Net    string    `json:"net"`
	Fee    string    `json:"fee"`
	TxHash string    `json:"tx_hash,omitempty"`
	At     time.Time `json:"at"`
	// ReturnedTo and ReturnTxHash: the net was sent back on chain to the
	// user's own address.
	ReturnedTo   string `json:"returned_to,omitempty"`
	ReturnTxHash string `json:"return_tx_hash,omitempty"`
}

func newRecoveryView(r *workflows.RecoveryState) (*recoveryView, *creditView) {
	v := &recoveryView{Method: r.Method, Outcome: r.Outcome, ReturnTo: r.ReturnTo, Failure: r.Failure, Transactions: []recoveryTxView{}}
	for _, t := range r.Transactions {
		tv := recoveryTxView{Network: t.Network, TxHash: t.Hash, Confirmations: t.Confirmations, Required: t.Required, Confirmed: t.Confirmed}
		if t.Fee != nil {
			tv.Fee = t.Fee.String()
		}
		v.Transactions = append(v.Transactions, tv)
	}
	c := r.Credit
	if c == nil {
		return v, nil
	}
	return v, &creditView{Asset: c.Asset, Net: c.Net.String(), Fee: c.Fee.String(), TxHash: c.TxHash, At: c.At,
		ReturnedTo: c.ReturnedTo, ReturnTxHash: c.ReturnTxHash}
}

type timelineEntry struct {
	At      time.Time `json:"at"`
	Code    string    `json:"code"`
	Message string    `json:"message"`
}

func publicView(st *workflows.AppealState, lang string, reg *chains.Registry, now time.Time) appealView {
	v := appealView{
		AppealID: st.AppealID,
		Status:   st.Status,
		Category: st.Category,
		Network:  st.Network,
		TxHash:   st.TxHash,
		Closed:   st.Closed,
		Lang:     lang,
		Timeline: []timelineEntry{},
	}
	u := depositUnits(st, reg)
	if st.Tx != nil {
		v.Chain = &chainView{Status: string(st.Tx.Status), Block: st.Tx.BlockNumber, Confirmations: st.Tx.Confirmations, Required: st.Tx.Required}
	}
	if d := st.Deposit; d != nil {
		v.Deposit = &depositView{Kind: string(d.Kind), To: d.To, Token: d.Token}
		if d.Amount != nil {
			v.Deposit.Amount = d.Amount.String()
		}
		if n, ok := reg.Get(st.Network); ok && d.Kind != recovery.KindToken {
			v.Deposit.Asset = n.NativeAsset
		}
	}
	if d := st.Diagnosis; d != nil {
		v.Explanation = messageIn(lang, d.Explanation.Code, d.Explanation.Params, u)
		if d.Deposit != nil && v.Deposit != nil && d.Asset != "" {
			v.Deposit.Asset = d.Asset
		}
	}
	if d := st.Decision; d != nil {
		v.Decision = &decisionView{
			Action: string(d.Action), Batch: d.Batch, PolicyVersion: d.PolicyVersion,
			SLAHours: int(d.SLA / time.Hour), Outcome: d.Outcome,
		}
		if d.Explanation != "" {
			v.Decision.Explanation = message(lang, d.Explanation, nil)
		}
	}
	if st.Quote != nil {
		v.Quote = newQuoteView(st.Quote, st.QuoteAccepted, lang, now)
	}
	v.Proof, v.JoinedCase = st.Proof, st.JoinedCase
	if st.Recovery != nil {
		v.Recovery, v.Credit = newRecoveryView(st.Recovery)
	}
	for _, e := range st.Timeline {
		v.Timeline = append(v.Timeline, timelineEntry{At: e.At, Code: e.Code, Message: messageIn(lang, e.Code, e.Params, u)})
	}
	return v
}

// depositUnits are the units of the appeal's deposit, which every amount
// in its texts counts: the network's native asset or a listed token from
// the registry, or an unlisted token with the decimals its quote read
// from the chain. Histories keep base units; the reader gets whole ones.
func depositUnits(st *workflows.AppealState, reg *chains.Registry) assetUnits {
	d := st.Deposit
	if st.Diagnosis != nil && st.Diagnosis.Deposit != nil {
		d = st.Diagnosis.Deposit
	}
	n, ok := reg.Get(st.Network)
	if d == nil || !ok {
		return assetUnits{}
	}
	if d.Kind != recovery.KindToken {
		return assetUnits{Asset: n.NativeAsset, Decimals: n.Decimals, Known: true}
	}
	if tok, ok := n.Token(d.Token); ok {
		return assetUnits{Asset: tok.Symbol, Decimals: tok.Decimals, Known: true}
	}
	if q := st.Quote; q != nil && q.Network == n.ID {
		return assetUnits{Asset: q.Asset, Decimals: q.Decimals, Known: true}
	}
	return assetUnits{Asset: d.Token}
}

// pickLang chooses the language of a response: ?lang=, then the catalogue
// that best serves Accept-Language, then English.
func pickLang(r *http.Request) string {
	if l := strings.ToLower(r.URL.Query().Get("lang")); catalog[l] != nil {
		return l
	}
	return matchLanguage(r.Header.Get("Accept-Language"))
}

// appealLang chooses the language an appeal is shown in: ?lang=, then the
// language it was filed in (the user chose it, where Accept-Language is the
// browser's), then as pickLang.
func appealLang(r *http.Request, st *workflows.AppealState) string {
	if l := strings.ToLower(r.URL.Query().Get("lang")); catalog[l] != nil {
		return l
	}
	if catalog[st.Lang] != nil {
		return st.Lang
	}
	return pickLang(r)
}
