//! Which form of a static file to send: `Accept-Encoding` (RFC 9110,
//! section 12.5.3) against the forms held. The web verifier's files are
//! held as they are and precompressed (`cargo xtask web` writes `.br` and
//! `.gz` beside each), and a phone on a slow network gets the smallest it
//! accepts.

use axum::http::{HeaderMap, header};

/// A form a static file is held in, smallest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Coding {
    /// RFC 7932
    Brotli,
    /// RFC 1952
    Gzip,
    Identity,
}

impl Coding {
    /// What `Content-Encoding` says, and the suffix of the file beside.
    pub fn token(self) -> &'static str {
        match self {
            Coding::Brotli => "br",
            Coding::Gzip => "gzip",
            Coding::Identity => "identity",
        }
    }

    fn matches(self, token: &str) -> bool {
        token.eq_ignore_ascii_case(self.token())
            // "x-gzip" is gzip (RFC 9110, section 8.4.1.3)
            || (self == Coding::Gzip && token.eq_ignore_ascii_case("x-gzip"))
    }
}

/// The form to send among `held` (compressed forms, smallest first):
/// the one the request weighs highest, the smaller on a tie; identity when
/// the request has no `Accept-Encoding`, accepts none of them, weighs
/// identity higher by name (or by `*`), or is malformed. Identity is sent
/// even when refused (`identity;q=0`), as RFC 9110 allows, rather than a
/// 406 that a browser could do nothing with.
pub fn choose(headers: &HeaderMap, held: &[Coding]) -> Coding {
    let mut values = headers.get_all(header::ACCEPT_ENCODING).iter().peekable();
    if values.peek().is_none() {
        return Coding::Identity;
    }
    let mut accept = String::new();
    for value in values {
        let Ok(value) = value.to_str() else {
            return Coding::Identity;
        };
        accept.push_str(value);
        accept.push(',');
    }
    // Identity is acceptable unless refused, but preferred only when
    // weighed higher than every compressed form accepted.
    let mut best = (Coding::Identity, 0);
    for &coding in held {
        let weight = weight(&accept, coding);
        if weight > best.1 {
            best = (coding, weight);
        }
    }
    if best.1 > 0 && weight(&accept, Coding::Identity) > best.1 {
        return Coding::Identity;
    }
    best.0
}

/// How much `accept` wants `coding`, in thousandths: its own entry, else
/// `*`'s, else 0 (for identity: 0 is "not weighed", still acceptable).
fn weight(accept: &str, coding: Coding) -> u16 {
    let mut named = None;
    let mut star = None;
    for element in accept.split(',') {
        let mut parts = element.split(';');
        let token = parts.next().unwrap_or_default().trim();
        if token.is_empty() {
            continue;
        }
        let mut q = Some(1000);
        for parameter in parts {
            let (name, value) = parameter.split_once('=').unwrap_or((parameter, ""));
            if name.trim().eq_ignore_ascii_case("q") {
                q = qvalue(value.trim());
            }
        }
        // An entry with an unreadable weight is ignored, as if absent.
        let Some(q) = q else { continue };
        if coding.matches(token) {
            named = Some(named.map_or(q, |held: u16| held.max(q)));
        } else if token == "*" {
            star = Some(q);
        }
    }
    named.or(star).unwrap_or(0)
}

