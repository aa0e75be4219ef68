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

		// Diagnosis: what happened to the deposit.
		"diagnosis.not_found":             "We could not find this transaction on any of the networks we support.",
		"diagnosis.failed_tx":             "The transaction failed on {network}, so no funds moved.",
		"diagnosis.pending":               "The transaction on {network} is not final yet ({confirmations} of {required} confirmations). We will continue by ourselves once it is confirmed.",
		"diagnosis.unsupported_network":   "Your deposit was made on {network}, which we do not support yet. We keep your case, and it will resume by itself once we support this network.",
		"diagnosis.not_our_address":       "The transaction did not pay any of our addresses on {network}. {address} is not an address we issued, so we cannot recover these funds.",
		"diagnosis.already_credited":      "This deposit of {amount} {asset} (base units) to {address} was already credited to an account on {credited_at}.",
		"diagnosis.retired_address":       "You sent {amount} {asset} (base units) on {network} to {address}, an old deposit address of ours that is no longer in use. We can recover these funds.",
		"diagnosis.wrong_network_evm":     "You sent {amount} {asset} (base units) to {address} on {network}, but this address was issued for {issued_for}. We hold the same address on {network} and can recover the funds.",
		"diagnosis.cross_chain_utxo":      "You sent {amount} {asset} (base units) on {network} to {address}, an address made from the key of your {issued_for} deposit address (for example, LTC sent to a BTC address). We hold that key and can recover the coins.",
		"diagnosis.missing_or_wrong_memo": "Your deposit of {amount} {asset} (base units) on {network} reached our shared address {address} without the memo (tag) that tells us whose it is, or with a wrong one.",
		"diagnosis.unlisted_token":        "You sent {amount} (base units) of a token we do not list (contract {token}) to {address} on {network}.",
		"diagnosis.contract_deposit":      "Your deposit of {amount} {asset} (base units) reached {address} on {network} through a smart contract rather than a plain transfer, so it was not credited automatically.",
		"diagnosis.below_minimum":         "Your deposit of {amount} {asset} is below the minimum deposit of {minimum} {asset} on {network} (amounts in base units).",
		"diagnosis.regular_deposit":       "Your deposit of {amount} {asset} (base units) reached your address {address} on the right network ({network}). A specialist is checking why it was not credited.",

		// Decision: what the recovery policy decided.
		"decision.direct":      "Your deposit can be recovered. The next step is a fee quote (policy {policy_version}).",
		"decision.conditional": "Your deposit can be recovered under certain conditions, such as approval by our teams and fees. The next step is a fee quote (policy {policy_version}).",
		"decision.batch":       "This is a small deposit: it will be recovered together with others in the next batch, so that the network cost is shared (policy {policy_version}).",
		"decision.park":        "We cannot recover this deposit right now. We keep your case, and it will resume by itself once our policy supports it (policy {policy_version}).",
		"decision.reject":      "Under our recovery policy, this deposit cannot be recovered (policy {policy_version}).",

		// Quote: the fee quote and the user's answer.
		"quote.offered":               "Fee quote {fee} {asset} (about {fee_usd} USD); you would receive {net} {asset}. Accept or decline it before {expires_at}.",
		"quote.renewed":               "The previous quote expired. New fee quote {fee} {asset} (about {fee_usd} USD); you would receive {net} {asset}. Accept or decline it before {expires_at}.",
		"quote.advise_wait":           "We advise you to wait rather than accept now: the fee is high for this deposit. You may still accept.",
		"quote.accepted":              "You accepted the fee of {fee} {asset}.",
		"quote.declined":              "You declined the fee quote; the case is closed.",
		"quote.unpriced":              "We have no market price for this asset, so we cannot quote a fee automatically. A specialist will contact you.",
		"quote.unavailable":           "We could not prepare a fee quote now. A specialist will take over.",
		"signoffs.awaited":            "Our teams review the recovery next: {teams}.",
		"policy.resumed":              "Our recovery policy {policy_version} now covers your deposit on {network}: your case has resumed.",
		"advice.proceed":              "The fee is in line with the deposit.",
		"advice.fee_above_max_share":  "The fee would take a large share of your deposit.",
		"advice.fee_exceeds_deposit":  "The fee would take the whole deposit.",
		"advice.small_and_not_urgent": "This is a small deposit and you said you are not in a hurry: waiting for wider support or a batch may cost you less.",

		// Policy: what the policy does for such a case, shown with the decision.
		"policy.not_found":             "We keep the case and look again; please check that the transaction hash and the network are correct.",
		"policy.pending":               "We wait until the transaction is final, then continue by ourselves.",
		"policy.failed_tx":             "A failed transaction moves no funds, so there is nothing to recover and the case is closed.",
		"policy.not_our_address":       "We can only recover funds sent to an address we issued.",
		"policy.already_credited":      "A deposit is credited only once, so it cannot be credited again.",
		"policy.below_minimum":         "Small deposits wait for the weekly batch and share its network cost.",
		"policy.missing_or_wrong_memo": "The funds are on our own address: once you show that the deposit is yours, we credit it internally, without a new transaction.",
		"policy.unlisted_token":        "An unlisted token is recovered if it has a market price; otherwise we keep the case until it has one.",
		"policy.wrong_network_evm":     "The same address is valid on every EVM network, so we can move the funds with the same key and credit them to you, for a fee.",
		"policy.cross_chain_utxo":      "We hold the key of this address on both networks, so we can move the coins and credit them to you, for a fee.",
		"policy.retired_address":       "We move the funds from the old address and credit them to you; only the network cost is charged.",
		"policy.contract_deposit":      "We credit the deposit once the contract call has been traced, free of charge.",
		"policy.unsupported_network":   "We keep the case until we support this network; it then resumes by itself.",
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

		// Diagnosis: what happened to the deposit.
		"diagnosis.not_found":             "在我们支持的任何网络上都找不到该交易。",
		"diagnosis.failed_tx":             "该交易在 {network} 上执行失败，资金没有转出。",
		"diagnosis.pending":               "该交易在 {network} 上尚未最终确认（{confirmations}/{required} 个确认）。确认完成后，我们将自动继续处理。",
		"diagnosis.unsupported_network":   "您的充值发生在 {network} 上，我们暂不支持该网络。我们会保留您的申诉，待支持该网络后将自动继续处理。",
		"diagnosis.not_our_address":       "该交易没有转入我们在 {network} 上的任何地址。{address} 不是我们提供的地址，因此我们无法找回这笔资金。",
		"diagnosis.already_credited":      "这笔转入 {address} 的 {amount} {asset}（最小单位）充值已于 {credited_at} 入账到某个账户。",
		"diagnosis.retired_address":       "您在 {network} 上向 {address} 转入了 {amount} {asset}（最小单位），该地址是我们已停用的旧充值地址。我们可以找回这笔资金。",
		"diagnosis.wrong_network_evm":     "您在 {network} 上向 {address} 转入了 {amount} {asset}（最小单位），但该地址是为 {issued_for} 提供的。我们在 {network} 上同样持有该地址，可以找回这笔资金。",
		"diagnosis.cross_chain_utxo":      "您在 {network} 上向 {address} 转入了 {amount} {asset}（最小单位），该地址由您的 {issued_for} 充值地址的密钥生成（例如将 LTC 转入 BTC 地址）。我们持有该密钥，可以找回这笔资金。",
		"diagnosis.missing_or_wrong_memo": "您在 {network} 上的 {amount} {asset}（最小单位）充值已到达我们的共享地址 {address}，但缺少用于识别归属的备注（标签），或备注有误。",
		"diagnosis.unlisted_token":        "您在 {network} 上向 {address} 转入了 {amount}（最小单位）我们未上线的代币（合约 {token}）。",
		"diagnosis.contract_deposit":      "您在 {network} 上的 {amount} {asset}（最小单位）充值是通过智能合约而非普通转账到达 {address} 的，因此未能自动入账。",
		"diagnosis.below_minimum":         "您的 {amount} {asset} 充值低于 {network} 上 {minimum} {asset} 的最低充值额（金额以最小单位计）。",
		"diagnosis.regular_deposit":       "您在 {network} 上的 {amount} {asset}（最小单位）充值已通过正确的网络到达您的地址 {address}。专员正在核查其未入账的原因。",

		// Decision: what the recovery policy decided.
		"decision.direct":      "您的充值可以找回，下一步是费用报价（政策 {policy_version}）。",
		"decision.conditional": "您的充值可以在满足一定条件（如我们团队的审批及相关费用）后找回，下一步是费用报价（政策 {policy_version}）。",
		"decision.batch":       "这是一笔小额充值，将在下一批次中与其他充值一起找回，以分摊网络费用（政策 {policy_version}）。",
		"decision.park":        "我们目前无法找回这笔充值。我们会保留您的申诉，待政策支持后将自动继续处理（政策 {policy_version}）。",
		"decision.reject":      "根据我们的找回政策，这笔充值无法找回（政策 {policy_version}）。",

		// Quote: the fee quote and the user's answer.
		"quote.offered":               "费用报价 {fee} {asset}（约 {fee_usd} 美元）；您将收到 {net} {asset}。请在 {expires_at} 前接受或拒绝。",
		"quote.renewed":               "上一份报价已过期。新的费用报价 {fee} {asset}（约 {fee_usd} 美元）；您将收到 {net} {asset}。请在 {expires_at} 前接受或拒绝。",
		"quote.advise_wait":           "我们建议您暂缓接受：相对于这笔充值，费用偏高。您仍然可以接受。",
		"quote.accepted":              "您已接受 {fee} {asset} 的费用。",
		"quote.declined":              "您已拒绝费用报价，申诉已关闭。",
		"quote.unpriced":              "该资产没有市场价格，我们无法自动报价。专员将与您联系。",
		"quote.unavailable":           "我们暂时无法生成费用报价，将由专员接手处理。",
		"signoffs.awaited":            "接下来由我们的团队审核找回操作：{teams}。",
		"policy.resumed":              "我们的找回政策 {policy_version} 现已支持您在 {network} 上的充值：您的申诉已恢复处理。",
		"advice.proceed":              "费用与充值金额相称。",
		"advice.fee_above_max_share":  "费用将占您充值的很大比例。",
		"advice.fee_exceeds_deposit":  "费用将占用全部充值金额。",
		"advice.small_and_not_urgent": "这是一笔小额充值，且您表示不着急：等待更广泛的支持或批量处理可能花费更少。",

		// Policy: what the policy does for such a case, shown with the decision.
		"policy.not_found":             "我们会保留申诉并再次查询；请确认交易哈希和网络是否正确。",
		"policy.pending":               "我们会等待交易最终确认，然后自动继续处理。",
		"policy.failed_tx":             "失败的交易不会转移任何资金，因此没有可找回的资金，申诉将被关闭。",
		"policy.not_our_address":       "我们只能找回转入我们所提供地址的资金。",
		"policy.already_credited":      "每笔充值只能入账一次，因此无法再次入账。",
		"policy.below_minimum":         "小额充值将等待每周批次统一处理，并分摊该批次的网络费用。",
		"policy.missing_or_wrong_memo": "资金已在我们自己的地址上：在您证明这笔充值属于您之后，我们会在内部为您入账，无需新的交易。",
		"policy.unlisted_token":        "如果该代币有市场价格，我们会予以找回；否则我们会保留申诉，直到其有价格为止。",
		"policy.wrong_network_evm":     "同一地址在所有 EVM 网络上通用，因此我们可以使用同一密钥转出资金并为您入账，需收取相应费用。",
		"policy.cross_chain_utxo":      "我们在两个网络上都持有该地址的密钥，因此可以转出这笔资金并为您入账，需收取相应费用。",
		"policy.retired_address":       "我们会从旧地址转出资金并为您入账，仅收取网络费用。",
		"policy.contract_deposit":      "追踪到合约调用后，我们会为您入账，不收取任何费用。",
		"policy.unsupported_network":   "我们会保留申诉，直到支持该网络，届时将自动继续处理。",
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

		// Diagnosis: what happened to the deposit.
		"diagnosis.not_found":             "Cette transaction ne figure sur aucun des réseaux que nous prenons en charge.",
		"diagnosis.failed_tx":             "La transaction a échoué sur {network} : aucun fonds n'a été transféré.",
		"diagnosis.pending":               "La transaction sur {network} n'est pas encore définitive ({confirmations} confirmations sur {required}). Nous poursuivrons automatiquement dès qu'elle sera confirmée.",
		"diagnosis.unsupported_network":   "Votre dépôt a été effectué sur {network}, que nous ne prenons pas encore en charge. Nous conservons votre dossier, qui reprendra automatiquement dès que ce réseau sera pris en charge.",
		"diagnosis.not_our_address":       "La transaction n'a payé aucune de nos adresses sur {network}. {address} n'est pas une adresse que nous avons fournie : nous ne pouvons donc pas récupérer ces fonds.",
		"diagnosis.already_credited":      "Ce dépôt de {amount} {asset} (unités de base) vers {address} a déjà été crédité sur un compte le {credited_at}.",
		"diagnosis.retired_address":       "Vous avez envoyé {amount} {asset} (unités de base) sur {network} à {address}, une ancienne adresse de dépôt que nous n'utilisons plus. Nous pouvons récupérer ces fonds.",
		"diagnosis.wrong_network_evm":     "Vous avez envoyé {amount} {asset} (unités de base) à {address} sur {network}, mais cette adresse a été fournie pour {issued_for}. Nous détenons la même adresse sur {network} et pouvons récupérer les fonds.",
		"diagnosis.cross_chain_utxo":      "Vous avez envoyé {amount} {asset} (unités de base) sur {network} à {address}, une adresse issue de la clé de votre adresse de dépôt {issued_for} (par exemple des LTC envoyés à une adresse BTC). Nous détenons cette clé et pouvons récupérer les fonds.",
		"diagnosis.missing_or_wrong_memo": "Votre dépôt de {amount} {asset} (unités de base) sur {network} est arrivé sur notre adresse partagée {address} sans le mémo (tag) qui indique à qui il appartient, ou avec un mémo erroné.",
		"diagnosis.unlisted_token":        "Vous avez envoyé {amount} (unités de base) d'un jeton que nous ne listons pas (contrat {token}) à {address} sur {network}.",
		"diagnosis.contract_deposit":      "Votre dépôt de {amount} {asset} (unités de base) est parvenu à {address} sur {network} par un smart contract et non par un simple transfert ; il n'a donc pas été crédité automatiquement.",
		"diagnosis.below_minimum":         "Votre dépôt de {amount} {asset} est inférieur au dépôt minimum de {minimum} {asset} sur {network} (montants en unités de base).",
		"diagnosis.regular_deposit":       "Votre dépôt de {amount} {asset} (unités de base) est bien arrivé à votre adresse {address} sur le bon réseau ({network}). Un spécialiste vérifie pourquoi il n'a pas été crédité.",

		// Decision: what the recovery policy decided.
		"decision.direct":      "Votre dépôt peut être récupéré. La prochaine étape est un devis des frais (politique {policy_version}).",
		"decision.conditional": "Votre dépôt peut être récupéré sous certaines conditions, comme l'accord de nos équipes et des frais. La prochaine étape est un devis des frais (politique {policy_version}).",
		"decision.batch":       "Il s'agit d'un petit dépôt : il sera récupéré avec d'autres lors du prochain lot, afin de partager les frais de réseau (politique {policy_version}).",
		"decision.park":        "Nous ne pouvons pas récupérer ce dépôt pour le moment. Nous conservons votre dossier, qui reprendra automatiquement dès que notre politique le permettra (politique {policy_version}).",
		"decision.reject":      "Selon notre politique de récupération, ce dépôt ne peut pas être récupéré (politique {policy_version}).",

		// Quote: the fee quote and the user's answer.
		"quote.offered":               "Devis de frais : {fee} {asset} (environ {fee_usd} USD) ; vous recevriez {net} {asset}. Acceptez-le ou refusez-le avant {expires_at}.",
		"quote.renewed":               "Le devis précédent a expiré. Nouveau devis : {fee} {asset} (environ {fee_usd} USD) ; vous recevriez {net} {asset}. Acceptez-le ou refusez-le avant {expires_at}.",
		"quote.advise_wait":           "Nous vous conseillons d'attendre plutôt que d'accepter maintenant : les frais sont élevés pour ce dépôt. Vous pouvez tout de même accepter.",
		"quote.accepted":              "Vous avez accepté les frais de {fee} {asset}.",
		"quote.declined":              "Vous avez refusé le devis ; le dossier est clos.",
		"quote.unpriced":              "Nous n'avons pas de prix de marché pour cet actif et ne pouvons pas établir de devis automatiquement. Un spécialiste vous contactera.",
		"quote.unavailable":           "Nous n'avons pas pu établir de devis pour le moment. Un spécialiste prend le relais.",
		"signoffs.awaited":            "Nos équipes examinent ensuite la récupération : {teams}.",
		"policy.resumed":              "Notre politique de récupération {policy_version} couvre désormais votre dépôt sur {network} : votre dossier a repris.",
		"advice.proceed":              "Les frais sont en rapport avec le dépôt.",
		"advice.fee_above_max_share":  "Les frais représenteraient une grande part de votre dépôt.",
		"advice.fee_exceeds_deposit":  "Les frais absorberaient la totalité du dépôt.",
		"advice.small_and_not_urgent": "C'est un petit dépôt et vous n'êtes pas pressé : attendre un support plus large ou un lot pourrait vous coûter moins.",

		// Policy: what the policy does for such a case, shown with the decision.
		"policy.not_found":             "Nous conservons le dossier et cherchons à nouveau ; vérifiez que le hash de la transaction et le réseau sont corrects.",
		"policy.pending":               "Nous attendons que la transaction soit définitive, puis nous poursuivons automatiquement.",
		"policy.failed_tx":             "Une transaction échouée ne transfère aucun fonds : il n'y a rien à récupérer et le dossier est clos.",
		"policy.not_our_address":       "Nous ne pouvons récupérer que les fonds envoyés à une adresse que nous avons fournie.",
		"policy.already_credited":      "Un dépôt n'est crédité qu'une seule fois ; il ne peut donc pas être crédité à nouveau.",
		"policy.below_minimum":         "Les petits dépôts attendent le lot hebdomadaire et en partagent les frais de réseau.",
		"policy.missing_or_wrong_memo": "Les fonds se trouvent sur notre propre adresse : dès que vous aurez montré que le dépôt vous appartient, nous le créditerons en interne, sans nouvelle transaction.",
		"policy.unlisted_token":        "Un jeton non listé est récupéré s'il a un prix de marché ; sinon, nous conservons le dossier jusqu'à ce qu'il en ait un.",
		"policy.wrong_network_evm":     "La même adresse est valable sur tous les réseaux EVM : nous pouvons donc déplacer les fonds avec la même clé et les créditer sur votre compte, moyennant des frais.",
		"policy.cross_chain_utxo":      "Nous détenons la clé de cette adresse sur les deux réseaux et pouvons donc déplacer les fonds et les créditer sur votre compte, moyennant des frais.",
		"policy.retired_address":       "Nous transférons les fonds depuis l'ancienne adresse et les créditons sur votre compte ; seuls les frais de réseau sont facturés.",
		"policy.contract_deposit":      "Nous créditons le dépôt une fois l'appel au contrat retracé, sans frais.",
		"policy.unsupported_network":   "Nous conservons le dossier jusqu'à ce que ce réseau soit pris en charge ; il reprendra alors automatiquement.",
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

		// Diagnosis: what happened to the deposit.
		"diagnosis.not_found":             "Ezt a tranzakciót egyik általunk támogatott hálózaton sem találjuk.",
		"diagnosis.failed_tx":             "A tranzakció sikertelen volt a(z) {network} hálózaton, így nem mozdult pénz.",
		"diagnosis.pending":               "A tranzakció a(z) {network} hálózaton még nem végleges ({confirmations} / {required} megerősítés). Amint megerősítést nyer, automatikusan folytatjuk.",
		"diagnosis.unsupported_network":   "A befizetés a(z) {network} hálózaton történt, amelyet még nem támogatunk. Az ügyet megőrizzük, és automatikusan folytatódik, amint támogatjuk ezt a hálózatot.",
		"diagnosis.not_our_address":       "A tranzakció egyetlen címünkre sem utalt a(z) {network} hálózaton. A(z) {address} nem általunk kiadott cím, ezért nem tudjuk visszaszerezni az összeget.",
		"diagnosis.already_credited":      "Ezt a(z) {address} címre küldött {amount} {asset} (alapegység) befizetést már jóváírtuk egy számlán, ekkor: {credited_at}.",
		"diagnosis.retired_address":       "Ön {amount} {asset} (alapegység) összeget küldött a(z) {network} hálózaton a(z) {address} címre, amely egy régi, már nem használt befizetési címünk. Ezt az összeget vissza tudjuk szerezni.",
		"diagnosis.wrong_network_evm":     "Ön {amount} {asset} (alapegység) összeget küldött a(z) {address} címre a(z) {network} hálózaton, de ezt a címet a(z) {issued_for} hálózathoz adtuk ki. Ugyanez a cím a(z) {network} hálózaton is a miénk, így vissza tudjuk szerezni az összeget.",
		"diagnosis.cross_chain_utxo":      "Ön {amount} {asset} (alapegység) összeget küldött a(z) {network} hálózaton a(z) {address} címre, amely az Ön {issued_for} befizetési címének kulcsából készült (például BTC-címre küldött LTC). A kulcs nálunk van, így vissza tudjuk szerezni az érméket.",
		"diagnosis.missing_or_wrong_memo": "A(z) {network} hálózaton küldött {amount} {asset} (alapegység) befizetés a(z) {address} közös címünkre érkezett, de a tulajdonost azonosító memo (tag) nélkül vagy hibás memóval.",
		"diagnosis.unlisted_token":        "Ön {amount} (alapegység) összeget küldött egy általunk nem listázott tokenből (szerződés: {token}) a(z) {address} címre a(z) {network} hálózaton.",
		"diagnosis.contract_deposit":      "A(z) {network} hálózaton küldött {amount} {asset} (alapegység) befizetés nem egyszerű utalással, hanem okosszerződésen keresztül érkezett a(z) {address} címre, ezért nem írtuk jóvá automatikusan.",
		"diagnosis.below_minimum":         "Az Ön {amount} {asset} befizetése kevesebb a(z) {network} hálózaton érvényes {minimum} {asset} minimális befizetésnél (az összegek alapegységben értendők).",
		"diagnosis.regular_deposit":       "Az Ön {amount} {asset} (alapegység) befizetése a megfelelő hálózaton ({network}) megérkezett az Ön {address} címére. Egy szakértő megvizsgálja, miért nem történt meg a jóváírás.",

		// Decision: what the recovery policy decided.
		"decision.direct":      "A befizetés visszaszerezhető. A következő lépés a díjajánlat (szabályzat: {policy_version}).",
		"decision.conditional": "A befizetés bizonyos feltételekkel visszaszerezhető (például csapataink jóváhagyásával és díj ellenében). A következő lépés a díjajánlat (szabályzat: {policy_version}).",
		"decision.batch":       "Ez egy kis összegű befizetés: a következő kötegben másokkal együtt szerezzük vissza, hogy a hálózati költség megoszoljon (szabályzat: {policy_version}).",
		"decision.park":        "Ezt a befizetést most nem tudjuk visszaszerezni. Az ügyet megőrizzük, és automatikusan folytatódik, amint szabályzatunk lehetővé teszi (szabályzat: {policy_version}).",
		"decision.reject":      "Visszaszerzési szabályzatunk szerint ez a befizetés nem szerezhető vissza (szabályzat: {policy_version}).",

		// Quote: the fee quote and the user's answer.
		"quote.offered":               "Díjajánlat: {fee} {asset} (kb. {fee_usd} USD); Ön {net} {asset} összeget kapna. Fogadja el vagy utasítsa el {expires_at} előtt.",
		"quote.renewed":               "Az előző ajánlat lejárt. Új díjajánlat: {fee} {asset} (kb. {fee_usd} USD); Ön {net} {asset} összeget kapna. Fogadja el vagy utasítsa el {expires_at} előtt.",
		"quote.advise_wait":           "Azt javasoljuk, most ne fogadja el, hanem várjon: a díj magas ehhez a befizetéshez. Ettől még elfogadhatja.",
		"quote.accepted":              "Ön elfogadta a(z) {fee} {asset} díjat.",
		"quote.declined":              "Ön elutasította a díjajánlatot; az ügy lezárult.",
		"quote.unpriced":              "Ennek az eszköznek nincs piaci ára, ezért nem tudunk automatikusan díjat ajánlani. Egy szakértő felveszi Önnel a kapcsolatot.",
		"quote.unavailable":           "Most nem tudtunk díjajánlatot készíteni. Egy szakértő veszi át az ügyet.",
		"signoffs.awaited":            "A visszaszerzést ezután csapataink vizsgálják: {teams}.",
		"policy.resumed":              "A(z) {policy_version} visszaszerzési szabályzatunk már lefedi az Ön {network} hálózaton történt befizetését: az ügye folytatódik.",
		"advice.proceed":              "A díj arányos a befizetéssel.",
		"advice.fee_above_max_share":  "A díj a befizetés nagy részét elvinné.",
		"advice.fee_exceeds_deposit":  "A díj a teljes befizetést elvinné.",
		"advice.small_and_not_urgent": "Ez kis összegű befizetés, és Ön nem sürgős: ha megvárja a szélesebb támogatást vagy egy köteget, kevesebbe kerülhet.",

		// Policy: what the policy does for such a case, shown with the decision.
		"policy.not_found":             "Az ügyet megőrizzük, és újra keressük a tranzakciót; kérjük, ellenőrizze a tranzakció hash-ét és a hálózatot.",
		"policy.pending":               "Megvárjuk, amíg a tranzakció véglegessé válik, majd automatikusan folytatjuk.",
		"policy.failed_tx":             "Egy sikertelen tranzakció nem mozgat pénzt, így nincs mit visszaszerezni, és az ügyet lezárjuk.",
		"policy.not_our_address":       "Csak az általunk kiadott címekre küldött összegeket tudjuk visszaszerezni.",
		"policy.already_credited":      "Minden befizetést csak egyszer írunk jóvá, ezért ez nem írható jóvá újra.",
		"policy.below_minimum":         "A kis összegű befizetések a heti kötegre várnak, és megosztoznak annak hálózati költségén.",
		"policy.missing_or_wrong_memo": "Az összeg a saját címünkön van: amint igazolja, hogy a befizetés az Öné, belsőleg jóváírjuk, új tranzakció nélkül.",
		"policy.unlisted_token":        "A nem listázott tokent visszaszerezzük, ha van piaci ára; ha nincs, az ügyet megőrizzük, amíg lesz.",
		"policy.wrong_network_evm":     "Ugyanaz a cím minden EVM-hálózaton érvényes, így ugyanazzal a kulccsal díj ellenében át tudjuk vezetni és jóvá tudjuk írni Önnek az összeget.",
		"policy.cross_chain_utxo":      "A cím kulcsa mindkét hálózaton nálunk van, így díj ellenében át tudjuk vezetni és jóvá tudjuk írni Önnek az érméket.",
		"policy.retired_address":       "Az összeget átvezetjük a régi címről, és jóváírjuk Önnek; csak a hálózati költséget számítjuk fel.",
		"policy.contract_deposit":      "A befizetést a szerződéshívás nyomon követése után díjmentesen jóváírjuk.",
		"policy.unsupported_network":   "Az ügyet megőrizzük, amíg nem támogatjuk ezt a hálózatot; ezután automatikusan folytatódik.",
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
