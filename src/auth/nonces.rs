//! Nonce counts, shared by every worker of an `Http`: each request with a nonce gets a
//! count above any sent with it, whichever worker sends it, and the requests out with each
//! nonce are tracked until their responses arrive.
//!
//! A request normally has a nonce to itself (see `lines`). Two share one when a server
//! gives every challenge the same nonce; their counts can then reach it in another order
//! than given, and a server that wants them to grow refuses the late ones. Such a refusal
//! is not about the password, so [`Credentials::retry`] answers it once more, and that
//! answer goes out alone with its nonce.

use std::time::{Duration, Instant};

use super::Credentials;
use crate::Response;
use crate::sync;

/// The longest a Digest request waits for its nonce (never longer than its own timeout):
/// for an answer sent again, until the requests out with the nonce are answered; for any
/// other, until such an answer is. After it, the request goes anyway.
const NONCE_WAIT: Duration = Duration::from_secs(5);

/// Nonces whose counts are kept; an older one would be answered `stale` anyway.
const NONCES_KEPT: usize = 128;

/// Requests sent with one nonce.
struct NonceUse {
    nonce: String,
    /// The last nonce count given out.
    count: u32,
    /// Requests counted whose response has not arrived yet.
    out: u32,
    /// An answer sent again holds the nonce, or waits to: nothing else starts with it.
    held: bool,
}

/// The recent nonces, whichever attempt, line or worker sent them.
#[derive(Default)]
pub(super) struct Nonces(Vec<NonceUse>);

impl Nonces {
    fn get(&self, nonce: &str) -> Option<&NonceUse> {
        self.0.iter().find(|u| u.nonce == nonce)
    }

    /// The use of `nonce`, new if it is not kept. Past [`NONCES_KEPT`] the oldest idle one
    /// that no line answers with (`lined`) makes room, else the oldest idle one, else the
    /// oldest (its requests' ends are then ignored).
    fn entry(&mut self, nonce: &str, lined: &dyn Fn(&str) -> bool) -> &mut NonceUse {
        if let Some(i) = self.0.iter().position(|u| u.nonce == nonce) {
            return &mut self.0[i];
        }
        if self.0.len() >= NONCES_KEPT {
            let idle = |u: &NonceUse| u.out == 0 && !u.held;
            let unlined = self.0.iter().position(|u| idle(u) && !lined(&u.nonce));
            let victim = unlined.or_else(|| self.0.iter().position(idle));
            self.0.remove(victim.unwrap_or(0));
        }
        self.0.push(NonceUse {
            nonce: nonce.to_owned(),
            count: 0,
            out: 0,
            held: false,
        });
        self.0.last_mut().expect("just pushed")
    }

    /// The next nonce count for `nonce` (one more than any request sent with it), for a
    /// request now going out; and whether others are out with it.
    fn next_nc(&mut self, nonce: &str, lined: &dyn Fn(&str) -> bool) -> (u32, bool) {
        let used = self.entry(nonce, lined);
        used.count += 1;
        used.out += 1;
        (used.count, used.out > 1)
    }

    fn held(&self, nonce: &str) -> bool {
        self.get(nonce).is_some_and(|u| u.held)
    }

    fn out(&self, nonce: &str) -> u32 {
        self.get(nonce).map_or(0, |u| u.out)
    }
}

/// A Digest request out with its nonce, until its response arrives (or it fails): dropping
/// it ends its use of the nonce, and drops the line it took unless [`InFlight::landed`]
/// gave the line back.
pub(crate) struct InFlight<'a> {
    credentials: &'a Credentials,
    nonce: String,
    pub(super) nc: u32,
    /// Others were out with the nonce when this one was counted.
    contended: bool,
    held: bool,
    /// The line this request took (see `lines`).
    line: Option<u64>,
}

