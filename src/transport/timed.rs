//! An exchange's timings, taken when its head arrives: the time to it by the crate's own
//! clock, and its phases from libcurl's metrics when the client measures them
//! (`HttpBuilder::timings`).
//!
//! libcurl is done resolving, connecting and shaking hands before it sends the request,
//! and isahc publishes its clocks each time libcurl reports progress, which it does once
//! connected and before any of the answer is read: so the head's snapshot of them is final.

use std::time::{Duration, Instant};

use isahc::Metrics;

use crate::Timings;

/// The timings of an exchange of a request that began at `began`, whose head arrived at
/// `arrived`; `metrics` are libcurl's, if the client measures them.
pub(super) fn of_head(began: Instant, arrived: Instant, metrics: Option<&Metrics>) -> Timings {
    let measured = metrics.map_or((None, None, None), |metrics| {
        phases(
            metrics.name_lookup_time(),
            metrics.connect_time(),
            metrics.secure_connect_time(),
        )
    });
    Timings::of_exchange(arrived.saturating_duration_since(began), measured)
}

/// The phases an exchange went through, from isahc's figures: the time from the start to
/// the name resolved, then each phase's own time (isahc takes the differences), zero for
/// a phase libcurl never reached. A connection used again sets none of libcurl's clocks;
/// plain http never sets the handshake's.
fn phases(
    lookup: Duration,
    connect: Duration,
    handshake: Duration,
) -> (Option<Duration>, Option<Duration>, Option<Duration>) {
    if lookup.is_zero() && connect.is_zero() {
        return (None, None, None);
    }
    (
        Some(lookup),
        Some(connect),
        Some(handshake).filter(|t| !t.is_zero()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn phases_not_gone_through_are_none() {
        // A new TLS connection, a new plain one, and one used again.
        assert_eq!(
            phases(MS, 2 * MS, 3 * MS),
            (Some(MS), Some(2 * MS), Some(3 * MS))
        );
        assert_eq!(
            phases(MS, 2 * MS, Duration::ZERO),
            (Some(MS), Some(2 * MS), None)
        );
        assert_eq!(
            phases(Duration::ZERO, Duration::ZERO, Duration::ZERO),
            (None, None, None)
        );
    }

    #[test]
    fn the_first_byte_counts_from_the_start_and_needs_no_metrics() {
        let began = Instant::now();
        let timings = of_head(began, began + 5 * MS, None);
        assert_eq!(timings.first_byte(), 5 * MS);
        assert_eq!(
            (timings.resolve(), timings.connect(), timings.tls()),
            (None, None, None)
        );
        // A clock read out of order never goes below zero.
        assert_eq!(
            of_head(began + MS, began, None).first_byte(),
            Duration::ZERO
        );
    }
}
