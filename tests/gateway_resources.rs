//! Resource URIs through `switchboard gateway` made unambiguous: two real
//! FastMCP servers that both list `data://greeting` (and server-everything,
//! whose URIs no one else lists). The shared URI is served once per server
//! in its namespaced form (`switchboard://<server>/<uri>`), which reads
//! that server's copy on any replica; asked for as it is, the shared URI is
//! a clear error naming both forms; unshared URIs stay as they are. In both
//! eras.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::gateway::GatewayProcess;
use serde_json::json;
use switchboard::protocol::{ProtocolVersion, VersionChoice};
use switchboard::session::MessageHandler;
use switchboard::{Client, Source};

/// The resource updates a client hears.
#[derive(Clone, Default)]
struct Updates(Arc<Mutex<Vec<String>>>);

impl MessageHandler for Updates {
    fn on_resource_updated(&self, _server: &str, uri: &str) {
        self.0.lock().unwrap().push(uri.to_owned());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_uri_two_servers_list_is_served_once_per_server_and_never_guessed() {
    common::bounded(async {
        let marker = common::marker("gw-resources");
        let env = json!({ common::MARKER_VAR: marker });
        let python = common::python();
        let fastmcp = common::peer_script("fastmcp_server.py");
        let gateway = GatewayProcess::start(
            json!({
                "alpha": {"command": python, "args": [fastmcp], "env": env},
                "beta": {"command": python, "args": [fastmcp], "env": env},
                "everything": {"command": "node", "args": [common::everything_js(), "stdio"], "env": env},
            }),
            &["--ready-min", "3"],
            &[],
        );
        for choice in [
            VersionChoice::Auto,
            VersionChoice::Exact(ProtocolVersion::V2025_11_25),
        ] {
            let client = Client::builder(Source::http(&gateway.url))
                .protocol(choice)
                .timeout(Duration::from_secs(15))
                .connect()
                .await
                .expect("connect to the gateway");
            let uris: Vec<String> = client
                .list_resources()
                .await
                .expect("resources/list")
                .into_iter()
                .map(|r| r.uri)
                .collect();
            let alpha = "switchboard://alpha/data%3A%2F%2Fgreeting";
            let beta = "switchboard://beta/data%3A%2F%2Fgreeting";
            for form in [alpha, beta] {
                assert_eq!(uris.iter().filter(|u| *u == form).count(), 1, "{choice:?}: {uris:?}");
            }
            assert!(!uris.iter().any(|u| u == "data://greeting"), "{uris:?}");
            let unshared = uris
                .iter()
                .find(|u| u.starts_with("demo://"))
                .unwrap_or_else(|| panic!("server-everything's resources: {uris:?}"));
            let mut seen = std::collections::HashSet::new();
            assert!(uris.iter().all(|u| seen.insert(u)), "a URI listed twice: {uris:?}");

            // Each form reads its server's copy, and names itself.
            for form in [alpha, beta] {
                let read = client.read_resource(form).await.expect("read a namespaced URI");
                assert_eq!(read.contents.len(), 1, "{read:?}");
                assert_eq!(read.contents[0].uri(), form);
                assert_eq!(read.contents[0].as_text(), Some("hello"));
            }
            // Not guessed: the shared URI as it is names both forms.
            let err = client
                .read_resource("data://greeting")
                .await
                .expect_err("an ambiguous URI");
            let text = err.to_string();
            assert!(text.contains(alpha) && text.contains(beta), "{text}");
            // A namespaced form of a server that is not there is not found.
            let err = client
                .read_resource("switchboard://gamma/data%3A%2F%2Fgreeting")
                .await
                .expect_err("no server gamma");
            assert!(err.to_string().contains("resource not found"), "{err}");
            // An unshared URI is read as it is.
            let read = client.read_resource(unshared).await.expect("read an unshared URI");
            assert_eq!(read.contents[0].uri(), unshared.as_str());
            // Templates are not namespaced: greet://{name} goes to the
            // first server (by name) whose template matches.
            let read = client.read_resource("greet://ada").await.expect("a templated read");
            assert!(read.contents[0].as_text().is_some_and(|t| t.contains("ada")), "{read:?}");
            let _ = client.close().await;
        }
        drop(gateway);
        common::assert_no_process(&marker, Duration::from_secs(10)).await;
    })
    .await;
}

/// Updates of a shared URI go out under the namespaced form that was
/// subscribed to: two server-everything processes list the same URIs, a
/// handshake-era client subscribes to one server's copy, and that server's
/// simulated updates (every 5 s once toggled on) reach it under that form.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn updates_of_a_shared_uri_name_the_server_they_came_from() {
    common::bounded(async {
        let marker = common::marker("gw-resource-updates");
        let env = json!({ common::MARKER_VAR: marker });
        let everything =
            |_| json!({"command": "node", "args": [common::everything_js(), "stdio"], "env": env});
        let gateway = GatewayProcess::start(
            json!({"e1": everything(1), "e2": everything(2)}),
            &["--ready-min", "2"],
            &[],
        );
        let updates = Updates::default();
        let client = Client::builder(Source::http(&gateway.url))
            .message_handler(updates.clone())
            .protocol(VersionChoice::Exact(ProtocolVersion::V2025_11_25))
            .timeout(Duration::from_secs(15))
            .connect()
            .await
            .expect("connect to the gateway");
        let listed = client.list_resources().await.expect("resources/list");
        let form = listed
            .iter()
            .map(|r| r.uri.clone())
            .find(|u| u.starts_with("switchboard://e2/"))
            .unwrap_or_else(|| panic!("no shared URI of e2: {listed:?}"));
        client
            .subscribe_resource(&form)
            .await
            .expect("subscribe to e2's copy");
        client
            .call_tool("e2_toggle-subscriber-updates", json!({}))
            .await
            .expect("toggle e2's updates");
        common::eventually("e2's update, namespaced", Duration::from_secs(15), || {
            let heard = updates.0.lock().unwrap().clone();
            let form = form.clone();
            async move { heard.contains(&form).then_some(()) }
        })
        .await;
        let heard = updates.0.lock().unwrap().clone();
        assert!(
            heard.iter().all(|u| u.starts_with("switchboard://e2/")),
            "an update not in e2's namespaced form: {heard:?}"
        );
        let _ = client.close().await;
        drop(gateway);
        common::assert_no_process(&marker, Duration::from_secs(10)).await;
    })
    .await;
}
