//! Balances as exact functions of time.
//!
//! A holder's balance in one asset is a [`Flow`]: an amount settled at a time
//! plus a net rate. Every pledge adds its rate to its patron's outflow and its
//! payee's inflow, so the sum of all balances never changes with time, and a
//! payee's balance is O(1) to read however many patrons pay it.

use crate::asset::FINE_PER_UNIT;
use crate::encoding::codec_struct;
use crate::state::PauseClock;

/// Upper bound of any flow's inflow or outflow, in fine units per second.
///
/// With times below 2^40 seconds (see [`MAX_TIME`]) a rate below 2^87 times
/// any elapsed time stays below 2^127, so balance arithmetic cannot overflow.
pub const MAX_RATE: u128 = 1 << 87;

/// Latest time the protocol accepts (year 36812); later clocks are clamped.
pub const MAX_TIME: u64 = 1 << 40;

/// Largest balance any holder may reach, in fine units (2^126).
pub const MAX_BALANCE: u128 = 1 << 126;

/// A holder's balance in one asset, in fine units.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Flow {
    /// Balance at `at`.
    pub settled: u128,
    /// When `settled` was computed.
    pub at: u64,
    /// Fine units per second coming in from pledges.
    pub inflow: u128,
    /// Fine units per second going out to pledges. For a patron this
    /// counts every active pledge, those to a paused creator too: the
    /// stored balance is then a lower bound, and [`Flow::current`] gives
    /// the balance as it is.
    pub outflow: u128,
    /// Whether `inflow` is held: its holder is a creator who paused the
    /// subscription, so nothing comes in while the pause lasts.
    pub inflow_paused: bool,
    /// The time of this flow's depletion event in the scheduler, if queued.
    pub depletion_scheduled: Option<u64>,
}
codec_struct!(Flow {
    settled,
    at,
    inflow,
    outflow,
    inflow_paused,
    depletion_scheduled,
});

/// A patron's active pledge to a creator whose subscription paused since
/// the pledge last settled, as far as the patron's balance is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PausedStream {
    /// The pledge's rate, fine units per second.
    pub rate: u128,
    /// Seconds its creator spent paused since the pledge last settled:
    /// the patron's stored balance was charged for them and gets them back.
    pub paused_seconds: u64,
    /// Whether the creator is paused now (the pledge streams nothing).
    pub paused_now: bool,
}

impl PausedStream {
    /// What an active pledge at `rate` that noted `pause_clock` when it
    /// last settled owes its patron at `now`, given its creator's clock;
    /// `None` when the creator's pauses do not touch it.
    pub fn of(
        rate: u128,
        pause_clock: u64,
        creator: &PauseClock,
        now: u64,
    ) -> Result<Option<Self>, FlowOverflow> {
        let paused_seconds = creator
            .at(now)
            .checked_sub(pause_clock)
            .ok_or(FlowOverflow)?;
        Ok(
            (paused_seconds > 0 || creator.is_paused()).then_some(PausedStream {
                rate,
                paused_seconds,
                paused_now: creator.is_paused(),
            }),
        )
    }
}

/// A flow's arithmetic went out of range: the state broke an invariant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlowOverflow;

impl Flow {
    /// Fine units per second coming in now.
    pub fn effective_inflow(&self) -> u128 {
        if self.inflow_paused {
            0
        } else {
            self.inflow
        }
    }

    /// The flow as it stands at `t` (not before `at`), given its holder's
    /// pledges to paused creators: the stored balance plus what the paused
    /// seconds were charged, the streams paused now left out of the
    /// outflow, a held inflow as nothing. Its balance and depletion time are
    /// what a reader shows; the protocol settles the same amounts into the
    /// stored flow whenever it next touches it.
    pub fn current(&self, t: u64, paused: &[PausedStream]) -> Result<Flow, FlowOverflow> {
        let mut flow = *self;
        flow.settle(t)?;
        for stream in paused {
            let refund = stream
                .rate
                .checked_mul(u128::from(stream.paused_seconds))
                .ok_or(FlowOverflow)?;
            flow.settled = flow.settled.checked_add(refund).ok_or(FlowOverflow)?;
            if stream.paused_now {
                flow.outflow = flow.outflow.checked_sub(stream.rate).ok_or(FlowOverflow)?;
            }
        }
        flow.inflow = flow.effective_inflow();
        flow.inflow_paused = false;
        flow.depletion_scheduled = flow.depletion_time();
        Ok(flow)
    }

