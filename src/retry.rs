//! Sending a request again after a failure or a retryable status: the policy a caller
//! sets ([`Retry`]), the budget that keeps a dying host from multiplying the load
//! ([`RetryBudget`]), and the one decision, [`verdict`], made after each attempt.
//!
//! The decision only says whether and when; `run.rs` re-queues the request with a
//! not-before time, so a request waiting out its backoff holds no thread and no place in
//! the pool.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use isahc::http::Method;

use crate::deadline::Deadline;
use crate::exchange::{Exchange, Failed};
use crate::method::is_idempotent;
use crate::{Error, Response, TimeoutKind};

/// When and how often a request is sent again: urllib3's `Retry`, with its sharp edges
/// filed off. Off by default, as in httplib2; set it for a whole client with
/// [`HttpBuilder::retry`](crate::HttpBuilder::retry) or for one request with
/// [`Request::retry`](crate::Request::retry).
///
/// `Retry::new(3)` sends a request up to 4 times in all. An attempt is sent again when it:
/// - could not connect, or the host did not resolve ([`Error::Connect`],
///   [`Error::ServerNotFound`]), or ran out of its connect or idle time
///   ([`Error::Timeout`], but not of its total time: there is none left);
/// - lost its connection before the whole response arrived ([`Error::BodyIncomplete`]);
/// - got a status of [`statuses`](Retry::statuses): 429, 502, 503 and 504 unless set.
///
/// Only idempotent methods (GET, HEAD, OPTIONS, TRACE, PUT, DELETE) are sent again, unless
/// [`any_method`](Retry::any_method) opts the request in; a failure to connect is the
/// exception, since nothing was sent. A download ([`Http::send_to`](crate::Http::send_to))
/// is never sent again: a broken one resumes with [`Destination::resume`](crate::Destination::resume).
///
/// **The wait** before retry *n* is drawn at random between zero and
/// `backoff × 2ⁿ⁻¹`, at most [`max_backoff`](Retry::backoff) ("full jitter", so that many
/// clients failing together do not come back together). A 429 or 503 that says
/// `Retry-After` (seconds or an HTTP date) is waited out instead, unless it asks for longer
/// than [`max_retry_after`](Retry::max_retry_after): then the response is returned as it
/// is, at once, rather than hang the request for an hour.
///
/// **Every wait counts against the request's one deadline**
/// ([`HttpBuilder::timeout`](crate::HttpBuilder::timeout), 30 s by default): a retry
/// whose wait would pass it is not made, and the last outcome is returned. A waiting
/// request holds no thread and no place in the pool.
///
/// **A budget** per client ([`RetryBudget`]) caps retries at a fifth of the requests sent,
/// beyond a reserve of 10, so that a host that fails everything is not sent every request
/// four times.
///
/// Each retry is logged at debug level: `req=7 retry 2/3 after 412ms: 503`. The response
/// records how many attempts it took ([`Response::attempts`](crate::Response::attempts)),
/// and a [`Batch`](crate::Batch) counts retries in its [`Progress`](crate::Progress).
///
/// ```
/// use std::time::Duration;
/// use asynchttp::{Http, Request, Retry};
///
/// // Every request of this client: 3 retries, waits from 200 ms, at most 5 s each.
/// let http = Http::builder()
///     .retry(Retry::new(3).backoff(Duration::from_millis(200), Duration::from_secs(5)))
///     .build()
///     .unwrap();
///
/// // One POST the server is known to de-duplicate: opted in.
/// let req = Request::new("POST", "http://127.0.0.1:8080/orders")
///     .body("{}")
///     .retry(Retry::new(2).any_method(true));
/// # drop((http, req));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Retry {
    retries: u32,
    statuses: Vec<u16>,
    on_connect: bool,
    on_timeout: bool,
    on_incomplete: bool,
    backoff: Duration,
    max_backoff: Duration,
    retry_after: bool,
    max_retry_after: Duration,
    any_method: bool,
}

