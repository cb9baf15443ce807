//! The scheduler: a min-heap in storage of tasks keyed by (time, sequence).
//!
//! The protocol runs every due task at the start of each level, in time
//! order, before the level's operations. Entries are never deleted early: a
//! task that no longer applies is recognised as stale when it comes due (its
//! record no longer names that time) and skipped, so rescheduling is O(log n)
//! and a level's work is proportional to the tasks due in it.

use crate::asset::AssetId;
use crate::context::Ctx;
use crate::encoding::{codec_enum, codec_struct};
use crate::error::Fault;
use crate::keys;
use crate::state::{Counters, Holder, PledgeId, ProjectId};
use crate::store::Store;

/// Something the protocol does by itself at a given time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Task {
    /// A holder's balance in an asset runs out: stop its outgoing streams.
    Depletion {
        /// The holder.
        holder: Holder,
        /// The asset.
        asset: AssetId,
    },
    /// A pledge reaches its end date or cap.
    PledgeEnd {
        /// The pledge.
        pledge: PledgeId,
    },
    /// An invoice's time-lock or veto window ends.
    InvoiceUnlock {
        /// The project.
        project: ProjectId,
        /// The invoice.
        invoice: u32,
    },
}
codec_enum!(Task, "task" {
    0 => Depletion { holder, asset },
    1 => PledgeEnd { pledge },
    2 => InvoiceUnlock { project, invoice },
});

/// A queued task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// When it is due.
    pub time: u64,
    /// Insertion order, breaking ties between tasks due at the same time.
    pub seq: u64,
    /// What to do.
    pub task: Task,
}
codec_struct!(Entry { time, seq, task });

impl Entry {
    fn key(&self) -> (u64, u64) {
        (self.time, self.seq)
    }
}

fn len<S: Store>(ctx: &Ctx<'_, S>) -> Result<u64, Fault> {
    Ok(ctx.get::<u64>(keys::SCHEDULE_LEN)?.unwrap_or(0))
}

fn entry<S: Store>(ctx: &Ctx<'_, S>, i: u64) -> Result<Entry, Fault> {
    ctx.get(&keys::schedule_entry(i))?
        .ok_or(Fault::Inconsistent("schedule entry missing"))
}

/// Queues `task` at `time`.
pub(crate) fn push<S: Store>(ctx: &mut Ctx<'_, S>, time: u64, task: Task) -> Result<(), Fault> {
    let mut counters: Counters = ctx.get(keys::COUNTERS)?.unwrap_or_default();
    let seq = counters.schedule;
    counters.schedule = seq.wrapping_add(1);
    ctx.put(keys::COUNTERS, &counters);

    let new = Entry { time, seq, task };
    let mut i = len(ctx)?;
    ctx.put(keys::SCHEDULE_LEN, &(i + 1));
    // Sift up: move parents down until the new entry's place is found.
    while i > 0 {
        let parent = (i - 1) / 2;
        let p = entry(ctx, parent)?;
        if p.key() <= new.key() {
            break;
        }
        ctx.put(&keys::schedule_entry(i), &p);
        i = parent;
    }
    ctx.put(&keys::schedule_entry(i), &new);
    Ok(())
}

/// The earliest entry, if any.
pub(crate) fn peek<S: Store>(ctx: &Ctx<'_, S>) -> Result<Option<Entry>, Fault> {
    if len(ctx)? == 0 {
        return Ok(None);
    }
    entry(ctx, 0).map(Some)
}

/// Removes and returns the earliest entry.
pub(crate) fn pop<S: Store>(ctx: &mut Ctx<'_, S>) -> Result<Option<Entry>, Fault> {
    let n = len(ctx)?;
    if n == 0 {
        return Ok(None);
    }
    let top = entry(ctx, 0)?;
    let last = entry(ctx, n - 1)?;
    let n = n - 1;
    ctx.remove(&keys::schedule_entry(n));
    ctx.put(keys::SCHEDULE_LEN, &n);
    if n == 0 {
        return Ok(Some(top));
    }
    // Sift the last entry down from the root.
    let mut i = 0u64;
    loop {
        let left = 2 * i + 1;
        if left >= n {
            break;
        }
        let right = left + 1;
        let mut child = left;
        let mut c = entry(ctx, left)?;
        if right < n {
            let r = entry(ctx, right)?;
            if r.key() < c.key() {
                child = right;
                c = r;
            }
        }
        if last.key() <= c.key() {
            break;
        }
        ctx.put(&keys::schedule_entry(i), &c);
        i = child;
    }
    ctx.put(&keys::schedule_entry(i), &last);
    Ok(Some(top))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encoding::{Decode, Encode};
    use crate::store::{commit, MemoryStore};

    #[test]
    fn pops_in_time_then_insertion_order() {
        let mut store = MemoryStore::new();
        let times = [50u64, 10, 30, 10, 70, 20, 30, 5, 90, 10];
        let mut ctx = Ctx::new(&store, 0);
        for (i, t) in times.iter().enumerate() {
            push(
                &mut ctx,
                *t,
                Task::PledgeEnd {
                    pledge: PledgeId(i as u64),
                },
            )
            .expect("push");
        }
        let (w, _, _) = ctx.finish();
        commit(&mut store, w).expect("commit");

        let mut ctx = Ctx::new(&store, 0);
        let mut got = Vec::new();
        while let Some(e) = pop(&mut ctx).expect("pop") {
            got.push(e.key());
        }
        let mut want: Vec<(u64, u64)> = times
            .iter()
            .enumerate()
            .map(|(i, t)| (*t, i as u64))
            .collect();
        want.sort();
        assert_eq!(got, want);
        assert_eq!(peek(&ctx).expect("peek"), None);
    }

    #[test]
    fn entries_round_trip() {
        let e = Entry {
            time: 9,
            seq: 3,
            task: Task::PledgeEnd {
                pledge: PledgeId(4),
            },
        };
        assert_eq!(Entry::from_bytes(&e.to_bytes()), Ok(e));
        assert!(Task::from_bytes(&[7]).is_err());
    }
}
