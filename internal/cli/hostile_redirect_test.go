package cli

// redirectCases: HTTP redirects at every provider endpoint: nothing follows them to another origin.
func redirectCases() []hostileCase {
	return nil
}