/// The statuses a [`Retry`] retries unless told otherwise: too many requests, and the
/// three a gateway or an overloaded server answers with.
pub const RETRY_STATUSES: [u16; 4] = [429, 502, 503, 504];

impl Retry {
    /// Up to `retries` more attempts after the first, on the failures and statuses listed
    /// above; the first wait is up to 100 ms, no wait is longer than 10 s, and a
    /// `Retry-After` of up to 60 s is honoured.
    ///
    /// ```
    /// let retry = asynchttp::Retry::new(3);
    /// assert_eq!(retry.retries(), 3);
    /// assert_eq!(retry.status_list(), &[429, 502, 503, 504]);
    /// ```
    pub fn new(retries: u32) -> Self {
        Retry {
            retries,
            statuses: RETRY_STATUSES.to_vec(),
            on_connect: true,
            on_timeout: true,
            on_incomplete: true,
            backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(10),
            retry_after: true,
            max_retry_after: Duration::from_secs(60),
            any_method: false,
        }
    }

    /// No retry: for a request on a client that retries, to opt out.
    ///
    /// ```
    /// assert_eq!(asynchttp::Retry::none().retries(), 0);
    /// ```
    pub fn none() -> Self {
        Retry::new(0)
    }

    /// The statuses retried, instead of 429, 502, 503 and 504; empty for none.
    ///
    /// ```
    /// let retry = asynchttp::Retry::new(2).statuses([503]);
    /// assert_eq!(retry.status_list(), &[503]);
    /// ```
    pub fn statuses(mut self, statuses: impl IntoIterator<Item = u16>) -> Self {
        self.statuses = statuses.into_iter().collect();
        self
    }

    /// Whether a failure to resolve or connect is retried (yes by default).
    pub fn on_connect(mut self, retry: bool) -> Self {
        self.on_connect = retry;
        self
    }

    /// Whether running out of the connect or idle timeout is retried (yes by default).
    pub fn on_timeout(mut self, retry: bool) -> Self {
        self.on_timeout = retry;
        self
    }

    /// Whether a connection lost before the whole response arrived is retried (yes by
    /// default).
    pub fn on_incomplete(mut self, retry: bool) -> Self {
        self.on_incomplete = retry;
        self
    }

    /// The first wait's upper bound, doubled for each retry after it, and the longest
    /// wait. A zero `base` retries at once.
    ///
    /// ```
    /// use std::time::Duration;
    /// let retry = asynchttp::Retry::new(5).backoff(Duration::from_millis(50), Duration::from_secs(2));
    /// # drop(retry);
    /// ```
    pub fn backoff(mut self, base: Duration, max: Duration) -> Self {
        self.backoff = base;
        self.max_backoff = max;
        self
    }

    /// Whether a 429's or 503's `Retry-After` is waited out (yes by default); when not,
    /// the backoff applies.
    pub fn respect_retry_after(mut self, respect: bool) -> Self {
        self.retry_after = respect;
        self
    }

    /// The longest `Retry-After` waited out (60 s by default). A response asking for
    /// longer is returned as it is, at once.
    pub fn max_retry_after(mut self, max: Duration) -> Self {
        self.max_retry_after = max;
        self
    }

    /// Sends requests of any method again, not only idempotent ones: for a POST the
    /// server is known to de-duplicate, say.
    pub fn any_method(mut self, any: bool) -> Self {
        self.any_method = any;
        self
    }

    /// How many retries at most, after the first attempt.
    pub fn retries(&self) -> u32 {
        self.retries
    }

    /// The statuses retried.
    pub fn status_list(&self) -> &[u16] {
        &self.statuses
    }

    /// True if a request with this method might be sent again at all: its copy is then
    /// kept before each attempt.
    pub(crate) fn may_retry(&self, method: &Method, done: u32) -> bool {
        // A failure to connect or a connect timeout sent nothing: any method may go again.
        done < self.retries
            && (self.on_connect || self.on_timeout || self.any_method || is_idempotent(method))
    }

