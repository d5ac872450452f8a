//! Property tests (proptest) for the pairs the fuzz targets hold together,
//! with structured inputs the fuzzer seldom builds (whole valid JSON, whole
//! event streams): the compact-reply fast path reads like the general
//! parser; the hand-written request encoder writes serde's bytes; an SSE
//! stream split anywhere parses like the whole, and as the format says;
//! fleet names round-trip, never collide, and mean the same server whoever
//! is up. The checks themselves are the fuzz targets' bodies
//! (`switchboard::fuzzing`), so both hold the same properties.

use std::collections::BTreeMap;

use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use serde_json::{Map, Value};
use switchboard::fleet::names::{owner, prefix, NameTable};
use switchboard::fuzzing;
use switchboard::protocol::jsonrpc::{parse_one, Incoming};

/// Any JSON value, a few levels deep.
fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        "\\PC{0,8}|[\"\\\\}{\\]\\[,:]{0,4}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..6).prop_map(Value::Array),
            btree_map("\\PC{0,6}|[\"\\\\}{]{1,3}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn object() -> impl Strategy<Value = Map<String, Value>> {
    btree_map("\\PC{0,8}", json(), 0..5)
        .prop_map(|m: BTreeMap<String, Value>| m.into_iter().collect())
}

fn compact_reply(id: i64, result: &Value, crlf: bool) -> Vec<u8> {
    let mut frame = format!(
        r#"{{"jsonrpc":"2.0","id":{id},"result":{}}}"#,
        serde_json::to_string(result).unwrap()
    );
    if crlf {
        frame.push_str("\r\n");
    }
    frame.into_bytes()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Every reply written compactly takes the fast path (ids of up to 18
    /// characters, the sign counted), and reads as the general parser
    /// reads it.
    #[test]
    fn compact_replies_take_the_fast_path_and_read_like_the_general_parser(
        id in -99_999_999_999_999_999i64..=999_999_999_999_999_999,
        result in json(),
        crlf in any::<bool>(),
    ) {
        let frame = compact_reply(id, &result, crlf);
        prop_assert!(fuzzing::fast_path_reads(&frame), "{}", String::from_utf8_lossy(&frame));
        fuzzing::frame(&frame);
        let Ok(Incoming::Response { id: got, outcome: Ok(bytes), .. }) =
            parse_one(&bytes::Bytes::from(frame))
        else {
            panic!("not a result");
        };
        prop_assert_eq!(got, Some(id));
        prop_assert_eq!(serde_json::from_slice::<Value>(&bytes).unwrap(), result);
    }

    /// A reply with one byte inserted or replaced anywhere: the fast path
    /// declines, or reads what the general parser reads.
    #[test]
    fn a_reply_one_byte_off_is_declined_or_read_alike(
        id in any::<i32>(),
        result in json(),
        at in any::<prop::sample::Index>(),
        byte in any::<u8>(),
        replace in any::<bool>(),
    ) {
        let mut frame = compact_reply(i64::from(id), &result, false);
        let at = at.index(frame.len());
        if replace {
            frame[at] = byte;
        } else {
            frame.insert(at, byte);
        }
        fuzzing::frame(&frame);
    }

    /// The hand-written encoder writes, byte for byte, what serde writes
    /// for the same request and `_meta`.
    #[test]
    fn the_request_encoder_writes_serdes_bytes(
        flags in any::<u8>(),
        id in any::<i64>(),
        token in any::<i64>(),
        method in "\\PC{0,12}",
        params in prop_oneof![object().prop_map(Value::Object), Just(Value::Null), json()],
        level in "\\PC{0,8}",
        extra in object(),
        capabilities in json(),
        info in json(),
    ) {
        let mut data = vec![flags];
        data.extend_from_slice(&id.to_le_bytes());
        data.extend_from_slice(&token.to_le_bytes());
        let parts = [
            method.into_bytes(),
            serde_json::to_vec(&params).unwrap(),
            level.into_bytes(),
            serde_json::to_vec(&extra).unwrap(),
            serde_json::to_vec(&capabilities).unwrap(),
            serde_json::to_vec(&info).unwrap(),
        ];
        data.extend_from_slice(&parts.join(&0u8));
        fuzzing::encoder(&data);
    }

    /// An event stream split at any points (empty chunks among them)
    /// parses like the whole stream, and as the format reads it.
    #[test]
    fn an_event_stream_split_anywhere_parses_like_the_whole(
        bom in any::<bool>(),
        lines in vec((0..7usize, "\\PC{0,10}", 0..3usize, 0..4usize), 0..24),
        seed in any::<u8>(),
        small in any::<bool>(),
    ) {
        let mut stream = Vec::new();
        if bom {
            stream.extend_from_slice("\u{feff}".as_bytes());
        }
        for (field, value, end, blanks) in lines {
            let field = ["data", "data", "event", "id", "retry", "", "x"][field];
            let line = match field {
                "" => format!(":{value}"),
                "retry" => format!("retry: {}", value.len() * 100),
                f => format!("{f}: {value}"),
            };
            let end = ["\n", "\r", "\r\n"][end];
            stream.extend_from_slice(line.as_bytes());
            stream.extend_from_slice(end.repeat(1 + blanks / 3).as_bytes());
        }
        // Byte 0: a limit of 16 bytes (oversized events) or of 1 MiB.
        let mut data = vec![if small { 15 } else { 255 }, seed];
        data.extend_from_slice(&stream);
        fuzzing::sse(&data);
    }

    /// Stdout split at any points gives the same frames and oversized
    /// lines as the whole, and as the framing says.
    #[test]
    fn stdout_split_anywhere_frames_like_the_whole(
        lines in vec(("[ -~]{0,40}", any::<bool>()), 0..16),
        limit in 0u8..=48,
        seed in any::<u8>(),
    ) {
        let mut data = vec![limit, seed];
        for (line, crlf) in lines {
            data.extend_from_slice(line.as_bytes());
            data.extend_from_slice(if crlf { b"\r\n" } else { b"\n" });
        }
        fuzzing::lines(&data);
    }

    /// Fleet names: valid, unique, each resolving to its server and tool,
    /// each owned by its server, and the same whether or not the other
    /// servers are up (listed).
    #[test]
    fn fleet_names_round_trip_never_collide_and_mean_one_server_whoever_is_up(
        tools in vec(("[ab][ab_.-]{0,4}|[ab]{60,70}", "[ab_.]{0,6}|[ab]{1,80}"), 1..24),
    ) {
        // A fleet refuses servers of one prefix: keep the first of each.
        let mut seen = std::collections::HashSet::new();
        let servers: Vec<String> = tools
            .iter()
            .map(|(s, _)| s.clone())
            .filter(|s| seen.insert(prefix(s)))
            .collect();
        let tools: Vec<(String, String)> =
            tools.into_iter().filter(|(s, _)| servers.contains(s)).collect();
        let members = || servers.iter().map(String::as_str);
        let mut data = Vec::new();
        for (s, t) in &tools {
            data.extend_from_slice(s.as_bytes());
            data.push(0);
            data.extend_from_slice(t.as_bytes());
            data.push(0);
        }
        fuzzing::names(&data);
        let mut all = NameTable::new();
        let named: Vec<String> = tools.iter().map(|(s, t)| all.insert_among(s, t, members())).collect();
        for ((s, t), name) in tools.iter().zip(&named) {
            prop_assert_eq!(all.resolve(name), Some((s.as_str(), t.as_str())));
            if s.len() + 7 < 64 {
                prop_assert_eq!(owner(name, members()), Some(s.as_str()));
                // Only this server up: its tools get the same names.
                let mut alone = NameTable::new();
                let mine: Vec<String> = tools
                    .iter()
                    .filter(|(other, _)| other == s)
                    .map(|(_, tool)| alone.insert_among(s, tool, members()))
                    .collect();
                let want: Vec<&String> = tools
                    .iter()
                    .zip(&named)
                    .filter(|((other, _), _)| other == s)
                    .map(|(_, n)| n)
                    .collect();
                prop_assert_eq!(mine.iter().collect::<Vec<_>>(), want, "{} alone", s);
            }
        }
    }
}
