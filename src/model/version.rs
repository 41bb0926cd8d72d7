//! The Compose and Docker Engine releases a stack is generated for (`[project] requires`,
//! `--requires`).

use std::fmt;
use std::str::FromStr;

/// A release, as `2.26`, `2.26.1` or `v20.10.24`; missing parts are 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

impl Version {
    pub const fn new(major: u32, minor: u32, patch: u32) -> Version {
        Version {
            major,
            minor,
            patch,
        }
    }
}

impl FromStr for Version {
    type Err = String;

    fn from_str(text: &str) -> Result<Version, String> {
        let bad = || format!("{text:?} is not a version: write MAJOR.MINOR or MAJOR.MINOR.PATCH");
        let digits = text.strip_prefix('v').unwrap_or(text);
        let mut parts = digits.split('.');
        let mut next = |required: bool| -> Result<u32, String> {
            match parts.next() {
                None if !required => Ok(0),
                Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
                    p.parse().map_err(|_| bad())
                }
                _ => Err(bad()),
            }
        };
        let version = Version::new(next(true)?, next(true)?, next(false)?);
        if parts.next().is_some() {
            return Err(bad());
        }
        Ok(version)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        if self.patch == 0 {
            write!(f, "{}.{}", self.major, self.minor)
        } else {
            write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
        }
    }
}

/// The Compose and Engine a stack is generated for; `None` is the newest (no key left out).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Requires {
    pub compose: Option<Version>,
    pub engine: Option<Version>,
}

/// Compose v1 (Python) read another format; muster writes the Compose Specification of v2.
pub const OLDEST_COMPOSE: Version = Version::new(2, 0, 0);

impl Requires {
    /// `--requires compose=2.26,engine=20.10` (either part alone too).
    pub fn parse_cli(text: &str) -> Result<Requires, String> {
        let mut requires = Requires::default();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let Some((name, version)) = part.split_once('=') else {
                return Err(format!("{part:?}: write compose=VERSION or engine=VERSION"));
            };
            let version: Version = version.trim().parse()?;
            match name.trim() {
                "compose" => requires.compose = Some(version),
                "engine" => requires.engine = Some(version),
                other => {
                    return Err(format!(
                        "unknown component {other:?}: use compose or engine"
                    ));
                }
            }
        }
        if requires.compose.is_some_and(|c| c < OLDEST_COMPOSE) {
            return Err(format!(
                "muster writes for Compose {OLDEST_COMPOSE} or later"
            ));
        }
        Ok(requires)
    }

    /// `other`'s parts where it has them, this one's elsewhere (the command line over the
    /// catalogue).
    pub fn or(self, other: Requires) -> Requires {
        Requires {
            compose: other.compose.or(self.compose),
            engine: other.engine.or(self.engine),
        }
    }

    pub fn is_newest(&self) -> bool {
        self.compose.is_none() && self.engine.is_none()
    }
}

impl fmt::Display for Requires {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match (self.compose, self.engine) {
            (None, None) => f.write_str("the newest Compose and Docker Engine"),
            (Some(c), None) => write!(f, "Compose {c}"),
            (None, Some(e)) => write!(f, "Docker Engine {e}"),
            (Some(c), Some(e)) => write!(f, "Compose {c} with Docker Engine {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_as_numbers() {
        let v = |t: &str| t.parse::<Version>().unwrap();
        assert!(v("2.9") < v("2.26"));
        assert!(v("2.20") < v("2.20.2"));
        assert!(v("v20.10.24") < v("25.0"));
        assert!("2".parse::<Version>().is_err());
        assert!("2.x".parse::<Version>().is_err());
        assert!("2.26.1.4".parse::<Version>().is_err());
    }

    #[test]
    fn the_command_line_names_its_parts() {
        let r = Requires::parse_cli("compose=2.26,engine=20.10").unwrap();
        assert_eq!(r.compose, Some(Version::new(2, 26, 0)));
        assert_eq!(r.engine, Some(Version::new(20, 10, 0)));
        assert!(Requires::parse_cli("docker=20.10").is_err());
        assert!(Requires::parse_cli("compose=1.29").is_err());
    }
}