    /// The upper bound of the wait before retry number `n` (1 for the first).
    fn ceiling(&self, n: u32) -> Duration {
        let doubled = 2u32.checked_pow(n.saturating_sub(1)).unwrap_or(u32::MAX);
        self.backoff
            .checked_mul(doubled)
            .unwrap_or(Duration::MAX)
            .min(self.max_backoff)
    }
}

/// How many retries a client may make, as a share of the requests it sends: a token
/// bucket that starts with `reserve` retries, gains `ratio` of a retry with each request
/// that may be retried, and never holds more than `reserve`. Each retry takes one; with
/// none left, an attempt's outcome is returned as it is.
///
/// The default, `RetryBudget::new(0.2, 10)`, lets every request be retried while failures
/// are rare, and a fifth of them once a host fails everything.
///
/// ```
/// use asynchttp::{Http, Retry, RetryBudget};
///
/// let http = Http::builder()
///     .retry(Retry::new(3))
///     .retry_budget(RetryBudget::new(0.1, 20))
///     .build()
///     .unwrap();
/// # drop(http);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryBudget {
    ratio: f64,
    reserve: u32,
}

impl RetryBudget {
    /// `ratio` of a retry earned per request (0 to 1; outside it, clamped), and at most
    /// `reserve` retries in hand.
    pub fn new(ratio: f64, reserve: u32) -> Self {
        let ratio = if ratio.is_nan() {
            0.0
        } else {
            ratio.clamp(0.0, 1.0)
        };
        RetryBudget { ratio, reserve }
    }

    /// No limit but each request's own [`Retry`].
    pub fn unlimited() -> Self {
        RetryBudget {
            ratio: 1.0,
            reserve: u32::MAX,
        }
    }
}

impl Default for RetryBudget {
    fn default() -> Self {
        RetryBudget::new(0.2, 10)
    }
}

/// A budget's balance, in thousandths of a retry, shared by every request of a client.
#[derive(Debug)]
pub(crate) struct Budget {
    balance: AtomicU64,
    earned: u64,
    most: u64,
}

const MILLI: u64 = 1000;

impl Budget {
    pub(crate) fn new(budget: RetryBudget) -> Self {
        let most = u64::from(budget.reserve).saturating_mul(MILLI);
        // Rounded: 0.2 earns 200 thousandths exactly.
        let earned = (budget.ratio * MILLI as f64).round() as u64;
        Budget {
            balance: AtomicU64::new(most),
            earned,
            most,
        }
    }

    /// A request that may be retried was sent for the first time.
    pub(crate) fn deposit(&self) {
        let _ = self
            .balance
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |b| {
                (b < self.most).then(|| (b + self.earned).min(self.most))
            });
    }

    /// Takes one retry; false if there is none.
    fn withdraw(&self) -> bool {
        self.balance
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |b| {
                b.checked_sub(MILLI)
            })
            .is_ok()
    }
}

/// The decision after an attempt: send it again after `wait`, for `reason`.
#[derive(Debug, PartialEq)]
pub(crate) struct Again {
    pub(crate) wait: Duration,
    pub(crate) reason: String,
}

