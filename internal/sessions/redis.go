package sessions

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// Redis keys, all under keyPrefix:
//
//	revoked:<sid>  a string, expiring when the session would have
//	valid-after    a sorted set: subject → Unix ms, raised only (ZADD GT)
//	once:<key>     a string, expiring after UseOnce's ttl (SET NX PX)
const (
	revokedPrefix = keyPrefix + "revoked:"
	validAfterKey = keyPrefix + "valid-after"
	oncePrefix    = keyPrefix + "once:"
)

// ErrStoreUnavailable is wrapped by the errors of a store that cannot be
// reached, so that the broker can answer 503 rather than 500.
var ErrStoreUnavailable = errors.New("the session store is unavailable")

// redisStore is the Store that replicas share.
type redisStore struct {
	c        *redis.Client
	addr     string // host:port, for errors
	password string // to redact from errors
	now      func() time.Time
}

// quietRedis stops go-redis printing its own plain-text lines (a failed
// dial, a pool notice) next to the broker's structured log: every failure
// reaches the caller as an error, which the broker logs and answers.
var quietRedis sync.Once

type discardLogger struct{}

func (discardLogger) Printf(context.Context, string, ...any) {}

func openRedis(ctx context.Context, u *url.URL, now func() time.Time) (Store, error) {
	quietRedis.Do(func() { redis.SetLogger(discardLogger{}) })
	password, _ := u.User.Password()
	s := &redisStore{now: now, password: password}
	opts, err := redis.ParseURL(u.String())
	if err != nil {
		return nil, fmt.Errorf("the session store %s is not a Redis URL: %s", shownURL(u), s.redact(err.Error()))
	}
	s.addr = opts.Addr
	// Short timeouts: a dead Redis fails requests within about two
	// seconds rather than holding them. Query parameters win.
	q := u.Query()
	if !q.Has("dial_timeout") {
		opts.DialTimeout = time.Second
	}
	if !q.Has("read_timeout") {
		opts.ReadTimeout = time.Second
	}
	if !q.Has("write_timeout") {
		opts.WriteTimeout = time.Second
	}
	if !q.Has("max_retries") {
		opts.MaxRetries = 1
	}
	opts.DialerRetries = 1
	// The broker needs no cluster-maintenance push notifications, nor the
	// handshake that asks a server for them.
	opts.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	s.c = redis.NewClient(opts)
	if err := s.Ping(ctx); err != nil {
		s.c.Close()
		return nil, err
	}
	return s, nil
}

func (s *redisStore) RevokeSession(ctx context.Context, sid string, until time.Time) error {
	if err := checkKey("session ID", sid); err != nil {
		return err
	}
	ttl := until.Sub(s.now())
	if ttl <= 0 {
		return nil // the session is over anyway
	}
	ttl = max(ttl.Round(time.Millisecond), time.Millisecond)
	key := revokedPrefix + sid
	// Kept until the latest until given: SET NX creates, PEXPIRE GT only
	// ever lengthens.
	_, err := s.c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.SetNX(ctx, key, "1", ttl)
		p.Do(ctx, "pexpire", key, ttl.Milliseconds(), "gt")
		return nil
	})
	return s.fail("revoke a session", err)
}

func (s *redisStore) RevokeSubject(ctx context.Context, sub string, at time.Time) error {
	if err := checkKey("subject", sub); err != nil {
		return err
	}
	err := s.c.ZAddGT(ctx, validAfterKey, redis.Z{Score: float64(validAfter(at)), Member: sub}).Err()
	return s.fail("revoke a subject", err)
}

func (s *redisStore) Revoked(ctx context.Context, sid, sub string, issuedAt time.Time) (bool, error) {
	if err := checkKey("session ID", sid); err != nil {
		return false, err
	}
	if err := checkKey("subject", sub); err != nil {
		return false, err
	}
	var exists *redis.IntCmd
	var score *redis.FloatCmd
	_, err := s.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		exists = p.Exists(ctx, revokedPrefix+sid)
		score = p.ZScore(ctx, validAfterKey, sub)
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return false, s.fail("check a session", err)
	}
	if err := exists.Err(); err != nil {
		return false, s.fail("check a session", err)
	}
	if exists.Val() > 0 {
		return true, nil
	}
	switch ms, err := score.Result(); {
	case errors.Is(err, redis.Nil):
		return false, nil
	case err != nil:
		return false, s.fail("check a subject", err)
	default:
		return revokedAt(issuedAt, int64(ms)), nil
	}
}

func (s *redisStore) UseOnce(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	if err := checkKey("key", key); err != nil {
		return false, err
	}
	if ttl <= 0 {
		return false, errTTL
	}
	ttl = max(ttl.Round(time.Millisecond), time.Millisecond)
	first, err := s.c.SetNX(ctx, oncePrefix+key, "1", ttl).Result()
	if err != nil {
		return false, s.fail("record a proof", err)
	}
	return first, nil
}

func (s *redisStore) Ping(ctx context.Context) error {
	return s.fail("ping", s.c.Ping(ctx).Err())
}

func (s *redisStore) Close() error {
	if err := s.fail("close", s.c.Close()); !errors.Is(err, ErrStoreClosed) {
		return err
	}
	return nil // closed twice
}

// storeError keeps the cause for errors.Is while its message is redacted.
type storeError struct {
	msg  string
	errs []error
}

func (e *storeError) Error() string   { return e.msg }
func (e *storeError) Unwrap() []error { return e.errs }

// fail turns a go-redis error into the broker's: which Redis, what the
// broker was doing, and whether Redis answered or could not be reached.
func (s *redisStore) fail(op string, err error) error {
	if err == nil {
		return nil
	}
	var answer redis.Error
	switch {
	case errors.Is(err, redis.ErrClosed):
		return ErrStoreClosed
	case errors.Is(err, context.Canceled):
		return &storeError{fmt.Sprintf("session store: %s at Redis %s: canceled", op, s.addr), []error{err}}
	case errors.As(err, &answer) && !errors.Is(err, redis.ErrPoolTimeout):
		return &storeError{fmt.Sprintf("session store: Redis at %s refused to %s: %s", s.addr, op, s.redact(err.Error())), []error{err}}
	}
	return &storeError{
		fmt.Sprintf("session store: Redis at %s is unreachable (%s): %s", s.addr, op, s.redact(err.Error())),
		[]error{ErrStoreUnavailable, err},
	}
}

// redact hides the password, as given and URL-escaped, in text that
// quotes a URL or a server's answer.
func (s *redisStore) redact(text string) string {
	if s.password == "" {
		return text
	}
	for _, p := range []string{s.password, url.QueryEscape(s.password), url.PathEscape(s.password)} {
		text = strings.ReplaceAll(text, p, "xxxxx")
	}
	return text
}