    /// The balance at `t`, in fine units. `t` must not be before `at` nor
    /// after the depletion time; outside that the state is inconsistent.
    pub fn balance_at(&self, t: u64) -> Result<u128, FlowOverflow> {
        let dt = u128::from(t.checked_sub(self.at).ok_or(FlowOverflow)?);
        let inflow = self.effective_inflow();
        if inflow >= self.outflow {
            let gain = (inflow - self.outflow)
                .checked_mul(dt)
                .ok_or(FlowOverflow)?;
            self.settled.checked_add(gain).ok_or(FlowOverflow)
        } else {
            let loss = (self.outflow - inflow)
                .checked_mul(dt)
                .ok_or(FlowOverflow)?;
            self.settled.checked_sub(loss).ok_or(FlowOverflow)
        }
    }

    /// The balance at `t` in whole base units (rounded down).
    pub fn units_at(&self, t: u64) -> Result<u128, FlowOverflow> {
        Ok(self.balance_at(t)? / FINE_PER_UNIT)
    }

    /// Moves the settled point to `t`.
    pub fn settle(&mut self, t: u64) -> Result<(), FlowOverflow> {
        self.settled = self.balance_at(t)?;
        self.at = t;
        Ok(())
    }

    /// The last second at which the balance is still non-negative while the
    /// flow drains, or `None` if it does not drain.
    pub fn depletion_time(&self) -> Option<u64> {
        let inflow = self.effective_inflow();
        if self.outflow <= inflow {
            return None;
        }
        let net = self.outflow - inflow;
        let seconds = u64::try_from(self.settled / net).unwrap_or(u64::MAX);
        Some(self.at.saturating_add(seconds).min(MAX_TIME))
    }
}

/// Whole base units a rate of `rate` fine units a second moves in a 30-day
/// month (saturating): what pages and the wallet show as `/month`.
pub fn per_month(rate: u128) -> u128 {
    rate.saturating_mul(u128::from(crate::units::MONTH)) / FINE_PER_UNIT
}

/// Fine units an active stream has paid by `t`: `streamed` up to `since`,
/// then `rate` a second, less the `paused` seconds its payee spent paused
/// since then; `None` on overflow.
pub fn streamed_by(streamed: u128, rate: u128, since: u64, paused: u64, t: u64) -> Option<u128> {
    let dt = u128::from(t.saturating_sub(since).saturating_sub(paused));
    rate.checked_mul(dt)?.checked_add(streamed)
}

/// The rate in fine units per second for `amount` base units per `period`
/// seconds, rounded down (exact for the periods [`FINE_PER_UNIT`] divides).
pub fn rate_for(amount: u64, period: u32) -> Option<u128> {
    if period == 0 {
        return None;
    }
    u128::from(amount)
        .checked_mul(FINE_PER_UNIT)
        .map(|fine| fine / u128::from(period))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encoding::{Decode, Encode};

    #[test]
    fn a_month_of_five_tez_per_month_moves_exactly_five_tez() {
        let rate = rate_for(5_000_000, 2_592_000).expect("in range");
        let mut patron = Flow {
            settled: 10_000_000 * FINE_PER_UNIT,
            outflow: rate,
            ..Flow::default()
        };
        let creator = Flow {
            inflow: rate,
            ..Flow::default()
        };
        assert_eq!(creator.units_at(2_592_000), Ok(5_000_000));
        assert_eq!(patron.units_at(2_592_000), Ok(5_000_000));
        assert_eq!(patron.depletion_time(), Some(5_184_000));
        patron.settle(100).expect("in range");
        assert_eq!(patron.depletion_time(), Some(5_184_000));
    }

    #[test]
    fn depletion_is_the_last_non_negative_second() {
        let f = Flow {
            settled: 10,
            at: 5,
            outflow: 3,
            ..Flow::default()
        };
        assert_eq!(f.depletion_time(), Some(8));
        assert_eq!(f.balance_at(8), Ok(1));
        assert_eq!(f.balance_at(9), Err(FlowOverflow));
        assert_eq!(f.balance_at(4), Err(FlowOverflow));
        let growing = Flow { inflow: 3, ..f };
        assert_eq!(growing.depletion_time(), None);
    }

    #[test]
    fn flows_round_trip() {
        let f = Flow {
            settled: 1 << 100,
            at: 9,
            inflow: 7,
            outflow: 3,
            inflow_paused: true,
            depletion_scheduled: Some(44),
        };
        assert_eq!(Flow::from_bytes(&f.to_bytes()), Ok(f));
    }
}
