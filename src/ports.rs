//! Compose's short port syntax, `[[HOST_IP:]HOST_PORT:]CONTAINER_PORT[/PROTOCOL]` with optional
//! `A-B` ranges, parsed so that a typo or an out-of-range port is caught while generating, and
//! two services publishing the same host port are caught before `docker compose up` fails with
//! "port is already allocated".

use std::ops::RangeInclusive;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    /// `None` binds every interface.
    pub host_ip: Option<String>,
    /// `None` lets the engine pick a free host port.
    pub host: Option<RangeInclusive<u16>>,
    pub container: RangeInclusive<u16>,
    pub protocol: String,
}

impl Mapping {
    /// Whether two mappings claim a common host port on a common interface.
    pub fn collides_with(&self, other: &Mapping) -> bool {
        let (Some(a), Some(b)) = (&self.host, &other.host) else {
            return false;
        };
        let same_interface = match (&self.host_ip, &other.host_ip) {
            (Some(x), Some(y)) => x == y,
            // An unspecified address binds them all.
            _ => true,
        };
        same_interface
            && self.protocol == other.protocol
            && a.start() <= b.end()
            && b.start() <= a.end()
    }
}

/// A mapping Compose may interpolate (`"${WEB_PORT:-8080}:8000"`): checked with every variable at
/// its default; `None` when a variable has none, so only Compose will know the ports.
pub fn parse_interpolated(text: &str) -> Result<Option<Mapping>, String> {
    crate::model::interpolation::parse_at_defaults(text, parse)
}

pub fn parse(text: &str) -> Result<Mapping, String> {
    let (rest, protocol) = match text.rsplit_once('/') {
        Some((rest, protocol)) => (rest, protocol),
        None => (text, "tcp"),
    };
    if !matches!(protocol, "tcp" | "udp" | "sctp") {
        return Err(format!("unknown protocol `{protocol}` (tcp, udp or sctp)"));
    }
    // An IPv6 host address is bracketed and full of colons; take it off first.
    let (host_ip, rest) = match rest.strip_prefix('[') {
        Some(bracketed) => {
            let (ip, rest) = bracketed
                .split_once("]:")
                .ok_or("an IPv6 address must be followed by `:PORT`")?;
            (Some(ip.to_owned()), rest)
        }
        None => (None, rest),
    };
    let parts: Vec<&str> = rest.split(':').collect();
    let (ip, host, container) = match (host_ip, parts.as_slice()) {
        (None, [container]) => (None, None, *container),
        (None, [host, container]) => (None, Some(*host), *container),
        (None, [ip, host, container]) => (Some((*ip).to_owned()), Some(*host), *container),
        (Some(ip), [host, container]) => (Some(ip), Some(*host), *container),
        _ => return Err("expected [HOST_IP:][HOST_PORT:]CONTAINER_PORT[/PROTOCOL]".to_owned()),
    };
    // compose-go reads the short syntax into `host_ip` and refuses an address Go's
    // `net.ParseIP` does not take (`validation.checkIPAddress`: "invalid ip address").
    if let Some(ip) = ip.as_deref().filter(|ip| !ip.is_empty())
        && ip.parse::<std::net::IpAddr>().is_err()
    {
        return Err(format!("`{ip}` is not an IP address"));
    }
    let host = match host {
        // `127.0.0.1::80` asks for a random host port on that interface.
        Some("") => None,
        Some(h) => Some(range(h)?),
        None => None,
    };
    let container = range(container)?;
    if let Some(h) = &host {
        let lengths = (h.end() - h.start(), container.end() - container.start());
        if lengths.0 != lengths.1 && lengths.1 != 0 {
            return Err("the host and container ranges differ in length".to_owned());
        }
    }
    Ok(Mapping {
        host_ip: ip.filter(|ip| !ip.is_empty()),
        host,
        container,
        protocol: protocol.to_owned(),
    })
}

fn range(text: &str) -> Result<RangeInclusive<u16>, String> {
    let (start, end) = text.split_once('-').unwrap_or((text, text));
    let port = |p: &str| -> Result<u16, String> {
        match p.parse::<u32>() {
            Ok(n @ 1..=65535) => Ok(n as u16),
            Ok(n) => Err(format!("port {n} is out of range (1-65535)")),
            Err(_) => Err(format!("`{p}` is not a port number")),
        }
    };
    let (start, end) = (port(start)?, port(end)?);
    if start > end {
        return Err(format!("the range {text} runs backwards"));
    }
    Ok(start..=end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_short_syntax() {
        let m = parse("127.0.0.1:8000:80/udp").unwrap();
        assert_eq!(m.host_ip.as_deref(), Some("127.0.0.1"));
        assert_eq!((m.host, m.container), (Some(8000..=8000), 80..=80));
        assert_eq!(m.protocol, "udp");
        assert_eq!(parse("80").unwrap().host, None);
        assert!(
            parse("300.1.1.1:8080:80")
                .unwrap_err()
                .contains("not an IP address")
        );
        assert!(parse("[::1%eth0]:8080:80").is_err());
        assert_eq!(
            parse("[::1]:8080:80").unwrap().host_ip.as_deref(),
            Some("::1")
        );
        assert_eq!(
            parse("9000-9002:9000-9002").unwrap().host,
            Some(9000..=9002)
        );
        assert_eq!(parse("127.0.0.1::80").unwrap().host, None);
    }

    #[test]
    fn rejects_typos_and_out_of_range_ports() {
        assert!(parse("70000:80").unwrap_err().contains("out of range"));
        assert!(parse("0:80").unwrap_err().contains("out of range"));
        assert!(parse("80:http").unwrap_err().contains("not a port"));
        assert!(parse("80/icmp").unwrap_err().contains("protocol"));
        assert!(parse("1:2:3:4").is_err());
        assert!(parse("9000-9001:80-82").is_err());
    }

    #[test]
    fn collisions_need_the_same_port_protocol_and_interface() {
        let p = |s| parse(s).unwrap();
        assert!(p("8000:80").collides_with(&p("8000:81")));
        assert!(p("127.0.0.1:8000:80").collides_with(&p("8000:80")));
        assert!(!p("127.0.0.1:8000:80").collides_with(&p("127.0.0.2:8000:80")));
        assert!(!p("8000:80/udp").collides_with(&p("8000:80")));
        assert!(p("8000-8010:8000-8010").collides_with(&p("8005:80")));
        assert!(!p("80").collides_with(&p("80")));
    }
}