/// `0`, `0.5`, `1.000`: a weight in thousandths (RFC 9110, section 12.4.2).
fn qvalue(text: &str) -> Option<u16> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if fraction.len() > 3 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let thousandths = format!("{fraction:0<3}").parse::<u16>().unwrap_or(0);
    match whole {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    const HELD: [Coding; 2] = [Coding::Brotli, Coding::Gzip];

    fn chosen(accept: &[&[u8]]) -> Coding {
        let mut headers = HeaderMap::new();
        for value in accept {
            headers.append(
                header::ACCEPT_ENCODING,
                HeaderValue::from_bytes(value).unwrap(),
            );
        }
        choose(&headers, &HELD)
    }

    #[test]
    fn browsers_get_brotli_and_older_clients_gzip() {
        assert_eq!(chosen(&[b"gzip, deflate, br, zstd"]), Coding::Brotli);
        assert_eq!(chosen(&[b"gzip, deflate"]), Coding::Gzip);
        assert_eq!(chosen(&[b"x-gzip"]), Coding::Gzip);
        assert_eq!(chosen(&[b"GZIP"]), Coding::Gzip);
        assert_eq!(chosen(&[]), Coding::Identity);
        assert_eq!(chosen(&[b""]), Coding::Identity);
        assert_eq!(chosen(&[b"deflate, zstd"]), Coding::Identity);
        // Across several header lines.
        assert_eq!(chosen(&[b"gzip", b"br"]), Coding::Brotli);
    }

    #[test]
    fn weights_decide_and_zero_refuses() {
        assert_eq!(chosen(&[b"br;q=0, gzip"]), Coding::Gzip);
        assert_eq!(chosen(&[b"br;q=0.5, gzip;q=0.8"]), Coding::Gzip);
        assert_eq!(chosen(&[b"br;q=1.0, gzip;q=1"]), Coding::Brotli);
        assert_eq!(chosen(&[b"br; Q=0.001, identity;q=0"]), Coding::Brotli);
        assert_eq!(chosen(&[b"gzip;q=0, br;q=0"]), Coding::Identity);
        assert_eq!(chosen(&[b"*"]), Coding::Brotli);
        assert_eq!(chosen(&[b"*;q=0, gzip"]), Coding::Gzip);
        assert_eq!(chosen(&[b"br;q=0, *"]), Coding::Gzip);
        // Identity is preferred only when weighed higher by name or by `*`.
        assert_eq!(chosen(&[b"identity, gzip;q=0.5"]), Coding::Identity);
        assert_eq!(
            chosen(&[b"*;q=0.6, br;q=0.5, gzip;q=0.5"]),
            Coding::Identity
        );
        assert_eq!(chosen(&[b"*;q=0.6, gzip;q=0.5"]), Coding::Brotli);
        assert_eq!(chosen(&[b"identity;q=0.5, gzip;q=0.5"]), Coding::Gzip);
        assert_eq!(chosen(&[b"gzip;q=0.1"]), Coding::Gzip);
    }

    #[test]
    fn odd_input_never_panics_and_falls_back_to_identity() {
        for odd in [
            &b",,,;;;==="[..],
            b"br;q=",
            b"br;q=2",
            b"br;q=1.5",
            b"br;q=0.0000",
            b"br;q=-0",
            b"br;q=0.\xff",
            b"br;q=nan",
            b"br;q=\xc3\xa9",
            b"\xff\xfe",
            b";q=1",
            b"br;q=0.5;q=oops",
            b"   ",
        ] {
            assert_eq!(chosen(&[odd]), Coding::Identity, "{odd:?}");
        }
        // One unreadable entry does not spoil the others.
        assert_eq!(chosen(&[b"br;q=9, gzip"]), Coding::Gzip);
        assert_eq!(chosen(&[b"gzip;q=0.25;level=9"]), Coding::Gzip);
        let long = format!("{}br", "x;q=0.1, ".repeat(10_000));
        assert_eq!(chosen(&[long.as_bytes()]), Coding::Brotli);
    }

    #[test]
    fn qvalues_follow_the_grammar() {
        assert_eq!(qvalue("0"), Some(0));
        assert_eq!(qvalue("0."), Some(0));
        assert_eq!(qvalue("0.5"), Some(500));
        assert_eq!(qvalue("0.123"), Some(123));
        assert_eq!(qvalue("1"), Some(1000));
        assert_eq!(qvalue("1.000"), Some(1000));
        for bad in [
            "", ".5", "1.001", "2", "0.1234", "00.5", "0.+1", "0.-1", "1e0",
        ] {
            assert_eq!(qvalue(bad), None, "{bad:?}");
        }
    }
}
