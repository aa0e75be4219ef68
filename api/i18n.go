package api

import "strings"

// catalog holds the timeline texts per language. {name} is replaced by the
// event parameter of that name. A new language is one more entry.
var catalog = map[string]map[string]string{
	"en": {
		"received":              "Appeal received for transaction {tx_hash}.",
		"not_found_retry":       "The transaction is not on any network we watch yet. We will look again in {wait} (attempt {attempt}).",
		"not_found_final":       "We could not find this transaction on any network we support. Please check the hash and the network.",
		"found":                 "Transaction found on {network}.",
		"found_elsewhere":       "You named {claimed}, but the transaction is on {network}; we follow it there.",
		"confirming":            "Waiting for confirmations: {confirmations} of {required}.",
		"confirmation_timeout":  "The transaction is taking unusually long to confirm; a specialist will look at it.",
		"confirmed":             "Deposit confirmed on {network} in block {block}: {amount} (base units) to {to}. A specialist reviews it next.",
		"confirmed_no_transfer": "Transaction confirmed on {network} in block {block}, but it pays nothing to the address you gave. A specialist reviews it next.",
		"failed_tx":             "The transaction failed on {network}: no funds moved, so there is nothing to recover.",
		"withdrawn":             "You withdrew this appeal.",
	},
	"zh": {
		"received":              "已收到交易 {tx_hash} 的申诉。",
		"not_found_retry":       "我们监控的网络上暂未找到该交易。我们将在 {wait} 后再次查询（第 {attempt} 次）。",
		"not_found_final":       "在我们支持的任何网络上都找不到该交易。请核对交易哈希和网络。",
		"found":                 "已在 {network} 上找到该交易。",
		"found_elsewhere":       "您填写的是 {claimed}，但该交易位于 {network}；我们将在该网络上继续处理。",
		"confirming":            "等待确认：{confirmations}/{required}。",
		"confirmation_timeout":  "该交易确认时间异常长，专员将进行处理。",
		"confirmed":             "充值已在 {network} 第 {block} 个区块确认：{amount}（最小单位）转入 {to}。接下来由专员审核。",
		"confirmed_no_transfer": "交易已在 {network} 第 {block} 个区块确认，但未向您提供的地址转账。接下来由专员审核。",
		"failed_tx":             "该交易在 {network} 上执行失败：资金没有转出，因此无需找回。",
		"withdrawn":             "您已撤回此申诉。",
	},
	"fr": {
		"received":              "Demande reçue pour la transaction {tx_hash}.",
		"not_found_retry":       "La transaction n'apparaît encore sur aucun réseau suivi. Nouvelle recherche dans {wait} (tentative {attempt}).",
		"not_found_final":       "Transaction introuvable sur les réseaux pris en charge. Vérifiez le hash et le réseau.",
		"found":                 "Transaction trouvée sur {network}.",
		"found_elsewhere":       "Vous avez indiqué {claimed}, mais la transaction se trouve sur {network} ; nous la suivons là-bas.",
		"confirming":            "En attente de confirmations : {confirmations} sur {required}.",
		"confirmation_timeout":  "La confirmation prend un temps inhabituel ; un spécialiste va examiner le dossier.",
		"confirmed":             "Dépôt confirmé sur {network} au bloc {block} : {amount} (unités de base) vers {to}. Un spécialiste l'examine ensuite.",
		"confirmed_no_transfer": "Transaction confirmée sur {network} au bloc {block}, mais elle ne verse rien à l'adresse indiquée. Un spécialiste l'examine ensuite.",
		"failed_tx":             "La transaction a échoué sur {network} : aucun fonds n'a été transféré, il n'y a rien à récupérer.",
		"withdrawn":             "Vous avez retiré cette demande.",
	},
	"hu": {
		"received":              "A(z) {tx_hash} tranzakcióra vonatkozó kérelmet megkaptuk.",
		"not_found_retry":       "A tranzakció még egyik figyelt hálózaton sem látható. {wait} múlva újra keressük ({attempt}. próbálkozás).",
		"not_found_final":       "A tranzakciót egyik támogatott hálózaton sem találjuk. Kérjük, ellenőrizze a hash-t és a hálózatot.",
		"found":                 "A tranzakció megtalálható a(z) {network} hálózaton.",
		"found_elsewhere":       "Ön a(z) {claimed} hálózatot adta meg, de a tranzakció a(z) {network} hálózaton van; ott követjük.",
		"confirming":            "Megerősítésre vár: {confirmations} / {required}.",
		"confirmation_timeout":  "A megerősítés szokatlanul sokáig tart; egy szakértő megvizsgálja.",
		"confirmed":             "A befizetés megerősítve a(z) {network} hálózaton, {block}. blokk: {amount} (alapegység) ide: {to}. Ezután egy szakértő vizsgálja meg.",
		"confirmed_no_transfer": "A tranzakció megerősítve a(z) {network} hálózaton, {block}. blokk, de a megadott címre nem utal semmit. Ezután egy szakértő vizsgálja meg.",
		"failed_tx":             "A tranzakció sikertelen volt a(z) {network} hálózaton: nem mozdult pénz, így nincs mit visszaszerezni.",
		"withdrawn":             "Ön visszavonta ezt a kérelmet.",
	},
}

// message renders an event in lang, falling back to English and then to
// the bare code so that an event is never dropped from a timeline.
func message(lang, code string, params map[string]string) string {
	tmpl, ok := catalog[lang][code]
	if !ok {
		if tmpl, ok = catalog["en"][code]; !ok {
			return code
		}
	}
	pairs := make([]string, 0, 2*len(params))
	for k, v := range params {
		pairs = append(pairs, "{"+k+"}", v)
	}
	return strings.NewReplacer(pairs...).Replace(tmpl)
}
