package store

import (
	"errors"
	"time"

	"github.com/zalando/go-keyring"
)

// keyringAPI is the part of go-keyring this package uses.
type keyringAPI interface {
	Get(service, user string) (string, error)
	Set(service, user, secret string) error
	Delete(service, user string) error
}

// goKeyring calls go-keyring's package functions, so keyring.MockInit in a
// test swaps it for go-keyring's in-memory provider.
type goKeyring struct{}

func (goKeyring) Get(service, user string) (string, error) { return keyring.Get(service, user) }
func (goKeyring) Set(service, user, secret string) error   { return keyring.Set(service, user, secret) }
func (goKeyring) Delete(service, user string) error        { return keyring.Delete(service, user) }

// get, set and del run one keychain call under the timeout and translate
// its error: ErrNotFound for a missing entry, ErrSetDataTooBig unchanged so
// Set can retry with smaller chunks, *TimeoutError, *LockedError, and
// *UnavailableError for everything else.
func (k *Keychain) get(user string) (string, error) {
	return k.call(func() (string, error) { return k.kr.Get(k.service, user) })
}

func (k *Keychain) set(user, secret string) error {
	_, err := k.call(func() (string, error) { return "", k.kr.Set(k.service, user, secret) })
	return err
}

func (k *Keychain) del(user string) error {
	_, err := k.call(func() (string, error) { return "", k.kr.Delete(k.service, user) })
	return err
}

// call abandons fn when it outlives the timeout: go-keyring offers no way to
// cancel a call that waits for an unlock prompt. The buffered channel lets
// the abandoned goroutine finish and exit whenever the keychain answers.
func (k *Keychain) call(fn func() (string, error)) (string, error) {
	type result struct {
		s   string
		err error
	}
	done := make(chan result, 1)
	go func() {
		s, err := fn()
		done <- result{s, err}
	}()
	timer := time.NewTimer(k.timeout)
	defer timer.Stop()
	select {
	case r := <-done:
		return r.s, classify(r.err)
	case <-timer.C:
		return "", &TimeoutError{After: k.timeout}
	}
}

func classify(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, keyring.ErrNotFound):
		return ErrNotFound
	case errors.Is(err, keyring.ErrSetDataTooBig):
		return err
	case isLocked(err):
		return &LockedError{Err: err}
	default:
		return &UnavailableError{Err: err}
	}
}
