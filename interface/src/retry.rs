//! The pause between attempts at a remote call that failed for a passing
//! reason (a node or database away, a chain reorganised while read): it
//! doubles after each failure up to a ceiling and starts again from the
//! floor after a success, so a long outage is polled gently and a short
//! one is noticed quickly.

use core::time::Duration;

/// Exponential backoff between retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    floor: Duration,
    ceiling: Duration,
    next: Duration,
}

impl Backoff {
    /// Pauses from `floor`, doubling up to `ceiling`.
    pub fn new(floor: Duration, ceiling: Duration) -> Self {
        Backoff {
            floor,
            ceiling: ceiling.max(floor),
            next: floor,
        }
    }

    /// The pause before the next attempt; each call doubles the one after.
    pub fn pause(&mut self) -> Duration {
        let now = self.next;
        self.next = (self.next.saturating_mul(2)).min(self.ceiling);
        now
    }

    /// After a success: the next failure pauses for the floor again.
    pub fn reset(&mut self) {
        self.next = self.floor;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn pauses_double_up_to_the_ceiling_and_reset_to_the_floor() {
        let mut b = Backoff::new(100 * MS, 700 * MS);
        let pauses: Vec<_> = (0..5).map(|_| b.pause()).collect();
        assert_eq!(pauses, [100 * MS, 200 * MS, 400 * MS, 700 * MS, 700 * MS]);
        b.reset();
        assert_eq!(b.pause(), 100 * MS);
    }

    #[test]
    fn a_ceiling_below_the_floor_is_the_floor() {
        let mut b = Backoff::new(500 * MS, 10 * MS);
        assert_eq!((b.pause(), b.pause()), (500 * MS, 500 * MS));
    }
}
