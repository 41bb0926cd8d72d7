//! A whole number Compose may take from the environment: `retries = 3`, or
//! `retries = "${HEALTHCHECK_RETRIES:-3}"`, which Compose interpolates and then casts
//! (`strconv.Atoi`), as it does for `deploy.replicas`. The text is what muster writes back out;
//! the value, with every variable at its default, is what it checks and converts.

use super::interpolation;
use serde::de::{self, Deserializer, Visitor};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Count {
    /// The string as written, or `None` for a TOML integer.
    text: Option<String>,
    /// `None` for a variable without a default, or text that is not a count (which load
    /// reports).
    value: Option<u32>,
}

impl Count {
    pub fn number(n: u32) -> Count {
        Count {
            text: None,
            value: Some(n),
        }
    }

    /// A count written as a string: checked, with its value at the defaults.
    pub fn parse(text: &str) -> Result<Count, String> {
        Ok(Count {
            value: Count::check(text)?,
            text: Some(text.to_owned()),
        })
    }

    /// What the text is with its defaults: `Ok(None)` when a variable has none, an error when
    /// it is not a whole number or not text Compose can interpolate.
    pub fn check(text: &str) -> Result<Option<u32>, String> {
        interpolation::parse_at_defaults(text, |t| {
            t.parse::<u32>().map_err(|_| {
                format!("`{t}` is not a whole number; Compose reads it as one (strconv.Atoi)")
            })
        })
    }

    /// `None` for `${VAR}` without a default: Compose decides, muster cannot.
    pub fn value(&self) -> Option<u32> {
        self.value
    }

    /// The text as written, for a count written as a string.
    pub fn text(&self) -> Option<&str> {
        self.text.as_deref()
    }

    /// How the Compose file writes it: the number, or the string for Compose to interpolate.
    pub fn to_yaml(&self) -> crate::yaml::Value {
        match (&self.text, self.value) {
            (Some(text), _) => crate::yaml::Value::from(text.as_str()),
            (None, value) => crate::yaml::Value::from(u64::from(value.unwrap_or_default())),
        }
    }
}

impl fmt::Display for Count {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match (&self.text, self.value) {
            (Some(text), _) => f.write_str(text),
            (None, value) => write!(f, "{}", value.unwrap_or_default()),
        }
    }
}

impl<'de> serde::Deserialize<'de> for Count {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct CountVisitor;
        impl Visitor<'_> for CountVisitor {
            type Value = Count;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a whole number, or a string Compose interpolates (\"${VAR:-3}\")")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Count, E> {
                u32::try_from(v)
                    .map(Count::number)
                    .map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Count, E> {
                u32::try_from(v)
                    .map(Count::number)
                    .map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
            }
            // Judged by load, where the span of the value is known (`check_layer`).
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Count, E> {
                Ok(Count {
                    value: Count::check(v).ok().flatten(),
                    text: Some(v.to_owned()),
                })
            }
        }
        deserializer.deserialize_any(CountVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_count_is_checked_at_its_defaults() {
        assert_eq!(Count::check("3"), Ok(Some(3)));
        assert_eq!(Count::check("${R:-5}"), Ok(Some(5)));
        assert_eq!(Count::check("$HEALTHCHECK_RETRIES"), Ok(None));
        assert!(
            Count::check("${R:-three}")
                .unwrap_err()
                .contains("whole number")
        );
        assert!(Count::check("-1").is_err());
        assert!(Count::check("${R").is_err());
    }
}
