//! The lines of an accepted Digest authorization: each a nonce the server accepted, which
//! one request at a time sends up front.
//!
//! A server that checks nonce counts refuses one that is not above the highest it took,
//! and Apache (`AuthDigestNcCheck On`) keeps one count per client, its `opaque`, on the
//! newest of the client's nonces in use: once a newer nonce is used, the older ones are
//! refused. Requests sharing a nonce at once reach it in any order, so some are refused,
//! and the answer to that refusal (a new nonce of the same client) ends the others. A line
//! goes out with one request at a time, so its counts arrive in order; a request that finds
//! every line busy goes without an authorization, and the server's challenge gives it a
//! line of its own (with Apache, a client of its own), kept once the server accepts it. So
//! as many lines are kept as requests went out at once, up to [`LINES_KEPT`].

use super::digest::{DigestState, adopt_next_nonce};

/// The most lines one accepted authorization keeps: past it, a new line takes the place of
/// the oldest idle one (more requests than this at once still get nonces of their own from
/// challenges, at one more round trip each).
pub(super) const LINES_KEPT: usize = 32;

pub(super) struct Line {
    /// Unique among the lines of one `Credentials`.
    id: u64,
    digest: DigestState,
    /// A request took it, and its response has not arrived yet.
    busy: bool,
}

/// The lines of one accepted Digest authorization, oldest first.
#[derive(Default)]
pub(super) struct Lines(Vec<Line>);

impl Lines {
    /// The first idle line, now busy: its id and what to answer with.
    pub(super) fn take(&mut self) -> Option<(u64, DigestState)> {
        let line = self.0.iter_mut().find(|line| !line.busy)?;
        line.busy = true;
        Some((line.id, line.digest.clone()))
    }

    /// Line `id` is idle again, with the `nextnonce` its response's `Authentication-Info`
    /// may give. False if it is not one of these.
    pub(super) fn give_back(&mut self, id: u64, authentication_info: Option<&str>) -> bool {
        let Some(line) = self.0.iter_mut().find(|line| line.id == id) else {
            return false;
        };
        line.busy = false;
        if let Some(info) = authentication_info {
            adopt_next_nonce(&mut line.digest, info);
        }
        true
    }

    /// Drops line `id`: the server refused its nonce, or nobody knows what it counted.
    /// False if it is not one of these.
    pub(super) fn retire(&mut self, id: u64) -> bool {
        let before = self.0.len();
        self.0.retain(|line| line.id != id);
        self.0.len() < before
    }

    /// Keeps a nonce the server just accepted, idle, as line `id`; past [`LINES_KEPT`], in
    /// place of the oldest idle line, or not at all if every line is busy.
    pub(super) fn add(&mut self, id: u64, digest: DigestState) {
        if self.0.len() >= LINES_KEPT {
            let Some(idle) = self.0.iter().position(|line| !line.busy) else {
                return;
            };
            self.0.remove(idle);
        }
        self.0.push(Line {
            id,
            digest,
            busy: false,
        });
    }

    /// Whether a line answers with `nonce`.
    pub(super) fn hold(&self, nonce: &str) -> bool {
        self.0.iter().any(|line| line.digest.nonce == nonce)
    }

    /// The realm the lines answer for (the same for all of them).
    pub(super) fn realm(&self) -> Option<&str> {
        self.0.first().map(|line| line.digest.realm.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::super::challenge::parse_challenges;
    use super::super::digest::digest_state;
    use super::*;

    fn digest(nonce: &str) -> DigestState {
        let challenge = &parse_challenges(&format!(r#"Digest realm="r", nonce="{nonce}""#))[0];
        digest_state(challenge).unwrap()
    }

    #[test]
    fn a_line_serves_one_request_at_a_time() {
        let mut lines = Lines::default();
        lines.add(1, digest("a"));
        lines.add(2, digest("b"));
        let (first, _) = lines.take().unwrap();
        let (second, _) = lines.take().unwrap();
        assert_ne!(first, second);
        assert!(lines.take().is_none(), "both busy");
        assert!(lines.give_back(first, Some(r#"nextnonce="c", qop=auth"#)));
        let (again, state) = lines.take().unwrap();
        assert_eq!((again, state.nonce.as_str()), (first, "c"));
        assert!(lines.retire(second));
        assert!(!lines.give_back(second, None), "gone");
        assert!(lines.hold("c") && !lines.hold("b"));
    }

    #[test]
    fn lines_kept_are_bounded_and_busy_ones_stay() {
        let mut lines = Lines::default();
        for id in 0..LINES_KEPT as u64 {
            lines.add(id, digest(&id.to_string()));
        }
        let (busy, _) = lines.take().unwrap();
        lines.add(100, digest("new"));
        assert_eq!(lines.0.len(), LINES_KEPT);
        assert!(lines.hold("new"));
        assert!(lines.0.iter().any(|line| line.id == busy), "busy: kept");
        assert!(!lines.hold("1"), "the oldest idle one made room");
        while lines.take().is_some() {}
        lines.add(101, digest("late"));
        assert!(!lines.hold("late"), "every line busy: not kept");
    }
}
