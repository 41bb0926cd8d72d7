/// A Compose restart policy, parsed from the text the catalogue or the `compose` passthrough
/// wrote, so that every target reads the same policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Restart {
    No,
    Always,
    UnlessStopped,
    /// `on-failure[:N]`: up to N attempts when given.
    OnFailure(Option<u32>),
}

impl Restart {
    /// The words Compose accepts, for messages and suggestions (`on-failure:N` aside).
    pub const WORDS: &'static [&'static str] = &["no", "always", "on-failure", "unless-stopped"];

    /// A policy Compose may interpolate (`${RESTART:-unless-stopped}`): its value with every
    /// variable at its default, `None` when one has none, an error when it is not a policy.
    pub fn parse_interpolated(text: &str) -> Result<Option<Restart>, String> {
        super::interpolation::parse_at_defaults(text, |t| {
            Restart::parse(t).ok_or_else(|| format!("`{t}` is not a restart policy"))
        })
    }

    pub fn parse(text: &str) -> Option<Restart> {
        match text {
            "no" => Some(Restart::No),
            "always" => Some(Restart::Always),
            "unless-stopped" => Some(Restart::UnlessStopped),
            "on-failure" => Some(Restart::OnFailure(None)),
            other => other
                .strip_prefix("on-failure:")
                .and_then(|n| n.parse().ok())
                .map(|n| Restart::OnFailure(Some(n))),
        }
    }
}

impl std::fmt::Display for Restart {
    /// As Compose writes it, so that a parsed policy reads back as it was written.
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        match self {
            Restart::No => f.write_str("no"),
            Restart::Always => f.write_str("always"),
            Restart::UnlessStopped => f.write_str("unless-stopped"),
            Restart::OnFailure(None) => f.write_str("on-failure"),
            Restart::OnFailure(Some(n)) => write!(f, "on-failure:{n}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_compose_form() {
        assert_eq!(Restart::parse("no"), Some(Restart::No));
        assert_eq!(Restart::parse("always"), Some(Restart::Always));
        assert_eq!(
            Restart::parse("unless-stopped"),
            Some(Restart::UnlessStopped)
        );
        assert_eq!(Restart::parse("on-failure"), Some(Restart::OnFailure(None)));
        assert_eq!(
            Restart::parse("on-failure:3"),
            Some(Restart::OnFailure(Some(3)))
        );
        assert_eq!(Restart::parse("on-failure:x"), None);
        assert_eq!(Restart::parse("allways"), None);
        for text in [
            "no",
            "always",
            "unless-stopped",
            "on-failure",
            "on-failure:3",
        ] {
            assert_eq!(Restart::parse(text).unwrap().to_string(), text);
        }
    }
}
