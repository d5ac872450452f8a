//! What a person must see before consenting to open a URL a server sent:
//! the full URL, the domain in both its Unicode and its ASCII (punycode)
//! form, and warnings. The policy never opens or fetches the URL.

use std::fmt;

use url::{Host, Url};

/// Something the person should know before opening a URL.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum UrlWarning {
    /// The text is not a URL.
    Unparsable(String),
    /// Only `https` (and `http` to this machine) may be opened.
    SchemeNotAllowed(String),
    /// The URL has no host.
    NoHost,
    /// Plain `http`, allowed only because the host is this machine.
    PlainHttpLoopback,
    /// The domain is (or becomes) punycode: it reads as `unicode` but is
    /// `ascii`, a classic look-alike trick.
    Punycode {
        /// How it displays.
        unicode: String,
        /// What it is.
        ascii: String,
    },
    /// A label mixes Latin letters with letters of another script.
    MixedScripts(String),
    /// A user name or password before the host (`https://bank.com@evil.com`).
    Credentials,
    /// The host is an IP address, not a name.
    IpAddress(String),
}

impl fmt::Display for UrlWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UrlWarning::Unparsable(e) => write!(f, "not a valid URL: {e}"),
            UrlWarning::SchemeNotAllowed(s) => {
                write!(
                    f,
                    "scheme {s:?} is not allowed (only https, or http to this machine)"
                )
            }
            UrlWarning::NoHost => write!(f, "the URL has no host"),
            UrlWarning::PlainHttpLoopback => {
                write!(
                    f,
                    "unencrypted http (allowed only because the host is this machine)"
                )
            }
            UrlWarning::Punycode { unicode, ascii } => write!(
                f,
                "internationalized domain: it reads as {unicode:?} but is {ascii:?}"
            ),
            UrlWarning::MixedScripts(label) => {
                write!(
                    f,
                    "the label {label:?} mixes Latin letters with another script"
                )
            }
            UrlWarning::Credentials => {
                write!(f, "the URL carries a user name or password before the host")
            }
            UrlWarning::IpAddress(ip) => write!(f, "the host is an IP address ({ip})"),
        }
    }
}

/// A URL-mode elicitation made ready for a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlPrompt {
    /// The URL as it would be opened (normalized: the host in ASCII form),
    /// or the server's text when it is not a URL.
    pub full_url: String,
    /// The host in Unicode form (what a browser might display).
    pub domain: Option<String>,
    /// The host in ASCII form (what is really visited).
    pub ascii_domain: Option<String>,
    /// True when any label is punycode (`xn--`) or the Unicode form differs
    /// from the ASCII one.
    pub is_punycode: bool,
    /// The scheme, lowercase (empty when there is none).
    pub scheme: String,
    /// What the person should be warned about.
    pub warnings: Vec<UrlWarning>,
    /// Whether the URL may be offered at all: `https` with a host, or
    /// `http` to a loopback host. Anything else is declined unasked.
    pub acceptable: bool,
}

impl UrlPrompt {
    /// Examines `raw` without touching the network.
    pub fn new(raw: &str) -> UrlPrompt {
        match Url::parse(raw) {
            Ok(url) => Self::from_url(&url),
            Err(e) => UrlPrompt {
                full_url: raw.to_owned(),
                domain: None,
                ascii_domain: None,
                is_punycode: false,
                scheme: raw
                    .split_once(':')
                    .map(|(s, _)| s.to_ascii_lowercase())
                    .unwrap_or_default(),
                warnings: vec![UrlWarning::Unparsable(e.to_string())],
                acceptable: false,
            },
        }
    }

    fn from_url(url: &Url) -> UrlPrompt {
        let scheme = url.scheme().to_owned();
        let mut warnings = Vec::new();
        let mut loopback = false;
        let (domain, ascii_domain, is_punycode) = match url.host() {
            None => {
                warnings.push(UrlWarning::NoHost);
                (None, None, false)
            }
            Some(Host::Domain(ascii)) => {
                let ascii = ascii.to_ascii_lowercase();
                loopback = ascii == "localhost" || ascii.ends_with(".localhost");
                let (unicode, _errors) = idna::domain_to_unicode(&ascii);
                let punycode =
                    ascii.split('.').any(|label| label.starts_with("xn--")) || unicode != ascii;
                if punycode {
                    warnings.push(UrlWarning::Punycode {
                        unicode: unicode.clone(),
                        ascii: ascii.clone(),
                    });
                }
                for label in unicode.split('.').filter(|l| mixes_scripts(l)) {
                    warnings.push(UrlWarning::MixedScripts(label.to_owned()));
                }
                (Some(unicode), Some(ascii), punycode)
            }
            Some(Host::Ipv4(ip)) => {
                loopback = ip.is_loopback();
                let text = ip.to_string();
                if !loopback {
                    warnings.push(UrlWarning::IpAddress(text.clone()));
                }
                (Some(text.clone()), Some(text), false)
            }
            Some(Host::Ipv6(ip)) => {
                loopback = ip.is_loopback();
                let text = format!("[{ip}]");
                if !loopback {
                    warnings.push(UrlWarning::IpAddress(text.clone()));
                }
                (Some(text.clone()), Some(text), false)
            }
        };
        if !url.username().is_empty() || url.password().is_some() {
            warnings.push(UrlWarning::Credentials);
        }
        let has_host = ascii_domain.as_deref().is_some_and(|h| !h.is_empty());
        let acceptable = match scheme.as_str() {
            "https" => has_host,
            "http" if loopback => {
                warnings.push(UrlWarning::PlainHttpLoopback);
                true
            }
            _ => {
                warnings.insert(0, UrlWarning::SchemeNotAllowed(scheme.clone()));
                false
            }
        };
        UrlPrompt {
            full_url: url.as_str().to_owned(),
            domain,
            ascii_domain,
            is_punycode,
            scheme,
            warnings,
            acceptable,
        }
    }
}

/// Latin letters next to letters of another script in one label
/// (`pаypal` with a Cyrillic `а`).
fn mixes_scripts(label: &str) -> bool {
    let latin = label.chars().any(|c| c.is_ascii_alphabetic());
    let other = label
        .chars()
        .any(|c| c.is_alphabetic() && !c.is_ascii() && !is_latin_extended(c));
    latin && other
}

/// Accented Latin letters (é, ü, ø...) are Latin, not another script.
fn is_latin_extended(c: char) -> bool {
    matches!(c as u32, 0x00C0..=0x024F | 0x1E00..=0x1EFF)
}