/// Whether the attempt that gave `fetched` is sent again, as retry number `done + 1`.
/// `None` returns `fetched` as it is. A retry the budget refuses, or whose wait passes the
/// deadline or the `Retry-After` cap, is not made; the log says why.
pub(crate) fn verdict(
    policy: &Retry,
    method: &Method,
    fetched: &Result<Exchange, Box<Failed>>,
    done: u32,
    deadline: &Deadline,
    budget: &Budget,
    id: u64,
) -> Option<Again> {
    if done >= policy.retries {
        return None;
    }
    let may_resend = policy.any_method || is_idempotent(method);
    let (reason, asked) = match fetched {
        Ok(exchange) => {
            let response = &exchange.response;
            if !may_resend || !policy.statuses.contains(&response.status) {
                return None;
            }
            let asked = policy.retry_after.then(|| asked_wait(response)).flatten();
            (response.status.to_string(), asked)
        }
        Err(failed) => {
            let error = &failed.error;
            let retried = match error {
                // Nothing was sent: any method may go again.
                Error::Connect { .. } | Error::ServerNotFound { .. } => policy.on_connect,
                Error::Timeout {
                    bound: TimeoutKind::Connect,
                    ..
                } => policy.on_timeout,
                Error::Timeout {
                    bound: TimeoutKind::Idle | TimeoutKind::MinSpeed,
                    ..
                } => policy.on_timeout && may_resend,
                Error::BodyIncomplete { .. } => policy.on_incomplete && may_resend,
                _ => false,
            };
            if !retried {
                return None;
            }
            (error.to_string(), None)
        }
    };
    let n = done + 1;
    let wait = match asked {
        Some(asked) if asked > policy.max_retry_after => {
            crate::logs::debug!(
                "req={id} not retried: Retry-After {asked:?} is past the cap of {:?}",
                policy.max_retry_after
            );
            return None;
        }
        Some(asked) => asked,
        None => jitter(policy.ceiling(n)),
    };
    match deadline.left() {
        Ok(left) if left > wait => {}
        _ => {
            crate::logs::debug!("req={id} not retried: a wait of {wait:?} passes its deadline");
            return None;
        }
    }
    if !budget.withdraw() {
        crate::logs::debug!("req={id} not retried: the client's retry budget is spent");
        return None;
    }
    crate::logs::debug!(
        "req={id} retry {n}/{} after {}: {reason}",
        policy.retries,
        Shown(wait)
    );
    Some(Again { wait, reason })
}

/// A wait as the log shows it: whole milliseconds, or seconds past ten of them.
struct Shown(Duration);

impl std::fmt::Display for Shown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ms = self.0.as_millis();
        if ms >= 10_000 {
            write!(f, "{}s", self.0.as_secs())
        } else {
            write!(f, "{ms}ms")
        }
    }
}

/// A wait drawn evenly between zero and `ceiling`.
fn jitter(ceiling: Duration) -> Duration {
    if ceiling.is_zero() {
        return ceiling;
    }
    // A failed draw (no entropy source) waits half the ceiling: still bounded.
    let draw = getrandom::u64().unwrap_or(u64::MAX / 2);
    let nanos = u64::try_from(ceiling.as_nanos()).unwrap_or(u64::MAX);
    let fraction = draw as f64 / u64::MAX as f64;
    Duration::from_nanos((nanos as f64 * fraction) as u64)
}

/// Whether `status` asks its client to slow down: 429 (Too Many Requests) and 503
/// (Service Unavailable), the two answers whose `Retry-After` is waited out, by a retry
/// and by an adaptive [`HostLimits`](crate::HostLimits) alike.
pub(crate) fn slows_down(status: u16) -> bool {
    matches!(status, 429 | 503)
}

/// The wait a response that [slows its client down](slows_down) asks for in its
/// `Retry-After`, from now; `None` for any other status, or when it asks for none that
/// can be read.
pub(crate) fn asked_wait(response: &Response) -> Option<Duration> {
    let value = response
        .get("retry-after")
        .filter(|_| slows_down(response.status))?;
    retry_after(value, SystemTime::now())
}

