//! Resource URIs that several upstreams list, made unambiguous: each
//! server's copy is served as `switchboard://<server>/<uri>`, both parts
//! percent-encoded (every byte but ASCII letters, digits and `-._~`), so
//! the form is a valid URI whatever the server's name or the upstream URI
//! hold. A URI only one server lists is served as it is. The form names its
//! server, so it resolves the same on every replica and whether or not the
//! other servers are up.

/// The scheme of a shared URI's namespaced form.
pub const SCHEME_PREFIX: &str = "switchboard://";

/// `uri` of `server`, namespaced.
pub fn namespaced(server: &str, uri: &str) -> String {
    let mut out = String::with_capacity(SCHEME_PREFIX.len() + server.len() + uri.len() + 16);
    out.push_str(SCHEME_PREFIX);
    encode_into(&mut out, server);
    out.push('/');
    encode_into(&mut out, uri);
    out
}

/// The server and upstream URI of a namespaced `uri`; `None` for any other
/// URI (or one whose escapes do not decode to UTF-8).
pub fn split(uri: &str) -> Option<(String, String)> {
    let rest = uri.strip_prefix(SCHEME_PREFIX)?;
    let (server, upstream) = rest.split_once('/')?;
    let (server, upstream) = (decode(server)?, decode(upstream)?);
    (!server.is_empty() && !upstream.is_empty()).then_some((server, upstream))
}

fn encode_into(out: &mut String, text: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in text.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
        }
    }
}

fn decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_namespaced_form_round_trips_and_is_a_uri() {
        for (server, uri) in [
            ("docs", "file:///repo/README.md"),
            ("my server/ü", "demo://a b?c=%41#frag"),
            ("a", "switchboard://b/c"),
        ] {
            let form = namespaced(server, uri);
            assert!(url::Url::parse(&form).is_ok(), "{form}");
            assert_eq!(
                split(&form),
                Some((server.to_owned(), uri.to_owned())),
                "{form}"
            );
        }
        assert_eq!(
            namespaced("docs", "file:///a"),
            "switchboard://docs/file%3A%2F%2F%2Fa"
        );
    }

    #[test]
    fn other_uris_are_not_namespaced() {
        for uri in [
            "file:///a",
            "switchboard://",
            "switchboard://docs",
            "switchboard://docs/",
            "switchboard:///file",
            "switchboard://docs/%zz",
            "switchboard://docs/%FF",
            "switchboard://docs/%4",
        ] {
            assert_eq!(split(uri), None, "{uri}");
        }
    }
}
