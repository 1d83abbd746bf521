package inspect

// explanations are one line per claim a user is likely to meet, from the
// JWT registry (RFC 7519 §4.1), OpenID Connect Core §2 and §5.1, JWT
// access tokens (RFC 9068 §2.2), token exchange (RFC 8693 §4),
// proof-of-possession (RFC 7800 §3.1) and Logto's organizations.
var explanations = map[string]string{
	// RFC 7519 §4.1
	"iss": "issuer: who made and signed the token",
	"sub": "subject: the user (or client) the token is about",
	"aud": "audience: who may accept the token",
	"exp": "expiry: the token must not be accepted after this",
	"nbf": "not before: not to be accepted before this",
	"iat": "issued at: when the provider made the token",
	"jti": "JWT id: unique per token, to detect replay",
	"typ": "token type (some providers put it here)",

	// OpenID Connect Core §2, §3.1.3.6, §3.3.2.11; sid from Front-Channel
	// Logout §3; s_hash from FAPI 1.0 Advanced §5.1
	"azp":       "authorized party: the client the token was issued to",
	"auth_time": "when the user last actually authenticated",
	"nonce":     "nonce from the login request, against replay",
	"acr":       "authentication context: how strong the login was",
	"amr":       "authentication methods used, e.g. pwd, otp, mfa",
	"at_hash":   "hash of the access token issued with this ID token",
	"c_hash":    "hash of the code issued with this ID token",
	"s_hash":    "hash of the state parameter (FAPI)",
	"sid":       "session id at the provider, for logout",

	// OpenID Connect Core §5.1
	"name":                  "full name",
	"given_name":            "given (first) name",
	"family_name":           "family (last) name",
	"middle_name":           "middle name",
	"nickname":              "casual name",
	"preferred_username":    "the user's chosen username; not unique, not stable",
	"profile":               "profile page URL",
	"picture":               "profile picture URL",
	"website":               "web page URL",
	"email":                 "email address; trust it only if email_verified",
	"email_verified":        "whether the provider verified the email address",
	"gender":                "gender",
	"birthdate":             "birthday, YYYY-MM-DD",
	"zoneinfo":              "time zone, e.g. Europe/Paris",
	"locale":                "language and region, e.g. en-US",
	"phone_number":          "phone number",
	"phone_number_verified": "whether the provider verified the phone number",
	"address":               "postal address",
	"updated_at":            "when the user's profile last changed",

	// RFC 9068 §2.2, RFC 8693 §4
	"scope":        "scopes granted: what the token allows",
	"scp":          "scopes granted (Microsoft's name for scope)",
	"client_id":    "the client the token was issued to",
	"roles":        "roles of the user (RFC 9068 §2.2.3.1)",
	"groups":       "groups of the user (RFC 9068 §2.2.3.1)",
	"entitlements": "entitlements of the user (RFC 9068 §2.2.3.1)",
	"act":          "actor: who acts for the subject (token exchange)",
	"may_act":      "who may act for the subject (token exchange)",
	"cnf":          "the key the token is bound to (DPoP, mTLS)",

	// Logto organizations
	"organization_id":    "the organization this organization token is for",
	"organizations":      "ids of the organizations the user is a member of",
	"organization_roles": "roles per organization, as organization_id:role",
}

// Explain is one line about a registered or widely used claim, or "" for a
// claim it does not know, which is then the provider's own.
func Explain(claim string) string { return explanations[claim] }
