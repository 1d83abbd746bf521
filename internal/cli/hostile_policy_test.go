package cli

// endpointPolicyCases: the one URL policy, applied to discovered endpoints as to configured ones.
func endpointPolicyCases() []hostileCase {
	return nil
}