/// A `Retry-After` value (RFC 9110 §10.2.3): whole seconds, or an HTTP date, as a wait
/// from `now` (a date in the past waits nothing). Anything else is ignored.
fn retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // Too many digits to be a number of seconds is still "a very long time".
        return Some(Duration::from_secs(value.parse().unwrap_or(u64::MAX)));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A response of `status`, with a `Retry-After` if given.
    pub(crate) fn answer(status: u16, retry_after: Option<&str>) -> Response {
        let mut response = Response::new(status);
        if let Some(value) = retry_after {
            response.insert("Retry-After", value);
        }
        response
    }

    #[test]
    fn retry_after_takes_seconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_480);
        assert_eq!(retry_after("120", now), Some(Duration::from_secs(120)));
        assert_eq!(retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(
            retry_after("99999999999999999999999", now),
            Some(Duration::from_secs(u64::MAX))
        );
        // 2015-10-21 07:28:00 GMT is `now`; a minute later waits a minute.
        assert_eq!(
            retry_after("Wed, 21 Oct 2015 07:29:00 GMT", now),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        for bad in ["", "-1", "1.5", "soon", "12 s"] {
            assert_eq!(retry_after(bad, now), None, "{bad:?}");
        }
    }

    #[test]
    fn only_a_429_or_503_asks_for_a_wait() {
        let asked = |status, retry_after| asked_wait(&answer(status, retry_after));
        for status in [429, 503] {
            assert!(slows_down(status));
            assert_eq!(asked(status, Some("7")), Some(Duration::from_secs(7)));
            assert_eq!(asked(status, None), None);
            assert_eq!(asked(status, Some("soon")), None);
        }
        for status in [200, 301, 500, 502, 504] {
            assert!(!slows_down(status));
            assert_eq!(asked(status, Some("7")), None, "{status}");
        }
    }

    #[test]
    fn waits_double_up_to_the_cap_with_full_jitter() {
        let retry = Retry::new(10).backoff(Duration::from_millis(100), Duration::from_secs(1));
        assert_eq!(retry.ceiling(1), Duration::from_millis(100));
        assert_eq!(retry.ceiling(2), Duration::from_millis(200));
        assert_eq!(retry.ceiling(4), Duration::from_millis(800));
        assert_eq!(retry.ceiling(5), Duration::from_secs(1));
        assert_eq!(retry.ceiling(100), Duration::from_secs(1));
        let waits: Vec<Duration> = (0..200)
            .map(|_| jitter(Duration::from_millis(100)))
            .collect();
        assert!(waits.iter().all(|w| *w <= Duration::from_millis(100)));
        // Spread over the range, not bunched at one end.
        assert!(waits.iter().any(|w| *w < Duration::from_millis(30)));
        assert!(waits.iter().any(|w| *w > Duration::from_millis(70)));
        assert_eq!(jitter(Duration::ZERO), Duration::ZERO);
    }

    #[test]
    fn a_copy_is_kept_only_when_another_attempt_could_be_made() {
        let (get, post) = (Method::GET, Method::POST);
        let retry = Retry::new(2);
        assert!(retry.may_retry(&get, 0) && retry.may_retry(&get, 1));
        assert!(!retry.may_retry(&get, 2), "the retries are spent");
        // A POST may still go again after a failure to connect, which sent nothing.
        assert!(retry.may_retry(&post, 0));
        let sent_only = retry.clone().on_connect(false).on_timeout(false);
        assert!(!sent_only.may_retry(&post, 0));
        assert!(sent_only.clone().any_method(true).may_retry(&post, 0));
        assert!(sent_only.may_retry(&Method::PUT, 0), "PUT is idempotent");
        assert!(!Retry::none().may_retry(&get, 0));
    }

    #[test]
    fn the_budget_keeps_a_reserve_and_earns_a_share() {
        let budget = Budget::new(RetryBudget::new(0.2, 2));
        assert!(budget.withdraw() && budget.withdraw());
        assert!(!budget.withdraw(), "the reserve is spent");
        for _ in 0..4 {
            budget.deposit();
            assert!(!budget.withdraw(), "four fifths are not a retry");
        }
        budget.deposit();
        assert!(budget.withdraw(), "five requests earn one retry");
        for _ in 0..100 {
            budget.deposit();
        }
        assert!(budget.withdraw() && budget.withdraw());
        assert!(!budget.withdraw(), "never more than the reserve in hand");
        let unlimited = Budget::new(RetryBudget::unlimited());
        assert!((0..10_000).all(|_| unlimited.withdraw()));
        assert_eq!(RetryBudget::new(f64::NAN, 1), RetryBudget::new(0.0, 1));
    }
}
