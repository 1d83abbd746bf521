package cli

// idTokenRuleCases: ID token rules of OpenID Connect Core §3.1.3.7 and RFC 8725.
func idTokenRuleCases() []hostileCase {
	return nil
}
