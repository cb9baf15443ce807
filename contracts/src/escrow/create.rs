//! Creating a project: checking its signers, threshold and time-lock, and
//! numbering it.

use crate::context::Ctx;
use crate::crypto::Address;
use crate::encoding::{List, Text};
use crate::error::{Failure, Rejection};
use crate::event::Created;
use crate::keys;
use crate::state::{Counters, ProjectId};
use crate::store::Store;

use super::{
    private_threshold, store_project, Mode, Project, ProjectStatus, DEFAULT_TIME_LOCK,
    DEFAULT_VETO_WINDOW, MAX_COMMISSIONERS, MAX_PROJECT_DESCRIPTION, MAX_PROJECT_TITLE,
    MAX_TIME_LOCK, MAX_URL, MIN_TIME_LOCK,
};

#[allow(clippy::too_many_arguments)]
pub(super) fn create<S: Store>(
    ctx: &mut Ctx<'_, S>,
    creator: Address,
    title: Text<MAX_PROJECT_TITLE>,
    description: Text<MAX_PROJECT_DESCRIPTION>,
    link: Option<Text<MAX_URL>>,
    commissioners: List<Address, MAX_COMMISSIONERS>,
    threshold: u8,
    mode: Mode,
    time_lock: Option<u64>,
    refund_deadline: u64,
) -> Result<(), Failure> {
    if title.as_str().trim().is_empty() {
        return Err(Rejection::Refused("a project needs a title").into());
    }
    let default_lock = check_signers(commissioners.items(), threshold, mode)?;
    let time_lock = time_lock.unwrap_or(default_lock);
    if !(MIN_TIME_LOCK..=MAX_TIME_LOCK).contains(&time_lock) {
        return Err(
            Rejection::Refused("the time-lock must be between one hour and 90 days").into(),
        );
    }
    if refund_deadline <= ctx.now {
        return Err(Rejection::Refused("the refund deadline must be in the future").into());
    }
    let id = next_id(ctx)?;
    store_project(
        ctx,
        id,
        Project {
            creator,
            title,
            description,
            link,
            commissioners,
            threshold,
            mode,
            time_lock,
            refund_deadline,
            status: ProjectStatus::Active,
            paid_any: false,
            tickets: 0,
            invoices: 0,
            assets: List::default(),
            refund_approvals: List::default(),
        },
    );
    Ok(())
}

/// Checks the commissioners and threshold against the mode, and gives the
/// mode's default time-lock.
fn check_signers(list: &[Address], threshold: u8, mode: Mode) -> Result<u64, Rejection> {
    if list.is_empty() {
        return Err(Rejection::Refused(
            "a project needs at least one commissioner",
        ));
    }
    if list
        .iter()
        .enumerate()
        .any(|(i, a)| list.iter().skip(i + 1).any(|b| a == b))
    {
        return Err(Rejection::Refused("commissioners must be distinct"));
    }
    let n = list.len();
    let (default_lock, required) = match mode {
        Mode::Public => (DEFAULT_TIME_LOCK, None),
        Mode::Private { patron } => {
            if list.contains(&patron) {
                return Err(Rejection::Refused(
                    "the funding patron cannot also be a commissioner",
                ));
            }
            (DEFAULT_VETO_WINDOW, Some(private_threshold(n)))
        }
    };
    let m = usize::from(threshold);
    if m < 1 || m > n + usize::from(required.is_some()) {
        return Err(Rejection::Refused(
            "the threshold must be between 1 and the number of signers",
        ));
    }
    if let Some(required) = required {
        if m != required {
            return Err(Rejection::Refused(
                "a private project's threshold is (N + 1) / 3 + 1, counting the patron",
            ));
        }
    }
    Ok(default_lock)
}

/// Takes the next project number.
fn next_id<S: Store>(ctx: &mut Ctx<'_, S>) -> Result<ProjectId, Failure> {
    let mut counters: Counters = ctx.get(keys::COUNTERS)?.unwrap_or_default();
    let id = ProjectId(counters.project);
    counters.project += 1;
    ctx.put(keys::COUNTERS, &counters);
    ctx.created = Some(Created::Project { project: id });
    Ok(id)
}
