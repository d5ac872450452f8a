use crate::policy::{UrlPrompt, UrlWarning};

#[test]
fn plain_https_is_acceptable_without_warnings() {
    let p = UrlPrompt::new("https://github.com/login/oauth?x=1");
    assert!(p.acceptable);
    assert_eq!(p.scheme, "https");
    assert_eq!(p.domain.as_deref(), Some("github.com"));
    assert_eq!(p.ascii_domain.as_deref(), Some("github.com"));
    assert!(!p.is_punycode);
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    assert_eq!(p.full_url, "https://github.com/login/oauth?x=1");
}

#[test]
fn punycode_domain_shows_its_unicode_form_with_a_warning() {
    let p = UrlPrompt::new("https://xn--80ak6aa92e.com/login");
    assert!(p.is_punycode);
    assert_eq!(p.ascii_domain.as_deref(), Some("xn--80ak6aa92e.com"));
    assert_eq!(p.domain.as_deref(), Some("аррӏе.com"));
    assert!(p.acceptable, "a warning, not a refusal: the person decides");
    assert!(
        matches!(&p.warnings[0], UrlWarning::Punycode { unicode, ascii }
        if unicode == "аррӏе.com" && ascii == "xn--80ak6aa92e.com")
    );
}

#[test]
fn a_unicode_homograph_is_flagged_and_shown_in_ascii() {
    // "pаypal" with a Cyrillic а.
    let p = UrlPrompt::new("https://p\u{430}ypal.com/signin");
    assert!(p.is_punycode);
    assert_eq!(p.domain.as_deref(), Some("p\u{430}ypal.com"));
    let ascii = p.ascii_domain.clone().unwrap_or_default();
    assert!(ascii.starts_with("xn--"), "{ascii}");
    assert!(p.full_url.contains(&ascii), "{}", p.full_url);
    assert!(
        p.warnings
            .iter()
            .any(|w| matches!(w, UrlWarning::MixedScripts(l) if l == "p\u{430}ypal")),
        "{:?}",
        p.warnings
    );
}

#[test]
fn javascript_and_file_urls_are_not_acceptable() {
    for raw in [
        "javascript:alert(1)",
        "file:///etc/passwd",
        "data:text/html,hi",
        "ftp://example.com/x",
    ] {
        let p = UrlPrompt::new(raw);
        assert!(!p.acceptable, "{raw}");
        assert!(
            p.warnings
                .iter()
                .any(|w| matches!(w, UrlWarning::SchemeNotAllowed(_))),
            "{raw}: {:?}",
            p.warnings
        );
    }
    let p = UrlPrompt::new("not a url");
    assert!(!p.acceptable);
    assert!(matches!(p.warnings[0], UrlWarning::Unparsable(_)));
}

#[test]
fn http_only_for_loopback_hosts() {
    for raw in [
        "http://localhost:8080/cb",
        "http://127.0.0.1/x",
        "http://[::1]:3000/",
    ] {
        let p = UrlPrompt::new(raw);
        assert!(p.acceptable, "{raw}");
        assert!(
            p.warnings.contains(&UrlWarning::PlainHttpLoopback),
            "{raw}: {:?}",
            p.warnings
        );
    }
    for raw in ["http://example.com/", "http://10.0.0.1/"] {
        assert!(!UrlPrompt::new(raw).acceptable, "{raw}");
    }
}

#[test]
fn credentials_and_ip_hosts_are_warned_about() {
    let p = UrlPrompt::new("https://bank.com@evil.example/");
    assert_eq!(p.ascii_domain.as_deref(), Some("evil.example"));
    assert!(p.warnings.contains(&UrlWarning::Credentials));
    let p = UrlPrompt::new("https://93.184.216.34/");
    assert!(p
        .warnings
        .iter()
        .any(|w| matches!(w, UrlWarning::IpAddress(_))));
}
