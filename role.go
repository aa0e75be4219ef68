package recovery

// Staff roles: specialists work the cases; wallet, settlement and security
// sign recoveries off for their team; finance reads reports; admin imports
// address books, applies policies and does a specialist's work, but signs
// for no team.
const (
	RoleSpecialist = "specialist"
	RoleWallet     = "wallet"
	RoleSettlement = "settlement"
	RoleSecurity   = "security"
	RoleFinance    = "finance"
	RoleAdmin      = "admin"
)

// Roles lists every staff role.
func Roles() []string {
	return []string{RoleSpecialist, RoleWallet, RoleSettlement, RoleSecurity, RoleFinance, RoleAdmin}
}

// Team is a team whose sign-off a recovery needs. A person signs for a
// team by holding the role of the same name.
type Team string

const (
	TeamWallet     Team = RoleWallet
	TeamSettlement Team = RoleSettlement
	TeamSecurity   Team = RoleSecurity
)

// Teams lists the teams in the order sign-offs are shown and collected.
func Teams() []Team { return []Team{TeamWallet, TeamSettlement, TeamSecurity} }
