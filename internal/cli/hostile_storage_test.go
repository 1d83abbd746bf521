package cli

// storageCases: storage that cannot be turned against the user.
func storageCases() []hostileCase {
	return nil
}
