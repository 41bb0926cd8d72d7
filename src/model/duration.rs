//! Compose duration strings (`"10s"`, `"1m30s"`, `"1.5s"`, `"${HC_INTERVAL:-30s}"`): the format of
//! every healthcheck timing key. Parsed so that muster can reject a typo at generation time and
//! compare timings, while the emitted text stays as the user wrote it.

use super::interpolation;
use std::fmt;
use std::time::Duration as Span;

/// A duration as written and as a value: the text is what muster writes back out, the value is
/// what it compares and converts (Kubernetes counts in seconds). A duration Compose takes from
/// the environment has the value of its default, or none until Compose reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Duration {
    text: String,
    value: Option<Span>,
}

impl Duration {
    pub fn parse(text: &str) -> Result<Duration, String> {
        Ok(Duration {
            value: parse_interpolated(text)?,
            text: text.to_owned(),
        })
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// `None` for `${VAR}` without a default: Compose decides, muster cannot.
    pub fn value(&self) -> Option<Span> {
        self.value
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// A duration that Compose may interpolate: its value with every variable at its default, `None`
/// when a variable has none, an error when the text (or the default) is not a duration.
pub fn parse_interpolated(text: &str) -> Result<Option<Span>, String> {
    interpolation::parse_at_defaults(text, parse)
}

/// Parses `{number}{unit}` groups as Compose and Go's `time.ParseDuration` accept them: units
/// `ns`, `us`, `ms`, `s`, `m`, `h`, numbers with a fraction (`1.5s`).
pub fn parse(text: &str) -> Result<Span, String> {
    if text.is_empty() {
        return Err("a duration cannot be empty; write e.g. \"30s\" or \"1m30s\"".into());
    }
    let mut total = Span::ZERO;
    let mut rest = text;
    while !rest.is_empty() {
        let number_len = rest.len()
            - rest
                .trim_start_matches(|c: char| c.is_ascii_digit() || c == '.')
                .len();
        let number = &rest[..number_len];
        if number.is_empty() || number == "." || number.matches('.').count() > 1 {
            return Err(format!(
                "`{text}` is not a duration: expected a number at `{rest}`; write e.g. \"30s\" or \"1m30s\""
            ));
        }
        rest = &rest[number_len..];
        let unit_len = rest.len()
            - rest
                .trim_start_matches(|c: char| c.is_ascii_alphabetic())
                .len();
        let unit = &rest[..unit_len];
        let nanos_per_unit: f64 = match unit {
            "ns" => 1.0,
            "us" | "µs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            "" => {
                return Err(format!(
                    "`{text}` has no unit: write e.g. \"{number}s\" (units: ns, us, ms, s, m, h)"
                ));
            }
            other => {
                return Err(format!(
                    "`{text}` has an unknown unit `{other}` (units: ns, us, ms, s, m, h)"
                ));
            }
        };
        let value: f64 = number
            .parse()
            .map_err(|_| format!("`{text}` is not a duration"))?;
        let nanos = value * nanos_per_unit;
        // Go's durations stop at about 292 years.
        if !nanos.is_finite() || nanos > i64::MAX as f64 {
            return Err(format!("`{text}` is too large a duration"));
        }
        total = total.saturating_add(Span::from_nanos(nanos.round() as u64));
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
        assert_eq!(parse("1.5s"), Ok(Span::from_millis(1500)));
        assert_eq!(parse("1h0.5m"), Ok(Span::from_secs(3630)));
        assert_eq!(parse("250us"), Ok(Span::from_micros(250)));
    }

    #[test]
    fn an_interpolated_duration_is_checked_at_its_default() {
        assert_eq!(
            parse_interpolated("${HC_INTERVAL:-30s}"),
            Ok(Some(Span::from_secs(30)))
        );
        assert_eq!(parse_interpolated("${HC_INTERVAL}"), Ok(None));
        let bad = parse_interpolated("${HC:-30}").unwrap_err();
        assert!(bad.contains("is `30`") && bad.contains("no unit"), "{bad}");
    }

    #[test]
    fn keeps_the_text_beside_the_value() {
        let d = Duration::parse("1m30s").unwrap();
        assert_eq!((d.text(), d.value()), ("1m30s", Some(Span::from_secs(90))));
    }

    #[test]
    fn rejects_typos_with_a_reason() {
        assert!(parse("30").unwrap_err().contains("no unit"));
        assert!(parse("30sec").unwrap_err().contains("unknown unit `sec`"));
        assert!(parse("s").unwrap_err().contains("expected a number"));
        assert!(parse("").is_err());
        assert!(parse("-5s").is_err());
        assert!(parse("1..5s").is_err());
        assert!(parse(".s").is_err());
    }
}
