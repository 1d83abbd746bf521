package store

import "time"

// read is get for the read path of Get: the lean Secret Service read when
// there is one (Linux, real go-keyring), under the same timeout, and
// go-keyring's Get whenever it does not answer with a value.
func (k *Keychain) read(user string) (string, error) {
	if k.fast != nil {
		type result struct {
			s  string
			ok bool
		}
		done := make(chan result, 1)
		go func() {
			s, ok := k.fast(k.service, user)
			done <- result{s, ok}
		}()
		// Half the timeout at most, so that the fallback keeps the rest.
		t := time.NewTimer(k.timeout / 2)
		select {
		case r := <-done:
			t.Stop()
			if r.ok {
				return r.s, nil
			}
		case <-t.C:
		}
	}
	return k.get(user)
}
