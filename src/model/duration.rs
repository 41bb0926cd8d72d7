//! Compose duration strings (`"10s"`, `"1m30s"`, `"500ms"`): the format of every healthcheck
//! timing key. Parsed so that muster can reject a typo at generation time and compare timings
//! (a timeout must be shorter than its interval), while the emitted text stays as the user wrote it.

use std::fmt;
use std::time::Duration as Span;

/// Docker's interval and timeout when a healthcheck leaves them out.
pub const DOCKER_DEFAULT_INTERVAL: Span = Span::from_secs(30);
pub const DOCKER_DEFAULT_TIMEOUT: Span = Span::from_secs(30);

/// A duration as written and as a value: the text is what muster writes back out, the value is
/// what it compares and converts (Kubernetes counts in seconds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Duration {
    text: String,
    value: Span,
}

impl Duration {
    pub fn parse(text: &str) -> Result<Duration, String> {
        Ok(Duration {
            value: parse(text)?,
            text: text.to_owned(),
        })
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn value(&self) -> Span {
        self.value
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Parses `{number}{unit}` groups, units `us`, `ms`, `s`, `m`, `h`, as Compose and Go's
/// `time.ParseDuration` accept them (without fractions, which no healthcheck needs).
pub fn parse(text: &str) -> Result<Span, String> {
    if text.is_empty() {
        return Err("a duration cannot be empty; write e.g. \"30s\" or \"1m30s\"".into());
    }
    let mut total = Span::ZERO;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if digits == 0 {
            return Err(format!(
                "`{text}` is not a duration: expected a number at `{rest}`; write e.g. \"30s\" or \"1m30s\""
            ));
        }
        let value: u64 = rest[..digits]
            .parse()
            .map_err(|_| format!("`{text}` is too large a duration"))?;
        rest = &rest[digits..];
        let unit_len = rest.len()
            - rest
                .trim_start_matches(|c: char| c.is_ascii_alphabetic())
                .len();
        let unit = &rest[..unit_len];
        let part = match unit {
            "us" => Span::from_micros(value),
            "ms" => Span::from_millis(value),
            "s" => Span::from_secs(value),
            "m" => Span::from_secs(value.saturating_mul(60)),
            "h" => Span::from_secs(value.saturating_mul(3600)),
            "" => {
                return Err(format!(
                    "`{text}` has no unit: write e.g. \"{value}s\" (units: us, ms, s, m, h)"
                ));
            }
            other => {
                return Err(format!(
                    "`{text}` has an unknown unit `{other}` (units: us, ms, s, m, h)"
                ));
            }
        };
        total = total.saturating_add(part);
        rest = &rest[unit_len..];
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_compose_forms() {
        assert_eq!(parse("30s"), Ok(Span::from_secs(30)));
        assert_eq!(parse("1m30s"), Ok(Span::from_secs(90)));
        assert_eq!(parse("500ms"), Ok(Span::from_millis(500)));
        assert_eq!(parse("2h"), Ok(Span::from_secs(7200)));
    }

    #[test]
    fn keeps_the_text_beside_the_value() {
        let d = Duration::parse("1m30s").unwrap();
        assert_eq!((d.text(), d.value()), ("1m30s", Span::from_secs(90)));
    }

    #[test]
    fn rejects_typos_with_a_reason() {
        assert!(parse("30").unwrap_err().contains("no unit"));
        assert!(parse("30sec").unwrap_err().contains("unknown unit `sec`"));
        assert!(parse("s").unwrap_err().contains("expected a number"));
        assert!(parse("").is_err());
        assert!(parse("-5s").is_err());
    }
}
