package cli

// terminalCases: escape sequences from a provider in each terminal surface.
func terminalCases() []hostileCase {
	return nil
}
