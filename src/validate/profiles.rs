//! Which services Compose runs together, under its `profiles`.
//!
//! A selection is what one `docker compose up` enables: no `--profile` at all (Compose then
//! enables the empty profile, `""`, which is what `${VAR:-}` gives), or one `--profile NAME` for
//! each name the file uses. A service runs under a selection when it has no profiles or one of
//! them is enabled (compose-go `ServiceConfig.HasProfile`).
//!
//! Two services that publish one host port, or take one `container_name`, collide only when a
//! selection runs both: services under different profiles (`cpu` and `gpu` variants of one
//! server) are alternatives. Enabling several profiles at once (`--profile cpu --profile gpu`,
//! or `*`) runs them together, and the engine refuses the second port then; muster does not
//! judge such combinations, as a file of alternatives means them to be chosen one at a time.
//!
//! A dependency is refused when a selection runs the dependent but not what it depends on,
//! which Compose refuses under that selection ("depends on undefined service"). Judging each
//! single selection is enough for that: a combination runs the dependent only if one of its
//! parts does, and each part then leaves the dependency out too.

use std::borrow::Cow;

/// Whether some selection runs a service with profiles `a` and one with profiles `b`.
pub(super) fn together(a: &[Cow<str>], b: &[Cow<str>]) -> bool {
    a.is_empty() || b.is_empty() || a.iter().any(|p| b.contains(p))
}

/// The selection under which Compose runs a service with profiles `dependent` without one with
/// profiles `target`, as a phrase; `None` when every selection that runs the one runs the
/// other. `all` is every profile name the file uses.
pub(super) fn runs_without(
    dependent: &[Cow<str>],
    target: &[Cow<str>],
    all: &[Cow<str>],
) -> Option<String> {
    if target.is_empty() {
        return None;
    }
    let runs = |profiles: &[Cow<str>], enabled: &str| {
        profiles.is_empty() || profiles.iter().any(|p| p == enabled)
    };
    if runs(dependent, "") && !runs(target, "") {
        return Some("without `--profile` (plain `docker compose up`)".to_owned());
    }
    all.iter()
        .filter(|p| !p.is_empty())
        .find(|p| runs(dependent, p) && !runs(target, p))
        .map(|p| format!("under `--profile {p}`"))
}

/// A service's profiles for a message: `` `gpu`, `cpu` ``; the empty one says when it runs.
pub(super) fn shown(profiles: &[Cow<str>]) -> String {
    profiles
        .iter()
        .map(|p| {
            if p.is_empty() {
                "\"\" (the empty profile, which Compose enables only without `--profile`)"
                    .to_owned()
            } else {
                format!("`{p}`")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&'static str]) -> Vec<Cow<'static, str>> {
        list.iter().map(|n| Cow::Borrowed(*n)).collect()
    }

    #[test]
    fn alternatives_never_run_together() {
        assert!(!together(&names(&["cpu"]), &names(&["gpu"])));
        assert!(together(&names(&["cpu"]), &names(&[])));
        assert!(together(&names(&["cpu", "all"]), &names(&["all"])));
        assert!(together(&names(&[""]), &names(&[])));
    }

    #[test]
    fn a_dependency_is_missing_under_the_selections_compose_refuses() {
        let all = names(&["debug", "tools", ""]);
        // The empty profile runs without `--profile`, and only then.
        assert_eq!(
            runs_without(&names(&[]), &names(&[""]), &all).as_deref(),
            Some("under `--profile debug`")
        );
        assert_eq!(runs_without(&names(&[""]), &names(&[""]), &all), None);
        assert_eq!(
            runs_without(&names(&[]), &names(&["debug"]), &all).as_deref(),
            Some("without `--profile` (plain `docker compose up`)")
        );
        assert_eq!(
            runs_without(&names(&["debug", "tools"]), &names(&["debug"]), &all).as_deref(),
            Some("under `--profile tools`")
        );
        assert_eq!(
            runs_without(&names(&["debug"]), &names(&["debug", "x"]), &all),
            None
        );
        // Alone in the file, the empty profile is there whenever anything runs.
        assert_eq!(
            runs_without(&names(&[]), &names(&[""]), &names(&[""])),
            None
        );
    }
}
