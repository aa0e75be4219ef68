package api

import (
	"net/http"
	"strings"
	"time"

	"github.com/misdeposit/recovery/chains"
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
	Explanation string          `json:"explanation,omitempty"`
	Decision    *decisionView   `json:"decision"`
	Quote       any             `json:"quote"`
	Timeline    []timelineEntry `json:"timeline"`
	Lang        string          `json:"lang"`
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
}

type timelineEntry struct {
	At      time.Time `json:"at"`
	Code    string    `json:"code"`
	Message string    `json:"message"`
}

func publicView(st *workflows.AppealState, lang string, reg *chains.Registry) appealView {
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
	if st.Tx != nil {
		v.Chain = &chainView{Status: string(st.Tx.Status), Block: st.Tx.BlockNumber, Confirmations: st.Tx.Confirmations, Required: st.Tx.Required}
	}
	if d := st.Deposit; d != nil {
		v.Deposit = &depositView{Kind: string(d.Kind), To: d.To, Token: d.Token}
		if d.Amount != nil {
			v.Deposit.Amount = d.Amount.String()
		}
		if n, ok := reg.Get(st.Network); ok && d.Kind != chains.KindToken {
			v.Deposit.Asset = n.NativeAsset
		}
	}
	if d := st.Diagnosis; d != nil {
		v.Explanation = message(lang, d.Explanation.Code, d.Explanation.Params)
		if d.Deposit != nil && v.Deposit != nil && d.Asset != "" {
			v.Deposit.Asset = d.Asset
		}
	}
	if d := st.Decision; d != nil {
		v.Decision = &decisionView{
			Action: string(d.Action), Batch: d.Batch, PolicyVersion: d.PolicyVersion,
			SLAHours: int(d.SLA / time.Hour),
		}
		if d.Explanation != "" {
			v.Decision.Explanation = message(lang, d.Explanation, nil)
		}
	}
	for _, e := range st.Timeline {
		v.Timeline = append(v.Timeline, timelineEntry{At: e.At, Code: e.Code, Message: message(lang, e.Code, e.Params)})
	}
	return v
}

// pickLang chooses the language of a response: ?lang=, then the first
// supported language in Accept-Language, then English.
func pickLang(r *http.Request) string {
	if l := strings.ToLower(r.URL.Query().Get("lang")); catalog[l] != nil {
		return l
	}
	for _, part := range strings.Split(r.Header.Get("Accept-Language"), ",") {
		tag := strings.ToLower(strings.TrimSpace(strings.SplitN(part, ";", 2)[0]))
		base := strings.SplitN(tag, "-", 2)[0]
		if catalog[base] != nil {
			return base
		}
	}
	return "en"
}
