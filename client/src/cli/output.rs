//! How results print: a line of text for people, or one JSON value for
//! scripts (`--json`), and the wording shared by several commands.

use pledgeroll_contracts::units::format_rfc3339;
use pledgeroll_contracts::Created;
use serde_json::json;

use super::context::Ctx;

impl Ctx {
    /// Prints a result: `text`, or `value` with `--json`.
    pub fn print(&self, text: impl std::fmt::Display, value: serde_json::Value) {
        if self.json {
            println!("{value}");
        } else {
            println!("{text}");
        }
    }
}

/// An instant of the rollup's clock, e.g. `2026-01-01T00:00:00Z`.
pub fn when(t: u64) -> String {
    // Past i64 is some 292 billion years out: only a deadline set that far
    // can be there, and it reads best as the number it is.
    i64::try_from(t).map_or_else(|_| format!("{t} seconds after 1970"), format_rfc3339)
}

/// What an applied operation did, e.g. `tier 7 added at level 12`.
pub fn created_line(created: Option<Created>, level: u32) -> String {
    match created {
        None => format!("applied at level {level}"),
        Some(created @ Created::Tier { .. }) => format!("{created} added at level {level}"),
        Some(created @ Created::Pledge { .. }) => format!("{created} started at level {level}"),
        Some(created @ Created::Project { .. }) => format!("{created} created at level {level}"),
        Some(created @ Created::Ticket { .. }) => format!("{created} opened at level {level}"),
        Some(created @ Created::Invoice { .. }) => format!("{created} raised at level {level}"),
    }
}

/// Adds the created record's ids to a JSON object.
pub fn add_created(created: Option<Created>, value: &mut serde_json::Value) {
    let (Some(created), Some(into)) = (created, value.as_object_mut()) else {
        return;
    };
    for (name, id) in created.ids() {
        into.insert(name.to_owned(), json!(id));
    }
}

#[cfg(test)]
mod tests {
    use super::{add_created, created_line, when};
    use pledgeroll_contracts::{Created, ProjectId, TierId};

    #[test]
    fn ids_join_the_json_and_the_line() {
        let mut value = serde_json::json!({ "status": "applied", "level": 12 });
        add_created(
            Some(Created::Ticket {
                project: ProjectId(0),
                ticket: 3,
            }),
            &mut value,
        );
        assert_eq!(value["project"], 0);
        assert_eq!(value["ticket"], 3);
        assert_eq!(value["level"], 12);
        assert_eq!(
            created_line(Some(Created::Tier { tier: TierId(7) }), 12),
            "tier 7 added at level 12"
        );
        assert_eq!(created_line(None, 12), "applied at level 12");
    }

    #[test]
    fn nothing_created_adds_no_ids() {
        let mut value = serde_json::json!({ "status": "applied", "level": 12 });
        add_created(None, &mut value);
        assert_eq!(
            value,
            serde_json::json!({ "status": "applied", "level": 12 })
        );
    }

    #[test]
    fn instants_are_rfc3339() {
        assert_eq!(when(0), "1970-01-01T00:00:00Z");
        assert_eq!(when(1_700_000_000), "2023-11-14T22:13:20Z");
        // Deadlines far out print rather than fail.
        assert_eq!(when(253_402_300_800), "10000-01-01T00:00:00Z");
        assert_eq!(when(u64::MAX), "18446744073709551615 seconds after 1970");
    }
}