impl InFlight<'_> {
    /// Whether other requests used the nonce while this one was out: counted before it and
    /// not answered yet, or counted after it.
    pub(super) fn contended(&self) -> bool {
        self.contended
            || self
                .credentials
                .lock()
                .nonces
                .get(&self.nonce)
                .is_none_or(|u| u.count > self.nc)
    }

    /// The request went out on `line`: it goes back to the pool when the response comes.
    pub(super) fn on_line(mut self, line: u64) -> Self {
        self.line = Some(line);
        self
    }

    /// The response arrived. Unless it is a 401, the line the request took is idle again,
    /// with the `nextnonce` the response may give; after a 401 it is dropped (the server
    /// refused its nonce, and gives the request a new one to answer with).
    pub(crate) fn landed(mut self, response: &Response) {
        if response.status == 401 {
            return;
        }
        if let Some(line) = self.line.take() {
            let info = response.get("authentication-info");
            self.credentials.lock().give_back_line(line, info);
        }
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        let mut state = self.credentials.lock();
        if let Some(used) = state.nonces.0.iter_mut().find(|u| u.nonce == self.nonce) {
            used.out = used.out.saturating_sub(1);
            if self.held {
                used.held = false;
            }
        }
        if let Some(line) = self.line {
            state.retire_line(line);
        }
        drop(state);
        self.credentials.answered.notify_all();
    }
}

impl Credentials {
    /// Counts a Digest request with `nonce` going out. One sent `alone` waits until no
    /// other is out with the nonce, and holds it so that none starts until its response
    /// arrives; any other waits while the nonce is held. Together the waits last `patience`
    /// (at most [`NONCE_WAIT`]); then the request goes anyway.
    pub(super) fn go_out(&self, nonce: &str, alone: bool, patience: Duration) -> InFlight<'_> {
        let deadline = Instant::now() + patience.min(NONCE_WAIT);
        let left = || deadline.saturating_duration_since(Instant::now());
        let wait = |state, busy: &dyn Fn(&mut super::State) -> bool| {
            sync::wait_timeout_while(&self.answered, state, left(), busy)
        };
        let mut state = wait(self.lock(), &|s| s.nonces.held(nonce));
        // Still held after the wait: this one goes as any other.
        let held = alone && !state.nonces.held(nonce);
        if held {
            state.nonces.entry(nonce, &|_| false).held = true;
            state = wait(state, &|s| s.nonces.out(nonce) > 0);
        }
        let super::State {
            nonces, accepted, ..
        } = &mut *state;
        let lined = |n: &str| super::lines_hold(accepted, n);
        let (nc, contended) = nonces.next_nc(nonce, &lined);
        InFlight {
            credentials: self,
            nonce: nonce.to_owned(),
            nc,
            contended,
            held,
            line: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unlined(_: &str) -> bool {
        false
    }

    #[test]
    fn nonce_counts_are_shared_and_bounded() {
        let mut nonces = Nonces::default();
        // A request counted, then answered.
        let nc = |nonces: &mut Nonces, nonce: &str| {
            let (nc, _) = nonces.next_nc(nonce, &unlined);
            nonces.entry(nonce, &unlined).out -= 1;
            nc
        };
        assert_eq!(
            (
                nc(&mut nonces, "a"),
                nc(&mut nonces, "a"),
                nc(&mut nonces, "b")
            ),
            (1, 2, 1)
        );
        assert_eq!(nonces.next_nc("busy", &unlined), (1, false));
        assert_eq!(
            nonces.next_nc("busy", &unlined),
            (2, true),
            "another is out with it"
        );
        let lined = |n: &str| n == "lined";
        nonces.next_nc("lined", &lined);
        nonces.entry("lined", &lined).out -= 1;
        for i in 0..NONCES_KEPT {
            let (_, _) = nonces.next_nc(&i.to_string(), &lined);
            nonces.entry(&i.to_string(), &lined).out -= 1;
        }
        assert_eq!(nonces.0.len(), NONCES_KEPT);
        assert!(nonces.get("busy").is_some(), "in use: kept over idle ones");
        assert!(
            nonces.get("lined").is_some(),
            "a line's: kept over other idle ones"
        );
        assert_eq!(
            nc(&mut nonces, "a"),
            1,
            "forgotten once older than the last ones kept"
        );
    }
}
